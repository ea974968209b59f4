"""What a validator reports: one :class:`Problem` per offending value."""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["Problem", "json_path"]

# A key that can follow a dot in a JSON path without quoting.
_PLAIN_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]")


@dataclass(frozen=True, slots=True)
class Problem:
    """One reason a STIX object or bundle is invalid.

    ``path`` is the JSON path of the offending value, rooted at the path the caller
    passed (``$.objects[3].pattern`` inside a bundle, ``$.pattern`` for a lone object);
    ``message`` says what was wrong and what was expected, on one line.
    """

    object_id: str | None
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.object_id or '-'} {self.path}: {self.message}"


def json_path(base: str, *steps: str | int) -> str:
    """Append property names and array indexes to a JSON path (``$.a[0]['b-c']``)."""
    parts = [base]
    for step in steps:
        if isinstance(step, int):
            parts.append(f"[{step}]")
        elif _PLAIN_KEY.match(step):
            parts.append(f".{step}")
        else:
            parts.append(f"[{_quote(step)}]")
    return "".join(parts)


def _quote(key: str) -> str:
    """Quote a property name for a JSON path: single quotes, control characters escaped."""
    escaped = key.replace("\\", "\\\\").replace("'", "\\'")
    # Keep the path on one line whatever the key holds.
    return "'" + _CONTROL.sub(lambda m: f"\\u{ord(m.group()):04x}", escaped) + "'"
