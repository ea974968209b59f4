"""The files a command takes STIX objects from: STIX bundles or TAXII envelopes as
they are, research packages and other analyst inputs (MISP events, feed exports)
converted together (so objects they share appear once).
Used by ``publish`` and ``map``.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from taxii_server.cli.errors import EXIT_FAILED, CommandError
from taxii_server.cli.input_options import policy_from_args, report_unmapped
from taxii_server.cli.progress import ProgressBar

if TYPE_CHECKING:
    import argparse

    from converters import Policy

__all__ = ["ConversionOptions", "objects_from_files"]


@dataclass(frozen=True, slots=True)
class ConversionOptions:
    """How inputs that are not STIX are converted: the STIX mapping file, the input
    kind and its mapping, and the check policy (``--from``, ``--strict``…)."""

    mapping: str | None
    kind: str
    input_mapping: str | None
    policy: Policy

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> ConversionOptions:
        """The options a command's ``add_input_arguments`` options ask for."""
        return cls(args.mapping, args.input_kind, args.input_mapping, policy_from_args(args))


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


def _convert(packages: list[Path], options: ConversionOptions, bar: ProgressBar) -> list[Any]:
    # Imported here: the converter is heavy, and bundles do not need it.
    from converters import BundleInvalid, ConversionError, convert_packages, load_mapping

    try:
        rules = load_mapping(options.mapping) if options.mapping else None
        converted = convert_packages(
            packages,
            mapping=rules,
            policy=options.policy,
            progress=bar,
            kind=options.kind,
            input_mapping=options.input_mapping,
        )
    except ConversionError as exc:
        bar.clear()
        for problem in exc.problems:
            print(problem.located(), file=sys.stderr)
        status = EXIT_FAILED if isinstance(exc, BundleInvalid) else 2
        raise CommandError(exc.summary, status) from None
    bar.clear()
    for warning in converted.warnings:
        print(warning.located(), file=sys.stderr)
    report_unmapped(converted.unmapped)
    objects: list[Any] = converted.bundle["objects"]
    return objects


def objects_from_files(names: list[str], options: ConversionOptions, bar: ProgressBar) -> list[Any]:
    """Every object of the files ``names``: bundles as they are, other inputs converted
    together as ``options`` say."""
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
        objects.extend(_convert(packages, options, bar))
    return objects
