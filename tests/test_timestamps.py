"""Timestamps as integer microseconds (TAXII 2.1 §2): parse and format agree with
``datetime`` for every instant, through the cached fast paths and the full ones."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from taxii_server import timestamps
from taxii_server.timestamps import TimestampError, format_timestamp, parse_timestamp

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# Naive bounds, as Hypothesis wants them; the instants are read as UTC.
_LOW = datetime(1, 1, 2, tzinfo=UTC).replace(tzinfo=None)
_INSTANTS = st.datetimes(_LOW, datetime(9999, 12, 30, tzinfo=UTC).replace(tzinfo=None))


def _us(moment: datetime) -> int:
    delta = moment.replace(tzinfo=UTC) - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


@given(_INSTANTS)
def test_format_then_parse_is_the_identity(moment: datetime) -> None:
    us = _us(moment)
    text = format_timestamp(us)
    assert text == moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ").rjust(27, "0")
    assert parse_timestamp(text) == us
    assert parse_timestamp(text) == us  # again, now from the caches
    assert format_timestamp(us) == text


@given(_INSTANTS, st.sampled_from(["", ".1", ".123", ".1234567"]))
def test_precisions_and_offsets_as_clients_send_them(moment: datetime, fraction: str) -> None:
    moment = moment.replace(microsecond=0)
    digits = fraction[1:7].ljust(6, "0") if fraction else "0"
    expected = _us(moment) + int(digits)
    base = moment.strftime("%Y-%m-%dT%H:%M:%S").rjust(19, "0") + fraction
    assert parse_timestamp(base + "Z") == expected
    assert parse_timestamp(base + "z") == expected
    assert parse_timestamp(base + "Z") == expected  # the cached date
    if moment > _LOW:
        shifted = moment + timedelta(hours=2)
        text = shifted.strftime("%Y-%m-%dT%H:%M:%S").rjust(19, "0") + fraction + "+02:00"
        assert parse_timestamp(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "0001-01-01T00:00:00.000000Z",
        "0999-12-31T23:59:59.999999Z",  # the last second the C library's %Y would not pad
        "1000-01-01T00:00:00.000000Z",
        "9999-12-31T23:59:59.999999Z",
    ],
)
def test_four_digit_years_at_both_ends(text: str) -> None:
    timestamps._DATES.clear()
    assert format_timestamp(parse_timestamp(text)) == text


def test_before_the_epoch() -> None:
    assert format_timestamp(-1) == "1969-12-31T23:59:59.999999Z"
    assert parse_timestamp("1969-12-31T23:59:59.999999Z") == -1


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("2024-02-30T00:00:00Z", "not a valid date"),
        ("2024-01-01T24:00:00Z", "not a valid date"),
        ("2024-01-01T23:60:00Z", "not a valid date"),
        ("2024-01-01T23:59:60Z", "not a valid date"),
        ("2024-01-01 23:59:59Z", "not an RFC 3339 timestamp"),
        ("2024-01-01T23:59:59", "not an RFC 3339 timestamp"),
    ],
)
def test_invalid_times_are_refused_also_once_their_date_is_cached(text: str, says: str) -> None:
    parse_timestamp("2024-01-01T00:00:00Z")  # the date is now cached
    with pytest.raises(TimestampError, match=says):
        parse_timestamp(text)


def test_caches_stay_bounded() -> None:
    for day in range(timestamps._KEPT + 10):
        us = day * 86_400_000_000 + 1
        assert parse_timestamp(format_timestamp(us)) == us
    assert len(timestamps._DAYS) <= timestamps._KEPT
    assert len(timestamps._DATES) <= timestamps._KEPT


# Strings of about the shape the fast path reads, with every kind of character it must
# tell apart: digits, separators in and out of place, a lower-case t or z, a comma.
_NEAR_STAMPS = st.builds(
    lambda moment, fraction, swaps: _swapped(
        moment.strftime("%Y-%m-%dT%H:%M:%S").rjust(19, "0") + fraction + "Z", swaps
    ),
    _INSTANTS,
    st.sampled_from(["", ".", ".1", ".12", ".123", ".123456", ".1234567", ",123"]),
    st.lists(
        st.tuples(st.integers(0, 27), st.sampled_from("0123456789-:.,TtZzW +\u0663")), max_size=2
    ),
)


def _swapped(text: str, swaps: list[tuple[int, str]]) -> str:
    for index, char in swaps:
        text = text[:index] + char + text[index + 1 :]
    return text


def _outcome(parse: Callable[[str], int], text: str) -> int | str:
    try:
        return parse(text)
    except TimestampError as exc:
        return str(exc)


@given(_NEAR_STAMPS)
def test_the_fast_path_agrees_with_the_general_one(text: str) -> None:
    assert _outcome(parse_timestamp, text) == _outcome(timestamps._parse_general, text)


@pytest.mark.parametrize(
    "text",
    [
        "2024-01-01T24:00:00Z",
        "2024-01-01T24:00:00.000Z",
        "2024-01-01T23:59:59.Z",
        "2024-01-01T23:59:59,5Z",
        "2024-W01-1T23:59:59.5Z",
        "2024-01-01t23:59:59.5Z",
        "2024-01-01T23:59:59.5z",
        "0000-01-01T00:00:00Z",
        "2024-02-29T23:59:59.999999Z",
        "2023-02-29T23:59:59.999999Z",
        "2024-01-01T23:59:59.1234567Z",
    ],
)
def test_the_fast_path_agrees_on_the_edges(text: str) -> None:
    assert _outcome(parse_timestamp, text) == _outcome(timestamps._parse_general, text)


@pytest.mark.parametrize("us", [-62_135_596_800_000_001, 253_402_300_800_000_000])
def test_formatting_outside_the_years_1_to_9999_overflows(us: int) -> None:
    timestamps._DATES.clear()
    with pytest.raises(OverflowError):
        format_timestamp(us)
