"""What a validator reports: one :class:`Problem` per offending value."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, NamedTuple

__all__ = [
    "Failure",
    "Problem",
    "Steps",
    "as_json",
    "json_path",
    "kind_name",
    "show",
    "without_strays",
]

# A key that can follow a dot in a JSON path without quoting.
_PLAIN_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]")

#: Property names and array indexes from a checked object down to the offending value.
Steps = tuple[str | int, ...]


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


class Failure(NamedTuple):
    """One problem found in an object, relative to that object."""

    steps: Steps
    message: str


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


_KIND_NAMES = {
    dict: "an object",
    list: "an array",
    tuple: "an array",
    str: "a string",
    int: "an integer",
    float: "a number",
    bool: "a boolean",
    type(None): "null",
}


def show(value: Any, limit: int = 80) -> str:
    """A short one-line rendering of a JSON value for a message."""
    if isinstance(value, str):
        return repr(value if len(value) <= limit else value[: limit - 1] + "…")
    if isinstance(value, bool) or value is None:
        return "true" if value is True else "false" if value is False else "null"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list | tuple):
        return f"an array of {len(value)} item{'s' if len(value) != 1 else ''}"
    return type(value).__name__


def kind_name(value: Any) -> str:
    """``"a string"``, ``"an object"``... for the JSON type of a value."""
    for kind in (bool, dict, list, tuple, str, int, float, type(None)):
        if isinstance(value, kind):
            return _KIND_NAMES[kind]
    return type(value).__name__


def as_json(value: Any) -> tuple[Any, list[Failure]]:
    """``value`` made of plain JSON types, and a failure for each part JSON cannot hold
    (a ``datetime``, a set, a non-string key), which becomes ``None`` or is left out.

    jsonschema-rs refuses such values with an exception; a Python caller (or a YAML
    tag such as ``!!timestamp``) can produce them.
    """
    strays: list[Failure] = []
    return _as_json(value, (), strays), strays


def without_strays(failures: list[Failure], strays: list[Failure]) -> list[Failure]:
    """``failures`` minus those at or under a stray value: it is one problem, not also
    "expected a string, got null"."""
    return [f for f in failures if not any(f.steps[: len(s.steps)] == s.steps for s in strays)]


def _as_json(value: Any, steps: Steps, strays: list[Failure]) -> Any:
    if isinstance(value, dict):
        cleaned: dict[str, Any] = {}
        for key, item in value.items():
            if isinstance(key, str):
                cleaned[str(key)] = _as_json(item, (*steps, str(key)), strays)
            else:
                message = f"property names must be strings, got {type(key).__name__} {show(key)}"
                strays.append(Failure((*steps, str(key)), message))
        return cleaned
    if isinstance(value, list | tuple):
        return [_as_json(item, (*steps, index), strays) for index, item in enumerate(value)]
    if value is None or isinstance(value, bool):
        return value
    for kind in (str, int):
        if isinstance(value, kind):
            return kind(value)
    if isinstance(value, float) and math.isfinite(value):
        return float(value)
    strays.append(Failure(steps, f"{type(value).__name__} is not a JSON value"))
    return None
