"""Package timestamps (RFC 3339 or a bare date) to STIX 2.1 timestamps.

STIX 2.1 §3.2: timestamps are UTC, ``Z``-terminated, and ``created``/``modified``
are precise to at least the millisecond.  Every timestamp the converter emits has
three fractional digits, or six when the input carries sub-millisecond precision,
so converting the same package twice gives the same strings.  (The server has its
own integer-microsecond timestamps in ``taxii_server.timestamps``; converters may
not import the server, and the two formats serve different ends.)
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Final

__all__ = ["PROJECT_EPOCH", "InvalidTimestamp", "stix_timestamp"]

#: ``created``/``modified`` of objects shared by every package through a natural key
#: (author and sector identities, locations, attack patterns), so that they are
#: byte-identical in every package that uses them (research-package.md).
PROJECT_EPOCH: Final = "2024-01-01T00:00:00.000Z"

_PATTERN: Final = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})"
    r"(?:[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?:([Zz])|([+-])(\d{2}):(\d{2})))?\Z"
)


class InvalidTimestamp(ValueError):
    """Not an RFC 3339 timestamp or date, or not a real moment (``2024-02-30``)."""


def stix_timestamp(text: str) -> str:
    """``2024-06-11`` / ``2024-06-11T11:00:00+02:00`` -> ``2024-06-11T09:00:00.000Z``."""
    match = _PATTERN.match(text)
    if match is None:
        raise InvalidTimestamp(
            f"expected an RFC 3339 timestamp (2024-06-11T09:00:00Z) or a date, got {text!r}"
        )
    year, month, day, hour, minute, second, fraction, _z, sign, off_h, off_m = match.groups()
    micro = int((fraction or "0")[:6].ljust(6, "0"))
    try:
        moment = datetime(
            int(year),
            int(month),
            int(day),
            int(hour or 0),
            int(minute or 0),
            int(second or 0),
            micro,
            tzinfo=UTC,
        )
    except ValueError as exc:
        raise InvalidTimestamp(f"{text!r} is not a real date and time ({exc})") from None
    if not sign:  # UTC already (or a date): the digits as written, now known to be real
        return _formatted(year, month, day, hour or "00", minute or "00", second or "00", micro)
    if int(off_h) > 23 or int(off_m) > 59:
        raise InvalidTimestamp(f"{text!r} has an invalid UTC offset")
    offset = timedelta(hours=int(off_h), minutes=int(off_m))
    moment = moment - offset if sign == "+" else moment + offset
    return _formatted(
        f"{moment.year:04d}",
        f"{moment.month:02d}",
        f"{moment.day:02d}",
        f"{moment.hour:02d}",
        f"{moment.minute:02d}",
        f"{moment.second:02d}",
        moment.microsecond,
    )


def _formatted(
    year: str, month: str, day: str, hour: str, minute: str, second: str, micro: int
) -> str:
    digits = f"{micro:06d}"
    digits = digits[:3] if digits.endswith("000") else digits
    return f"{year}-{month}-{day}T{hour}:{minute}:{second}.{digits}Z"
