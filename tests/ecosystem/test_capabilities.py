"""Capabilities from the package category, a category label, or the STIX vocabularies."""

from __future__ import annotations

import pytest

from ecosystem import capabilities_of


@pytest.mark.parametrize(
    ("stix_type", "words", "expected"),
    [
        ("infrastructure", ["category:cash-out", "label:cash-out", "unknown"], {"cash-out"}),
        ("infrastructure", ["label:mule-network", "unknown"], {"mule-network"}),
        ("infrastructure", ["label:fast-flux", "hosting-malware"], {"bulletproof-hosting"}),
        (
            "infrastructure",
            ["phishing", "hosting-malware"],
            {"phishing-as-a-service", "bulletproof-hosting"},
        ),
        ("infrastructure", ["command-and-control"], {"command-and-control"}),
        ("tool", ["remote-access"], {"remote-access"}),
        ("malware", ["backdoor", "keylogger"], {"backdoor", "keylogger"}),
        ("malware", ["ransomware"], {"ransomware-as-a-service"}),
        ("malware", ["unknown"], {"malware"}),
        ("tool", [], {"tool"}),
    ],
)
def test_capabilities(stix_type: str, words: list[str], expected: set[str]) -> None:
    assert capabilities_of(stix_type, words) == expected
