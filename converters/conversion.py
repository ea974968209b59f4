"""Converting research packages into one validated STIX 2.1 bundle (the pipeline)."""

from __future__ import annotations

import contextlib
import functools
import gc
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .bundle import assemble_bundle, validate_bundle
from .engine import apply_mapping
from .errors import PackageError, SourceProblem
from .package import Package, Policy
from .spec import Mapping, load_mapping

if TYPE_CHECKING:
    from .inputs import Unmapped

__all__ = ["Converted", "Progress", "convert_package", "convert_packages"]


#: Told how a conversion advances: ``(stage, done, total)``; stages are ``check``
#: (packages read and checked), ``map <package id>`` (mapping rules applied) and
#: ``validate``.
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True, slots=True)
class Converted:
    """A bundle converted from one or more inputs, with the warnings on the way and
    what the inputs' mappings left out (MISP attribute types, feed record types…)."""

    bundle: dict[str, Any]
    warnings: tuple[SourceProblem, ...]
    unmapped: tuple[Unmapped, ...] = ()


def convert_packages(
    paths: Sequence[str | Path],
    *,
    mapping: Mapping | None = None,
    validate: bool = True,
    strict: bool = False,
    policy: Policy | None = None,
    progress: Progress | None = None,
    kind: str = "package",
    input_mapping: str | Path | None = None,
) -> Converted:
    """Convert inputs into one bundle; objects they share appear once.

    Each input is a research package, or (``kind``: ``misp``, a feed name, or
    ``auto`` to tell by the content) another input that becomes packages first
    (:func:`converters.inputs.read_input`; ``input_mapping`` replaces its default
    MISP mapping or feed file).  Every package is checked before any is mapped, and
    all their problems are reported together in one :class:`PackageError`.
    ``validate`` checks the bundle against STIX 2.1 (on by default); ``policy`` says
    what the checks tolerate (:class:`~converters.package_checks.Policy`: checksum
    failures as warnings, unverified data points); ``strict`` makes package warnings
    errors; ``progress(done, total)`` is called as mapping rules run.
    """
    with _collector_paused():
        return _convert(
            paths, mapping, validate, strict, policy, progress or _silent, kind, input_mapping
        )


def _convert(
    paths: Sequence[str | Path],
    mapping: Mapping | None,
    validate: bool,
    strict: bool,
    policy: Policy | None,
    tell: Progress,
    kind: str,
    input_mapping: str | Path | None,
) -> Converted:
    from .inputs import read_input

    rules = mapping if mapping is not None else load_mapping()
    if strict:
        policy = replace(policy or Policy(), strict=True)
    packages: list[Package] = []
    refused: list[PackageError] = []
    unmapped: list[Unmapped] = []
    for done, path in enumerate(paths, 1):
        try:
            read = read_input(path, kind, policy=policy, input_mapping=input_mapping)
        except PackageError as exc:
            refused.append(exc)
        else:
            packages += read.packages
            unmapped += read.unmapped
        tell("check", done, len(paths))
    if len(refused) == 1:
        raise refused[0]
    if refused:
        problems = [p for exc in refused for p in exc.problems]
        raise PackageError(f"{len(refused)} of {len(paths)} packages are invalid", problems)
    conversions = [
        apply_mapping(package, rules, functools.partial(tell, f"map {package.id}"))
        for package in packages
    ]
    keys = [(package.id, package.revision) for package in packages]
    bundle, merge_warnings = assemble_bundle(conversions, keys)
    if validate:
        tell("validate", 0, 1)
        validate_bundle(bundle)
        tell("validate", 1, 1)
    warnings = [w for package in packages for w in package.warnings] + merge_warnings
    return Converted(bundle, tuple(warnings), tuple(unmapped))


def convert_package(
    path: str | Path,
    *,
    mapping: Mapping | None = None,
    validate: bool = True,
    policy: Policy | None = None,
) -> dict[str, Any]:
    """Convert one research package to a validated STIX 2.1 bundle (a plain dict).

    ``mapping`` is a loaded :class:`Mapping` (:func:`load_mapping`), or ``None`` for
    the default mapping; ``policy`` as for :func:`convert_packages`.  Object content
    is deterministic and independent of the clock: converting the same package twice
    gives equal bundles.
    """
    return convert_packages([path], mapping=mapping, validate=validate, policy=policy).bundle


def _silent(stage: str, done: int, total: int) -> None:
    """The progress callback when nobody watches."""


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause CPython's cyclic garbage collector for the duration of a conversion.

    A conversion allocates a few hundred thousand dicts, lists and small objects and
    keeps most of them until the end; the generational collector keeps re-scanning
    them as they accumulate, which measured at about half the mapping time on a
    10,000-data-point package.  The converter creates no reference cycles that need
    collecting meanwhile (reference counting still frees everything else), and the
    collector is restored, exceptions included, when the conversion ends.

    Whatever the conversion keeps (the bundle) is then still in the youngest
    generation, and the first collection after the pause would walk all of it (10-20
    ms for 40,000 STIX objects) only to find no garbage and promote it; it is moved
    to the oldest generation at once instead (``gc.freeze`` then ``gc.unfreeze``),
    where a full collection walks it as it would have anyway.  Not when objects are
    frozen already (a pre-fork server keeping its pages shared): unfreezing would
    undo that.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            if gc.get_freeze_count() == 0:
                gc.freeze()
                gc.unfreeze()
            gc.enable()
