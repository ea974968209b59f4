"""The MongoDB store's schema: its collections and indexes as an ordered list of
migrations, the version recorded in the database, and the rules for upgrading it.

The database records the number of migrations applied in the ``meta`` collection
(``{_id: "schema", version: N}``).  Opening a store checks it as the SQL store does:
equal to :data:`LATEST` is ready; higher means a newer atlas-taxii wrote it
(:class:`~taxii_server.storage.base.SchemaTooNew`); lower or absent is upgraded only
when the caller asked to migrate (``atlas-taxii db upgrade``, or a first start),
otherwise the operator is told to.

MongoDB cannot change indexes inside a transaction, so a migration is not atomic the
way a SQL one is: every step must be idempotent (``create_index`` of an index that
exists is a no-op), and the version moves on only after all of a migration's steps
succeeded, so a failed or interrupted upgrade is completed by running it again.
Processes upgrading at once take turns on a lease in ``meta``.  Migrations are
append-only: never edit a released one, add the next.

Collections (version 1):

``collections``
    One document per collection, ``_id`` its TAXII id.  ``seq`` is the compact number
    object documents refer to (a collection deleted and created again under the same id
    gets a new one, so nothing of the old one can reappear); ``last_date_added`` and,
    on a standalone server, ``lock`` are its write turn (:mod:`.mongo_writes`).
``objects``
    One document per stored version: ``data`` the canonical JSON body served as is,
    ``digest`` its SHA-256, ``first``/``latest`` the clearance levels for which it is
    the first/latest visible version (arrays, not bit masks: mongomock has no
    ``$bitsAllSet``, and an array is matched by plain equality).  Indexes:
    ``(collection, date_added)`` unique (every page), ``(collection, type,
    date_added)`` (``match[type]``), ``(collection, id, version)`` unique (``match[id]``,
    the object and versions endpoints, re-post detection).
``statuses`` / ``status_entries``
    A status, and one document per entry, updated in place when its object is stored.
``users``, ``api_keys``, ``grants``, ``secrets``, ``api_roots``
    Keyed by name, key id, (user, collection id), name, name.
``audit_log`` / ``login_failures``
    Audit records keyed by their ``seq``; failed-login counts per (window, address)
    (replaced in version 2).
``meta``
    The schema version, the migration lease and counters (``collection-seq``,
    ``audit-seq``).

Collections (version 2):

``failed_logins``
    Replaces ``login_failures``: one document per failed login (``address``,
    ``time``), so the limit is a sliding window over the last minute.  Indexed by
    (address, time) for the count and by time for forgetting old ones.

Version 3 (issue 9): ``request_counts``, anonymous requests per (window, address),
indexed by window; statuses of users deleted before it lose their owner.

Version 4 (issue 9, finding 1): ``marking_definitions``, the registry of marking
definitions (:mod:`.mongo_markings`), filled from the stored ones; every stored version
re-ranked under the current rules (an unknown marking is admin-only, rank 5, where it
was TLP:CLEAR) and the ``first``/``latest`` arrays given the admin-only level.

Version 5 (issue 9, finding 2: only an object's creator changes it, STIX 2.1 §3.6):
object documents gain ``owner`` (the STIX identity id of the organization that created
the object; ``None``: admins only; ``user:NAME``: the user who posted its first version
before this version, theirs once an admin sets their organization) and ``origin``
(``created`` and ``created_by_ref``, which never change between versions); user
documents gain ``organization``.  Filled by :func:`_own_objects`; the partial index
``objects_pending_owner`` holds the ``user:NAME`` owners only.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Final

import orjson
import pymongo.errors
from pymongo import ReturnDocument, UpdateOne
from pymongo.database import Database

from taxii_server.storage.base import SchemaTooNew, StorageError, StorageUnavailable
from taxii_server.storage.mongo_markings import rerank_store
from taxii_server.storage.versions import first_owner, origin_of
from taxii_server.timestamps import format_timestamp, now_us

__all__ = [
    "LATEST",
    "MIGRATIONS",
    "Index",
    "Migration",
    "check_schema",
    "next_number",
    "read_version",
    "upgrade",
]

META: Final = "meta"
_SCHEMA: Final = "schema"
_MIGRATION_LOCK: Final = "migration-lock"
#: Seconds a migration lease lasts after its last renewal (one step may build an index
#: over a large collection).
MIGRATION_LEASE: float = 600.0
#: Seconds a process waits for another one's upgrade before giving up.
MIGRATION_WAIT: float = 900.0


@dataclass(frozen=True, slots=True)
class Index:
    """One index to create (idempotent: creating an existing identical index is a
    no-op)."""

    collection: str
    keys: tuple[tuple[str, int], ...]
    name: str
    unique: bool = False
    #: Only documents matching this filter are indexed (a unique alias that may be
    #: absent: the rule applies only to collections that have one).
    partial: Mapping[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class Migration:
    """One schema step: indexes to create, then further idempotent steps."""

    summary: str
    indexes: tuple[Index, ...] = ()
    steps: tuple[Callable[[Database[dict[str, Any]]], None], ...] = field(default=())


_UP = pymongo.ASCENDING


def _drop_login_counts(database: Database[dict[str, Any]]) -> None:
    """Version 2: the per-minute counts are replaced by ``failed_logins``."""
    database.drop_collection("login_failures")  # a no-op when it is gone


def _disown_statuses_of_removed_users(database: Database[dict[str, Any]]) -> None:
    """Statuses of users deleted before version 3 lose their owner (admins still read
    them; a later user of the same name does not).  Idempotent."""
    users = [doc["_id"] for doc in database["users"].find({}, {"_id": True})]
    database["statuses"].update_many({"owner": {"$nin": [*users, None]}}, {"$set": {"owner": None}})


def _own_objects(database: Database[dict[str, Any]]) -> None:
    """Version 5: every object version gets its object's owner and its origin
    (:func:`~taxii_server.storage.versions.first_owner`,
    :func:`~taxii_server.storage.versions.origin_of`): the poster of its first version
    where the audit log (the add's user and status) and the status's entries still
    tell it, for users who still exist; else its ``created_by_ref``.  Idempotent."""
    users = {doc["_id"] for doc in database["users"].find({}, {"_id": True})}
    poster_of_status: dict[str, str] = {}
    for record in (
        database["audit_log"]
        .find({"action": "add", "status_id": {"$ne": None}}, {"user": True, "status_id": True})
        .sort("_id", pymongo.ASCENDING)
    ):
        if record.get("user") in users:
            poster_of_status.setdefault(record["status_id"], record["user"])
    seqs = {
        doc["_id"]: doc["collection"]
        for doc in database["statuses"].find(
            {"_id": {"$in": list(poster_of_status)}}, {"collection": True}
        )
    }
    posters: dict[tuple[int, str, str], str] = {}
    for entry in database["status_entries"].find(
        {"status": {"$in": list(seqs)}, "state": 1},
        {"status": True, "object_id": True, "version": True},
    ):
        key = (seqs[entry["status"]], entry["object_id"], entry["version"])
        posters.setdefault(key, poster_of_status[entry["status"]])
    objects = database["objects"]
    current: tuple[int, str] | None = None
    owner: str | None = None
    updates: list[UpdateOne] = []
    for doc in (
        objects.find({}, {"collection": True, "id": True, "version": True, "data": True})
        .sort([("collection", _UP), ("id", _UP), ("version", _UP)])
        .hint("objects_version")
    ):
        body = orjson.loads(bytes(doc["data"]))
        if (doc["collection"], doc["id"]) != current:
            current = (doc["collection"], doc["id"])
            poster = posters.get((*current, format_timestamp(int(doc["version"]))))
            owner = first_owner(poster, body)
        updates.append(
            UpdateOne({"_id": doc["_id"]}, {"$set": {"owner": owner, "origin": origin_of(body)}})
        )
        if len(updates) >= _MIGRATION_BATCH:
            objects.bulk_write(updates, ordered=False)
            updates = []
    if updates:
        objects.bulk_write(updates, ordered=False)


_MIGRATION_BATCH: Final = 1000


MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        "initial schema",
        indexes=(
            Index("collections", (("seq", _UP),), "collections_seq", unique=True),
            Index(
                "collections",
                (("api_root", _UP), ("title", _UP)),
                "collections_title",
                unique=True,
            ),
            Index(
                "collections",
                (("api_root", _UP), ("alias", _UP)),
                "collections_alias",
                unique=True,
                partial={"alias": {"$type": "string"}},
            ),
            Index(
                "objects",
                (("collection", _UP), ("date_added", _UP)),
                "objects_page",
                unique=True,
            ),
            Index(
                "objects",
                (("collection", _UP), ("type", _UP), ("date_added", _UP)),
                "objects_type",
            ),
            Index(
                "objects",
                (("collection", _UP), ("id", _UP), ("version", _UP)),
                "objects_version",
                unique=True,
            ),
            Index("statuses", (("updated", _UP),), "statuses_updated"),
            Index("statuses", (("collection", _UP),), "statuses_collection"),
            Index(
                "status_entries",
                (("status", _UP), ("position", _UP)),
                "status_entries_position",
                unique=True,
            ),
            Index(
                "status_entries",
                (("status", _UP), ("object_id", _UP), ("position", _UP)),
                "status_entries_object",
            ),
            Index("api_keys", (("user", _UP), ("created", _UP)), "api_keys_user"),
            Index(
                "grants",
                (("user", _UP), ("collection_id", _UP)),
                "grants_user",
                unique=True,
            ),
            Index("grants", (("collection_id", _UP),), "grants_collection"),
            Index("audit_log", (("time", _UP),), "audit_log_time"),
            Index("login_failures", (("window", _UP),), "login_failures_window"),
        ),
    ),
    Migration(
        "failed logins as a sliding window",
        indexes=(
            Index("failed_logins", (("address", _UP), ("time", _UP)), "failed_logins_address"),
            Index("failed_logins", (("time", _UP),), "failed_logins_time"),
        ),
        steps=(_drop_login_counts,),
    ),
    Migration(
        "anonymous request counts, statuses of removed users (issue 9)",
        indexes=(Index("request_counts", (("window", _UP),), "request_counts_window"),),
        steps=(_disown_statuses_of_removed_users,),
    ),
    Migration(
        "marking-definition registry; unknown markings admin-only, stored versions re-ranked",
        steps=(rerank_store,),
    ),
    Migration(
        "object owners and organizations (issue 9, finding 2)",
        indexes=(
            # Only the objects an upgrade left waiting for a user (``user:NAME``).
            Index(
                "objects",
                (("owner", _UP),),
                "objects_pending_owner",
                partial={"owner": {"$gte": "user:", "$lt": "user;"}},
            ),
        ),
        steps=(_own_objects,),
    ),
)

#: The schema version this code reads and writes.
LATEST = len(MIGRATIONS)


def read_version(database: Database[dict[str, Any]]) -> int:
    """The schema version recorded in the database; 0 when it has none."""
    found = database[META].find_one({"_id": _SCHEMA})
    if found is None:
        return 0
    version = found.get("version")
    if not isinstance(version, int):
        raise StorageError(
            f"the schema version recorded in the database is {version!r}, not a number; "
            "the database is damaged"
        )
    return version


def next_number(database: Database[dict[str, Any]], name: str) -> int:
    """The next value of counter ``name`` (1, 2, …), atomically across processes."""
    found = database[META].find_one_and_update(
        {"_id": name},
        {"$inc": {"value": 1}},
        upsert=True,
        return_document=ReturnDocument.AFTER,
    )
    if found is None:  # an upsert returns the document it made
        raise StorageError(f"counter {name!r} vanished")
    return int(found["value"])


def _too_new(location: str, version: int) -> SchemaTooNew:
    return SchemaTooNew(
        f"{location}: the database schema is at version {version}, written by a newer "
        f"atlas-taxii; this one knows versions up to {LATEST}. Upgrade atlas-taxii."
    )


@contextmanager
def _migration_lease(database: Database[dict[str, Any]], location: str) -> Iterator[str]:
    """Take the migration lease (waiting for another process's upgrade); yields the
    token that renews it."""
    meta = database[META]
    token = uuid.uuid4().hex
    deadline = time.monotonic() + MIGRATION_WAIT
    while True:
        now = now_us()
        expires = now + int(MIGRATION_LEASE * 1_000_000)
        try:
            meta.insert_one({"_id": _MIGRATION_LOCK, "token": token, "expires": expires})
            break
        except pymongo.errors.DuplicateKeyError:
            # Held by another process; taken over only once its lease has expired
            # (a process killed in the middle of an upgrade).
            taken = meta.find_one_and_update(
                {"_id": _MIGRATION_LOCK, "expires": {"$lt": now}},
                {"$set": {"token": token, "expires": expires}},
            )
            if taken is not None:
                break
        if time.monotonic() >= deadline:
            raise StorageUnavailable(
                f"{location}: another process has been upgrading the schema for more than "
                f"{MIGRATION_WAIT:g} s; try again when it has finished"
            )
        time.sleep(0.05)
    try:
        yield token
    finally:
        meta.delete_one({"_id": _MIGRATION_LOCK, "token": token})


def _apply(database: Database[dict[str, Any]], migration: Migration) -> None:
    for index in migration.indexes:
        options: dict[str, Any] = {"name": index.name, "unique": index.unique}
        if index.partial is not None:
            options["partialFilterExpression"] = dict(index.partial)
        database[index.collection].create_index(list(index.keys), **options)
    for step in migration.steps:
        step(database)


def upgrade(database: Database[dict[str, Any]], location: str) -> int:
    """Apply every missing migration under the migration lease; return the version."""
    with _migration_lease(database, location) as token:
        while True:
            version = read_version(database)
            if version > LATEST:
                raise _too_new(location, version)
            if version == LATEST:
                return version
            _apply(database, MIGRATIONS[version])
            database[META].update_one(
                {"_id": _SCHEMA}, {"$set": {"version": version + 1}}, upsert=True
            )
            database[META].update_one(
                {"_id": _MIGRATION_LOCK, "token": token},
                {"$set": {"expires": now_us() + int(MIGRATION_LEASE * 1_000_000)}},
            )


def check_schema(database: Database[dict[str, Any]], location: str, *, migrate: bool) -> None:
    """Make sure the database holds the schema this code knows, upgrading it when
    ``migrate`` is set; otherwise raise a :class:`StorageError` that tells the operator
    what to do."""
    version = read_version(database)
    if version == LATEST:
        return
    if version > LATEST:
        raise _too_new(location, version)
    if migrate:
        upgrade(database, location)
        return
    if version == 0:
        raise StorageError(
            f"{location} holds no atlas-taxii schema yet; create it with `atlas-taxii db upgrade`"
        )
    raise StorageError(
        f"{location}: the database schema is at version {version} and this atlas-taxii "
        f"needs version {LATEST}; back the database up, then run `atlas-taxii db upgrade`"
    )
