"""Seed data for the HTTP tests: STIX 2.1 objects at every TLP level, with versions.

Built in code (not a JSON file) so each test can say which object it means by name.
Marking refs are the well-known TLP 2.0 ids from :mod:`converters.tlp`.
"""

from __future__ import annotations

import uuid
from typing import Any

from converters.tlp import MARKING_IDS

__all__ = [
    "IDENTITY",
    "IND_AMBER",
    "IND_CLEAR",
    "IND_GREEN",
    "IND_RED",
    "IP_SCO",
    "MALWARE_V1",
    "MALWARE_V2",
    "MALWARE_V3",
    "SEED",
    "indicator",
    "marked",
]

_NS = uuid.UUID("0b7c5f5e-3f60-4c1e-9a55-6d1f1e8d9a01")


def _id(kind: str, name: str) -> str:
    return f"{kind}--{uuid.uuid5(_NS, name)}"


def marked(obj: dict[str, Any], level: str | None) -> dict[str, Any]:
    """``obj`` with a TLP 2.0 marking (``None``: unmarked)."""
    if level is None:
        return obj
    return {**obj, "object_marking_refs": [MARKING_IDS[level]]}


def indicator(
    name: str,
    level: str | None = None,
    *,
    modified: str = "2024-05-01T10:00:00.000Z",
    pattern: str = "[ipv4-addr:value = '198.51.100.7']",
) -> dict[str, Any]:
    """A valid indicator whose id derives from ``name``."""
    return marked(
        {
            "type": "indicator",
            "spec_version": "2.1",
            "id": _id("indicator", name),
            "created": "2024-05-01T10:00:00.000Z",
            "modified": modified,
            "name": name,
            "pattern": pattern,
            "pattern_type": "stix",
            "valid_from": "2024-05-01T10:00:00Z",
        },
        level,
    )


IDENTITY: dict[str, Any] = {
    "type": "identity",
    "spec_version": "2.1",
    "id": _id("identity", "atlas"),
    "created": "2024-04-01T00:00:00.000Z",
    "modified": "2024-04-01T00:00:00.000Z",
    "name": "Atlas research desk",
    "identity_class": "organization",
}

IND_CLEAR = indicator("clear", "clear")
IND_GREEN = indicator("green", "green")
IND_AMBER = indicator("amber", "amber")
IND_RED = indicator("red", "red")

_MALWARE = {
    "type": "malware",
    "spec_version": "2.1",
    "id": _id("malware", "loader"),
    "created": "2024-03-01T00:00:00.000Z",
    "name": "Loader",
    "is_family": True,
}
# Three versions: the newest is RED, so a GREEN reader's latest is v2 and an AMBER
# reader's too; only RED readers see v3.
MALWARE_V1 = marked({**_MALWARE, "modified": "2024-03-01T00:00:00.000Z"}, "green")
MALWARE_V2 = marked({**_MALWARE, "modified": "2024-03-02T00:00:00.000Z"}, "green")
MALWARE_V3 = marked({**_MALWARE, "modified": "2024-03-03T00:00:00.000Z"}, "red")

IP_SCO: dict[str, Any] = {
    "type": "ipv4-addr",
    "spec_version": "2.1",
    "id": "ipv4-addr--12592121-be4c-5a93-a813-5a5af16e50db",  # STIX 2.1 §2.9, its value
    "value": "198.51.100.7",
}

#: Seeded in this order (so in this ``date_added`` order) into the shared collection.
SEED: tuple[dict[str, Any], ...] = (
    IDENTITY,
    IND_CLEAR,
    IND_GREEN,
    MALWARE_V1,
    IND_AMBER,
    MALWARE_V2,
    IND_RED,
    MALWARE_V3,
    IP_SCO,
)
