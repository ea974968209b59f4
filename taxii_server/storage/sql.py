"""The SQL store: one implementation of :class:`~taxii_server.storage.base.Storage` for
SQLite (the default) and PostgreSQL.

What differs between the two lives in a :class:`~.sql_dialect.Dialect` and a
connection source (:mod:`.sql_sqlite`, :mod:`.sql_postgres`); the SQL here is written
once, in the subset both speak (``INSERT … ON CONFLICT`` upserts, ``?`` placeholders).
Objects are in :mod:`.sql_objects`, statuses in :mod:`.sql_status`, the schema in
:mod:`.sql_schema`.

Writes to a collection's objects serialise on the collection's write lock (SQLite:
the database lock, ``BEGIN IMMEDIATE``; PostgreSQL: ``SELECT … FOR NO KEY UPDATE`` on the
collection row that keeps ``last_date_added``).  ``date_added`` is assigned under it,
so commit order is ``date_added`` order and a poller resuming after the last
``date_added`` it saw misses nothing committed concurrently (TAXII 2.1 §3.4.2).
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import orjson

from taxii_server.storage import sql_audit, sql_markings, sql_objects, sql_schema, sql_status
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
from taxii_server.storage.sql_dialect import Database, Mode, Transaction
from taxii_server.storage.versions import StatusMoves, pending_owner

__all__ = ["SqlStorage", "inspect_schema", "open_database", "open_store"]

_COLLECTION_COLUMNS = "c.id, c.api_root, c.title, c.description, c.alias, c.public, c.media_types"
_USER_COLUMNS = "name, clearance, password_hash, admin, organization"
_KEY_COLUMNS = "key_id, user_name, secret_hash, label, created"
_GRANT_COLUMNS = "g.user_name, c.id, g.can_read, g.can_write"


def open_database(url: str, *, create: bool) -> Database:
    """The connection source for a ``sqlite:`` or ``postgresql:``/``postgres:`` URL."""
    scheme, _, rest = url.partition(":")
    scheme = scheme.lower()
    if scheme == "sqlite":
        parts = urllib.parse.urlsplit(url)
        path = urllib.parse.unquote(parts.path[1:])  # sqlite:///x.db -> x.db, ////x -> /x
        if parts.netloc or parts.query or parts.fragment or not path:
            raise StorageError(
                f"{url!r} is not a SQLite URL: use sqlite:///relative/path.db, "
                "sqlite:////absolute/path.db or sqlite:///:memory:"
            )
        from taxii_server.storage.sql_sqlite import SqliteDatabase

        return SqliteDatabase(path, create=create)
    if scheme in ("postgresql", "postgres"):
        # Imported here: psycopg is an optional extra (atlas-taxii[postgres]).
        from taxii_server.storage.sql_postgres import PostgresDatabase

        return PostgresDatabase(url)
    raise StorageError(f"{url!r}: the SQL store handles sqlite: and postgresql: URLs")


def open_store(url: str, *, migrate: bool = False) -> SqlStorage:
    """Open the SQL store at ``url`` and check its schema (see
    :func:`~.sql_schema.check_schema`)."""
    database = open_database(url, create=migrate)
    try:
        sql_schema.check_schema(database, migrate=migrate)
    except BaseException:
        database.close()
        raise
    return SqlStorage(database)


def inspect_schema(url: str) -> tuple[int, int]:
    """``(schema version in the database, version this code needs)``, changing nothing."""
    database = open_database(url, create=False)
    try:
        with database.transaction(Mode.READ) as tx:
            return sql_schema.read_version(tx), sql_schema.LATEST
    finally:
        database.close()


def _collection(row: Sequence[Any]) -> Collection:
    id_, api_root, title, description, alias, public, media_types = row
    return Collection(
        id=id_,
        api_root=api_root,
        title=title,
        description=description,
        alias=alias,
        public=bool(public),
        media_types=tuple(orjson.loads(media_types)),
    )


def _user(row: Sequence[Any]) -> User:
    name, clearance, password_hash, admin, organization = row
    return User(name, clearance, password_hash, bool(admin), organization)


def _key(row: Sequence[Any]) -> ApiKey:
    key_id, user, secret_hash, label, created = row
    return ApiKey(key_id, user, secret_hash, label, created)


def _grant(row: Sequence[Any]) -> Grant:
    user, collection_id, can_read, can_write = row
    return Grant(user, collection_id, bool(can_read), bool(can_write))


class SqlStorage:
    """The :class:`~taxii_server.storage.base.Storage` of a SQLite or PostgreSQL
    database.  Safe to share between threads; a forked process opens its own
    connections."""

    def __init__(self, database: Database) -> None:
        """Use ``database``, whose schema the caller has checked (see
        :func:`open_store`)."""
        self._db = database
        self._audit_names = sql_audit.AuditNames()

    def __repr__(self) -> str:
        return f"<SqlStorage {self._db.location}>"

    # -- lifecycle -------------------------------------------------------------------

    def close(self) -> None:
        """Close this process's connections (a later call opens new ones)."""
        self._db.close()

    def ensure_secret(self, name: str, candidate: str) -> str:
        """Store ``candidate`` under ``name`` unless a secret is there; return the
        stored one (every worker and host then signs with the same key)."""
        with self._db.transaction(Mode.WRITE) as tx:
            tx.run(
                "INSERT INTO secrets (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING",
                (name, candidate),
            )
            row = tx.row("SELECT value FROM secrets WHERE name = ?", (name,))
        if row is None:  # inserted or already there, in this very transaction
            raise StorageError(f"{self._db.location}: secret {name!r} vanished")
        return str(row[0])

    # -- API roots and collections (TAXII 2.1 §4.2, §5.1, §5.2) ---------------------

    def list_api_roots(self) -> list[ApiRoot]:
        with self._db.transaction(Mode.READ) as tx:
            rows = tx.rows(
                "SELECT name, title, description, max_content_length FROM api_roots ORDER BY name"
            )
        return [ApiRoot(*row) for row in rows]

    def get_api_root(self, name: str) -> ApiRoot | None:
        with self._db.transaction(Mode.READ) as tx:
            row = tx.row(
                "SELECT name, title, description, max_content_length FROM api_roots WHERE name = ?",
                (name,),
            )
        return None if row is None else ApiRoot(*row)

    def put_api_root(self, api_root: ApiRoot) -> None:
        """Create or replace an API root (by ``name``)."""
        with self._db.transaction(Mode.WRITE) as tx:
            tx.run(
                "INSERT INTO api_roots (name, title, description, max_content_length) "
                "VALUES (?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET title = excluded.title, "
                "description = excluded.description, "
                "max_content_length = excluded.max_content_length",
                (
                    api_root.name,
                    api_root.title,
                    api_root.description,
                    api_root.max_content_length,
                ),
            )

    def list_collections(self, api_root: str) -> list[Collection]:
        with self._db.transaction(Mode.READ) as tx:
            rows = tx.rows(
                f"SELECT {_COLLECTION_COLUMNS} FROM collections c WHERE c.api_root = ? "
                "ORDER BY c.title, c.id",
                (api_root,),
            )
        return [_collection(row) for row in rows]

    def get_collection(self, api_root: str, collection_id: str) -> Collection | None:
        """Look a collection up by id, or by alias when no id matches."""
        with self._db.transaction(Mode.READ) as tx:
            # One statement: the id match sorts first.  Both arms are index lookups.
            row = tx.row(
                f"SELECT {_COLLECTION_COLUMNS} FROM collections c "
                "WHERE c.api_root = ? AND (c.id = ? OR c.alias = ?) "
                "ORDER BY CASE WHEN c.id = ? THEN 0 ELSE 1 END LIMIT 1",
                (api_root, collection_id, collection_id, collection_id),
            )
        return None if row is None else _collection(row)

    def _check_unique(self, tx: Transaction, collection: Collection, *, new: bool) -> None:
        rows = tx.rows(
            "SELECT id, title, alias FROM collections "
            "WHERE id = ? OR (api_root = ? AND (title = ? OR alias = ?))",
            (collection.id, collection.api_root, collection.title, collection.alias),
        )
        where = f"API root {collection.api_root!r}"
        for id_, title, alias in rows:
            if id_ == collection.id:
                if new:
                    raise StorageConflict(f"a collection with id {id_} already exists")
                continue
            if title == collection.title:
                raise StorageConflict(f"{where} already has a collection titled {title!r} ({id_})")
            if collection.alias is not None and alias == collection.alias:
                raise StorageConflict(f"{where} already has a collection aliased {alias!r} ({id_})")

    def create_collection(self, collection: Collection) -> None:
        """Raises :class:`StorageConflict` on a duplicate id, title or alias and
        :class:`StorageNotFound` when the API root does not exist."""
        with self._db.transaction(Mode.WRITE) as tx:
            if tx.row("SELECT 1 FROM api_roots WHERE name = ?", (collection.api_root,)) is None:
                raise StorageNotFound(f"API root {collection.api_root!r} does not exist")
            self._check_unique(tx, collection, new=True)
            tx.run(
                "INSERT INTO collections (id, api_root, title, description, alias, public, "
                "media_types) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    collection.id,
                    collection.api_root,
                    collection.title,
                    collection.description,
                    collection.alias,
                    collection.public,
                    orjson.dumps(list(collection.media_types)).decode(),
                ),
            )

    def update_collection(self, collection: Collection) -> None:
        """Replace a collection's title, description, alias, ``public`` flag and media
        types; its id and API root identify it and do not change."""
        with self._db.transaction(Mode.WRITE) as tx:
            self._check_unique(tx, collection, new=False)
            changed = tx.run(
                "UPDATE collections SET title = ?, description = ?, alias = ?, public = ?, "
                "media_types = ? WHERE id = ? AND api_root = ?",
                (
                    collection.title,
                    collection.description,
                    collection.alias,
                    collection.public,
                    orjson.dumps(list(collection.media_types)).decode(),
                    collection.id,
                    collection.api_root,
                ),
            )
            if not changed:
                raise StorageNotFound(
                    f"API root {collection.api_root!r} has no collection {collection.id}"
                )

    def delete_collection(self, api_root: str, collection_id: str) -> None:
        """Delete a collection with its objects, grants and statuses."""
        with self._db.transaction(Mode.WRITE) as tx:
            deleted = tx.run(
                "DELETE FROM collections WHERE api_root = ? AND id = ?",
                (api_root, collection_id),
            )
        if not deleted:
            raise StorageNotFound(f"API root {api_root!r} has no collection {collection_id}")

    # -- objects (TAXII 2.1 §5.3–§5.8) -------------------------------------------------

    def query_objects(self, collection_id: str, query: ObjectQuery) -> Page[StoredObject]:
        with self._db.transaction(Mode.READ) as tx:
            rows, more = sql_objects.select_page(
                tx, collection_id, query, sql_objects.OBJECT_COLUMNS
            )
        return Page([StoredObject(*row) for row in rows], more)

    def query_manifest(self, collection_id: str, query: ObjectQuery) -> Page[ManifestEntry]:
        with self._db.transaction(Mode.READ) as tx:
            rows, more = sql_objects.select_page(
                tx, collection_id, query, sql_objects.MANIFEST_COLUMNS
            )
        return Page([ManifestEntry(*row) for row in rows], more)

    def add_objects(
        self,
        collection_id: str,
        objects: Sequence[NewObject],
        *,
        status_id: str | None = None,
        actor: Actor = OPERATOR,
    ) -> list[AddResult]:
        """Store ``objects`` in one transaction; see the protocol."""
        with self._db.transaction(Mode.WRITE) as tx:
            locked = sql_objects.lock_collection(tx, collection_id)
            if locked is None:
                raise StorageNotFound(f"collection {collection_id} does not exist")
            # Status work that does not need the results comes before the add, so
            # little is left between assigning date_added and committing.
            moves = None if status_id is None else sql_status.take_pending(tx, status_id, objects)
            results = sql_objects.add_objects(tx, locked, objects, actor)
            if moves is not None:
                sql_status.record_results(tx, moves, objects, results)
        return results

    def add_envelope(
        self,
        status: Status,
        objects: Sequence[NewObject],
        audit: AuditRecord,
        *,
        actor: Actor = OPERATOR,
    ) -> list[AddResult]:
        """Create ``status``, append ``audit`` and store ``objects`` in one transaction;
        see the protocol."""
        with self._db.transaction(Mode.WRITE) as tx:
            locked = sql_objects.lock_collection(tx, status.collection_id)
            if locked is None:
                raise StorageNotFound(f"collection {status.collection_id} does not exist")
            sql_status.insert_status(tx, replace(status, pendings=()))
            written = sql_audit.insert_audit(tx, audit, self._audit_names)
            results = sql_objects.add_objects(tx, locked, objects, actor)
            # Each entry where its pending entry would have been: after the others.
            first = len(status.successes) + len(status.failures)
            moves = StatusMoves(status.id, tuple(range(first, first + len(objects))), 0)
            sql_status.record_results(tx, moves, objects, results)
        self._audit_names.remember(written)  # committed: the ids exist
        return results

    def marking_ranks(self, ids: Sequence[str]) -> dict[str, int]:
        with self._db.transaction(Mode.READ) as tx:
            return sql_markings.ranks(tx, ids)

    def delete_objects(
        self,
        collection_id: str,
        object_id: str,
        query: ObjectQuery,
        *,
        actor: Actor = OPERATOR,
    ) -> int:
        """Delete the versions of ``object_id`` that ``query`` selects; return how many."""
        with self._db.transaction(Mode.WRITE) as tx:
            return sql_objects.delete_objects(tx, collection_id, object_id, query, actor)

    # -- status (TAXII 2.1 §4.3) ---------------------------------------------------------

    def create_status(self, status: Status) -> None:
        with self._db.transaction(Mode.WRITE) as tx:
            sql_status.insert_status(tx, status)

    def get_status(self, api_root: str, status_id: str) -> Status | None:
        with self._db.transaction(Mode.SNAPSHOT) as tx:
            return sql_status.read_status(tx, api_root, status_id)

    def purge_statuses(self, older_than: int) -> int:
        """Delete statuses whose ``updated`` is before ``older_than``; return the count."""
        with self._db.transaction(Mode.WRITE) as tx:
            return tx.run("DELETE FROM statuses WHERE updated < ?", (older_than,))

    # -- users, keys and grants ----------------------------------------------------------

    def get_user(self, name: str) -> User | None:
        with self._db.transaction(Mode.READ) as tx:
            row = tx.row(f"SELECT {_USER_COLUMNS} FROM users WHERE name = ?", (name,))
        return None if row is None else _user(row)

    def list_users(self) -> list[User]:
        with self._db.transaction(Mode.READ) as tx:
            rows = tx.rows(f"SELECT {_USER_COLUMNS} FROM users ORDER BY name")
        return [_user(row) for row in rows]

    def put_user(self, user: User) -> None:
        """Create or replace a user (keeping their keys and grants)."""
        with self._db.transaction(Mode.WRITE) as tx:
            tx.run(
                f"INSERT INTO users ({_USER_COLUMNS}) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT (name) DO UPDATE SET clearance = excluded.clearance, "
                "password_hash = excluded.password_hash, admin = excluded.admin, "
                "organization = excluded.organization",
                (user.name, user.clearance, user.password_hash, user.admin, user.organization),
            )

    def set_organization(self, name: str, organization: str, identity: str) -> int:
        """Set a user's organization and hand it the objects waiting for this user."""
        with self._db.transaction(Mode.WRITE) as tx:
            if not tx.run("UPDATE users SET organization = ? WHERE name = ?", (organization, name)):
                raise StorageNotFound(f"no user named {name!r}")
            return tx.run(
                f"UPDATE objects SET owner = ? WHERE owner = ? AND {sql_schema.PENDING_OWNERS}",
                (identity, pending_owner(name)),
            )

    def delete_user(self, name: str) -> None:
        """Delete a user with their keys and grants, and disown their statuses (admins
        still read them; a later user of the same name does not)."""
        with self._db.transaction(Mode.WRITE) as tx:
            # The user's row first: on PostgreSQL that waits for a status being stored
            # under their name (sql_status.insert_status), which the update then sees.
            deleted = tx.run("DELETE FROM users WHERE name = ?", (name,))
            tx.run("UPDATE statuses SET owner = NULL WHERE owner = ?", (name,))
            # Objects waiting for them become admins' (not a later user's of the name).
            if deleted:
                tx.run(
                    "UPDATE objects SET owner = NULL "
                    f"WHERE owner = ? AND {sql_schema.PENDING_OWNERS}",
                    (pending_owner(name),),
                )
        if not deleted:
            raise StorageNotFound(f"no user named {name!r}")

    def add_api_key(self, key: ApiKey) -> None:
        """Store a key; :class:`StorageNotFound` for an unknown user,
        :class:`StorageConflict` for a key id already in use."""
        with self._db.transaction(Mode.WRITE) as tx:
            if tx.row("SELECT 1 FROM users WHERE name = ?", (key.user,)) is None:
                raise StorageNotFound(f"no user named {key.user!r}")
            if tx.row("SELECT 1 FROM api_keys WHERE key_id = ?", (key.key_id,)) is not None:
                raise StorageConflict(f"an API key with id {key.key_id!r} already exists")
            tx.run(
                f"INSERT INTO api_keys ({_KEY_COLUMNS}) VALUES (?, ?, ?, ?, ?)",
                (key.key_id, key.user, key.secret_hash, key.label, key.created),
            )

    def get_api_key(self, key_id: str) -> ApiKey | None:
        with self._db.transaction(Mode.READ) as tx:
            row = tx.row(f"SELECT {_KEY_COLUMNS} FROM api_keys WHERE key_id = ?", (key_id,))
        return None if row is None else _key(row)

    def list_api_keys(self, user: str) -> list[ApiKey]:
        with self._db.transaction(Mode.READ) as tx:
            rows = tx.rows(
                f"SELECT {_KEY_COLUMNS} FROM api_keys WHERE user_name = ? ORDER BY created, key_id",
                (user,),
            )
        return [_key(row) for row in rows]

    def delete_api_key(self, key_id: str) -> None:
        with self._db.transaction(Mode.WRITE) as tx:
            deleted = tx.run("DELETE FROM api_keys WHERE key_id = ?", (key_id,))
        if not deleted:
            raise StorageNotFound(f"no API key with id {key_id!r}")

    def replace_api_key_hash(self, key_id: str, old: str, new: str) -> bool:
        """Set the key's hash to ``new`` if it is still ``old``."""
        with self._db.transaction(Mode.WRITE) as tx:
            replaced = tx.run(
                "UPDATE api_keys SET secret_hash = ? WHERE key_id = ? AND secret_hash = ?",
                (new, key_id, old),
            )
        return bool(replaced)

    def set_grant(self, grant: Grant) -> None:
        """Create or replace the grant for (user, collection); a grant with neither
        right removes it."""
        with self._db.transaction(Mode.WRITE) as tx:
            if tx.row("SELECT 1 FROM users WHERE name = ?", (grant.user,)) is None:
                raise StorageNotFound(f"no user named {grant.user!r}")
            row = tx.row("SELECT seq FROM collections WHERE id = ?", (grant.collection_id,))
            if row is None:
                raise StorageNotFound(f"no collection {grant.collection_id}")
            if not (grant.can_read or grant.can_write):
                tx.run(
                    "DELETE FROM grants WHERE user_name = ? AND collection = ?",
                    (grant.user, row[0]),
                )
                return
            tx.run(
                "INSERT INTO grants (user_name, collection, can_read, can_write) "
                "VALUES (?, ?, ?, ?) ON CONFLICT (user_name, collection) DO UPDATE SET "
                "can_read = excluded.can_read, can_write = excluded.can_write",
                (grant.user, row[0], grant.can_read, grant.can_write),
            )

    def get_grant(self, user: str, collection_id: str) -> Grant | None:
        with self._db.transaction(Mode.READ) as tx:
            row = tx.row(
                f"SELECT {_GRANT_COLUMNS} FROM grants g JOIN collections c "
                "ON c.seq = g.collection WHERE g.user_name = ? AND c.id = ?",
                (user, collection_id),
            )
        return None if row is None else _grant(row)

    def list_grants(self, user: str) -> list[Grant]:
        with self._db.transaction(Mode.READ) as tx:
            rows = tx.rows(
                f"SELECT {_GRANT_COLUMNS} FROM grants g JOIN collections c "
                "ON c.seq = g.collection WHERE g.user_name = ? ORDER BY c.id",
                (user,),
            )
        return [_grant(row) for row in rows]

    # -- audit log and failed logins (see sql_audit) ------------------------------------

    def record_audit(self, record: AuditRecord, *, durable: bool = True) -> None:
        """Append one audit record (see :meth:`Storage.record_audit`)."""
        with self._db.transaction(Mode.WRITE if durable else Mode.RECORD) as tx:
            written = sql_audit.insert_audit(tx, record, self._audit_names)
        self._audit_names.remember(written)  # committed: the ids exist

    def query_audit(self, query: AuditQuery) -> list[AuditRecord]:
        with self._db.transaction(Mode.READ) as tx:
            return sql_audit.select_audit(tx, query)

    def purge_audit(self, older_than: int, limit: int) -> int:
        with self._db.transaction(Mode.WRITE) as tx:
            return sql_audit.purge_audit(tx, older_than, limit)

    def record_login_failure(self, address: str, time: int, *, forget_before: int) -> None:
        with self._db.transaction(Mode.RECORD) as tx:
            sql_audit.record_login_failure(tx, address, time, forget_before)

    def login_failures(self, address: str, since: int) -> list[int]:
        with self._db.transaction(Mode.READ) as tx:
            return sql_audit.login_failures(tx, address, since)

    def count_request(self, address: str, window: int) -> None:
        with self._db.transaction(Mode.RECORD) as tx:
            sql_audit.count_request(tx, address, window)

    def request_counts(self, address: str, window: int) -> tuple[int, int]:
        with self._db.transaction(Mode.READ) as tx:
            return sql_audit.request_counts(tx, address, window)


if TYPE_CHECKING:

    def _implements_storage(store: SqlStorage) -> Storage:
        """mypy checks here that SqlStorage keeps to the Storage protocol (the registry
        hands stores out untyped, so nothing else would)."""
        return store
