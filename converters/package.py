"""Research packages (atlas-package/1): load, check in full, normalise, merge.

``load_package`` reads the YAML or JSON document and its CSV side file, checks
them against the format's JSON Schema and the rules a schema cannot express
(:mod:`converters.package_checks`), and returns a :class:`Package` whose items are
normalised.  A package with problems is refused with every problem at once
(:class:`~converters.errors.PackageError`), each with its path and, in YAML/JSON
files, its line.

Data points with the same type and normalised value are one observable
(research-package.md): they are merged into the first of them in package order
(inline items before CSV rows), with the union of their ``linked_to`` and
``sources`` and the most restrictive of their TLP levels.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

from . import tlp as tlp_levels
from .csv_points import read_points
from .documents import DocumentError, line_of, read_document
from .errors import PackageError, SourceProblem
from .package_checks import SECTIONS, Entry, Policy, check_entries, check_root, json_path
from .package_schema import schema_problems

__all__ = ["SECTIONS", "Item", "Locate", "Package", "Policy", "check_package", "load_package"]

#: Says where a problem found in a package document is in the input it came from:
#: takes the problem (its path in the package) and returns it located (file, path, line).
Locate = Callable[[SourceProblem], SourceProblem]


@dataclass(frozen=True, slots=True)
class Item:
    """One checked, normalised item of a package.

    ``fields`` are the item's fields after normalisation and defaults (read-only);
    ``refs`` is the item's ref followed by the refs of data points merged into it;
    ``location`` is where the item is written (``$.data_points[3]``, ``points.csv:17``).
    """

    section: str
    ref: str
    fields: Mapping[str, Any]
    location: str
    tlp: str
    refs: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Package:
    """A checked research package: its own fields, its items, and where it came from."""

    id: str
    revision: int
    tlp: str
    created: str  # STIX timestamp of first_published
    modified: str  # STIX timestamp of published
    root: Mapping[str, Any]  # top-level fields other than the item sections (a dict)
    sections: Mapping[str, tuple[Item, ...]]  # items by section, in package order
    items: Mapping[str, Item]  # every ref (including merged ones) -> its item
    path: Path
    warnings: tuple[SourceProblem, ...]


def load_package(
    path: str | Path, *, strict: bool = False, policy: Policy | None = None
) -> Package:
    """Read and check a research package; raise :class:`PackageError` listing every problem.

    ``policy`` says what is tolerated (:class:`Policy`: checksum failures as
    warnings, unverified data points); ``strict`` (as ``Policy(strict=True)``) makes
    warnings, such as a source withheld from an item, problems too.
    """
    source = Path(path)
    try:
        document = read_document(source)
    except DocumentError as exc:
        raise PackageError(f"{source}: cannot read the package", [exc.problem]) from None
    return check_package(document, source, policy=policy, strict=strict)


def check_package(
    document: object,
    source: Path,
    *,
    policy: Policy | None = None,
    strict: bool = False,
    locate: Locate | None = None,
) -> Package:
    """Check a package document read from ``source`` (its CSV side file is relative to it).

    ``locate`` translates a problem's package path into where it is in the input the
    document was made from (a MISP event, a feed export); by default the package is
    the input, and problems get ``source`` and their line in it.
    """
    policy = replace(policy or Policy(), strict=strict or (policy is not None and policy.strict))
    where = locate or functools.partial(_in, source=source)
    if not isinstance(document, dict):
        problem = SourceProblem("$", "expected a mapping of package fields at the top level")
        raise PackageError(f"{source}: not a research package", [where(problem)])

    problems = [SourceProblem(json_path("$", p), m) for p, m in schema_problems(document)]
    skip = {p.path for p in problems}
    entries = _inline_entries(document)
    csv_name = document.get("data_points_csv")
    if isinstance(csv_name, str):
        csv_problems, csv_entries = _csv_entries(source.parent / csv_name, skip)
        problems += csv_problems
        entries += csv_entries
    root = {k: v for k, v in document.items() if k not in SECTIONS}
    problems += check_root(root, skip)
    problems += check_entries(root, entries, skip, policy)

    errors = [p for p in problems if p.severity == "error" or policy.strict]
    warnings = tuple(where(p) for p in problems if p.severity == "warning")
    if errors:
        located = sorted((where(p) for p in problems), key=_document_order)
        count = f"{len(errors)} problem{'s' if len(errors) != 1 else ''}"
        raise PackageError(f"{source}: not a valid atlas-package/1 package ({count})", located)
    return _package(source, root, entries, warnings)


def _inline_entries(document: Mapping[str, Any]) -> list[Entry]:
    entries = []
    for section in SECTIONS:
        items = document.get(section)
        if isinstance(items, list):
            for index, fields in enumerate(items):
                if isinstance(fields, dict):
                    entries.append(Entry(section, f"$.{section}[{index}]", fields))
    return entries


def _csv_entries(path: Path, skip: set[str]) -> tuple[list[SourceProblem], list[Entry]]:
    try:
        points, problems = read_points(path)
    except DocumentError as exc:
        problem = exc.problem
        if problem.path == str(path):  # the file itself: say where the package points
            return [SourceProblem("$.data_points_csv", f"{path}: {problem.message}")], []
        return [SourceProblem(problem.path, problem.message, str(path))], []
    csv_file = str(path)
    problems = [SourceProblem(p.path, p.message, csv_file) for p in problems]
    entries = []
    for point in points:
        entry = Entry("data_points", point.location, point.fields, csv_file=csv_file)
        for elements, message in schema_problems(point.fields, definition="data_point"):
            problems.append(entry.problem(elements, message))
            skip.add(entry.key(elements))
        entries.append(entry)
    return problems, entries


def _in(problem: SourceProblem, *, source: Path) -> SourceProblem:
    """Attach the file (and, for a JSON path, its line) to a problem."""
    if problem.file is not None:
        return problem
    line = line_of(source, problem.path) if problem.path.startswith("$") else None
    return SourceProblem(problem.path, problem.message, str(source), line, problem.severity)


def _document_order(problem: SourceProblem) -> tuple[int, int, str]:
    # Package-file problems in line order first, then the CSV side file's by row.
    if problem.path.startswith("$"):
        return (0, problem.line or 0, problem.path)
    _, _, row = problem.path.rpartition(":")
    return (1, int(row) if row.isascii() and row.isdigit() else 0, problem.path)


def _package(
    source: Path, root: dict[str, Any], entries: list[Entry], warnings: tuple[SourceProblem, ...]
) -> Package:
    sections: dict[str, list[Item]] = {section: [] for section in SECTIONS}
    items: dict[str, Item] = {}
    observables: dict[tuple[str, object], int] = {}
    points = sections["data_points"]
    for entry in entries:
        fields = entry.fields
        item = Item(
            entry.section, fields["ref"], fields, entry.location, fields["tlp"], (fields["ref"],)
        )
        if entry.section == "data_points":
            key = (fields["type"], fields["value"])
            index = observables.get(key)
            if index is not None:
                points[index] = item = _merge(points[index], item)
                items.update(dict.fromkeys(item.refs, item))
                continue
            observables[key] = len(points)
        sections[entry.section].append(item)
        items[item.ref] = item
    return Package(
        id=root["id"],
        revision=root["revision"],
        tlp=root["tlp"],
        created=root["first_published"],
        modified=root["published"],
        root=root,
        sections=MappingProxyType({s: tuple(v) for s, v in sections.items()}),
        items=MappingProxyType(items),
        path=source,
        warnings=warnings,
    )


def _union(first: object, second: object) -> list[Any]:
    merged = list(first) if isinstance(first, list) else []
    merged += [v for v in (second if isinstance(second, list) else []) if v not in merged]
    return merged


def _merge(kept: Item, other: Item) -> Item:
    """One observable from two data points: the first's fields, both items' links."""
    fields = dict(kept.fields)
    for name in ("linked_to", "sources"):
        union = _union(kept.fields.get(name), other.fields.get(name))
        if union:
            fields[name] = union
    level = tlp_levels.level_of_rank(
        max(tlp_levels.rank_of_level(kept.tlp), tlp_levels.rank_of_level(other.tlp))
    )
    fields["tlp"] = level
    return Item(kept.section, kept.ref, fields, kept.location, level, kept.refs + other.refs)
