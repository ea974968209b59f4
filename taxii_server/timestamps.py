"""TAXII/STIX timestamps as integers of microseconds since the Unix epoch (UTC).

TAXII 2.1 §2 (timestamp) and §3.4.2: the server emits RFC 3339 UTC with exactly six
fractional digits; clients send ``added_after`` with any precision (none, milli-,
micro-, or more digits, which are truncated to microseconds), with ``Z`` or a numeric
offset.  Anything else is :class:`TimestampError`, which the HTTP edge turns into a 400.
"""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta

__all__ = ["TIMESTAMP_PATTERN", "TimestampError", "format_timestamp", "parse_timestamp", "now_us"]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
#: What :func:`parse_timestamp` reads, as a regular expression in the syntax Python and
#: JSON Schema (ECMA 262) share.  ASCII digits only: Python's ``\d`` also matches
#: other scripts' digits, which ``int`` would then read.
TIMESTAMP_PATTERN = (
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt]([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]+))?"
    r"(?:([Zz])|([+-])([0-9]{2}):([0-9]{2}))"
)
_PATTERN = re.compile(rf"{TIMESTAMP_PATTERN}\Z")


def _quoted(text: str) -> str:
    # A message names the bad value; it does not echo megabytes of it back.
    return repr(text) if len(text) <= 80 else f"{text[:80]!r}… ({len(text)} characters)"


class TimestampError(ValueError):
    """A string is not an RFC 3339 timestamp with a time zone."""


# Days since the epoch of the dates seen lately ("YYYY-MM-DD" -> days), and the
# "YYYY-MM-DDTHH:MM:SS" of the seconds formatted lately.  A POST parses and formats
# timestamps of every object it stores, mostly of a few dates and seconds; building
# a datetime for each costs more than the rest of the conversion.  Bounded: cleared
# when full.  (Concurrent threads may both fill an entry; they fill in the same.)
_DAYS: dict[str, int] = {}
_SECONDS: dict[int, str] = {}
_KEPT = 4096
# Seconds since the epoch of 1000-01-01 and 10000-01-01 (UTC).
_YEAR_1000 = -30_610_224_000
_YEAR_10000 = 253_402_300_800


def parse_timestamp(text: str) -> int:
    """Parse an RFC 3339 timestamp into microseconds since the epoch (UTC)."""
    match = _PATTERN.match(text)
    if match is None:
        raise TimestampError(
            f"{_quoted(text)} is not an RFC 3339 timestamp such as 2024-06-11T09:00:00.000000Z"
        )
    year, month, day, hour, minute, second, fraction, zulu, sign, off_h, off_m = match.groups()
    micro = int((fraction or "0")[:6].ljust(6, "0"))
    days = _DAYS.get(text[:10]) if zulu else None
    if days is not None:
        h, m, s = int(hour), int(minute), int(second)
        if h < 24 and m < 60 and s < 60:  # else the full path says what is wrong
            return (((days * 24 + h) * 60 + m) * 60 + s) * 1_000_000 + micro
    try:
        moment = datetime(
            int(year), int(month), int(day), int(hour), int(minute), int(second), micro, tzinfo=UTC
        )
    except ValueError as exc:
        raise TimestampError(f"{_quoted(text)} is not a valid date and time: {exc}") from None
    if not zulu:
        if int(off_h) > 23 or int(off_m) > 59:
            raise TimestampError(f"{_quoted(text)} has an invalid UTC offset")
        offset = timedelta(hours=int(off_h), minutes=int(off_m))
        try:
            moment = moment - offset if sign == "+" else moment + offset
        except OverflowError:
            # 0001-01-01T00:00:00+01:00 is in year 0 in UTC, 9999-12-31T23:59-01:00 in
            # year 10000: neither has a datetime, and neither is a timestamp we can use.
            raise TimestampError(
                f"{_quoted(text)} is outside the years 0001 to 9999 in UTC"
            ) from None
    delta = moment - _EPOCH
    if zulu:
        if len(_DAYS) >= _KEPT:
            _DAYS.clear()
        _DAYS[text[:10]] = (datetime(int(year), int(month), int(day), tzinfo=UTC) - _EPOCH).days
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def format_timestamp(us: int) -> str:
    """Format microseconds since the epoch as ``YYYY-MM-DDTHH:MM:SS.ffffffZ``."""
    second, micro = divmod(us, 1_000_000)
    prefix = _SECONDS.get(second)
    if prefix is None and _YEAR_1000 <= second < _YEAR_10000:
        # The C library's calendar (proleptic Gregorian, like datetime's) at half the
        # cost: most objects of a POST have a second of their own.  Its %Y has four
        # digits from the year 1000 on; earlier years take the datetime path.
        prefix = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
        if len(_SECONDS) >= _KEPT:
            _SECONDS.clear()
        _SECONDS[second] = prefix
    elif prefix is None:
        m = _EPOCH + timedelta(seconds=second)
        prefix = (
            f"{m.year:04d}-{m.month:02d}-{m.day:02d}T{m.hour:02d}:{m.minute:02d}:{m.second:02d}"
        )
        if len(_SECONDS) >= _KEPT:
            _SECONDS.clear()
        _SECONDS[second] = prefix
    return f"{prefix}.{micro:06d}Z"


def now_us() -> int:
    """The current time in microseconds since the epoch."""
    delta = datetime.now(UTC) - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
