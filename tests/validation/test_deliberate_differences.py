"""Where we differ from stix2-validator on purpose: each case, our verdict, and why.

If the reference changes its mind on one of these, the test fails and the list (and
the report in converters/validation/musts.py) should be revisited.
"""

from __future__ import annotations

from typing import Any

import pytest

from .reference import our_valid, reference_valid

_ID = "8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"
_STAMP = "2024-05-01T10:00:00.000Z"


def _indicator(**changes: Any) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "type": "indicator",
        "spec_version": "2.1",
        "id": f"indicator--{_ID}",
        "created": _STAMP,
        "modified": _STAMP,
        "pattern": "[ipv4-addr:value = '198.51.100.7']",
        "pattern_type": "stix",
        "valid_from": _STAMP,
    }
    obj.update(changes)
    return {k: v for k, v in obj.items() if v is not None}


def _custom(**changes: Any) -> dict[str, Any]:
    obj = {"type": "x-atlas-case", "spec_version": "2.1", "id": f"x-atlas-case--{_ID}"}
    obj.update(changes)
    return obj


def _bundle(*objects: dict[str, Any]) -> dict[str, Any]:
    return {"type": "bundle", "id": f"bundle--{_ID}", "objects": list(objects)}


# (id, value, our verdict, reason); the reference's verdict is the opposite.
CASES: list[tuple[str, dict[str, Any], bool, str]] = [
    (
        "custom-type-id-prefix",
        _custom(id=f"x-other--{_ID}"),
        False,
        "STIX 2.1, Identifier: an id starts with its object's type; the schemas say so for the "
        "types they define, the reference does not check custom types",
    ),
    (
        "trailing-newline-in-id",
        _indicator(id=f"indicator--{_ID}\n"),
        False,
        "JSON Schema patterns are ECMA-262, where $ is the end of the string; Python's $ "
        "also matches before a final newline",
    ),
    (
        "unicode-digits",
        _indicator(external_references=[{"source_name": "capec", "external_id": "CAPEC-١٢"}]),
        False,
        "ECMA-262 \\d is [0-9]; Python's \\d also matches Arabic-Indic digits",
    ),
    (
        "lang-well-formed",
        _indicator(lang="zh-Hans"),
        True,
        "a well-formed RFC 5646 tag; the reference only accepts a list of 232 tags",
    ),
    (
        "lang-registered-form",
        _indicator(lang="es-419"),
        True,
        "as above: Latin-American Spanish",
    ),
    (
        "timestamp-order-beyond-microseconds",
        _indicator(
            valid_from="2024-05-01T10:00:00.1234567Z", valid_until="2024-05-01T10:00:00.123Z"
        ),
        False,
        "valid_until is earlier; the reference compares such timestamps as strings",
    ),
    (
        "selector-into-a-string",
        _indicator(
            name="Scam",
            granular_markings=[
                {
                    "marking_ref": "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9",
                    "selectors": ["name.[0]"],
                }
            ],
        ),
        False,
        "STIX 2.1 §7.2.3.1: list selectors select list items; a string is not a list",
    ),
    (
        "email-trailing-newline",
        {
            "type": "email-addr",
            "spec_version": "2.1",
            "id": f"email-addr--{_ID}",
            "value": "a@example.com\n",
        },
        False,
        "the reference's e-mail expression ends in $, which admits a final newline",
    ),
    (
        "spec-version-less-sdo-in-a-bundle",
        _bundle(
            {
                "type": "identity",
                "id": f"identity--{_ID}",
                "created": _STAMP,
                "modified": _STAMP,
                "name": "Atlas CERT",
                "identity_class": "organization",
            }
        ),
        False,
        "an SDO without spec_version is STIX 2.0 to the reference, which then applies 2.0 "
        "rules; this is a STIX 2.1 validator and spec_version is required",
    ),
    (
        "empty-bundle",
        _bundle(),
        False,
        "bundle.json says minItems 1; the reference drops the bundle's objects schema",
    ),
    (
        "object-shaped-custom-data",
        _indicator(
            x_atlas_notes=[
                {
                    "type": "note",
                    "id": f"note--{_ID}",
                    "created": _STAMP,
                    "modified": "2023-01-01T00:00:00.000Z",
                }
            ]
        ),
        True,
        "a custom property's value is custom data (STIX 2.1 §11); the reference applies its "
        "MUST rules to anything in a list that has an id and a type",
    ),
    (
        "mime-type-registry",
        {
            "type": "artifact",
            "spec_version": "2.1",
            "id": f"artifact--{_ID}",
            "mime_type": "application/x-atlas-case",
            "payload_bin": "aGVsbG8=",
        },
        True,
        "IANA registry membership (mime_type, charsets, CPE, software languages) is left "
        "out: registries grow, consumers do not choke on a new entry",
    ),
]


@pytest.mark.parametrize(
    ("value", "ours", "reason"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_deliberate_difference(value: dict[str, Any], ours: bool, reason: str) -> None:
    assert reason
    assert our_valid(value) is ours
    assert reference_valid(value) is not ours
