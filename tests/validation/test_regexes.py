"""Schema patterns as the validator runs them: ECMA-262 semantics in linear time, and
the timestamp refinement (a real date) equal to the OASIS shape plus the calendar."""

from __future__ import annotations

from typing import Any

import jsonschema_rs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from converters.validation import get_validator
from converters.validation.schemas import load_schemas
from converters.validation.timestamps import REAL_TIMESTAMP, TIMESTAMP_SHAPE, date_problem

_ID = "8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"
_TYPE_NAME = r"^([a-z][a-z0-9]*)+(-[a-z0-9]+)*\-?$"


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


def _matcher(pattern: str) -> Any:
    """A pattern as the validator compiles it (jsonschema-rs, regex crate)."""
    schema = {"type": "string", "pattern": pattern}
    return jsonschema_rs.Draft202012Validator(
        schema, pattern_options=jsonschema_rs.RegexOptions()
    ).is_valid


def test_the_exponential_oasis_type_name_pattern_is_still_in_the_schemas() -> None:
    # The reason for the test below: in Python's re this pattern takes seconds at 24
    # characters of "a" and a "!", years at 60; a TAXII client chooses the type.
    assert _TYPE_NAME in _schema_patterns()


@pytest.mark.parametrize("pattern", _schema_patterns())
def test_no_schema_pattern_backtracks(pattern: str) -> None:
    # Not a timing assertion: a backtracking engine would not finish these strings.
    matches = _matcher(pattern)
    for alphabet in ("a", "a0", "a-", "0", "A", "aA0-_", "ab9.-/"):
        matches((alphabet * 5000)[:5000] + "!")


def test_a_hostile_type_name_is_a_problem_not_a_hang() -> None:
    hostile = "a" * 100 + "!"
    obj = {"type": hostile, "spec_version": "2.1", "id": f"{hostile}--{_ID}"}
    problems = get_validator().check_object(obj)
    assert "$.type" in {p.path for p in problems}


def test_dollar_is_the_end_of_the_string_as_in_ecma_262() -> None:
    identifier = _matcher(next(p for p in _schema_patterns() if p.endswith("{12}$")))
    assert identifier(f"indicator--{_ID}")
    assert not identifier(f"indicator--{_ID}\n")


def test_digits_are_ascii_as_in_ecma_262() -> None:
    assert _matcher(r"^\d+$")("2024")
    assert not _matcher(r"^\d+$")("٢٠٢٤")


def _real(value: str) -> bool:
    return bool(TIMESTAMP_SHAPE.match(value)) and date_problem(value) is None


@pytest.mark.parametrize(
    ("value", "real"),
    [
        ("2024-02-29T00:00:00Z", True),
        ("2023-02-29T00:00:00Z", False),
        ("2000-02-29T23:59:59.999Z", True),
        ("1900-02-29T00:00:00Z", False),
        ("0400-02-29T00:00:00Z", True),
        ("0000-01-01T00:00:00Z", False),
        ("0001-01-01T00:00:00Z", True),
        ("2024-04-31T00:00:00Z", False),
        ("2024-12-31T23:59:59Z", True),
        ("2016-12-31T23:59:60Z", False),
        ("2024-13-01T00:00:00Z", False),
        ("2024-01-01T00:00:00Z\n", False),
    ],
)
def test_the_timestamp_refinement_accepts_real_dates(value: str, real: bool) -> None:
    assert _matcher(REAL_TIMESTAMP)(value) is real
    assert _real(value) is real


@settings(max_examples=2000, deadline=None, derandomize=True)
@given(
    st.from_regex(
        r"[0-9]{4}-(0[0-9]|1[0-3])-([0-3][0-9])T([01][0-9]|2[0-4]):[0-6][0-9]:[0-6][0-9]"
        r"(\.[0-9]{1,3})?Z",
        fullmatch=True,
    )
)
def test_the_timestamp_refinement_is_the_oasis_shape_and_a_real_date(value: str) -> None:
    assert _matcher(REAL_TIMESTAMP)(value) == _real(value)
