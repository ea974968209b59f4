"""Small STIX 2.1 objects for the storage tests, as the server hands them to a store."""

from __future__ import annotations

import uuid
from typing import Any

from converters.tlp import MARKING_IDS, object_rank
from taxii_server.storage.base import NewObject, ObjectQuery, VersionSelector
from taxii_server.storage.versions import canonical_json
from taxii_server.timestamps import format_timestamp, parse_timestamp

__all__ = ["T0", "query", "sco", "sdo", "ts"]

T0 = parse_timestamp("2024-06-01T00:00:00Z")


def ts(seconds: int) -> int:
    """``T0`` plus ``seconds``, in microseconds."""
    return T0 + seconds * 1_000_000


def _new(body: dict[str, Any], version: int | None) -> NewObject:
    return NewObject(
        id=body["id"],
        type=body["type"],
        spec_version=body.get("spec_version", "2.1"),
        version=version,
        tlp=object_rank(body),
        data=canonical_json(body),
    )


def sdo(
    object_id: str | None = None,
    *,
    type_: str = "indicator",
    modified: int = T0,
    tlp: str | None = None,
    **extra: Any,
) -> NewObject:
    """A versioned object (``modified`` in microseconds), optionally TLP-marked."""
    body: dict[str, Any] = {
        "type": type_,
        "spec_version": "2.1",
        "id": object_id or f"{type_}--{uuid.uuid4()}",
        "created": format_timestamp(T0),
        "modified": format_timestamp(modified),
        **extra,
    }
    if tlp is not None:
        body["object_marking_refs"] = [MARKING_IDS[tlp]]
    return _new(body, modified)


def sco(value: str, *, object_id: str | None = None, type_: str = "ipv4-addr") -> NewObject:
    """An object without ``modified``/``created`` (versioned by content)."""
    body = {
        "type": type_,
        "spec_version": "2.1",
        "id": object_id or f"{type_}--{uuid.uuid5(uuid.NAMESPACE_URL, value)}",
        "value": value,
    }
    return _new(body, None)


def query(
    clearance: int = 4,
    limit: int = 100,
    *,
    after: int | None = None,
    ids: tuple[str, ...] = (),
    types: tuple[str, ...] = (),
    first: bool = False,
    last: bool = True,
    all_: bool = False,
    at: tuple[int, ...] = (),
    spec_versions: tuple[str, ...] = (),
) -> ObjectQuery:
    """An :class:`ObjectQuery` with readable keyword defaults (all versions off except
    the TAXII default ``last``)."""
    return ObjectQuery(
        clearance=clearance,
        limit=limit,
        after=after,
        ids=ids,
        types=types,
        versions=VersionSelector(first=first, last=last, all=all_, at=at),
        spec_versions=spec_versions,
    )
