"""Status resources in MongoDB (TAXII 2.1 §4.3): one document per status, one per entry.

An envelope of 50,000 objects is stored in chunks, each moving its entries out of
pending.  An entry is its own document, updated in place by ``(status, position)``
when its object's add completes: one chunk's bookkeeping is one batch of updates of
that chunk's entries (a status kept as one document would be rewritten whole by
every chunk), each update is idempotent, and a reader never sees an entry twice or
not at all.  The updates run after the objects are inserted, so a status never
claims as a success an object that is not stored (see :mod:`.mongo_writes` for what
a standalone server guarantees when a worker dies in between).

``position`` keeps the order the entries were given in.
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Sequence
from typing import Any, Final

import pymongo
from pymongo import InsertOne, UpdateOne
from pymongo.database import Database

from taxii_server.storage.base import (
    AddResult,
    NewObject,
    Status,
    StatusDetail,
    StorageConflict,
    StorageNotFound,
)
from taxii_server.storage.mongo_writes import Writer
from taxii_server.storage.versions import StatusMoves, status_entry
from taxii_server.timestamps import now_us

__all__ = [
    "ENTRIES",
    "STATUSES",
    "delete_statuses",
    "insert_status",
    "purge_statuses",
    "read_status",
    "record_results",
    "take_pending",
]

STATUSES: Final = "statuses"
ENTRIES: Final = "status_entries"

_PENDING, _SUCCESS, _FAILURE = 0, 1, 2
_STATE_OF_LIST: Final = {"pendings": _PENDING, "successes": _SUCCESS, "failures": _FAILURE}
_CHUNK: Final = 1000


def _entry(status_id: str, position: int, state: int, detail: StatusDetail) -> dict[str, Any]:
    return {
        "status": status_id,
        "position": position,
        "state": state,
        "object_id": detail.id,
        "version": detail.version,
        "message": detail.message,
    }


def insert_status(database: Database[dict[str, Any]], status: Status, seq: int) -> None:
    """Store a new status of the collection numbered ``seq``: its entries first, so a
    status that can be read always has all of them."""
    statuses = database[STATUSES]
    if statuses.find_one({"_id": status.id}, {"_id": True}) is not None:
        raise StorageConflict(f"a status with id {status.id} already exists")
    entries: list[dict[str, Any]] = []
    for state, details in (
        (_SUCCESS, status.successes),
        (_FAILURE, status.failures),
        (_PENDING, status.pendings),
    ):
        entries.extend(_entry(status.id, len(entries), state, d) for d in details)
    if entries:
        database[ENTRIES].insert_many(entries, ordered=True)
    statuses.insert_one(
        {
            "_id": status.id,
            "api_root": status.api_root,
            "collection": seq,
            "collection_id": status.collection_id,
            "owner": status.owner,
            "request_timestamp": status.request_timestamp,
            "updated": status.updated,
            "total_count": status.total_count,
        }
    )


def read_status(database: Database[dict[str, Any]], api_root: str, status_id: str) -> Status | None:
    """The status ``status_id`` of ``api_root``, or ``None``."""
    found = database[STATUSES].find_one({"_id": status_id, "api_root": api_root})
    if found is None:
        return None
    lists: dict[int, list[StatusDetail]] = {_PENDING: [], _SUCCESS: [], _FAILURE: []}
    for entry in (
        database[ENTRIES]
        .find({"status": status_id}, {"_id": False})
        .sort("position", pymongo.ASCENDING)
    ):
        lists[entry["state"]].append(
            StatusDetail(entry["object_id"], entry["version"], entry["message"])
        )
    return Status(
        id=status_id,
        api_root=api_root,
        collection_id=found["collection_id"],
        owner=found["owner"],
        request_timestamp=found["request_timestamp"],
        updated=found["updated"],
        total_count=found["total_count"],
        successes=tuple(lists[_SUCCESS]),
        failures=tuple(lists[_FAILURE]),
        pendings=tuple(lists[_PENDING]),
    )


def take_pending(
    database: Database[dict[str, Any]],
    writer: Writer,
    status_id: str,
    objects: Sequence[NewObject],
) -> StatusMoves:
    """Find the pending entry each object will take over (the first pending entry with
    its id), before anything is stored; raises :class:`StorageNotFound` for an unknown
    status."""
    session = writer.session
    touched = database[STATUSES].update_one(
        {"_id": status_id}, {"$set": {"updated": now_us()}}, session=session
    )
    if touched.matched_count == 0:
        raise StorageNotFound(f"status {status_id} does not exist")
    entries = database[ENTRIES]
    ids = list(dict.fromkeys(o.id for o in objects))
    pending: defaultdict[str, deque[int]] = defaultdict(deque)
    for start in range(0, len(ids), _CHUNK):
        for entry in (
            entries.find(
                {
                    "status": status_id,
                    "object_id": {"$in": ids[start : start + _CHUNK]},
                    "state": _PENDING,
                },
                {"_id": False, "object_id": True, "position": True},
                session=session,
            )
            .sort("position", pymongo.ASCENDING)
            .hint("status_entries_object")
        ):
            pending[entry["object_id"]].append(int(entry["position"]))
    last = entries.find_one(
        {"status": status_id},
        {"_id": False, "position": True},
        sort=[("position", pymongo.DESCENDING)],
        session=session,
    )
    positions = tuple(queue.popleft() if (queue := pending.get(o.id)) else None for o in objects)
    return StatusMoves(status_id, positions, (int(last["position"]) if last else -1) + 1)


def record_results(
    database: Database[dict[str, Any]],
    writer: Writer,
    moves: StatusMoves,
    objects: Sequence[NewObject],
    results: Sequence[AddResult],
) -> None:
    """Move each object's entry to the list its result belongs in, in place (or add an
    entry after every other, for an object that had none)."""
    operations: list[InsertOne[dict[str, Any]] | UpdateOne] = []
    appended = 0
    for obj, result, position in zip(objects, results, moves.positions, strict=True):
        list_name, detail = status_entry(obj.id, result)
        state = _STATE_OF_LIST[list_name]
        if position is None:
            entry = _entry(moves.status_id, moves.next_position + appended, state, detail)
            operations.append(InsertOne(entry))
            appended += 1
        else:
            operations.append(
                UpdateOne(
                    {"status": moves.status_id, "position": position},
                    {
                        "$set": {
                            "state": state,
                            "version": detail.version,
                            "message": detail.message,
                        }
                    },
                )
            )
    if operations:
        database[ENTRIES].bulk_write(operations, ordered=False, session=writer.session)


def _delete(database: Database[dict[str, Any]], where: dict[str, Any]) -> int:
    """Delete the statuses ``where`` selects, then the entries of those actually
    deleted (a status refreshed meanwhile by an add is kept, with its entries)."""
    statuses = database[STATUSES]
    ids = [doc["_id"] for doc in statuses.find(where, {"_id": True})]
    deleted = 0
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        deleted += statuses.delete_many({**where, "_id": {"$in": chunk}}).deleted_count
        kept = {doc["_id"] for doc in statuses.find({"_id": {"$in": chunk}}, {"_id": True})}
        gone = [status_id for status_id in chunk if status_id not in kept]
        if gone:
            database[ENTRIES].delete_many({"status": {"$in": gone}})
    return deleted


def purge_statuses(database: Database[dict[str, Any]], older_than: int) -> int:
    """Delete statuses whose ``updated`` is before ``older_than``; return the count."""
    return _delete(database, {"updated": {"$lt": older_than}})


def delete_statuses(database: Database[dict[str, Any]], seq: int) -> None:
    """Delete every status of the collection numbered ``seq``."""
    _delete(database, {"collection": seq})
