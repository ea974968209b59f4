"""Bundles: assembly from conversions, validation, compact deterministic serialisation.

A bundle holds, in this order: the TLP 2.0 marking definitions used (by rank), the
extension definitions used (TLP 2.0, the community ``new-sco`` ones, the
project's), then each package's objects in the order the mapping made them.  An
object several packages share is written once: identical copies are dropped; copies
that differ only in their marking keep the least restrictive one (the object is
visible to whoever can read any package that holds it); copies that differ
otherwise keep the first package's and produce a warning.

Serialisation is orjson's compact form — never the stix2 library's ``pretty=True``,
whose cost grows quadratically with the bundle — and byte-identical across runs:
every dictionary is built in a fixed order and nothing depends on hashing or time.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson

from . import tlp
from .engine import Conversion
from .errors import BundleInvalid, SourceProblem
from .extensions import ATLAS_EXTENSION_ID, atlas_extension_definition, new_sco_definitions
from .ids import object_id
from .validation import get_validator

__all__ = ["assemble_bundle", "serialize_bundle", "validate_bundle"]


def _definitions(conversions: Sequence[Conversion]) -> list[dict[str, Any]]:
    levels = set().union(*(c.marking_levels for c in conversions))
    used = set().union(*(c.extension_ids for c in conversions))
    found: list[dict[str, Any]] = [
        dict(tlp.MARKING_DEFINITIONS[level]) for level in tlp.LEVELS if level in levels
    ]
    if tlp.TLP_EXTENSION_ID in used:
        found.append(dict(tlp.EXTENSION_DEFINITION))
    community = sorted(
        (d for d in new_sco_definitions().values() if d["id"] in used), key=lambda d: d["id"]
    )
    found += [dict(d) for d in community]
    if ATLAS_EXTENSION_ID in used:
        found.append(dict(atlas_extension_definition()))
    return found


def _rank(obj: dict[str, Any]) -> int:
    return tlp.marking_rank(obj.get("object_marking_refs", ()))


def assemble_bundle(
    conversions: Sequence[Conversion], keys: Sequence[tuple[str, int]]
) -> tuple[dict[str, Any], list[SourceProblem]]:
    """One bundle from the conversions of packages ``keys`` (id, revision), plus warnings.

    The bundle id is derived from the packages converted, so converting the same
    revisions again gives the same id.
    """
    warnings: list[SourceProblem] = []
    objects = _definitions(conversions)
    position: dict[str, int] = {}
    for conversion, (package_id, _revision) in zip(conversions, keys, strict=True):
        ids = [obj["id"] for obj in conversion.objects]
        if position.keys().isdisjoint(ids) and len(set(ids)) == len(ids):
            # The common case, a package's own objects (one per id), all new: at once.
            position.update(zip(ids, range(len(objects), len(objects) + len(ids)), strict=True))
            objects += conversion.objects
            continue
        for obj in conversion.objects:
            index = position.get(obj["id"])
            if index is None:
                position[obj["id"]] = len(objects)
                objects.append(obj)
                continue
            kept = objects[index]
            if kept == obj:
                continue
            if _without_markings(kept) == _without_markings(obj):
                if _rank(obj) < _rank(kept):
                    objects[index] = obj
                continue
            message = (
                f"{obj['id']} differs between packages; kept the first package's, "
                f"dropped {package_id}'s"
            )
            warnings.append(SourceProblem(obj["id"], message, severity="warning"))
    key = [f"{package_id}@{revision}" for package_id, revision in keys]
    bundle = {"type": "bundle", "id": object_id("bundle", *key), "objects": objects}
    return bundle, warnings


def _without_markings(obj: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in obj.items() if k != "object_marking_refs"}


def validate_bundle(bundle: dict[str, Any]) -> None:
    """Raise :class:`BundleInvalid` when the bundle does not pass STIX 2.1 validation.

    Uses the project's validator (the OASIS STIX 2.1 schemas and MUST rules,
    :mod:`converters.validation`); each problem names the object and property.
    """
    problems = get_validator().check_bundle(bundle)
    if problems:
        listed = [SourceProblem(p.path, f"{p.object_id or '-'}: {p.message}") for p in problems]
        count = f"{len(listed)} problem{'s' if len(listed) != 1 else ''}"
        raise BundleInvalid(f"the bundle does not validate as STIX 2.1 ({count})", listed)


def serialize_bundle(bundle: dict[str, Any]) -> bytes:
    """Compact, deterministic JSON bytes of a bundle (UTF-8, no whitespace)."""
    return orjson.dumps(bundle)
