"""Research packages (atlas-package/1) to STIX 2.1 bundles, driven by mapping files.

Typical use::

    from converters import convert_package, serialize_bundle

    bundle = convert_package("RP-2024-0007.yaml")     # checked, mapped, validated
    Path("out.json").write_bytes(serialize_bundle(bundle))

Every failure is a :class:`ConversionError` carrying the list of problems found,
each with where it is: :class:`PackageError` (the package or its CSV side file is
invalid), :class:`MappingError` (a mapping file is invalid or cannot handle the
package), :class:`BundleInvalid` (the produced bundle would not pass STIX 2.1
validation — it is never returned).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .bundle import assemble_bundle, serialize_bundle, validate_bundle
from .engine import Conversion, Progress, apply_mapping
from .errors import BundleInvalid, ConversionError, MappingError, PackageError, SourceProblem
from .package import Package, load_package
from .spec import Mapping, load_mapping

__all__ = [
    "BundleInvalid",
    "Conversion",
    "ConversionError",
    "Converted",
    "Mapping",
    "MappingError",
    "Package",
    "PackageError",
    "SourceProblem",
    "convert_package",
    "convert_packages",
    "load_mapping",
    "load_package",
    "serialize_bundle",
]


@dataclass(frozen=True, slots=True)
class Converted:
    """A bundle converted from one or more packages, with the warnings on the way."""

    bundle: dict[str, Any]
    warnings: tuple[SourceProblem, ...]


def convert_packages(
    paths: Sequence[str | Path],
    *,
    mapping: Mapping | None = None,
    validate: bool = True,
    strict: bool = False,
    progress: Progress | None = None,
) -> Converted:
    """Convert packages into one bundle; objects they share appear once.

    Every package is checked before any is mapped, so all their problems are
    reported together (in one :class:`PackageError` per package, the first raised).
    ``validate`` checks the bundle against STIX 2.1 (on by default); ``strict`` makes
    package warnings errors; ``progress(done, total)`` is called as mapping rules run.
    """
    rules = mapping if mapping is not None else load_mapping()
    packages = [load_package(path, strict=strict) for path in paths]
    conversions = [apply_mapping(package, rules, progress) for package in packages]
    keys = [(package.id, package.revision) for package in packages]
    bundle, merge_warnings = assemble_bundle(conversions, keys)
    if validate:
        validate_bundle(bundle)
    warnings = [w for package in packages for w in package.warnings] + merge_warnings
    return Converted(bundle, tuple(warnings))


def convert_package(
    path: str | Path, *, mapping: Mapping | None = None, validate: bool = True
) -> dict[str, Any]:
    """Convert one research package to a validated STIX 2.1 bundle (a plain dict).

    ``mapping`` is a loaded :class:`Mapping` (:func:`load_mapping`), or ``None`` for
    the default mapping.  Object content is deterministic and independent of the
    clock: converting the same package twice gives equal bundles.
    """
    return convert_packages([path], mapping=mapping, validate=validate).bundle
