"""The ``data_points_csv`` side file: one data point per row.

Columns are the DataPoint fields (research-package.md).  List fields
(``linked_to``, ``sources``, ``vetting.by``) hold ``;``-separated values; the nested
``bank`` and ``vetting`` fields are spelled as dotted columns (``bank.name``,
``bank.country``, ``bank.swift``, ``vetting.status``, ``vetting.by``,
``vetting.at``).  ``confidence`` is an integer.  Custom ``x_…`` columns are carried
like custom fields of inline data points.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from .documents import read_csv
from .errors import SourceProblem

__all__ = ["CsvPoint", "column_of", "read_points"]

_PLAIN: Final = frozenset(
    {"ref", "type", "value", "currency", "platform", "role", "first_seen", "last_seen"}
    | {"tlp", "confidence", "linked_to", "sources"}
)
_NESTED: Final = frozenset(
    {"bank.name", "bank.country", "bank.swift", "vetting.status", "vetting.by", "vetting.at"}
)
_LISTS: Final = frozenset({"linked_to", "sources", "vetting.by"})
_CUSTOM: Final = re.compile(r"x_[a-z0-9_]{1,248}")


@dataclass(frozen=True, slots=True)
class CsvPoint:
    """A data point read from a CSV row, with the row's position (``file.csv:17``)."""

    location: str
    fields: dict[str, Any]


def read_points(path: Path) -> tuple[list[CsvPoint], list[SourceProblem]]:
    """Rows of the side file as data-point mappings, plus the problems of its shape.

    Raises :class:`~converters.documents.DocumentError` when the file cannot be
    read at all.  Field values are checked later, with the inline data points.
    """
    columns, rows = read_csv(path)
    problems: list[SourceProblem] = []
    for column in columns:
        if column not in _PLAIN and column not in _NESTED and not _CUSTOM.fullmatch(column):
            known = ", ".join(sorted(_PLAIN | _NESTED))
            problems.append(
                SourceProblem(f"{path}:1", f"unknown column {column!r}; known: {known}")
            )
    if len(set(columns)) != len(columns):
        problems.append(SourceProblem(f"{path}:1", "a column name appears twice"))
    points: list[CsvPoint] = []
    plan = [_plan(column) for column in columns]
    for row in rows:
        location = f"{path}:{row.line}"
        if row.error:
            problems.append(SourceProblem(location, row.error))
            continue
        points.append(CsvPoint(location, _fields(plan, row.cells)))
    return points, problems


# How a column's cells become a field: (field, nested key or "", list?, confidence?).
_Plan = tuple[str, str, bool, bool]


def _plan(column: str) -> _Plan:
    head, _, tail = column.partition(".")
    return head, tail, column in _LISTS, column == "confidence"


def _fields(plan: list[_Plan], cells: list[str]) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for (head, tail, listed, confidence), text in zip(plan, cells, strict=True):
        if not text:
            continue
        value: Any = text
        if listed:
            value = [part.strip() for part in text.split(";") if part.strip()]
        elif confidence and text.isascii() and text.isdigit():
            value = int(text)
        if tail:
            fields.setdefault(head, {})[tail] = value
        else:
            fields[head] = value
    return fields


def column_of(path: tuple[str | int, ...]) -> str:
    """The CSV column a schema path inside a row refers to (``bank.name``, ``linked_to``)."""
    names = [str(part) for part in path if isinstance(part, str)]
    return ".".join(names[:2]) if names and names[0] in ("bank", "vetting") else ".".join(names[:1])
