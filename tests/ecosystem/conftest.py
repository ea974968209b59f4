"""The three partners' packages (a bank, an exchange, a security vendor) converted
together, the names of their entities, and small STIX objects for hand-made maps."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from converters import convert_packages
from converters.ids import object_id
from converters.tlp import MARKING_IDS

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ROOT / "fixtures" / "packages"
#: The bank (NSB), the exchange (VLX) and the security vendor (BWS).
PARTNERS = [
    PACKAGES / "NSB-2024-0412.yaml",
    PACKAGES / "VLX-2024-0088.json",
    PACKAGES / "BWS-2024-1107.yaml",
]
_STAMP = "2024-01-01T00:00:00.000Z"


@pytest.fixture(scope="session")
def partner_objects() -> list[dict[str, Any]]:
    """Every object of the three packages, converted together as publish does."""
    objects: list[dict[str, Any]] = convert_packages(PARTNERS).bundle["objects"]
    return objects


def owned(package: str, kind: str, ref: str) -> str:
    """The id the converter gives the item ``ref`` of ``package`` (a ``kind`` object)."""
    return object_id(kind, package, ref)


def sdo(kind: str, name: str, **properties: Any) -> dict[str, Any]:
    """A small SDO of another producer, with an id derived from its name."""
    return {
        "type": kind,
        "spec_version": "2.1",
        "id": object_id(kind, "test", name),
        "created": _STAMP,
        "modified": _STAMP,
        "name": name,
        **properties,
    }


def sco(kind: str, value: str, **properties: Any) -> dict[str, Any]:
    """A small SCO with an id derived from its value."""
    return {
        "type": kind,
        "spec_version": "2.1",
        "id": object_id(kind, "test-sco", value),
        "value": value,
        **properties,
    }


def link(source: dict[str, Any], kind: str, target: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """A relationship ``source kind target``."""
    return {
        "type": "relationship",
        "spec_version": "2.1",
        "id": object_id("relationship", source["id"], kind, target["id"]),
        "created": _STAMP,
        "modified": _STAMP,
        "relationship_type": kind,
        "source_ref": source["id"],
        "target_ref": target["id"],
        **extra,
    }


def marked(obj: dict[str, Any], level: str) -> dict[str, Any]:
    """``obj`` marked with a TLP 2.0 level."""
    return {**obj, "object_marking_refs": [MARKING_IDS[level]]}
