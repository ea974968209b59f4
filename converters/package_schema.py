"""The atlas-package/1 JSON Schema: fast acceptance, and readable problems.

``converters/schemas/atlas-package-1.schema.json`` is the single source of truth for
the format's shape (editors use it too).  A package, and each row of its CSV side
file (the ``data_point`` definition), is checked by jsonschema-rs validators compiled
once; only an invalid one is walked for every problem, with its path and a message an
analyst can act on (:mod:`converters.schema_messages`).
"""

from __future__ import annotations

import functools
from importlib import resources
from typing import Any, Final

import jsonschema_rs
import orjson

from .schema_messages import CheckedSchema

__all__ = ["SCHEMA_FILE", "package_schema", "schema_problems"]

SCHEMA_FILE: Final = "atlas-package-1.schema.json"


@functools.cache
def package_schema() -> dict[str, Any]:
    """The atlas-package/1 JSON Schema (draft-07), parsed once."""
    data = resources.files("converters").joinpath("schemas", SCHEMA_FILE).read_bytes()
    schema: dict[str, Any] = orjson.loads(data)
    return schema


@functools.cache
def _checked(definition: str | None) -> CheckedSchema:
    """The whole schema, or one of its definitions (``data_point``), compiled; it
    refers to nothing outside the document, and fetches nothing."""
    full = package_schema()
    schema = full if definition is None else {"$ref": f"{full['$id']}#/definitions/{definition}"}
    registry = jsonschema_rs.Registry([(full["$id"], full)])
    return CheckedSchema(
        full, jsonschema_rs.Draft7Validator(schema, registry=registry, offline=True)
    )


def schema_problems(
    instance: object, *, definition: str | None = None
) -> list[tuple[tuple[str | int, ...], str]]:
    """Every schema problem as ``(path elements, message)``; empty when valid.

    ``definition`` checks against one of the schema's definitions (the CSV side
    file's rows are ``data_point``) instead of the whole package.
    """
    return _checked(definition).problems(instance)
