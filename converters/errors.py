"""The converter's error tree: every failure names where the bad input is.

``ConversionError`` is the root.  Each error carries the complete list of problems
found (a package is checked in full before anything is refused), and each problem
says where it is — a JSON path in the package (``$.data_points[3].value``), a line of
a CSV side file (``points.csv:17``), or a rule of a mapping file — and what was
expected.  The command line prints them one per line, never a traceback.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

__all__ = [
    "BundleInvalid",
    "ConversionError",
    "MappingError",
    "PackageError",
    "SourceProblem",
    "TransformError",
]

Severity = Literal["error", "warning"]


@dataclass(frozen=True, slots=True)
class SourceProblem:
    """One thing wrong with an input, and where it is.

    ``path`` is a JSON path into the document (``$.data_points[3].value``), a CSV
    position (``points.csv:17``) or a mapping rule (``objects[4].properties.name``);
    ``line`` is the line in the YAML/JSON file when it is known; ``file`` names the
    file the path is in.  Warnings (``severity="warning"``) do not stop a conversion
    unless it runs strict.
    """

    path: str
    message: str
    file: str | None = None
    line: int | None = None
    severity: Severity = "error"

    def __str__(self) -> str:
        where = self.path if self.line is None else f"{self.path} (line {self.line})"
        prefix = "warning: " if self.severity == "warning" else ""
        return f"{where}: {prefix}{self.message}"

    def located(self) -> str:
        """The problem prefixed with its file, as the command line prints it.

        A CSV position (``points.csv:17``) names its file already.
        """
        return f"{self.file}: {self}" if self.file and self.path.startswith("$") else str(self)


class ConversionError(Exception):
    """Root of the converter's errors; carries every problem found, in input order."""

    def __init__(self, summary: str, problems: Iterable[SourceProblem] = ()) -> None:
        self.summary = summary
        self.problems: tuple[SourceProblem, ...] = tuple(problems)
        super().__init__(summary)

    def __str__(self) -> str:
        if not self.problems:
            return self.summary
        lines = [self.summary, *(f"  {p.located()}" for p in self.problems)]
        return "\n".join(lines)


class PackageError(ConversionError):
    """The research package (or its CSV side file) is not valid atlas-package/1."""


class MappingError(ConversionError):
    """A mapping file is malformed: unknown key, transform, tag or path."""


class BundleInvalid(ConversionError):
    """The bundle the mapping produced does not pass STIX 2.1 validation.

    This is a defect of the mapping (or of the converter), not of the package: the
    bundle is never written.
    """


class TransformError(ConversionError):
    """A mapping transform cannot handle a value; the engine adds where it was."""
