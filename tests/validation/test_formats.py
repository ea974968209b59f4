"""Formats: the same verdicts as the checkers stix2-validator runs through jsonschema."""

from __future__ import annotations

import idna
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from converters.validation.formats import is_email, is_idn_hostname, is_uri

_CHECKER = Draft202012Validator.FORMAT_CHECKER


def _idna_accepts(value: str) -> bool:
    try:
        idna.encode(value)
    except (idna.IDNAError, UnicodeError):
        return False
    return True


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        ("https://example.com/a?b=c#d", True),
        ("mailto:soc@example.org", True),
        ("urn:isbn:0451450523", True),
        ("http://[2001:db8::1]:8080/", True),
        ("http://user:pw@198.51.100.7/%41", True),
        ("example.com/no-scheme", False),
        ("http://exa mple.com/", False),
        ("http://example.com/%zz", False),
        ("", False),
    ],
)
def test_uri(value: str, valid: bool) -> None:
    assert is_uri(value) is valid
    assert _CHECKER.conforms(value, "uri") is valid


@settings(max_examples=500, deadline=None, derandomize=True)
@given(st.text(":/?#[]@!$&'()*+,;=%-._~aZ09 v[]", max_size=25).map(lambda s: "h" + s))
def test_uri_agrees_with_rfc3986_validator(value: str) -> None:
    assert is_uri(value) == _CHECKER.conforms(value, "uri")


@pytest.mark.parametrize(
    "value",
    ["example.com", "EXAMPLE.com.", "xn--bcher-kva.example", "bücher.example", "a" * 63 + ".io"],
)
def test_valid_host_names(value: str) -> None:
    assert is_idn_hostname(value)
    assert _idna_accepts(value)


@pytest.mark.parametrize(
    "value", ["", "a..b", "-a.com", "a-.com", "ab--c.com", "a_b.com", "a" * 64 + ".io", "."]
)
def test_invalid_host_names(value: str) -> None:
    assert not is_idn_hostname(value)
    assert not _idna_accepts(value)


@settings(max_examples=800, deadline=None, derandomize=True)
@given(
    st.text("ab-.xn0Z_é", max_size=70)
    | st.from_regex(r"[a-z0-9-]{1,70}(\.[a-z0-9-]{1,70}){0,4}\.?", fullmatch=True)
)
def test_host_names_agree_with_idna(value: str) -> None:
    # The ASCII shortcut must never accept what idna refuses.
    assert is_idn_hostname(value) == _idna_accepts(value)


@pytest.mark.parametrize(
    ("value", "valid"),
    [("analyst@example.org", True), ("a.b+c@x-y.co.uk", True), ("no-at.example", False),
     ("a@b", False), ("a@b.c\n", False)],
)  # fmt: skip
def test_email(value: str, valid: bool) -> None:
    assert is_email(value) is valid
