"""The atlas-package/1 JSON Schema: fast acceptance, and readable problems.

``converters/schemas/atlas-package-1.schema.json`` is the single source of truth for
the format's shape (editors use it too).  A package is first checked by a validator
compiled once with fastjsonschema; only when that rejects it does the (slower)
``jsonschema`` walk run, to collect *every* problem with its path and a message an
analyst can act on (:mod:`converters.schema_messages`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from importlib import resources
from typing import Any, Final

import fastjsonschema
import jsonschema
import orjson

from .schema_messages import describe_errors

__all__ = ["SCHEMA_FILE", "package_schema", "schema_problems"]

SCHEMA_FILE: Final = "atlas-package-1.schema.json"


@functools.cache
def package_schema() -> dict[str, Any]:
    """The atlas-package/1 JSON Schema (draft-07), parsed once."""
    data = resources.files("converters").joinpath("schemas", SCHEMA_FILE).read_bytes()
    schema: dict[str, Any] = orjson.loads(data)
    return schema


def _definition_schema(definition: str) -> dict[str, Any]:
    """A schema for one definition (``data_point``) that still resolves ``#/definitions``."""
    full = package_schema()
    return {
        "$schema": full["$schema"],
        "definitions": full["definitions"],
        "$ref": f"#/definitions/{definition}",
    }


def _offline(uri: str) -> Any:
    raise ValueError(f"schema reference {uri} is not in the schema: refusing to fetch it")


_NOT_NULL: Final = {"not": {"type": "null"}}
_ANY_BUT_NULL: Final = {"type": ["string", "number", "boolean", "array", "object"]}


def _without_negations(node: Any) -> Any:
    """The schema with ``{"not": {"type": "null"}}`` spelled as the types it allows.

    Same verdicts; but fastjsonschema decides a ``not`` by raising and catching an
    exception, once per custom ``x_`` field of every data point (four per attribute
    of a MISP event, whose ``to_ids`` and comment travel as such fields).
    """
    if isinstance(node, dict):
        if node == _NOT_NULL:
            return dict(_ANY_BUT_NULL)
        return {key: _without_negations(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_without_negations(value) for value in node]
    return node


def _compile(schema: dict[str, Any]) -> Callable[[object], object]:
    # fastjsonschema records resolution state inside the schema it is given (a second
    # compile of the same dict then tries to fetch its $id): give it its own copy (the
    # rewrite makes one), and handlers that refuse any fetch, so that checking never
    # touches the network.
    compiled: Callable[[object], object] = fastjsonschema.compile(
        _without_negations(schema), handlers={"http": _offline, "https": _offline}
    )
    return compiled


def _const_condition(part: object) -> tuple[str, object] | None:
    """``(key, value)`` when ``part`` is ``{"if": {"properties": {key: {"const": value}}}, …}``."""
    if not isinstance(part, dict) or set(part) - {"if", "then", "else"}:
        return None
    test = part.get("if")
    if not isinstance(test, dict) or set(test) != {"properties"} or len(test["properties"]) != 1:
        return None
    ((key, sub),) = test["properties"].items()
    return (key, sub["const"]) if isinstance(sub, dict) and set(sub) == {"const"} else None


@functools.cache
def _compiled(definition: str | None) -> Callable[[object], object]:
    """A fast validator that raises on the first problem.

    For a definition whose ``allOf`` holds only ``if {key: const} then … else …``
    parts (``data_point``: currency only with crypto-wallet, and so on), the condition
    is decided in Python and only the branch that applies is run: fastjsonschema
    evaluates an ``if`` by raising and catching an exception, three per row of a
    CSV side file otherwise.  The verdict is the schema's (JSON Schema: an ``if``
    on an absent property holds).  Problems are still described from the full
    schema (:func:`schema_problems`).
    """
    full = package_schema()
    if definition is None:
        # The package without its data points, then each data point by the check
        # below: one package of a MISP event or feed export can hold 50,000 of them.
        points = {**full["properties"]["data_points"], "items": {}}
        package = _compile({**full, "properties": {**full["properties"], "data_points": points}})
        point = _compiled("data_point")

        def check_package(instance: object) -> object:
            package(instance)
            items = instance.get("data_points") if isinstance(instance, dict) else None
            for item in items if isinstance(items, list) else ():
                point(item)
            return instance

        return check_package
    node = full["definitions"][definition]
    parts = node.get("allOf", [])
    conditions = [_const_condition(part) for part in parts]
    if not parts or None in conditions:
        return _compile(_definition_schema(definition))
    rest = {k: v for k, v in node.items() if k != "allOf"}
    base = _compile({"definitions": full["definitions"], **rest})
    branches = []
    for condition, part in zip(conditions, parts, strict=True):
        assert condition is not None
        then, otherwise = _compile(part.get("then", {})), _compile(part.get("else", {}))
        branches.append((*condition, then, otherwise))

    def check(instance: object) -> object:
        base(instance)
        if isinstance(instance, dict):
            for key, value, then, otherwise in branches:
                (then if key not in instance or instance[key] == value else otherwise)(instance)
        return instance

    return check


@functools.cache
def _walker(definition: str | None) -> jsonschema.Draft7Validator:
    schema = package_schema() if definition is None else _definition_schema(definition)
    return jsonschema.Draft7Validator(schema)


def schema_problems(
    instance: object, *, definition: str | None = None
) -> list[tuple[tuple[str | int, ...], str]]:
    """Every schema problem as ``(path elements, message)``; empty when valid.

    ``definition`` checks against one of the schema's definitions (the CSV side
    file's rows are ``data_point``) instead of the whole package.
    """
    try:
        _compiled(definition)(instance)
    except fastjsonschema.JsonSchemaException:
        pass
    else:
        return []
    return describe_errors(_walker(definition).iter_errors(instance))
