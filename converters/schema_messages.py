"""Readable messages for JSON Schema errors: what was wrong, where, what was expected.

jsonschema-rs reports errors as schema keywords ("… is not valid under any of the
schemas listed in the 'oneOf' keyword"); analysts need "unknown field 'nmae' (did you
mean 'name'?)".  Schemas of the project may carry two keywords that validators
ignore: ``x-expected`` (how to describe a pattern or enum: "an ISO 3166-1 alpha-2
country code") and ``x-message`` (why a field is not allowed here).  Both are read
from the subschema at the error's keyword location.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, Final
from urllib.parse import unquote

import jsonschema_rs
from jsonschema_rs import ValidationError
from jsonschema_rs import ValidationErrorKind as Kind

from .validation.problems import Failure, as_json, without_strays

__all__ = ["CheckedSchema"]

# Custom keys the project's schemas allow next to the declared ones.
_CUSTOM_KEY: Final = re.compile(r"x_[a-z0-9_]{1,248}")

Located = tuple[tuple[str | int, ...], str]


class CheckedSchema:
    """A schema document and its jsonschema-rs validator: problems in readable words."""

    def __init__(self, document: Mapping[str, Any], validator: jsonschema_rs.Validator) -> None:
        self.document = document
        self.validator = validator

    def problems(self, instance: object) -> list[Located]:
        """``(path elements, message)`` for every problem of ``instance``; ``[]`` if valid."""
        try:
            if self.validator.is_valid(instance):
                return []
            return _describe_all(self.validator.iter_errors(instance), self)
        except ValueError:  # not JSON: a YAML tag such as !!timestamp, a number as a key
            cleaned, strays = as_json(instance)
            found = [Failure(path, message) for path, message in self.problems(cleaned)]
            return [(f.steps, f.message) for f in strays + without_strays(found, strays)]

    def parent_of(self, error: ValidationError) -> Mapping[str, Any]:
        """The subschema holding the keyword that failed (``{}`` if not found)."""
        pointer = unquote((error.absolute_keyword_location or "").partition("#")[2])
        target: Any = self.document
        for token in pointer.split("/")[1:-1]:
            key = token.replace("~1", "/").replace("~0", "~")
            try:
                target = target[int(key)] if isinstance(target, list) else target[key]
            except (KeyError, IndexError, ValueError, TypeError):
                return {}
        return target if isinstance(target, Mapping) else {}


def _describe_all(errors: Iterable[ValidationError], schema: CheckedSchema) -> list[Located]:
    """``(path elements, message)`` for every error, expanding ``oneOf`` failures."""
    found: list[Located] = []
    for error in errors:
        found.extend(d for d in _describe(error, schema) if d not in found)
    return found


def _describe(error: ValidationError, document: CheckedSchema) -> Iterator[Located]:
    path = tuple(error.instance_path)
    schema = document.parent_of(error)
    instance: Any = error.instance
    custom = schema.get("x-message")
    match error.kind:
        case Kind.AdditionalProperties(unexpected=unexpected):
            known = list(schema.get("properties", {}))
            for key in unexpected:
                if not _CUSTOM_KEY.fullmatch(key):
                    custom_allowed = "patternProperties" in schema
                    yield (*path, key), _unknown_field(key, known, custom_allowed)
        case Kind.Required(property=key):
            yield path, custom or f"missing required field {key!r}"
        case Kind.AnyOf(context=context) | Kind.OneOfNotValid(context=context):
            # Report the branch that fits the value's shape: a mapping given where
            # "a path or a mapping" is allowed is wrong inside, not "not a string".
            errors = [e for branch in context for e in branch]
            shaped = [
                e for e in errors if not (_is_type(e) and e.instance_path == error.instance_path)
            ]
            yield from _describe(_best_match(shaped or errors, document), document)
        case Kind.Not() if custom:
            yield path, f"not allowed here: {custom}"
        case _:
            yield path, _expectation(error, schema, instance)


def _is_type(error: ValidationError) -> bool:
    return isinstance(error.kind, Kind.Type)


def _best_match(errors: Sequence[ValidationError], document: CheckedSchema) -> ValidationError:
    """jsonschema's ``best_match``: the shallowest error, not an ``anyOf``/``oneOf`` if
    another is as shallow, then descending into the deepest of an alternative's errors."""

    def relevance(error: ValidationError) -> tuple[int, bool, bool]:
        weak = isinstance(error.kind, Kind.AnyOf | Kind.OneOfNotValid | Kind.OneOfMultipleValid)
        types = document.parent_of(error).get("type")
        fits = types is not None and _kind_fits(error.instance, types)
        return (-len(error.instance_path), not weak, not fits)

    best = max(errors, key=relevance)
    while isinstance(best.kind, Kind.AnyOf | Kind.OneOfNotValid):
        nested = sorted((e for branch in best.kind.context for e in branch), key=relevance)
        if not nested or (len(nested) > 1 and relevance(nested[0]) == relevance(nested[1])):
            break
        best = nested[0]
    return best


_PYTHON_TYPES: Final = {
    "string": (str,), "integer": (int,), "number": (int, float), "array": (list,),
    "object": (dict,), "boolean": (bool,), "null": (type(None),),
}  # fmt: skip


def _kind_fits(value: object, types: str | Sequence[str]) -> bool:
    names = [types] if isinstance(types, str) else types
    if isinstance(value, bool):
        return "boolean" in names
    return any(isinstance(value, _PYTHON_TYPES.get(name, ())) for name in names)


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
    """A value as the analyst wrote it: ``null`` and ``true`` as in YAML and JSON."""
    if value is None or isinstance(value, bool):
        return "null" if value is None else str(value).lower()
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _expectation(error: ValidationError, schema: Mapping[str, Any], value: Any) -> str:
    wording = schema.get("x-expected")
    got = _shown(value)
    match error.kind:
        case Kind.Type(types=types):
            names = " or ".join(_JSON_TYPES.get(k, k) for k in types)
            found = "null" if value is None else f"{_type_name(value)} {got}"
            return f"expected {names}, got {found}"
        case Kind.Enum(options=options) | Kind.Constant(expected_value=options):
            if wording:
                return f"expected {wording}, got {got}"
            listed: Any = options if isinstance(error.kind, Kind.Enum) else [options]
            return f"expected one of {', '.join(map(str, listed))}; got {got}"
        case Kind.Pattern(pattern=pattern):
            return f"expected {wording or 'a string matching ' + pattern}, got {got}"
        case Kind.Minimum(limit=limit) | Kind.Maximum(limit=limit):
            low, high = schema.get("minimum"), schema.get("maximum")
            if low is not None and high is not None:
                return f"expected an integer from {low} to {high}, got {got}"
            bound = "at least" if isinstance(error.kind, Kind.Minimum) else "at most"
            return f"expected {bound} {limit}, got {got}"
        case Kind.MinItems(limit=limit):
            return f"expected at least {limit} entr{'y' if limit == 1 else 'ies'}"
        case Kind.MinLength():
            return "expected a non-empty string"
        case Kind.UniqueItems() if isinstance(value, list):
            duplicates = [v for i, v in enumerate(value) if v in value[:i]]
            return f"duplicate entries: {', '.join(map(_shown, duplicates))}"
    return f"{got} is not valid here ({error.kind.name})"
