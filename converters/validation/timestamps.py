"""STIX timestamps beyond their shape: real dates, and their order.

The OASIS ``timestamp.json`` pattern admits ``2023-02-30T00:00:00Z``, second ``60``
and year ``0000``.  ``stix2-validator`` rejects those with ``dateutil`` (STIX 2.1
§3.2: a timestamp MUST be a valid RFC 3339 date and time), and so does every consumer
that parses timestamps with Python's ``datetime``, including our own TAXII store.
"""

from __future__ import annotations

import calendar
import re
from typing import Final

__all__ = ["REAL_TIMESTAMP", "TIMESTAMP_SHAPE", "date_problem", "order_key"]

#: The OASIS ``timestamp.json`` pattern: the shape of a STIX timestamp.
TIMESTAMP_SHAPE: Final = re.compile(
    r"[0-9]{4}-(0[1-9]|1[012])-(0[1-9]|[12][0-9]|3[01])T([01][0-9]|2[0-3]):([0-5][0-9]):"
    r"([0-5][0-9]|60)(\.[0-9]+)?Z\Z"
)

_FIELDS: Final = re.compile(r"(\d{4})-(\d{2})-(\d{2})T\d{2}:\d{2}:(\d{2})", re.ASCII)

# Dates that exist: a year from 0001, the days of each month, 29 February in the years
# the Gregorian calendar makes leap years (divisible by 4, centuries only by 400).
_YEAR = "(?:[0-9]{3}[1-9]|[0-9]{2}[1-9]0|[0-9][1-9]00|[1-9]000)"
_LEAP_YEAR = "(?:[0-9]{2}(?:0[48]|[2468][048]|[13579][26])|(?:0[48]|[2468][048]|[13579][26])00)"
_DAY = (
    "(?:(?:0[13578]|1[02])-(?:0[1-9]|[12][0-9]|3[01])|(?:0[469]|11)-(?:0[1-9]|[12][0-9]|30)"
    "|02-(?:0[1-9]|1[0-9]|2[0-8]))"
)
#: The OASIS ``timestamp.json`` pattern narrowed to real dates and seconds 00-59: the
#: validator checks timestamps with it, in jsonschema-rs, instead of calling
#: :func:`date_problem` on each (``tests/validation/test_timestamps.py`` checks that
#: the two agree).
REAL_TIMESTAMP: Final = (
    f"^(?:{_YEAR}-{_DAY}|{_LEAP_YEAR}-02-29)"
    r"T(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:\.[0-9]+)?Z$"
)


def date_problem(value: str) -> str | None:
    """Why a string of the timestamp's shape names no real moment; None when it does
    (or when its shape is wrong, which the schema's pattern reports)."""
    match = _FIELDS.match(value)
    if match is None:
        return None
    year, month, day, second = (int(group) for group in match.groups())
    shown = repr(value if len(value) <= 80 else value[:79] + "…")
    if year == 0:
        return f"{shown} is not a valid timestamp: there is no year 0000"
    if second > 59:
        return f"{shown} is not a valid timestamp: seconds must be 00 to 59"
    if 1 <= month <= 12 and day > calendar.monthrange(year, month)[1]:
        last = calendar.monthrange(year, month)[1]
        return f"{shown} is not a valid timestamp: {year:04d}-{month:02d} has {last} days"
    return None


def order_key(value: str) -> tuple[str, str]:
    """A key that orders STIX timestamps (``YYYY-MM-DDTHH:MM:SS[.frac]Z``) exactly.

    The first 19 characters have a fixed width, so they compare as strings; the
    fraction compares as a string too once trailing zeros are gone (``.5`` > ``.45``).
    Any number of fractional digits is exact, where a ``datetime`` would round to
    microseconds.
    """
    fraction = value[20:-1] if value[19:20] == "." else ""
    return value[:19], fraction.rstrip("0")
