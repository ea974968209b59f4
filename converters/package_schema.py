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


@functools.cache
def _compiled(definition: str | None) -> Callable[[object], object]:
    schema = package_schema() if definition is None else _definition_schema(definition)
    compiled: Callable[[object], object] = fastjsonschema.compile(schema)
    return compiled


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
