"""Schema patterns: ECMA-262 anchoring, and rewrites that accept exactly the same strings."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from converters.validation.regexes import SAFE_EQUIVALENTS, compile_pattern
from converters.validation.schemas import load_schemas


def _schema_patterns() -> list[str]:
    found: list[str] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "pattern" and isinstance(value, str):
                    found.append(value)
                elif key == "patternProperties" and isinstance(value, dict):
                    found.extend(value)
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(list(load_schemas().documents.values()))
    return sorted(set(found))


def test_every_rewritten_pattern_is_an_oasis_pattern() -> None:
    assert set(SAFE_EQUIVALENTS) <= set(_schema_patterns())


@pytest.mark.parametrize("original", sorted(SAFE_EQUIVALENTS))
@settings(max_examples=300, deadline=None, derandomize=True)
@given(
    text=st.text("abcz09-x-ext_-A8--", max_size=16)
    | st.from_regex(r"[a-z][a-z0-9-]{0,20}--[0-9a-f-]{36}", fullmatch=True)
)
def test_a_rewrite_accepts_the_same_strings(original: str, text: str) -> None:
    # Short strings only: the original type pattern is exponential in the length.
    oasis = re.compile(original.replace("$", r"\Z"), re.ASCII)
    assert bool(oasis.search(text)) == bool(compile_pattern(original).search(text))


@pytest.mark.parametrize("pattern", _schema_patterns())
def test_no_schema_pattern_backtracks_catastrophically(pattern: str) -> None:
    # Not a timing assertion: a pattern that backtracks exponentially would not
    # finish on these 60-character strings (the OASIS type pattern takes years).
    regex = compile_pattern(pattern)
    for alphabet in ("a", "a0", "a-", "0", "A", "aA0-_", "ab9.-/"):
        regex.search((alphabet * 60)[:60] + "!")


def test_dollar_is_the_end_of_the_string_as_in_ecma_262() -> None:
    identifier = compile_pattern(next(p for p in _schema_patterns() if p.endswith("{12}$")))
    assert identifier.search("indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f")
    assert not identifier.search("indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f\n")


def test_digits_are_ascii_as_in_ecma_262() -> None:
    assert compile_pattern(r"^\d+$").search("2024")
    assert not compile_pattern(r"^\d+$").search("٢٠٢٤")


def test_escaped_dollars_and_dollars_in_classes_stay_literal() -> None:
    assert compile_pattern(r"^a\$$").search("a$")
    assert compile_pattern(r"^[$]$").search("$")
    assert compile_pattern(r"^[]$]$").search("$")
