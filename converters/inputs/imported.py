"""What every foreign input becomes: a research-package document, and where it came from.

A reader (MISP, an abuse.ch feed, free text) builds an :class:`Imported`: the package
document it made, the input position each item came from (:class:`Origin`), and what
it could not map (:class:`Unmapped`: type, count, first example; never dropped
silently).  :meth:`Imported.check` then runs the package checks every package gets
(:func:`converters.package.check_package`) and reports each problem where it is in the
input, not in the package it was turned into: ``$.Event.Attribute[7].value`` of the
MISP file, ``export.csv:17`` of a feed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final

from ..errors import SourceProblem
from ..package import Package, Policy, check_package

__all__ = ["Imported", "Origin", "Tally", "Unmapped"]

_EMPTY: Final[Mapping[str, str]] = MappingProxyType({})
_ITEM = re.compile(r"^(\$\.[a-z_]+\[\d+\])(?:\.([A-Za-z0-9_]+))?(.*)\Z")
_ROOT_FIELD = re.compile(r"^\$\.([A-Za-z0-9_]+)(.*)\Z")


@dataclass(frozen=True, slots=True)
class Origin:
    """Where an item (or the package's own fields, for ``$``) came from in the input.

    ``path`` is a JSON path (``$.Event.Attribute[7]``) or a CSV position
    (``export.csv:17``); ``fields`` names, for package fields, the input field they
    were read from (``{"value": "ioc"}``).
    """

    path: str
    fields: Mapping[str, str] = field(default_factory=lambda: _EMPTY)

    def place(self, name: str | None, rest: str, message: str) -> tuple[str, str]:
        """Where package field ``name`` (and ``rest``, what follows it) is in the input,
        and ``message`` naming the field where the position cannot."""
        if name is None:
            return self.path, message
        source = self.fields.get(name)
        if not self.path.startswith("$"):  # a CSV row, a line of text
            return self.path, f"column {source}: {message}" if source else f"{name}: {message}"
        if source:
            return f"{self.path}.{source}{rest}", message
        return self.path, f"{name}: {message}"


@dataclass(frozen=True, slots=True)
class Unmapped:
    """Something in the input that the input's mapping does not turn into the package.

    ``kind`` says what it is (``attribute type``, ``object``, ``galaxy``, ``tag``,
    ``ioc type``), ``name`` which one, ``count`` how many, ``example`` the first value
    met and ``where`` its position in ``file``.
    """

    kind: str
    name: str
    count: int
    example: str
    where: str
    file: str

    def __str__(self) -> str:
        where = f"{self.file}: {self.where}" if self.where.startswith("$") else self.where
        return f"{where}: {self.describe()}"

    def describe(self) -> str:
        """What it is and how many, with the first example and where that is in its file."""
        example = self.example if len(self.example) <= 60 else self.example[:57] + "..."
        return f"not mapped: {self.kind} {self.name!r} ×{self.count} (e.g. {example!r})"


@dataclass(slots=True)
class Tally:
    """Counts what is not mapped, keeping the first example of each."""

    seen: dict[tuple[str, str], list[Any]] = field(default_factory=dict)

    def add(self, kind: str, name: str, example: object, where: str) -> None:
        """Count one unmapped thing."""
        entry = self.seen.get((kind, name))
        if entry is None:
            self.seen[(kind, name)] = [1, str(example), where]
        else:
            entry[0] += 1

    def report(self, source: Path) -> tuple[Unmapped, ...]:
        """Everything counted in the input ``source``, in the order first met."""
        file = str(source)
        return tuple(Unmapped(k, n, c, e, w, file) for (k, n), (c, e, w) in self.seen.items())


@dataclass(frozen=True, slots=True)
class Imported:
    """A package document made from a foreign input, with the input positions of its items."""

    kind: str  # the input's kind: misp, urlhaus, threatfox, text
    source: Path
    document: dict[str, Any]
    origins: Mapping[str, Origin]  # "$" and item paths ("$.data_points[3]") -> Origin
    unmapped: tuple[Unmapped, ...] = ()

    def check(self, policy: Policy | None = None) -> Package:
        """The checked package; problems are reported where they are in the input."""
        return check_package(self.document, self.source, policy=policy, locate=self.locate)

    def locate(self, problem: SourceProblem) -> SourceProblem:
        """A problem found in the package document, placed in the input file."""
        item = _ITEM.match(problem.path)
        if item is not None and item.group(1) in self.origins:
            origin, name, rest = self.origins[item.group(1)], item.group(2), item.group(3)
        else:
            root = _ROOT_FIELD.match(problem.path)
            origin = self.origins.get("$", Origin(problem.path))
            name, rest = (root.group(1), root.group(2)) if root is not None else (None, "")
        where, message = origin.place(name, rest, problem.message)
        return SourceProblem(where, message, str(self.source), None, problem.severity)
