"""Reading YAML, JSON and CSV input files, and finding the line of a JSON path.

YAML is read with a YAML 1.2-style core schema instead of PyYAML's YAML 1.1 one:
in YAML 1.1 ``NO`` (Norway) is ``False``, ``0x5fe3…`` (an Ethereum wallet) is an
integer and ``2024-06-11`` a ``date``; analysts write all of these unquoted.  Here
only ``true``/``false`` are booleans, only decimal digits are integers, timestamps
stay strings (the package checker parses them and says which one is wrong), and a
key given twice in one mapping is an error instead of silently replacing the first.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import yaml

from .errors import SourceProblem

__all__ = ["CsvRow", "DocumentError", "line_of", "read_csv", "read_document"]


class DocumentError(Exception):
    """A file cannot be read or parsed; carries the problem with its position."""

    def __init__(self, problem: SourceProblem) -> None:
        self.problem = problem
        super().__init__(str(problem))


# PyYAML's C loader when libyaml is present (several times faster on large packages).
_BaseLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _CoreLoader(_BaseLoader):  # type: ignore[valid-type,misc]
    """Safe loader with YAML 1.2 core-schema scalars and duplicate-key detection."""


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
        try:
            return orjson.loads(data)
        except orjson.JSONDecodeError as exc:
            raise DocumentError(
                SourceProblem(
                    "$", f"not valid JSON: {exc.msg} (column {exc.colno})", str(path), exc.lineno
                )
            ) from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        message = f"not UTF-8 text (byte {exc.start})"
        raise DocumentError(SourceProblem("$", message, str(path))) from None
    try:
        return yaml.load(text, Loader=_CoreLoader)  # noqa: S506 - a safe loader subclass
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
