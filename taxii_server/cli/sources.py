"""The files a command takes STIX objects from: STIX bundles or TAXII envelopes as
they are, research packages converted together (so objects they share appear once).
Used by ``publish`` and ``map``.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import orjson

from taxii_server.cli.errors import EXIT_FAILED, CommandError
from taxii_server.cli.progress import ProgressBar

__all__ = ["objects_from_files"]


def _is_stix(path: Path) -> Any | None:
    """The parsed document when ``path`` is JSON holding an ``objects`` list (a
    bundle or envelope), else ``None`` (a package, converted instead)."""
    if path.suffix.lower() != ".json":
        return None
    try:
        document = orjson.loads(path.read_bytes())
    except OSError as exc:
        raise CommandError(f"cannot read {path}: {exc.strerror}") from None
    except orjson.JSONDecodeError as exc:
        raise CommandError(
            f"{path}: not JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}"
        ) from None
    if isinstance(document, dict) and (document.get("type") == "bundle" or "objects" in document):
        if not isinstance(document.get("objects"), list):
            raise CommandError(f"{path}: $.objects: expected a list of STIX objects")
        return document
    return None


def _convert(packages: list[Path], mapping: str | None, bar: ProgressBar) -> list[Any]:
    # Imported here: the converter is heavy, and bundles do not need it.
    from converters import BundleInvalid, ConversionError, convert_packages, load_mapping

    try:
        rules = load_mapping(mapping) if mapping else None
        converted = convert_packages(packages, mapping=rules, progress=bar)
    except ConversionError as exc:
        bar.clear()
        for problem in exc.problems:
            print(problem.located(), file=sys.stderr)
        status = EXIT_FAILED if isinstance(exc, BundleInvalid) else 2
        raise CommandError(exc.summary, status) from None
    bar.clear()
    for warning in converted.warnings:
        print(warning.located(), file=sys.stderr)
    objects: list[Any] = converted.bundle["objects"]
    return objects


def objects_from_files(names: list[str], mapping: str | None, bar: ProgressBar) -> list[Any]:
    """Every object of the files ``names``: bundles as they are, packages converted
    together with the default mapping or the file ``mapping``."""
    objects: list[Any] = []
    packages: list[Path] = []
    for name in names:
        path = Path(name)
        if not path.is_file():
            raise CommandError(f"{path}: no such file")
        document = _is_stix(path)
        if document is None:
            packages.append(path)
        else:
            objects.extend(document["objects"])
    if packages:
        objects.extend(_convert(packages, mapping, bar))
    return objects
