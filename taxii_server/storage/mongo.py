"""The MongoDB store: :class:`~taxii_server.storage.base.Storage` on a MongoDB database
(pymongo), for operators who already run MongoDB (medallion's users among them).

``mongodb://[user:password@]host[:port][,host…]/[database][?options]`` (or
``mongodb+srv://…``); the database defaults to ``atlas_taxii``.  The same semantics as
the SQL store, from the same shared rules (:mod:`.versions`): ``date_added`` strictly
increasing per collection and assigned under the collection's write turn, bodies
stored as canonical JSON bytes and served as is, version masks per clearance, status
entries moved with their objects.

How writes are made safe differs by deployment (:mod:`.mongo_writes`): a replica set
or sharded cluster runs each add, delete and status move in one transaction; a
standalone server, which has none, serialises a collection's writers on a lease and
orders every multi-document change so that an interruption cannot break what readers
rely on.  Objects are in :mod:`.mongo_objects`, statuses in :mod:`.mongo_status`,
accounts in :mod:`.mongo_accounts`, the audit log in :mod:`.mongo_audit`, the schema
in :mod:`.mongo_schema`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Final

import pymongo
import pymongo.errors

from taxii_server.storage import (
    mongo_accounts,
    mongo_audit,
    mongo_markings,
    mongo_objects,
    mongo_schema,
    mongo_status,
)
from taxii_server.storage.base import (
    OPERATOR,
    Actor,
    AddResult,
    ApiKey,
    ApiRoot,
    AuditQuery,
    AuditRecord,
    Collection,
    Grant,
    ManifestEntry,
    NewObject,
    ObjectQuery,
    Page,
    Status,
    Storage,
    StorageConflict,
    StorageError,
    StorageNotFound,
    StoredObject,
    User,
)
from taxii_server.storage.mongo_connection import MongoConnection
from taxii_server.storage.mongo_writes import Writer, run_write
from taxii_server.storage.versions import pending_entries

__all__ = ["MongoStorage", "inspect_schema", "open_store"]

_COLLECTIONS: Final = "collections"
_API_ROOTS: Final = "api_roots"
_SECRETS: Final = "secrets"
_GRANTS: Final = "grants"
_COLLECTION_SEQ: Final = "collection-seq"
_COLLECTION_FIELDS: Final = {
    "_id": True,
    "api_root": True,
    "title": True,
    "description": True,
    "alias": True,
    "public": True,
    "media_types": True,
}


def open_store(url: str, *, migrate: bool = False) -> MongoStorage:
    """Open the MongoDB store at ``url`` and check its schema (see
    :func:`~.mongo_schema.check_schema`)."""
    connection = MongoConnection(url)
    try:
        with connection.translated():
            mongo_schema.check_schema(connection.database, connection.location, migrate=migrate)
    except BaseException:
        connection.close()
        raise
    return MongoStorage(connection)


def inspect_schema(url: str) -> tuple[int, int]:
    """``(schema version in the database, version this code needs)``, changing nothing."""
    connection = MongoConnection(url)
    try:
        with connection.translated():
            return mongo_schema.read_version(connection.database), mongo_schema.LATEST
    finally:
        connection.close()


def _collection(doc: dict[str, Any]) -> Collection:
    return Collection(
        id=doc["_id"],
        api_root=doc["api_root"],
        title=doc["title"],
        description=doc["description"],
        alias=doc["alias"],
        public=bool(doc["public"]),
        media_types=tuple(doc["media_types"]),
    )


def _fields(collection: Collection) -> dict[str, Any]:
    """A collection's document, but for its id, number and write turn."""
    return {
        "api_root": collection.api_root,
        "title": collection.title,
        "description": collection.description,
        "alias": collection.alias,
        "public": collection.public,
        "media_types": list(collection.media_types),
    }


def _api_root(doc: dict[str, Any]) -> ApiRoot:
    return ApiRoot(doc["_id"], doc["title"], doc["description"], doc["max_content_length"])


