"""Marking definitions in MongoDB: the server-wide registry that makes them immutable
(STIX 2.1 §7.2.1) and ranks them for the objects they mark, and the migration step that
re-ranks an existing store (:mod:`.markings`).

``marking_definitions`` holds one document per marking-definition id (``_id``, lower
cased) with the rank it gives what it marks (``tlp``) and the SHA-256 of its only
allowed body (``digest``).  A write registers its marking definitions with an upsert
that sets nothing on an existing document, then reads them back: a body whose digest is
not the registered one is a redefinition and is not stored.  ``_id`` is unique, so two
writers racing to register different bodies under one id cannot both win.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

from pymongo import UpdateOne
from pymongo.database import Database

from taxii_server.storage.base import NewObject
from taxii_server.storage.markings import MARKING_REF, registrations, stored_rank
from taxii_server.storage.mongo_writes import Writer
from taxii_server.storage.versions import (
    ALL_CLEARANCES,
    VersionRow,
    clearance_bit,
    marking_claims,
    redefinitions,
    refresh_masks,
)

__all__ = ["MARKINGS", "claim", "ranks", "rerank_store"]

MARKINGS: Final = "marking_definitions"
_BATCH: Final = 1000


def ranks(database: Database[dict[str, Any]], ids: Sequence[str]) -> dict[str, int]:
    """The registered rank of each id among ``ids`` (normalised) that has one."""
    if not ids:
        return {}
    return {
        str(doc["_id"]): int(doc["tlp"])
        for doc in database[MARKINGS].find({"_id": {"$in": list(ids)}}, {"tlp": True})
    }


def claim(
    database: Database[dict[str, Any]], writer: Writer, objects: Sequence[NewObject]
) -> set[int]:
    """Register the marking definitions among ``objects`` not registered yet; return
    the positions of those registered with another body (not to be stored)."""
    claims = marking_claims(objects)
    if not claims:
        return set()
    database[MARKINGS].bulk_write(
        [
            UpdateOne({"_id": key}, {"$setOnInsert": {"tlp": rank, "digest": digest}}, upsert=True)
            for key, rank, digest in claims
        ],
        ordered=True,
        session=writer.session,
    )
    ids = list(dict.fromkeys(c[0] for c in claims))
    registered = {
        str(doc["_id"]): bytes(doc["digest"])
        for doc in database[MARKINGS].find(
            {"_id": {"$in": ids}}, {"digest": True}, session=writer.session
        )
    }
    return redefinitions(objects, registered)


def _levels(mask: int) -> list[int]:
    """As :func:`.mongo_objects.levels` (which imports this module)."""
    return [level for level in range(ALL_CLEARANCES) if mask & clearance_bit(level)]


def _mask(stored: list[int]) -> int:
    return sum(clearance_bit(level) for level in stored)


def rerank_store(database: Database[dict[str, Any]]) -> None:
    """The migration's step (schema version 4), idempotent: register the stored marking
    definitions, give the admin-only clearance (5) every version RED (4) sees, re-rank
    every stored version that carries a marking and recompute the masks of the objects
    whose ranks changed."""
    if MARKINGS not in database.list_collection_names():
        # Made here, not by the first write: a write in a transaction may not create it
        # on servers before MongoDB 4.4.
        database.create_collection(MARKINGS)
    objects = database["objects"]
    bodies = (
        bytes(doc["data"])
        for doc in objects.find({"type": "marking-definition"}, {"data": True}).sort(
            "date_added", 1
        )
    )
    registry = registrations(bodies)
    if registry:
        database[MARKINGS].bulk_write(
            [
                UpdateOne(
                    {"_id": key}, {"$setOnInsert": {"tlp": rank, "digest": digest}}, upsert=True
                )
                for key, (rank, digest) in registry.items()
            ]
        )
    defined = {key: rank for key, (rank, _digest) in registry.items()}
    for field in ("first", "latest"):
        objects.update_many({field: 4}, {"$addToSet": {field: 5}})
    changed: dict[tuple[int, str], None] = {}
    updates: list[UpdateOne] = []
    for doc in objects.find(
        {}, {"collection": True, "id": True, "version": True, "tlp": True, "data": True}
    ):
        body = bytes(doc["data"])
        if MARKING_REF not in body:
            continue
        rank = stored_rank(body, defined)
        if rank != doc["tlp"]:
            where = {"collection": doc["collection"], "id": doc["id"], "version": doc["version"]}
            updates.append(UpdateOne(where, {"$set": {"tlp": rank}}))
            changed[(doc["collection"], doc["id"])] = None
        if len(updates) >= _BATCH:
            objects.bulk_write(updates, ordered=False)
            updates = []
    if updates:
        objects.bulk_write(updates, ordered=False)
    for seq, object_id in changed:
        known = [
            VersionRow(
                int(d["version"]), int(d["tlp"]), False, b"", _mask(d["first"]), _mask(d["latest"])
            )
            for d in objects.find({"collection": seq, "id": object_id})
        ]
        masks = [
            UpdateOne(
                {"collection": seq, "id": object_id, "version": row.version},
                {"$set": {"first": _levels(row.first_mask), "latest": _levels(row.latest_mask)}},
            )
            for row in refresh_masks(known)
        ]
        if masks:
            objects.bulk_write(masks, ordered=False)
