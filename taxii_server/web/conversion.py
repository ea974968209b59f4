"""An uploaded research package (and its CSV side file) converted, or its problems
placed at their lines.

The files are written to a private temporary folder under safe names (the package's
own name for its CSV side file, when it names one) and converted exactly as
``atlas-taxii convert`` and ``publish`` convert them (:func:`converters.convert_packages`).
Nothing is kept: the preview page carries the sources, and publishing converts them
again (conversion is deterministic, so the objects are the same).

This is the one module of the server that uses the conversion engine, and it imports
it on first use: a server that is never sent a package never loads it.
"""

from __future__ import annotations

import functools
import re
import tempfile
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

__all__ = ["Problems", "Sources", "bundle_bytes", "convert_sources"]

_SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,120}")
_CSV_LINE = re.compile(r":(\d+)(?::\d+)?\Z")
# libyaml's parser: it refuses a document nested past 1,000 levels at once, where
# PyYAML's own recurses until Python's limit, seconds later.
_SAFE_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True, slots=True)
class Sources:
    """What the user uploaded (or edited): the package and its optional CSV."""

    package_name: str
    package_text: str
    csv_name: str = ""
    csv_text: str = ""
    allow_unverified: bool = False  # atlas-taxii convert --allow-unverified
    lenient: bool = False  # atlas-taxii convert --lenient

    @property
    def package_file(self) -> str:
        """A safe file name for the package (its own, when safe)."""
        name = Path(self.package_name).name
        if _SAFE_NAME.fullmatch(name) and name.lower().endswith((".yaml", ".yml", ".json")):
            return name
        return "package.json" if self.package_text.lstrip().startswith("{") else "package.yaml"

    def csv_file(self) -> str:
        """The name the package gives its CSV side file, when it is a plain file
        name; else the uploaded file's name."""
        for candidate in (_named_csv(self.package_text), Path(self.csv_name).name, "points.csv"):
            if isinstance(candidate, str) and _SAFE_NAME.fullmatch(candidate):
                return candidate
        return "points.csv"


@functools.lru_cache(maxsize=4)
def _named_csv(package_text: str) -> str | None:
    """``data_points_csv`` of a package, read from its parsed nodes: no value is
    constructed (a bad one is the conversion's to report) and no alias expanded.
    JSON is YAML here.  Cached: a page asks for it up to four times."""
    try:
        root = yaml.compose(package_text, Loader=_SAFE_LOADER)  # noqa: S506
    except (yaml.YAMLError, RecursionError):  # the conversion says what is wrong
        return None
    if not isinstance(root, yaml.MappingNode):
        return None
    for key, value in root.value:
        if key.value == "data_points_csv" and isinstance(value, yaml.ScalarNode):
            return str(value.value)
    return None


@dataclass(slots=True)
class Problems:
    """The problems of a conversion, placed: by line of the package, by line of the
    CSV side file, and those without a line."""

    summary: str
    package: dict[int, list[str]] = field(default_factory=lambda: defaultdict(list))
    csv: dict[int, list[str]] = field(default_factory=lambda: defaultdict(list))
    general: list[str] = field(default_factory=list)

    @property
    def count(self) -> int:
        placed = sum(len(v) for v in self.package.values()) + sum(len(v) for v in self.csv.values())
        return placed + len(self.general)


def _place(problems: Problems, problem: Any, package_file: str, csv_file: str) -> None:
    text = f"{problem.path}: {problem.message}" if problem.path else str(problem.message)
    if problem.severity == "warning":
        text = f"warning: {text}"
    file_name = Path(problem.file).name if problem.file else package_file
    path = problem.path or ""
    csv_line = _CSV_LINE.search(path)
    if csv_file and csv_line and Path(path[: csv_line.start()]).name == csv_file:
        message = f"{problem.message}"
        if problem.severity == "warning":
            message = f"warning: {message}"
        problems.csv[int(csv_line.group(1))].append(message)
    elif problem.line is not None and file_name == package_file:
        problems.package[int(problem.line)].append(text)
    else:
        problems.general.append(text)


def convert_sources(sources: Sources) -> tuple[dict[str, Any], Problems | None]:
    """The STIX bundle of the package, or its problems (with an empty bundle)."""
    from converters import ConversionError, Policy, convert_packages

    with tempfile.TemporaryDirectory(prefix="atlas-upload-") as folder:
        package = Path(folder) / sources.package_file
        package.write_text(sources.package_text, encoding="utf-8")
        csv_file = ""
        if sources.csv_text:
            csv_file = sources.csv_file()
            (Path(folder) / csv_file).write_text(sources.csv_text, encoding="utf-8")
        try:
            policy = Policy(lenient=sources.lenient, allow_unverified=sources.allow_unverified)
            converted = convert_packages([package], policy=policy)
        except ConversionError as exc:
            # Messages name the uploaded file, never the temporary folder.
            problems = Problems(exc.summary.replace(f"{folder}/", ""))
            for problem in exc.problems:
                _place(problems, problem, package.name, csv_file)
            return {"type": "bundle", "objects": []}, problems
    return converted.bundle, None


def bundle_bytes(bundle: dict[str, Any]) -> bytes:
    """The bundle serialised as ``atlas-taxii convert`` writes it."""
    from converters import serialize_bundle

    return serialize_bundle(bundle)