class MongoStorage:
    """The :class:`~taxii_server.storage.base.Storage` of a MongoDB database.  Safe to
    share between threads; a forked process opens its own client."""

    def __init__(self, connection: MongoConnection) -> None:
        """Use ``connection``, whose schema the caller has checked (see
        :func:`open_store`)."""
        self._conn = connection

    def __repr__(self) -> str:
        return f"<MongoStorage {self._conn.location}>"

    # -- lifecycle -------------------------------------------------------------------

    def close(self) -> None:
        """Close this process's client (a later call opens a new one)."""
        self._conn.close()

    def ensure_secret(self, name: str, candidate: str) -> str:
        """Store ``candidate`` under ``name`` unless a secret is there; return the
        stored one (every worker and host then signs with the same key)."""
        with self._conn.translated():
            secrets = self._conn.database[_SECRETS]
            with contextlib.suppress(pymongo.errors.DuplicateKeyError):
                secrets.insert_one({"_id": name, "value": candidate})  # the first one stays
            found = secrets.find_one({"_id": name})
        if found is None:
            raise StorageError(f"{self._conn.location}: secret {name!r} vanished")
        return str(found["value"])

    # -- API roots and collections (TAXII 2.1 §4.2, §5.1, §5.2) ---------------------

    def list_api_roots(self) -> list[ApiRoot]:
        with self._conn.translated():
            cursor = self._conn.database[_API_ROOTS].find().sort("_id", pymongo.ASCENDING)
            return [_api_root(doc) for doc in cursor]

    def get_api_root(self, name: str) -> ApiRoot | None:
        with self._conn.translated():
            found = self._conn.database[_API_ROOTS].find_one({"_id": name})
        return None if found is None else _api_root(found)

    def put_api_root(self, api_root: ApiRoot) -> None:
        """Create or replace an API root (by ``name``)."""
        with self._conn.translated():
            self._conn.database[_API_ROOTS].replace_one(
                {"_id": api_root.name},
                {
                    "title": api_root.title,
                    "description": api_root.description,
                    "max_content_length": api_root.max_content_length,
                },
                upsert=True,
            )

    def list_collections(self, api_root: str) -> list[Collection]:
        with self._conn.translated():
            cursor = (
                self._conn.database[_COLLECTIONS]
                .find({"api_root": api_root}, _COLLECTION_FIELDS)
                .sort([("title", pymongo.ASCENDING), ("_id", pymongo.ASCENDING)])
            )
            return [_collection(doc) for doc in cursor]

    def get_collection(self, api_root: str, collection_id: str) -> Collection | None:
        """Look a collection up by id, or by alias when no id matches."""
        with self._conn.translated():
            either = [{"_id": collection_id}, {"alias": collection_id}]
            found = list(
                self._conn.database[_COLLECTIONS].find(
                    {"api_root": api_root, "$or": either}, _COLLECTION_FIELDS
                )
            )
        found.sort(key=lambda doc: doc["_id"] != collection_id)  # the id match first
        return _collection(found[0]) if found else None

    def _check_unique(self, collection: Collection, *, new: bool) -> None:
        either: list[dict[str, Any]] = [
            {"_id": collection.id},
            {"api_root": collection.api_root, "title": collection.title},
        ]
        if collection.alias is not None:
            either.append({"api_root": collection.api_root, "alias": collection.alias})
        where = f"API root {collection.api_root!r}"
        for doc in self._conn.database[_COLLECTIONS].find(
            {"$or": either}, {"_id": True, "api_root": True, "title": True, "alias": True}
        ):
            if doc["_id"] == collection.id:
                if new:
                    raise StorageConflict(f"a collection with id {collection.id} already exists")
                continue
            if doc["api_root"] != collection.api_root:
                continue
            if doc["title"] == collection.title:
                raise StorageConflict(
                    f"{where} already has a collection titled {collection.title!r} ({doc['_id']})"
                )
            if collection.alias is not None and doc["alias"] == collection.alias:
                raise StorageConflict(
                    f"{where} already has a collection aliased {collection.alias!r} ({doc['_id']})"
                )

    def create_collection(self, collection: Collection) -> None:
        """Raises :class:`StorageConflict` on a duplicate id, title or alias and
        :class:`StorageNotFound` when the API root does not exist."""
        with self._conn.translated():
            database = self._conn.database
            if database[_API_ROOTS].find_one({"_id": collection.api_root}) is None:
                raise StorageNotFound(f"API root {collection.api_root!r} does not exist")
            self._check_unique(collection, new=True)
            seq = mongo_schema.next_number(database, _COLLECTION_SEQ)
            # Grants left behind by an interrupted deletion of a collection that had
            # this id must not apply to the new one.
            database[_GRANTS].delete_many({"collection_id": collection.id})
            try:
                database[_COLLECTIONS].insert_one(
                    {"_id": collection.id, "seq": seq, "last_date_added": 0} | _fields(collection)
                )
            except pymongo.errors.DuplicateKeyError:
                # Created by someone else since the check: say what collides.
                self._check_unique(collection, new=True)
                raise

    def update_collection(self, collection: Collection) -> None:
        """Replace a collection's title, description, alias, ``public`` flag and media
        types; its id and API root identify it and do not change."""
        with self._conn.translated():
            self._check_unique(collection, new=False)
            try:
                result = self._conn.database[_COLLECTIONS].update_one(
                    {"_id": collection.id, "api_root": collection.api_root},
                    {"$set": _fields(collection)},
                )
            except pymongo.errors.DuplicateKeyError:
                self._check_unique(collection, new=False)
                raise
        if result.matched_count == 0:
            raise StorageNotFound(
                f"API root {collection.api_root!r} has no collection {collection.id}"
            )

    def delete_collection(self, api_root: str, collection_id: str) -> None:
        """Delete a collection with its objects, grants and statuses.

        Statuses and grants go first and the collection's document after them, so an
        interruption leaves a collection that lacks some of them rather than any of
        them without their collection; its objects go last, unreachable by then (they
        refer to the collection's ``seq``, which is never reused).
        """

        def work(writer: Writer) -> None:
            database = self._conn.database
            found = database[_COLLECTIONS].find_one(
                {"_id": collection_id, "api_root": api_root}, {"_id": True}
            )
            locked = None if found is None else writer.lock_collection(collection_id)
            if locked is None:
                raise StorageNotFound(f"API root {api_root!r} has no collection {collection_id}")
            mongo_status.delete_statuses(database, locked.seq)
            grants = {"collection_id": collection_id, "collection": locked.seq}
            database[_GRANTS].delete_many(grants)
            database[_COLLECTIONS].delete_one({"_id": collection_id, "seq": locked.seq})
            database[_GRANTS].delete_many(grants)  # one set by a racing set_grant
            database[mongo_objects.OBJECTS].delete_many({"collection": locked.seq})

        run_write(self._conn, work, transaction=False)

    # -- objects (TAXII 2.1 §5.3–§5.8) -------------------------------------------------

    def _seq(self, collection_id: str) -> int | None:
        found = self._conn.database[_COLLECTIONS].find_one({"_id": collection_id}, {"seq": True})
        return None if found is None else int(found["seq"])

    def query_objects(self, collection_id: str, query: ObjectQuery) -> Page[StoredObject]:
        with self._conn.translated():
            seq = self._seq(collection_id)
            if seq is None:
                return Page([], False)
            docs, more = mongo_objects.select_page(self._conn.database, seq, query, bodies=True)
        return Page(
            [
                StoredObject(
                    d["id"], d["date_added"], d["version"], d["spec_version"], bytes(d["data"])
                )
                for d in docs
            ],
            more,
        )

    def query_manifest(self, collection_id: str, query: ObjectQuery) -> Page[ManifestEntry]:
        with self._conn.translated():
            seq = self._seq(collection_id)
            if seq is None:
                return Page([], False)
            docs, more = mongo_objects.select_page(self._conn.database, seq, query, bodies=False)
        return Page(
            [
                ManifestEntry(d["id"], d["date_added"], d["version"], d["spec_version"])
                for d in docs
            ],
            more,
        )

    def add_objects(
        self,
        collection_id: str,
        objects: Sequence[NewObject],
        *,
        status_id: str | None = None,
        actor: Actor = OPERATOR,
    ) -> list[AddResult]:
        """Store ``objects`` under the collection's write turn; see the protocol and
        :mod:`.mongo_objects` for what a standalone server guarantees."""

        def work(writer: Writer) -> list[AddResult]:
            database = self._conn.database
            locked = writer.lock_collection(collection_id)
            if locked is None:
                raise StorageNotFound(f"collection {collection_id} does not exist")
            moves = (
                None
                if status_id is None
                else mongo_status.take_pending(database, writer, status_id, objects)
            )
            results = mongo_objects.add_objects(database, writer, locked, objects, actor)
            if moves is not None:
                mongo_status.record_results(database, writer, moves, objects, results)
            return results

        return run_write(self._conn, work)

    def add_envelope(
        self,
        status: Status,
        objects: Sequence[NewObject],
        audit: AuditRecord,
        *,
        actor: Actor = OPERATOR,
    ) -> list[AddResult]:
        """Create ``status``, append ``audit`` and store ``objects``, in three steps as a
        multi-chunk POST does: not all or nothing, but the status tells what was stored
        (see the protocol and :meth:`add_objects`)."""
        self.create_status(
            replace(status, pendings=pending_entries(objects, status.request_timestamp))
        )
        self.record_audit(audit)
        return self.add_objects(status.collection_id, objects, status_id=status.id, actor=actor)

    def marking_ranks(self, ids: Sequence[str]) -> dict[str, int]:
        with self._conn.translated():
            return mongo_markings.ranks(self._conn.database, ids)

    def delete_objects(
        self,
        collection_id: str,
        object_id: str,
        query: ObjectQuery,
        *,
        actor: Actor = OPERATOR,
    ) -> int:
        """Delete the versions of ``object_id`` that ``query`` selects; return how many."""
        return run_write(
            self._conn,
            lambda writer: mongo_objects.delete_objects(
                self._conn.database, writer, collection_id, object_id, query, actor
            ),
        )

    # -- status (TAXII 2.1 §4.3) ---------------------------------------------------------

    def create_status(self, status: Status) -> None:
        with self._conn.translated():
            seq = self._seq(status.collection_id)
            if seq is None:
                raise StorageNotFound(
                    f"status {status.id}: collection {status.collection_id} does not exist"
                )
            mongo_status.insert_status(self._conn.database, status, seq)
            mongo_accounts.check_status_owner(self._conn.database, status.id, status.owner)

    def get_status(self, api_root: str, status_id: str) -> Status | None:
        with self._conn.translated():
            return mongo_status.read_status(self._conn.database, api_root, status_id)

    def purge_statuses(self, older_than: int) -> int:
        """Delete statuses whose ``updated`` is before ``older_than``; return the count."""
        with self._conn.translated():
            return mongo_status.purge_statuses(self._conn.database, older_than)

    # -- users, keys and grants ----------------------------------------------------------

    def get_user(self, name: str) -> User | None:
        with self._conn.translated():
            return mongo_accounts.get_user(self._conn.database, name)

    def list_users(self) -> list[User]:
        with self._conn.translated():
            return mongo_accounts.list_users(self._conn.database)

    def put_user(self, user: User) -> None:
        """Create or replace a user (keeping their keys and grants)."""
        with self._conn.translated():
            mongo_accounts.put_user(self._conn.database, user)

    def set_organization(self, name: str, organization: str, identity: str) -> int:
        """Set a user's organization and hand it the objects waiting for this user."""
        with self._conn.translated():
            return mongo_accounts.set_organization(
                self._conn.database, name, organization, identity
            )

    def delete_user(self, name: str) -> None:
        """Delete a user with their keys and grants."""
        with self._conn.translated():
            mongo_accounts.delete_user(self._conn.database, name)

    def add_api_key(self, key: ApiKey) -> None:
        """Store a key; :class:`StorageNotFound` for an unknown user,
        :class:`StorageConflict` for a key id already in use."""
        with self._conn.translated():
            mongo_accounts.add_api_key(self._conn.database, key)

    def get_api_key(self, key_id: str) -> ApiKey | None:
        with self._conn.translated():
            return mongo_accounts.get_api_key(self._conn.database, key_id)

    def list_api_keys(self, user: str) -> list[ApiKey]:
        with self._conn.translated():
            return mongo_accounts.list_api_keys(self._conn.database, user)

    def delete_api_key(self, key_id: str) -> None:
        with self._conn.translated():
            mongo_accounts.delete_api_key(self._conn.database, key_id)

    def replace_api_key_hash(self, key_id: str, old: str, new: str) -> bool:
        """Set the key's hash to ``new`` if it is still ``old``."""
        with self._conn.translated():
            return mongo_accounts.replace_api_key_hash(self._conn.database, key_id, old, new)

    def set_grant(self, grant: Grant) -> None:
        """Create or replace the grant for (user, collection); a grant with neither
        right removes it."""
        with self._conn.translated():
            mongo_accounts.set_grant(self._conn.database, grant)

    def get_grant(self, user: str, collection_id: str) -> Grant | None:
        with self._conn.translated():
            return mongo_accounts.get_grant(self._conn.database, user, collection_id)

    def list_grants(self, user: str) -> list[Grant]:
        with self._conn.translated():
            return mongo_accounts.list_grants(self._conn.database, user)

    # -- audit log and failed logins -------------------------------------------------------

    def record_audit(self, record: AuditRecord, *, durable: bool = True) -> None:
        """Append ``record`` (its ``seq`` is assigned), under the connection's write
        concern whatever ``durable`` says: MongoDB's acknowledgement is the store's
        durability, set in the storage URL."""
        with self._conn.translated():
            mongo_audit.insert_audit(self._conn.database, record)

    def query_audit(self, query: AuditQuery) -> list[AuditRecord]:
        with self._conn.translated():
            return mongo_audit.select_audit(self._conn.database, query)

    def purge_audit(self, older_than: int, limit: int) -> int:
        with self._conn.translated():
            return mongo_audit.purge_audit(self._conn.database, older_than, limit)

    def record_login_failure(self, address: str, time: int, *, forget_before: int) -> None:
        with self._conn.translated():
            mongo_audit.record_login_failure(self._conn.database, address, time, forget_before)

    def login_failures(self, address: str, since: int) -> list[int]:
        with self._conn.translated():
            return mongo_audit.login_failures(self._conn.database, address, since)

    def count_request(self, address: str, window: int) -> None:
        with self._conn.translated():
            mongo_audit.count_request(self._conn.database, address, window)

    def request_counts(self, address: str, window: int) -> tuple[int, int]:
        with self._conn.translated():
            return mongo_audit.request_counts(self._conn.database, address, window)


if TYPE_CHECKING:

    def _implements_storage(store: MongoStorage) -> Storage:
        """mypy checks here that MongoStorage keeps to the Storage protocol (the
        registry hands stores out untyped, so nothing else would)."""
        return store
