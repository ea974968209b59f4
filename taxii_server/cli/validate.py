"""``atlas-taxii validate FILE...``: check STIX 2.1 bundles against the OASIS schemas.

Each file (``-`` reads standard input) holds a STIX 2.1 bundle, a single object, a
TAXII envelope (``{"objects": [...]}``) or a JSON array of objects.  Every problem is
printed as ``FILE: OBJECT_ID PATH: MESSAGE``, then one summary line per file; with
``--json`` one JSON report is printed instead.  The checks are the converter's and
the server's (:mod:`converters.validation`): the OASIS STIX 2.1 JSON schemas and the
MUST rules they cannot express.

Exit status: 0 every file is valid; 1 some file has a problem; 2 some file cannot be
read or is not JSON (its line and column are given), whatever the others hold.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import dataclass, field
from typing import Any

from taxii_server.cli.errors import EXIT_BAD_INPUT, EXIT_FAILED

__all__ = ["configure"]

_STDIN = "-"
_UTF8_BOM = b"\xef\xbb\xbf"
_OBJECT_PATH = re.compile(r"\$(?:\.objects)?\[(\d+)\]")


@dataclass(slots=True)
class _Report:
    """What one file came to."""

    name: str
    objects: int = 0
    problems: list[Any] = field(default_factory=list)  # converters.validation.Problem
    error: str | None = None
    line: int | None = None
    column: int | None = None

    @property
    def invalid_objects(self) -> int:
        indexes = {_object_index(problem.path) for problem in self.problems}
        return len(indexes)

    def summary(self) -> str:
        if self.error is not None:
            return f"{self.name}: {self.error}"
        counted = f"{self.objects} object{'s' if self.objects != 1 else ''}"
        if not self.problems:
            return f"{self.name}: valid, {counted}"
        count = len(self.problems)
        return (
            f"{self.name}: {count} problem{'s' if count != 1 else ''} "
            f"in {self.invalid_objects} of {counted}"
        )

    def as_json(self) -> dict[str, Any]:
        report: dict[str, Any] = {
            "file": self.name,
            "valid": self.error is None and not self.problems,
            "objects": self.objects,
            "problems": [
                {"object_id": p.object_id, "path": p.path, "message": p.message}
                for p in self.problems
            ],
        }
        if self.error is not None:
            report["error"] = {"message": self.error, "line": self.line, "column": self.column}
        return report


def _object_index(path: str) -> str:
    """``$.objects[3].pattern`` -> ``3``; a problem of the document itself -> ``$``."""
    found = _OBJECT_PATH.match(path)
    return found.group(1) if found else "$"


def _read(name: str) -> bytes:
    if name == _STDIN:
        return sys.stdin.buffer.read()
    with open(name, "rb") as handle:
        return handle.read()


def _check_file(name: str) -> _Report:
    # Imported here: compiling the schemas is not needed for `atlas-taxii --help`.
    import orjson

    from converters.validation import get_validator

    shown = "<stdin>" if name == _STDIN else name
    report = _Report(shown)
    try:
        data = _read(name)
    except OSError as exc:
        report.error = f"cannot read: {exc.strerror or exc}"
        return report
    try:
        # RFC 8259 §8.1 lets a parser ignore a byte order mark; editors on Windows add one.
        document = orjson.loads(data.removeprefix(_UTF8_BOM))
    except orjson.JSONDecodeError as exc:
        report.error = f"not JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}"
        report.line, report.column = exc.lineno, exc.colno
        return report
    validator = get_validator()
    if isinstance(document, dict) and document.get("type") == "bundle":
        objects = document.get("objects")
        report.objects = len(objects) if isinstance(objects, list) else 0
        report.problems = validator.check_bundle(document)
    elif isinstance(document, dict) and "type" not in document and "objects" in document:
        objects = document["objects"]  # a TAXII envelope (TAXII 2.1 §3.7)
        if isinstance(objects, list):
            report.objects = len(objects)
            for index, obj in enumerate(objects):
                report.problems += validator.check_object(obj, f"$.objects[{index}]")
        else:
            report.problems = validator.check_object(document)
    elif isinstance(document, list):
        report.objects = len(document)
        for index, obj in enumerate(document):
            report.problems += validator.check_object(obj, f"$[{index}]")
    else:
        report.objects = 1
        report.problems = validator.check_object(document)
    return report


def _run(args: argparse.Namespace) -> int:
    reports = [_check_file(name) for name in args.files]
    if args.json:
        valid = all(r.error is None and not r.problems for r in reports)
        print(json.dumps({"valid": valid, "files": [r.as_json() for r in reports]}, indent=2))
    else:
        for report in reports:
            for problem in report.problems:
                print(f"{report.name}: {problem}")
            print(report.summary(), file=sys.stderr if report.error else sys.stdout)
    if any(report.error is not None for report in reports):
        return EXIT_BAD_INPUT
    return EXIT_FAILED if any(report.problems for report in reports) else 0


def configure(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``atlas-taxii validate``."""
    parser.add_argument(
        "files",
        metavar="FILE",
        nargs="+",
        help="a STIX 2.1 bundle, object, TAXII envelope or array of objects (- for stdin)",
    )
    parser.add_argument(
        "--json", action="store_true", help="print one machine-readable JSON report"
    )
    parser.set_defaults(run=_run)
