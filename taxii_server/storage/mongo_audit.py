"""The audit log and the failed logins in MongoDB.

An audit record takes its ``seq`` from a counter in ``meta`` and is inserted under it
as its ``_id``: two round trips, written with the client's majority, journaled write
concern, so a record is durable when :meth:`~.mongo.MongoStorage.record_audit` returns.  As with a
PostgreSQL sequence, ``seq`` values are unique and increasing per writer, but a record
may become visible after one with a higher ``seq`` written at the same moment by
another process.

Records are not made compact as the SQL store's are (texts stored once, records
holding ids): WiredTiger compresses every collection's blocks (snappy, by default),
which takes out the repetition.  Retention deletes the oldest records in batches.

A failed login is one document ``{address, time}``, inserted after deleting the
failures too old to matter; the limit counts an address's documents of the last
minute (a sliding window).  An anonymous request is one upsert incrementing the count
of ``(window, address)`` in ``request_counts``.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Final

import pymongo
import pymongo.errors
from pymongo.database import Database

from taxii_server.storage.base import AuditQuery, AuditRecord
from taxii_server.storage.mongo_schema import next_number

__all__ = [
    "FAILURES",
    "REQUESTS",
    "count_request",
    "insert_audit",
    "login_failures",
    "purge_audit",
    "record_login_failure",
    "request_counts",
    "select_audit",
]

AUDIT: Final = "audit_log"
FAILURES: Final = "failed_logins"
REQUESTS: Final = "request_counts"
_AUDIT_SEQ: Final = "audit-seq"
# Every field of a record but ``seq``, which is the document's ``_id``.
_FIELDS: Final = tuple(f.name for f in dataclasses.fields(AuditRecord) if f.name != "seq")


def insert_audit(database: Database[dict[str, Any]], record: AuditRecord) -> None:
    """Append one record (the store assigns its ``seq``)."""
    document = {name: getattr(record, name) for name in _FIELDS}
    database[AUDIT].insert_one({"_id": next_number(database, _AUDIT_SEQ), **document})


def _record(doc: dict[str, Any]) -> AuditRecord:
    # .get: records written before a field existed (added_after) lack it.
    fields: dict[str, Any] = {name: doc.get(name) for name in _FIELDS}
    return AuditRecord(**fields, seq=doc["_id"])


def select_audit(database: Database[dict[str, Any]], query: AuditQuery) -> list[AuditRecord]:
    """The records ``query`` selects, in ``seq`` order."""
    if query.limit < 1:
        return []
    where: dict[str, Any] = {"_id": {"$gt": query.after}}
    if query.user is not None:
        where["user"] = query.user
    if query.collection_id is not None:
        where["collection_id"] = query.collection_id
    if query.since is not None or query.until is not None:
        bounds: dict[str, int] = {}
        if query.since is not None:
            bounds["$gte"] = query.since
        if query.until is not None:
            bounds["$lte"] = query.until
        where["time"] = bounds
    cursor = database[AUDIT].find(where).sort("_id", pymongo.ASCENDING).limit(query.limit)
    return [_record(doc) for doc in cursor]


def purge_audit(database: Database[dict[str, Any]], older_than: int, limit: int) -> int:
    """Delete up to ``limit`` records from before ``older_than``, oldest first."""
    doomed = [
        doc["_id"]
        for doc in database[AUDIT]
        .find({"time": {"$lt": older_than}}, {"_id": True})
        .sort("time", pymongo.ASCENDING)
        .limit(limit)
    ]
    if not doomed:
        return 0
    return int(database[AUDIT].delete_many({"_id": {"$in": doomed}}).deleted_count)


def record_login_failure(
    database: Database[dict[str, Any]], address: str, time: int, forget_before: int
) -> None:
    """Record one failure of ``address`` at ``time``; forget every failure before
    ``forget_before``."""
    failures = database[FAILURES]
    failures.delete_many({"time": {"$lt": forget_before}})
    failures.insert_one({"address": address, "time": time})


def login_failures(database: Database[dict[str, Any]], address: str, since: int) -> list[int]:
    """The times of ``address``'s failures after ``since``, oldest first."""
    cursor = (
        database[FAILURES]
        .find({"address": address, "time": {"$gt": since}}, {"time": True, "_id": False})
        .sort("time", pymongo.ASCENDING)
    )
    return [int(doc["time"]) for doc in cursor]


def _count(database: Database[dict[str, Any]], address: str, window: int) -> None:
    """Add one to the count of ``(window, address)`` in ``request_counts``; forget
    windows before the last one."""
    counts = database[REQUESTS]
    counts.delete_many({"window": {"$lt": window - 1}})
    key = {"_id": f"{window}|{address}"}
    update = {"$inc": {"requests": 1}, "$setOnInsert": {"window": window, "address": address}}
    try:
        counts.update_one(key, update, upsert=True)
    except pymongo.errors.DuplicateKeyError:
        # Two first counts at once: the other upsert created the document.
        counts.update_one(key, update)


def _counted(database: Database[dict[str, Any]], address: str, window: int) -> int:
    found = database[REQUESTS].find_one({"_id": f"{window}|{address}"})
    return 0 if found is None else int(found["requests"])


def count_request(database: Database[dict[str, Any]], address: str, window: int) -> None:
    """Count one request of ``address`` in ``window``."""
    _count(database, address, window)


def request_counts(
    database: Database[dict[str, Any]], address: str, window: int
) -> tuple[int, int]:
    """The requests ``address`` made in the window before ``window``, and in it."""
    return _counted(database, address, window - 1), _counted(database, address, window)
