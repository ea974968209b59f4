"""TAXII/STIX timestamps as integers of microseconds since the Unix epoch (UTC).

TAXII 2.1 §2 (timestamp) and §3.4.2: the server emits RFC 3339 UTC with exactly six
fractional digits; clients send ``added_after`` with any precision (none, milli-,
micro-, or more digits, which are truncated to microseconds), with ``Z`` or a numeric
offset.  Anything else is :class:`TimestampError`, which the HTTP edge turns into a 400.
"""

from __future__ import annotations

import re
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
# "YYYY-MM-DDT" of the days formatted lately.  A POST parses and formats timestamps of
# every object it stores, mostly of a few dates; building a datetime for each costs
# more than the rest of the conversion.  Bounded: cleared when full.  (Concurrent
# threads may both fill an entry; they fill in the same.)
_DAYS: dict[str, int] = {}
_DATES: dict[int, str] = {}
_KEPT = 4096
_SEPARATORS_FRACTION = "--T::."  # YYYY-MM-DDTHH:MM:SS.f…Z
_SEPARATORS_SECONDS = "--T::Z"  # YYYY-MM-DDTHH:MM:SSZ
#: "00" to "59": the hours, minutes and seconds of a formatted timestamp.
_TWO_DIGITS = tuple(f"{n:02d}" for n in range(60))


def parse_timestamp(text: str) -> int:
    """Parse an RFC 3339 timestamp into microseconds since the epoch (UTC)."""
    # STIX's own shape (``YYYY-MM-DDTHH:MM:SS[.f{1,6}]Z``, what every object of a POST
    # carries) is read by datetime's C parser, under half the cost of the general
    # path.  Every separator is checked here: ``fromisoformat`` alone also reads other
    # ISO 8601 forms (week dates, a comma before the fraction, any separator before
    # the time) that RFC 3339 is not; what it refuses, the general path refuses too,
    # and says why.  Hour 24 is left to the general path (a later Python may read it
    # as the next day's midnight).  ``tests/test_timestamps.py`` compares the two.
    # The separators (at 4, 7, 10, 13, 16 and 19) are compared as one slice.
    separators = text[4:20:3]
    if (
        (separators == _SEPARATORS_FRACTION and 21 < len(text) < 28 and text[-1] == "Z")
        or (separators == _SEPARATORS_SECONDS and len(text) == 20)
    ) and (text[11:13] < "24" and text.isascii()):
        try:
            delta = datetime.fromisoformat(text) - _EPOCH
        except ValueError:
            pass
        else:
            return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
    return _parse_general(text)


def _parse_general(text: str) -> int:
    """:func:`parse_timestamp` for every form it reads, with its error messages."""
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
    day, clock = divmod(second, 86_400)
    date = _DATES.get(day)
    if date is None:
        # OverflowError beyond the years 0001 to 9999, as datetime says.
        moment = _EPOCH + timedelta(days=day)
        date = f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}T"
        if len(_DATES) >= _KEPT:
            _DATES.clear()
        _DATES[day] = date
    minutes, seconds = divmod(clock, 60)
    hour, minute = divmod(minutes, 60)
    two = _TWO_DIGITS
    return f"{date}{two[hour]}:{two[minute]}:{two[seconds]}.{micro:06d}Z"


def now_us() -> int:
    """The current time in microseconds since the epoch."""
    delta = datetime.now(UTC) - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
