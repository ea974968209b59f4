"""Readable messages for JSON Schema errors: what was wrong, where, what was expected.

``jsonschema`` reports errors as schema keywords ("'x' is not valid under any of
the given schemas"); analysts need "unknown field 'nmae' (did you mean 'name'?)".
Schemas of the project may carry two keywords that validators ignore:
``x-expected`` (how to describe a pattern or enum: "an ISO 3166-1 alpha-2 country
code") and ``x-message`` (why a field is not allowed here).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, Final

import jsonschema

__all__ = ["describe_errors"]

# Custom keys the project's schemas allow next to the declared ones.
_CUSTOM_KEY: Final = re.compile(r"x_[a-z0-9_]{1,248}")

Located = tuple[tuple[str | int, ...], str]


def describe_errors(errors: Iterable[jsonschema.ValidationError]) -> list[Located]:
    """``(path elements, message)`` for every error, expanding ``oneOf`` failures."""
    found: list[Located] = []
    for error in errors:
        # jsonschema reports each missing required field as an error carrying the
        # whole ``required`` list: describe each field once.
        found.extend(d for d in _describe(error) if d not in found)
    return found


def _describe(error: jsonschema.ValidationError) -> Iterator[Located]:
    path = tuple(error.absolute_path)
    schema = error.schema if isinstance(error.schema, Mapping) else {}
    keyword, instance = str(error.validator), error.instance
    expected: Any = error.validator_value
    custom = schema.get("x-message")
    if keyword == "additionalProperties" and isinstance(instance, Mapping):
        known = list(schema.get("properties", {}))
        for key in instance:
            if key not in known and not _CUSTOM_KEY.fullmatch(str(key)):
                custom_allowed = "patternProperties" in schema
                yield (*path, key), _unknown_field(str(key), known, custom_allowed)
    elif keyword == "required" and isinstance(instance, Mapping):
        for key in expected:
            if key not in instance:
                yield path, custom or f"missing required field {key!r}"
    elif keyword in ("oneOf", "anyOf") and error.context:
        # Report the branch that fits the value's shape: a mapping given where
        # "a path or a mapping" is allowed is wrong inside, not "not a string".
        shaped = [e for e in error.context if not (e.validator == "type" and not e.relative_path)]
        yield from _describe(jsonschema.exceptions.best_match(shaped or error.context))
    elif keyword == "not" and custom:
        yield path, f"not allowed here: {custom}"
    else:
        yield path, _expectation(keyword, expected, schema, instance)


def _unknown_field(key: str, known: Sequence[str], custom_allowed: bool) -> str:
    close = difflib.get_close_matches(key, known, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    custom = "; custom fields start with x_" if custom_allowed else ""
    return f"unknown field {key!r}{hint}{custom}"


_JSON_TYPES: Final = {
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "array": "a list",
    "object": "a mapping of fields",
    "boolean": "true or false",
    "null": "null",
}


def _type_name(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    return "a mapping" if isinstance(value, dict) else type(value).__name__


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _expectation(keyword: str, expected: Any, schema: Mapping[str, Any], value: object) -> str:
    wording = schema.get("x-expected")
    got = _shown(value)
    if keyword == "type":
        kinds = [expected] if isinstance(expected, str) else list(expected)
        names = " or ".join(_JSON_TYPES.get(k, k) for k in kinds)
        return f"expected {names}, got {_type_name(value)} {got}"
    if keyword in ("enum", "const"):
        if wording:
            return f"expected {wording}, got {got}"
        options = expected if keyword == "enum" else [expected]
        return f"expected one of {', '.join(map(str, options))}; got {got}"
    if keyword == "pattern":
        return f"expected {wording or 'a string matching ' + str(expected)}, got {got}"
    if keyword in ("minimum", "maximum"):
        low, high = schema.get("minimum"), schema.get("maximum")
        if low is not None and high is not None:
            return f"expected an integer from {low} to {high}, got {got}"
        bound = "at least" if keyword == "minimum" else "at most"
        return f"expected {bound} {expected}, got {got}"
    if keyword == "minItems":
        return f"expected at least {expected} entr{'y' if expected == 1 else 'ies'}"
    if keyword == "minLength":
        return "expected a non-empty string"
    if keyword == "uniqueItems" and isinstance(value, list):
        duplicates = [v for i, v in enumerate(value) if v in value[:i]]
        return f"duplicate entries: {', '.join(map(_shown, duplicates))}"
    return f"{got} is not valid here ({keyword})"
