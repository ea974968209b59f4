"""TAXII/STIX timestamps as integers of microseconds since the Unix epoch (UTC).

TAXII 2.1 §2 (timestamp) and §3.4.2: the server emits RFC 3339 UTC with exactly six
fractional digits; clients send ``added_after`` with any precision (none, milli-,
micro-, or more digits, which are truncated to microseconds), with ``Z`` or a numeric
offset.  Anything else is :class:`TimestampError`, which the HTTP edge turns into a 400.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

__all__ = ["TimestampError", "format_timestamp", "parse_timestamp", "now_us"]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_PATTERN = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?:([Zz])|([+-])(\d{2}):(\d{2}))\Z"
)


class TimestampError(ValueError):
    """A string is not an RFC 3339 timestamp with a time zone."""


def parse_timestamp(text: str) -> int:
    """Parse an RFC 3339 timestamp into microseconds since the epoch (UTC)."""
    match = _PATTERN.match(text)
    if match is None:
        raise TimestampError(
            f"{text!r} is not an RFC 3339 timestamp such as 2024-06-11T09:00:00.000000Z"
        )
    year, month, day, hour, minute, second, fraction, zulu, sign, off_h, off_m = match.groups()
    micro = int((fraction or "0")[:6].ljust(6, "0"))
    try:
        moment = datetime(
            int(year), int(month), int(day), int(hour), int(minute), int(second), micro, tzinfo=UTC
        )
    except ValueError as exc:
        raise TimestampError(f"{text!r} is not a valid date and time: {exc}") from None
    if not zulu:
        if int(off_h) > 23 or int(off_m) > 59:
            raise TimestampError(f"{text!r} has an invalid UTC offset")
        offset = timedelta(hours=int(off_h), minutes=int(off_m))
        moment = moment - offset if sign == "+" else moment + offset
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def format_timestamp(us: int) -> str:
    """Format microseconds since the epoch as ``YYYY-MM-DDTHH:MM:SS.ffffffZ``."""
    m = _EPOCH + timedelta(microseconds=us)
    return (
        f"{m.year:04d}-{m.month:02d}-{m.day:02d}T"
        f"{m.hour:02d}:{m.minute:02d}:{m.second:02d}.{m.microsecond:06d}Z"
    )


def now_us() -> int:
    """The current time in microseconds since the epoch."""
    delta = datetime.now(UTC) - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
