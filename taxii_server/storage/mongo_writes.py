"""How a write to the MongoDB store is made safe: a write lock per collection, and a
transaction where the deployment has them.

The promise pollers rely on (TAXII 2.1 §3.4.2, ``added_after``) is that ``date_added``
is strictly increasing per collection *and* objects become visible in ``date_added``
order.  The danger is a range of ``date_added`` values allocated by one writer but not
yet inserted while a second writer, allocating after it, inserts first: a poller sees
the second writer's objects, resumes after them, and never receives the first
writer's.  So, as in the SQL store, writers to one collection take turns, and each
allocates its ``date_added`` values while it holds the turn.

**Replica set or sharded cluster.**  Each write is one multi-document transaction
(:class:`_TransactionWriter`) whose first operation updates the collection's document.
A second writer's transaction updating that document conflicts and is retried by the
driver once the first has committed, so it allocates after the first and commits after
it.  An add is all or nothing: objects, version masks and status entries commit
together.

**Standalone server** (and mongomock in the tests): no transactions.  The collection's
document carries a lease, ``lock: {token, expires}``, taken atomically by a
``find_one_and_update`` that matches only a document whose lock is absent or expired
(:class:`_LeaseWriter`).  Every step that relies on still holding it (allocating
``date_added``, each batch of inserts, updating older versions' masks) is fenced: it
first updates the document on the condition that the lock still carries this writer's
token, renewing it for :data:`LEASE` seconds, and a writer whose lease is gone stops
with :class:`~taxii_server.storage.base.StorageUnavailable` before writing more.  The
ordering promise therefore holds as long as one fenced step (one batch of at most
:data:`~taxii_server.storage.mongo_objects.INSERT_BATCH` objects) completes within
:data:`LEASE` seconds, and a writer that dies holding a lease delays that collection's
writers by at most :data:`LEASE` seconds.  Lease expiry is judged by each host's clock:
hosts sharing a store must keep their clocks synchronised (NTP), which ``date_added``
already requires.  What a standalone server does not give, an add being all or
nothing, is handled by ordering the steps (see :mod:`.mongo_objects`).
"""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final, Protocol, TypeVar

import pymongo.errors
from pymongo import ReturnDocument
from pymongo.client_session import ClientSession
from pymongo.collection import Collection as MongoCollection
from pymongo.database import Database
from pymongo.read_concern import ReadConcern
from pymongo.read_preferences import ReadPreference
from pymongo.write_concern import WriteConcern

from taxii_server.storage.base import StorageUnavailable
from taxii_server.storage.mongo_connection import MongoConnection
from taxii_server.timestamps import now_us

__all__ = ["LEASE", "LOCK_WAIT", "LockedCollection", "Writer", "run_write"]

T = TypeVar("T")

#: Seconds a standalone server's collection lock stays valid after its last renewal.
LEASE: float = 30.0
#: Seconds a writer waits for another writer's lock on the same collection before the
#: store reports itself unavailable (longer than :data:`LEASE`, so a lock left by a
#: killed worker costs the next writer a delay, not an error).
LOCK_WAIT: float = 40.0

_COLLECTIONS: Final = "collections"
_LOCK_FIELDS: Final = {"seq": True, "last_date_added": True}


@dataclass(frozen=True, slots=True)
class LockedCollection:
    """A collection whose write turn this writer holds, as it was when taken."""

    id: str
    seq: int
    last_date_added: int


class Writer(Protocol):
    """What a write needs from its context: the session to pass to every operation
    (``None`` outside a transaction) and the collection's write turn."""

    @property
    def session(self) -> ClientSession | None: ...

    def lock_collection(self, collection_id: str) -> LockedCollection | None:
        """Take the collection's write turn (waiting for another writer's); ``None``
        when there is no such collection."""

    def advance(self, collection: LockedCollection, last_date_added: int) -> None:
        """Record the last ``date_added`` allocated (fenced: raises
        :class:`StorageUnavailable` when the turn was lost)."""

    def renew(self, collection: LockedCollection) -> None:
        """Check the turn is still held before the next step (fenced likewise)."""


