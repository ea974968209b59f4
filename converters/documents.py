"""Reading YAML, JSON and CSV input files, and finding the line of a JSON path.

YAML is read with a YAML 1.2-style core schema instead of PyYAML's YAML 1.1 one:
in YAML 1.1 ``NO`` (Norway) is ``False``, ``0x5fe3…`` (an Ethereum wallet) is an
integer and ``2024-06-11`` a ``date``; analysts write all of these unquoted.  Here
only ``true``/``false`` are booleans, only decimal digits are integers, timestamps
stay strings (the package checker parses them and says which one is wrong), and a
key given twice in one mapping is an error instead of silently replacing the first,
as is a value PyYAML cannot construct (``!!int abc``, a 5,000-digit number).

A document is bounded before anything walks it (:data:`MAX_DEPTH`,
:data:`MAX_ALIAS_GROWTH`): YAML aliases let a one-kilobyte file stand for a billion
values ("billion laughs"), and values nested hundreds of levels deep exhaust the
YAML constructor's recursion and the JSON serialiser's depth limit (255) when a
custom ``x_`` field carries them into the STIX output.
"""

from __future__ import annotations

import csv
import io
import re
import sys
from collections.abc import Hashable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import yaml

from .errors import SourceProblem

__all__ = [
    "MAX_ALIAS_GROWTH",
    "MAX_DEPTH",
    "CsvRow",
    "DocumentError",
    "NotJson",
    "line_of",
    "parse_json",
    "read_csv",
    "read_document",
]

#: How deeply a document's arrays and mappings may nest.  Real inputs nest under a
#: dozen levels (the tags of a MISP event's object attributes are eight deep).
MAX_DEPTH = 100
#: YAML aliases may make a document at most this many times as large as it is written
#: (counting its values), or 100,000 values if it is smaller.
MAX_ALIAS_GROWTH = 2
_ALIAS_FLOOR = 100_000
_STEPS_SHOWN = 6


class DocumentError(Exception):
    """A file cannot be read or parsed; carries the problem with its position."""

    def __init__(self, problem: SourceProblem) -> None:
        self.problem = problem
        super().__init__(str(problem))


class NotJson(DocumentError):
    """The bytes are not JSON at all (a caller may then read them as something else)."""


# PyYAML's C loader when libyaml is present (several times faster on large packages).
_BaseLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _CoreLoader(_BaseLoader):  # type: ignore[valid-type,misc]
    """Safe loader with YAML 1.2 core-schema scalars and duplicate-key detection."""

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        """PyYAML's, but a value its constructors cannot read (``!!int abc``, a
        5,000-digit number, ``!!timestamp 2024-13-45``) is a problem at the value's
        line, not the ``ValueError`` or ``KeyError`` they raise."""
        try:
            return super().construct_object(node, deep)
        except (yaml.YAMLError, RecursionError):
            raise
        except Exception:  # noqa: BLE001 - each constructor fails in its own way
            problem = _unreadable(node)
            raise yaml.constructor.ConstructorError(None, None, problem, node.start_mark) from None


def _unreadable(node: yaml.Node) -> str:
    """Why a value cannot be constructed, in the analyst's terms."""
    tag = node.tag.replace("tag:yaml.org,2002:", "!!")
    if not isinstance(node, yaml.ScalarNode):
        kind = "mapping" if isinstance(node, yaml.MappingNode) else "list"
        return f"cannot read this {kind} as {tag}"
    digits, limit = sum(c.isdigit() for c in node.value), sys.get_int_max_str_digits()
    if tag == "!!int" and digits > limit:
        return f"a number of {digits:,} digits: at most {limit:,} are read"
    shown = node.value if len(node.value) <= 40 else node.value[:39] + "…"
    return f"cannot read {shown!r} as {tag}"


_CoreLoader.yaml_implicit_resolvers = {}
for _tag, _regexp, _first in (
    ("tag:yaml.org,2002:bool", r"^(?:true|True|TRUE|false|False|FALSE)$", "tTfF"),
    ("tag:yaml.org,2002:null", r"^(?:~|null|Null|NULL|)$", ["~", "n", "N", ""]),
    ("tag:yaml.org,2002:int", r"^[-+]?[0-9]+$", "-+0123456789"),
    (
        "tag:yaml.org,2002:float",
        r"^[-+]?(?:\.[0-9]+|[0-9]+\.[0-9]*)(?:[eE][-+]?[0-9]+)?$",
        "-+.0123456789",
    ),
):
    _CoreLoader.add_implicit_resolver(_tag, re.compile(_regexp), list(_first))


