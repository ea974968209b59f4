"""A demo-like collection: indicators, malware and identities at mixed TLP levels, one
indicator with several versions, and the TLP 2.0 marking definitions themselves.

Deterministic (ids are uuid5 of their index), so a failing test names the same objects
every run.  :func:`visible_ids` says which ids a reader at some clearance must get by
default (latest version each), computed from the data rather than written down.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from converters.tlp import LEVELS, MARKING_DEFINITIONS, MARKING_IDS, object_rank

_NAMESPACE = uuid.UUID("7f3c2a10-4b5e-4d6f-9a8b-1c2d3e4f5a6b")
# Levels cycled through by index; amber+strict and red are invisible to amber readers.
_CYCLE = ("clear", "green", "amber", "green", "amber+strict", "red", "clear", "amber")

MULTI_VERSION_ID = f"indicator--{uuid.uuid5(_NAMESPACE, 'multi')}"
MULTI_VERSIONS = (
    "2024-01-01T00:00:00.000Z",
    "2024-02-01T00:00:00.000Z",
    "2024-03-01T00:00:00.000Z",
)


def _stamp(index: int) -> str:
    return f"2024-05-{1 + index % 28:02d}T{index % 24:02d}:{index % 60:02d}:00.000Z"


def _object(index: int) -> dict[str, Any]:
    kind = ("indicator", "indicator", "malware", "identity")[index % 4]
    ident = f"{kind}--{uuid.uuid5(_NAMESPACE, str(index))}"
    stamp = _stamp(index)
    obj: dict[str, Any] = {
        "type": kind,
        "spec_version": "2.1",
        "id": ident,
        "created": stamp,
        "modified": stamp,
        "object_marking_refs": [MARKING_IDS[_CYCLE[index % len(_CYCLE)]]],
    }
    if kind == "indicator":
        obj.update(
            name=f"Scam site {index}",
            pattern=f"[domain-name:value = 'scam-{index}.example.com']",
            pattern_type="stix",
            valid_from=stamp,
        )
    elif kind == "malware":
        obj.update(name=f"Drainer kit {index}", is_family=True)
    else:
        obj.update(name=f"Mule network {index}", identity_class="group")
    return obj


def multi_version_object(modified: str) -> dict[str, Any]:
    """One version of the indicator that has several."""
    return {
        "type": "indicator",
        "spec_version": "2.1",
        "id": MULTI_VERSION_ID,
        "created": MULTI_VERSIONS[0],
        "modified": modified,
        "name": f"Phishing kit, revision {modified[:7]}",
        "pattern": "[url:value = 'https://login.example.net/']",
        "pattern_type": "stix",
        "valid_from": MULTI_VERSIONS[0],
        "object_marking_refs": [MARKING_IDS["green"]],
    }


def build_objects(count: int) -> list[dict[str, Any]]:
    """``count`` generated objects, then the marking definitions and the versions of
    :data:`MULTI_VERSION_ID`."""
    objects = [_object(i) for i in range(count)]
    objects.extend(dict(MARKING_DEFINITIONS[level]) for level in LEVELS)
    objects.extend(multi_version_object(m) for m in MULTI_VERSIONS)
    return objects


def visible_ids(objects: Sequence[dict[str, Any]], clearance: int) -> set[str]:
    """Ids a reader cleared at ``clearance`` receives from a default objects request."""
    return {o["id"] for o in objects if object_rank(o) <= clearance}


def bundle(objects: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """A STIX 2.1 bundle around ``objects``."""
    return {
        "type": "bundle",
        "id": f"bundle--{uuid.uuid5(_NAMESPACE, str(len(objects)))}",
        "objects": list(objects),
    }