class _LeaseWriter:
    """Collection write turns as leases in the collections' documents (standalone)."""

    session = None

    def __init__(self, database: Database[dict[str, Any]]) -> None:
        self._collections: MongoCollection[dict[str, Any]] = database[_COLLECTIONS]
        self._token = uuid.uuid4().hex
        self._held: list[str] = []

    def lock_collection(self, collection_id: str) -> LockedCollection | None:
        deadline = time.monotonic() + LOCK_WAIT
        delay = 0.001
        while True:
            now = now_us()
            found = self._collections.find_one_and_update(
                {
                    "_id": collection_id,
                    "$or": [{"lock": None}, {"lock.expires": {"$lt": now}}],
                },
                {"$set": {"lock": {"token": self._token, "expires": now + _lease_us()}}},
                projection=_LOCK_FIELDS,
                return_document=ReturnDocument.AFTER,
            )
            if found is not None:
                self._held.append(collection_id)
                return LockedCollection(
                    collection_id, int(found["seq"]), int(found["last_date_added"])
                )
            if self._collections.find_one({"_id": collection_id}, {"_id": True}) is None:
                return None
            if time.monotonic() >= deadline:
                raise StorageUnavailable(
                    f"collection {collection_id} is locked by another write that has not "
                    f"finished within {LOCK_WAIT:g} s; try again"
                )
            time.sleep(delay)
            delay = min(delay * 2, 0.05)

    def advance(self, collection: LockedCollection, last_date_added: int) -> None:
        self._fenced(collection, {"last_date_added": last_date_added})

    def renew(self, collection: LockedCollection) -> None:
        self._fenced(collection, {})

    def _fenced(self, collection: LockedCollection, fields: dict[str, Any]) -> None:
        result = self._collections.update_one(
            {"_id": collection.id, "lock.token": self._token},
            {"$set": {**fields, "lock.expires": now_us() + _lease_us()}},
        )
        if result.matched_count == 0:
            raise StorageUnavailable(
                f"collection {collection.id}: this write lost its lock after more than "
                f"{LEASE:g} s without progress and stopped; post again"
            )

    def release(self) -> None:
        """Give the turns back.  A failure here is left to the lease's expiry: the
        write itself is complete, and its caller must not be told otherwise."""
        for collection_id in self._held:
            with contextlib.suppress(pymongo.errors.PyMongoError):
                self._collections.update_one(
                    {"_id": collection_id, "lock.token": self._token}, {"$unset": {"lock": ""}}
                )
        self._held.clear()


class _TransactionWriter:
    """Collection write turns as write conflicts on the collections' documents, inside
    one transaction (replica sets and sharded clusters)."""

    def __init__(self, database: Database[dict[str, Any]], session: ClientSession) -> None:
        self._collections: MongoCollection[dict[str, Any]] = database[_COLLECTIONS]
        self._session = session

    @property
    def session(self) -> ClientSession:
        return self._session

    def lock_collection(self, collection_id: str) -> LockedCollection | None:
        # Writing the document is what serialises: a concurrent transaction writing it
        # too fails with a write conflict and the driver retries it after our commit.
        found = self._collections.find_one_and_update(
            {"_id": collection_id},
            {"$inc": {"writes": 1}},
            projection=_LOCK_FIELDS,
            return_document=ReturnDocument.AFTER,
            session=self._session,
        )
        if found is None:
            return None
        return LockedCollection(collection_id, int(found["seq"]), int(found["last_date_added"]))

    def advance(self, collection: LockedCollection, last_date_added: int) -> None:
        self._collections.update_one(
            {"_id": collection.id},
            {"$set": {"last_date_added": last_date_added}},
            session=self._session,
        )

    def renew(self, collection: LockedCollection) -> None:
        """Nothing to renew: the transaction holds the turn until it commits."""


class _UnlockedWriter:
    """No turn taken (deleting a collection on a replica set: writers' transactions
    conflict with the deletion of the collection's document and then find it gone)."""

    session = None

    def __init__(self, database: Database[dict[str, Any]]) -> None:
        self._collections: MongoCollection[dict[str, Any]] = database[_COLLECTIONS]

    def lock_collection(self, collection_id: str) -> LockedCollection | None:
        found = self._collections.find_one({"_id": collection_id}, _LOCK_FIELDS)
        if found is None:
            return None
        return LockedCollection(collection_id, int(found["seq"]), int(found["last_date_added"]))

    def advance(self, collection: LockedCollection, last_date_added: int) -> None:
        self._collections.update_one(
            {"_id": collection.id}, {"$max": {"last_date_added": last_date_added}}
        )

    def renew(self, collection: LockedCollection) -> None:
        """Nothing to renew."""


def _lease_us() -> int:
    return int(LEASE * 1_000_000)


def run_write(
    connection: MongoConnection, work: Callable[[Writer], T], *, transaction: bool = True
) -> T:
    """Run ``work`` as one write: in a transaction where the deployment has them
    (retried by the driver on transient conflicts, so ``work`` must only write
    through the writer's session), else under leases released when it ends.

    ``transaction=False`` is for work too large for one transaction (deleting a whole
    collection); on a replica set it then runs without a collection turn.
    """
    with connection.translated():
        database = connection.database
        if connection.transactions:
            if not transaction:
                return work(_UnlockedWriter(database))
            with connection.client.start_session() as session:
                return session.with_transaction(
                    lambda session: work(_TransactionWriter(database, session)),
                    read_concern=ReadConcern("majority"),
                    write_concern=WriteConcern("majority", j=True),
                    read_preference=ReadPreference.PRIMARY,
                )
        writer = _LeaseWriter(database)
        try:
            return work(writer)
        finally:
            writer.release()