def _construct_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    loader.flatten_mapping(node)
    result: dict[Any, Any] = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, Hashable):
            problem = "a mapping key is a single value, not a list or a mapping"
            raise yaml.constructor.ConstructorError(None, None, problem, key_node.start_mark)
        if key in result:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark
            )
        result[key] = loader.construct_object(value_node, deep=True)
    return result


_CoreLoader.add_constructor("tag:yaml.org,2002:map", _construct_mapping)


def read_document(path: Path) -> object:
    """Parse a YAML or JSON file (by suffix; anything else is read as YAML)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        problem = SourceProblem("$", f"cannot read file: {exc.strerror}", str(path))
        raise DocumentError(problem) from None
    if path.suffix.lower() == ".json":
        return parse_json(data, str(path))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        message = f"not UTF-8 text (byte {exc.start})"
        raise DocumentError(SourceProblem("$", message, str(path))) from None
    loader = _CoreLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        bounds = _unbounded(node)
        if bounds is not None:
            why, where = bounds
            raise DocumentError(SourceProblem("$", why, str(path), where.line + 1))
        return loader.construct_document(node)
    except RecursionError:  # PyYAML's own parser (without libyaml) recurses
        why = f"nested more than {MAX_DEPTH} levels deep"
        raise DocumentError(SourceProblem("$", why, str(path))) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        what = exc.problem or exc.context or "syntax error"
        if exc.context and exc.problem and exc.context_mark is not None:
            what = f"{exc.context} from line {exc.context_mark.line + 1}: {exc.problem}"
        problem = SourceProblem("$", f"not valid YAML: {what}", str(path), line)
        raise DocumentError(problem) from None
    except yaml.YAMLError as exc:
        raise DocumentError(SourceProblem("$", f"not valid YAML: {exc}", str(path))) from None
    finally:
        loader.dispose()


def _unbounded(root: yaml.Node) -> tuple[str, yaml.Mark] | None:
    """Why a composed YAML document is too deep or grows too much through its aliases,
    and where; None when it is within :data:`MAX_DEPTH` and :data:`MAX_ALIAS_GROWTH`.

    An alias is the node it names, met again: each node is walked once, and its
    (values, depth) once known stand for it wherever it appears.
    """
    finished: dict[int, tuple[yaml.Node, int, int]] = {}  # in the order they finish
    open_nodes: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        key = id(node)
        if key in finished:
            continue
        children = _children(node)
        if not children_done:
            if key in open_nodes:  # an alias inside the node it names
                return "not valid YAML: an alias refers to a node that contains it", node.start_mark
            open_nodes.add(key)
            stack.append((node, True))
            stack.extend((child, False) for child in children if id(child) not in finished)
            continue
        open_nodes.discard(key)
        size, depth = 1, 0 if isinstance(node, yaml.ScalarNode) else 1
        for child in children:
            _, child_size, child_depth = finished[id(child)]
            size += child_size
            depth = max(depth, child_depth + 1)
        finished[key] = (node, size, depth)
    if finished[id(root)][2] > MAX_DEPTH:
        # Down the deepest branch to the first node past the limit.
        node = root
        for _ in range(MAX_DEPTH):
            node = max(_children(node), key=lambda child: finished[id(child)][2])
        return f"nested more than {MAX_DEPTH} levels deep", node.start_mark
    written = len(finished)
    limit = max(MAX_ALIAS_GROWTH * written, _ALIAS_FLOOR)
    if finished[id(root)][1] <= limit:
        return None
    # The first node to finish over the limit is the smallest one that is: the aliases.
    node, size, _ = next(entry for entry in finished.values() if entry[1] > limit)
    message = (
        f"YAML aliases expand this to {size:,} values, and a document of {written:,} "
        f"values may expand to {limit:,} in all: write the repeated values out, or "
        "repeat them less"
    )
    return message, node.start_mark


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    return []


def parse_json(data: bytes, file: str) -> object:
    """A JSON document, nesting at most :data:`MAX_DEPTH` levels; else
    :class:`NotJson` (with the line and column) or :class:`DocumentError` naming the
    first value nested too deep."""
    try:
        document = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        message = f"not valid JSON: {exc.msg} (column {exc.colno})"
        raise NotJson(SourceProblem("$", message, file, exc.lineno)) from None
    path = _too_deep(document)
    if path is not None:
        raise DocumentError(SourceProblem(path, f"nested more than {MAX_DEPTH} levels deep", file))
    return document


def _too_deep(document: object) -> str | None:
    """The JSON path of the first value nested deeper than :data:`MAX_DEPTH`, if any."""
    stack: list[tuple[object, int]] = [(document, 1)]
    while stack:
        value, depth = stack.pop()
        items = value.values() if type(value) is dict else value if type(value) is list else ()
        for item in items:
            if type(item) is dict or type(item) is list:
                if depth == MAX_DEPTH:
                    return _path_to(document, item)
                stack.append((item, depth + 1))
    return None


def _path_to(document: object, target: object) -> str:
    """The JSON path of ``target`` (found by identity) inside ``document``, its first
    steps only: the rest of a path :data:`MAX_DEPTH` levels long tells nothing more."""
    stack: list[tuple[object, tuple[str, ...]]] = [(document, ())]
    while stack:
        value, steps = stack.pop()
        if value is target:
            shown = "".join(steps[:_STEPS_SHOWN])
            return f"${shown}…" if len(steps) > _STEPS_SHOWN else f"${shown}"
        if isinstance(value, dict):
            stack.extend(
                (v, (*steps, f".{k}")) for k, v in value.items() if isinstance(v, dict | list)
            )
        elif isinstance(value, list):
            stack.extend(
                (v, (*steps, f"[{i}]")) for i, v in enumerate(value) if isinstance(v, dict | list)
            )
    return "$"


_SEGMENT = re.compile(r"\.([A-Za-z0-9_+-]+)|\[(\d+)\]")


def line_of(path: Path, json_path: str) -> int | None:
    """Line (1-based) where the value at ``json_path`` starts in a YAML/JSON file.

    Only called when there is a problem to report, so the file is composed again
    here rather than tracking positions while loading every package.  Returns the
    line of the deepest node that exists along the path, or ``None``.
    """
    try:
        node: yaml.Node | None = yaml.compose(path.read_text("utf-8-sig"), Loader=_CoreLoader)  # noqa: S506
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return None
    if node is None or not json_path.startswith("$"):
        return None
    line = node.start_mark.line + 1
    for match in _SEGMENT.finditer(json_path, 1):
        key, index = match.group(1), match.group(2)
        child: yaml.Node | None = None
        if key is not None and isinstance(node, yaml.MappingNode):
            child = next((v for k, v in node.value if k.value == key), None)
        elif index is not None and isinstance(node, yaml.SequenceNode):
            position = int(index)
            child = node.value[position] if position < len(node.value) else None
        if child is None:
            break
        node = child
        line = node.start_mark.line + 1
    return line


@dataclass(frozen=True, slots=True)
class CsvRow:
    """One CSV record: the line it starts on, its cells (stripped), and a problem with
    its shape (wrong number of cells) if it has one."""

    line: int
    cells: list[str]
    error: str | None = None


def read_csv(path: Path) -> tuple[list[str], list[CsvRow]]:
    """Read a CSV file with a header row; return the columns and the records.

    Cells are stripped of surrounding whitespace (an empty cell means "not given");
    blank lines are skipped.  A record with the wrong number of cells is returned
    with its ``error`` set so that every such record is reported; a quoting error
    that makes the rest of the file unreadable raises :class:`DocumentError`.
    """
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except OSError as exc:
        raise DocumentError(SourceProblem(str(path), f"cannot read file: {exc.strerror}")) from None
    except UnicodeDecodeError as exc:
        problem = SourceProblem(str(path), f"not UTF-8 text (byte {exc.start})")
        raise DocumentError(problem) from None
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    rows: list[CsvRow] = []
    columns: list[str] | None = None
    end = 0
    while True:
        start = end + 1
        try:
            row = next(reader, None)
        except csv.Error as exc:
            problem = SourceProblem(f"{path}:{start}", f"not valid CSV: {exc}")
            raise DocumentError(problem) from None
        if row is None:
            break
        end = reader.line_num
        if not "".join(row).strip():
            continue  # blank line
        if columns is None:
            columns = [name.strip() for name in row]
            continue
        error = None
        if len(row) != len(columns):
            error = f"expected {len(columns)} cells as in the header, found {len(row)}"
        rows.append(CsvRow(start, list(map(str.strip, row)), error))
    if columns is None:
        raise DocumentError(SourceProblem(f"{path}:1", "empty file: expected a header row"))
    return columns, rows
