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

__all__ = ["is_real_date", "order_key", "real_date_message"]

_FIELDS: Final = re.compile(r"(\d{4})-(\d{2})-(\d{2})T\d{2}:\d{2}:(\d{2})", re.ASCII)


def is_real_date(value: str) -> bool:
    """Whether a string shaped like a STIX timestamp names a moment that exists.

    Strings of another shape pass: the schema's pattern reports them.
    """
    # Fast path: days up to 28 exist in every month; only seconds and year 0 remain.
    if value[8:10] <= "28" and value[17:19] != "60" and not value.startswith("0000"):
        return True
    match = _FIELDS.match(value)
    if match is None:
        return True
    year, month, day, second = (int(group) for group in match.groups())
    if year == 0 or second > 59 or not 1 <= month <= 12:
        return False
    return 1 <= day <= calendar.monthrange(year, month)[1]


def real_date_message(value: str) -> str:
    """Say why a timestamp is not a real date."""
    shown = repr(value if len(value) <= 80 else value[:79] + "…")
    match = _FIELDS.match(value)
    if match is not None:
        year, month, day, second = (int(group) for group in match.groups())
        if year == 0:
            return f"{shown} is not a valid timestamp: there is no year 0000"
        if second > 59:
            return f"{shown} is not a valid timestamp: seconds must be 00 to 59"
        if 1 <= month <= 12:
            last = calendar.monthrange(year, month)[1]
            return f"{shown} is not a valid timestamp: {year:04d}-{month:02d} has {last} days"
    return f"{shown} is not a valid timestamp"


def order_key(value: str) -> tuple[str, str]:
    """A key that orders STIX timestamps (``YYYY-MM-DDTHH:MM:SS[.frac]Z``) exactly.

    The first 19 characters have a fixed width, so they compare as strings; the
    fraction compares as a string too once trailing zeros are gone (``.5`` > ``.45``).
    Any number of fractional digits is exact, where a ``datetime`` would round to
    microseconds.
    """
    fraction = value[20:-1] if value[19:20] == "." else ""
    return value[:19], fraction.rstrip("0")
