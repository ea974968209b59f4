"""Loading input mapping files (MISP, feeds): checked in full when loaded, like STIX mappings.

An input mapping says how a foreign input becomes a research package.  Its shape is a
JSON Schema beside it in ``mappings/`` (editors use it too); what a schema cannot say
is checked here: the data-point types and fields it names must be those of the
package format (atlas-package/1's schema is the single source of both).  Every
problem is reported at once with its JSON path and line, as a
:class:`~converters.errors.MappingError`.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import jsonschema_rs
import orjson

import mappings

from ..documents import DocumentError, line_of, read_document
from ..errors import MappingError, SourceProblem
from ..package_schema import package_schema
from ..schema_messages import CheckedSchema

__all__ = ["MAPPINGS_DIR", "InputMappingChecker", "read_input_mapping"]

#: Where the input mappings live: ``mappings/inputs/`` (misp.yaml, feeds/, their schemas).
MAPPINGS_DIR: Final = Path(mappings.__file__).resolve().parent / "inputs"


@functools.cache
def _schema(schema_name: str) -> CheckedSchema:
    document = orjson.loads((MAPPINGS_DIR / schema_name).read_bytes())
    return CheckedSchema(document, jsonschema_rs.Draft7Validator(document, offline=True))


@functools.cache
def _point_schema() -> dict[str, Any]:
    schema: dict[str, Any] = package_schema()["definitions"]["data_point"]
    return schema


def _json_path(elements: tuple[str | int, ...]) -> str:
    return "$" + "".join(f"[{e}]" if isinstance(e, int) else f".{e}" for e in elements)


@dataclass(slots=True)
class InputMappingChecker:
    """Collects the problems of one input mapping file while it is turned into rules."""

    source: Path
    problems: list[SourceProblem] = field(default_factory=list)

    def add(self, path: str, message: str) -> None:
        """One problem at ``path`` (a JSON path in the mapping file)."""
        self.problems.append(SourceProblem(path, message))

    def point_type(self, path: str, name: str, *, ip: bool = True) -> None:
        """``name`` must be a data-point type (or ``ip``: IPv4 or IPv6 by the value)."""
        types = list(_point_schema()["properties"]["type"]["enum"])
        if name not in types and not (ip and name == "ip"):
            extra = ", ip" if ip else ""
            self.add(
                path,
                f"{name!r} is not a data-point type; expected one of {', '.join(types)}{extra}",
            )

    def point_field(self, path: str, name: str) -> None:
        """``name`` must be a data-point field (``bank.swift``; ``x_`` custom fields too)."""
        properties = _point_schema()["properties"]
        head, _, tail = name.partition(".")
        if head.startswith("x_") and not tail:
            return
        node = properties.get(head)
        if node is not None and tail and head == "bank":
            node = package_schema()["definitions"]["data_point"]["properties"]["bank"]
            node = node["properties"].get(tail)
        elif tail:
            node = None
        if node is None or head in ("ref", "type", "value"):
            fields = ", ".join(sorted(set(properties) - {"ref", "type", "value"}))
            self.add(
                path,
                f"{name!r} is not a data-point field a mapping may set; expected one of "
                f"{fields}, bank.name, bank.country, bank.swift or x_…",
            )

    def finish(self) -> None:
        """Raise :class:`MappingError` with every problem, each with its line."""
        if self.problems:
            located = [
                SourceProblem(p.path, p.message, str(self.source), line_of(self.source, p.path))
                for p in self.problems
            ]
            count = f"{len(located)} problem{'s' if len(located) != 1 else ''}"
            raise MappingError(f"{self.source}: not a valid input mapping ({count})", located)


def read_input_mapping(
    source: Path, schema_name: str
) -> tuple[dict[str, Any], InputMappingChecker]:
    """Read an input mapping and check it against its schema.

    Returns the document and a checker for the rest; schema problems raise at once
    (the document's shape is then not what the rest of the checks expect).
    """
    checker = InputMappingChecker(source)
    try:
        document = read_document(source)
    except DocumentError as exc:
        raise MappingError(f"{source}: cannot read the input mapping", [exc.problem]) from None
    for elements, message in _schema(schema_name).problems(document):
        checker.add(_json_path(elements), message)
    checker.finish()
    assert isinstance(document, dict)  # the schema says so
    return document, checker
