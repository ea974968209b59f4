"""The SQL schema as an ordered list of migrations, and the rules for applying them.

The database records the number of migrations applied in ``schema_version`` (one
row).  Opening a store checks it: equal to :data:`LATEST` is ready; higher means a
newer atlas-taxii wrote it (:class:`~taxii_server.storage.base.SchemaTooNew`, refuse to
touch it); lower is upgraded only when the caller asked to migrate (``atlas-taxii db
upgrade``, or a first start on an empty database), otherwise the operator is told to.

Migrations are append-only: never edit a released one, add the next.  Each runs in
its own transaction (both SQLite and PostgreSQL have transactional DDL) under a lock,
so several workers starting at once on an empty database apply each step exactly once
and a failed step leaves the previous version intact.

Tables (version 1):

``collections``
    One row per collection; ``seq`` is the compact key object rows refer to, and
    ``last_date_added`` is what a writer locks and advances (see ``sql.py``).
``objects``
    One row per stored version.  ``data`` is the canonical JSON body served as is;
    ``digest`` (SHA-256 of ``data``) tells an identical re-post from a conflicting
    one without reading bodies back; ``by_content`` marks versions of objects that
    have neither ``modified`` nor ``created`` (their ``version`` is their
    ``date_added``).  PostgreSQL adds ``doc``, a JSONB copy generated from ``data``
    for operators' ad-hoc queries; the server never reads it.
    Indexes: ``(collection, date_added)`` primary key (every page),
    ``(collection, type, date_added)`` (``match[type]``), ``(collection, id, version)``
    unique (``match[id]``, the object and versions endpoints, re-post detection;
    replaced in version 9).
``statuses`` / ``status_details``
    A status and one row per entry, so moving a chunk of entries from pending to
    success is an indexed update of those rows, not a rewrite of the whole status.

Tables (version 2):

``audit_log``
    One row per read or write of objects (:mod:`.sql_audit`), appended and never
    changed; ``seq`` orders it.  No foreign keys: a record outlives its user and
    collection.  Indexed by ``time_us`` for ``atlas-taxii audit --since/--until``.
``login_failures``
    Failed logins per client address and minute (replaced in version 4).

Tables (version 3):

``status_pending`` / ``status_entries``
    Replace ``status_details``: a status's pending entries and its final ones
    (successes and failures, ``state`` 1 and 2), both keyed by ``(status, position)``.
    A chunk of an envelope takes the first pending rows in position order (a range of
    the key, no index on object ids to maintain) and deletes them as a range.  On
    SQLite both are ``WITHOUT ROWID``: a row is written to one B-tree, not to a table
    and two indexes.

Tables (version 4):

``failed_logins``
    Replaces ``login_failures``: one row per failed login (client address, time), so
    the limit is a sliding window over the last minute rather than a count per
    calendar minute, which let a client try twice the limit across a minute's
    boundary.  Indexed by (address, time) for the count and by time for forgetting
    old rows.  Rows are kept for a minute; the old counts are dropped.

Tables (version 5, one step: issue 9, items 6 and 10):

``audit_names`` / ``audit_log``
    The audit log made compact: each text of a record (action, user, address, API
    root, collection id, query, object id) is a row of ``audit_names`` once, and a
    record holds its ids (:mod:`.sql_audit`); ``added_after``, which changes at every
    poll, is a number of its own.  Records keep their ``seq`` (those written before
    keep ``added_after`` in their query text).
    ``last_used`` (a time) lets names that no record needs any more be purged with the
    records.  No foreign keys: a record is one insert, checking nothing.
``request_counts``
    Requests per client address and minute of callers without credentials, shared by
    every worker and host (the anonymous request limit), keyed by (minute, address).
``statuses.owner``
    Statuses of users deleted before this version lose their owner (admins still read
    them; a later user of the same name does not).

Tables (version 6, issue 9, finding 1):

``marking_definitions``
    The registry of marking definitions (:mod:`.sql_markings`): one row per id
    (lower-cased) with the rank it gives what it marks (``tlp``) and the digest of its
    only allowed body.  The migration registers the stored ones, re-ranks every stored
    version under the current rules (an unknown marking is admin-only, rank 5, where
    it was TLP:CLEAR) and recomputes the masks, which gain the admin-only bit.

Version 7 (issue 9, finding 2: only an object's creator changes it, STIX 2.1 §3.6):

``objects.owner`` / ``objects.origin``
    Every version carries its object's owner, the STIX identity id of the organization
    that created it (``NULL``: admins only; ``user:NAME``: the user who posted the
    first version before this version, theirs once an admin sets their organization),
    and its origin (``created`` and ``created_by_ref``, which never change between
    versions).  Read with the stored versions an add already looks up, so the checks
    cost no query of their own.  Filled by :func:`_own_objects` from the poster the
    audit log and statuses still know, else the first version's ``created_by_ref``.
    ``objects_pending_owner`` indexes the ``user:NAME`` owners only.
``users.organization``
    The organization a user writes for (``NULL``: none yet, they cannot write).

Version 8 (issue 10, validated ingest):

``status_blocks``
    Replaces ``status_entries``: a status's final entries (successes and failures,
    ``state`` 1 and 2) as blocks, one row per run of consecutive positions, keyed by
    ``(status, position)`` of its first entry, with ``entry_count`` entries in
    ``entries``, the JSON array of their ``[state, object_id, version, message]``
    (:mod:`.sql_status`).  A chunk of a POST writes one row instead of one per object
    (and one foreign-key check, one B-tree insert), and a status is read in a few rows.
    The upgrade copies every status's entries into blocks of at most 1,000 entries.

Version 9 (issue 10, validated ingest):

``objects.id_key`` / ``objects_id``
    Replace the unique ``(collection, id, version)`` index: ``id_key`` is a 64-bit
    hash of the id (:func:`~.sql_objects.id_key`) and ``objects_id`` indexes
    ``(collection, id_key)``.  Ids are random, so every object of a bulk load lands
    on its own leaf of that index; with text ids those leaves were five times as many,
    and writing them was a third of an envelope's commit.  Every query by id gives the
    key and the id; one id's versions are the few rows under its key.  The unique
    index was a second guard: writers hold the collection's lock while they look up
    an id's versions and add one (:mod:`.sql_objects`), and that lock is what keeps
    a version from being stored twice.  The upgrade computes the key of every stored
    version.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson

from taxii_server.storage.base import SchemaTooNew, StorageError
from taxii_server.storage.sql_dialect import Database, Mode, Transaction
from taxii_server.storage.sql_markings import rerank_store
from taxii_server.storage.sql_objects import id_key
from taxii_server.storage.sql_status import Entry, block_rows
from taxii_server.storage.versions import first_owner, origin_of
from taxii_server.timestamps import format_timestamp

__all__ = [
    "LATEST",
    "MIGRATIONS",
    "PENDING_OWNERS",
    "Migration",
    "check_schema",
    "read_version",
    "upgrade",
]


@dataclass(frozen=True, slots=True)
class Migration:
    """One schema step: DDL templates whose ``{slots}`` the dialect fills (a slot may
    expand to nothing, and an empty statement is skipped), then ``steps`` that rework
    data in Python, in the same transaction."""

    summary: str
    statements: tuple[str, ...]
    steps: tuple[Callable[[Transaction], None], ...] = ()


#: The rows whose owner is a user waiting for an organization (``user:NAME``), as
#: the partial index ``objects_pending_owner`` and the statements using it say it.
PENDING_OWNERS = "owner >= 'user:' AND owner < 'user;'"

# Rows per page of the ownership upgrade, and of the status entries' (version 8).
_PAGE = 1000
_ENTRY_PAGE = 10_000
_KEY_PAGE = 10_000
_BLOCK_ROW = ("status", "position", "entry_count", "entries")


def _posters(tx: Transaction) -> dict[tuple[int, str, str], str]:
    """``(collection, object id, version)`` -> the user who first stored that version,
    as the audit log (the add's user and status) and its status's entries still tell,
    for users who still exist."""
    posters: dict[tuple[int, str, str], str] = {}
    for seq, object_id, version, user in tx.rows(
        """SELECT s.collection, e.object_id, e.version, n.name
            FROM status_entries e
            JOIN statuses s ON s.id = e.status
            JOIN audit_log a ON a.status_id = s.id
            JOIN audit_names n ON n.id = a.user_ref
            JOIN users u ON u.name = n.name
            WHERE e.state = 1
            ORDER BY a.seq"""
    ):
        posters.setdefault((int(seq), object_id, version), user)
    return posters


def _own_objects(tx: Transaction) -> None:
    """Version 7: every stored version gets its object's owner and its origin
    (:func:`~taxii_server.storage.versions.first_owner`,
    :func:`~taxii_server.storage.versions.origin_of`), page by page in
    ``(collection, id, version)`` order."""
    posters = _posters(tx)
    current: tuple[int, str] | None = None
    owner: str | None = None
    after: tuple[Any, ...] = (-1, "", -(2**62))
    while True:
        rows = tx.rows(
            "SELECT collection, id, version, data FROM objects "
            "WHERE (collection, id, version) > (?, ?, ?) "
            "ORDER BY collection, id, version LIMIT ?",
            [*after, _PAGE],
        )
        if not rows:
            return
        updates = []
        for seq, object_id, version, data in rows:
            body = orjson.loads(bytes(data))
            if (seq, object_id) != current:
                current = (seq, object_id)
                poster = posters.get((int(seq), object_id, format_timestamp(int(version))))
                owner = first_owner(poster, body)
            updates.append((owner, origin_of(body), seq, object_id, version))
        tx.run_many(
            "UPDATE objects SET owner = ?, origin = ? "
            "WHERE collection = ? AND id = ? AND version = ?",
            updates,
        )
        after = tuple(rows[-1][:3])


def _block_entries(tx: Transaction) -> None:
    """Version 8: every status's final entries, rows of ``status_entries``, become rows
    of ``status_blocks`` (:func:`~.sql_status.block_rows`), page by page in
    ``(status, position)`` order."""
    current: str | None = None
    entries: list[Entry] = []
    after: tuple[Any, ...] = ("", -1)
    while True:
        rows = tx.rows(
            "SELECT status, position, state, object_id, version, message FROM status_entries "
            "WHERE (status, position) > (?, ?) ORDER BY status, position LIMIT ?",
            [*after, _ENTRY_PAGE],
        )
        for status, position, state, object_id, version, message in rows:
            if status != current:
                if current is not None:
                    tx.insert_rows("status_blocks", _BLOCK_ROW, block_rows(current, entries))
                current, entries = status, []
            entries.append((int(position), int(state), object_id, version, message))
        if not rows:
            if current is not None:
                tx.insert_rows("status_blocks", _BLOCK_ROW, block_rows(current, entries))
            return
        after = tuple(rows[-1][:2])


def _drop_entries(tx: Transaction) -> None:
    """Version 8, once the entries are in blocks."""
    tx.script("DROP TABLE status_entries")


def _key_objects(tx: Transaction) -> None:
    """Version 9: every stored version gets its id's :func:`~.sql_objects.id_key`,
    page by page in primary-key order; then the index on the keys is built (once,
    from the filled column) and, on PostgreSQL, the column made ``NOT NULL``."""
    after: tuple[Any, ...] = (-1, -(2**62))
    while True:
        rows = tx.rows(
            "SELECT collection, date_added, id FROM objects "
            "WHERE (collection, date_added) > (?, ?) ORDER BY collection, date_added LIMIT ?",
            [*after, _KEY_PAGE],
        )
        if not rows:
            break
        tx.run_many(
            "UPDATE objects SET id_key = ? WHERE collection = ? AND date_added = ?",
            [(id_key(object_id), seq, date_added) for seq, date_added, object_id in rows],
        )
        after = tuple(rows[-1][:2])
    tx.script("CREATE INDEX objects_id ON objects (collection, id_key)")
    if tx.dialect.name == "postgresql":
        tx.script("ALTER TABLE objects ALTER COLUMN id_key SET NOT NULL")


MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        "initial schema",
        (
            "CREATE TABLE schema_version (version INTEGER NOT NULL)",
            "INSERT INTO schema_version (version) VALUES (0)",
            "CREATE TABLE secrets (name TEXT PRIMARY KEY, value TEXT NOT NULL)",
            """CREATE TABLE api_roots (
                name TEXT PRIMARY KEY,
                title TEXT NOT NULL,
                description TEXT NOT NULL,
                max_content_length BIGINT NOT NULL
            )""",
            """CREATE TABLE collections (
                seq {serial_pk},
                id TEXT NOT NULL UNIQUE,
                api_root TEXT NOT NULL REFERENCES api_roots (name) ON DELETE CASCADE,
                title TEXT NOT NULL,
                description TEXT NOT NULL,
                alias TEXT,
                public {bool} NOT NULL,
                media_types TEXT NOT NULL,
                last_date_added BIGINT NOT NULL DEFAULT 0,
                UNIQUE (api_root, title),
                UNIQUE (api_root, alias)
            )""",
            "{body_function}",
            """CREATE TABLE objects (
                collection BIGINT NOT NULL REFERENCES collections (seq) ON DELETE CASCADE,
                date_added BIGINT NOT NULL,
                id TEXT NOT NULL,
                type TEXT NOT NULL,
                version BIGINT NOT NULL,
                spec_version TEXT NOT NULL,
                tlp INTEGER NOT NULL,
                first_mask INTEGER NOT NULL,
                latest_mask INTEGER NOT NULL,
                by_content {bool} NOT NULL,
                digest {bytes} NOT NULL,
                data {bytes} NOT NULL{body_doc},
                PRIMARY KEY (collection, date_added)
            )""",
            "CREATE UNIQUE INDEX objects_version ON objects (collection, id, version)",
            "CREATE INDEX objects_type ON objects (collection, type, date_added)",
            """CREATE TABLE statuses (
                id TEXT PRIMARY KEY,
                api_root TEXT NOT NULL,
                collection BIGINT NOT NULL REFERENCES collections (seq) ON DELETE CASCADE,
                owner TEXT,
                request_timestamp BIGINT NOT NULL,
                updated BIGINT NOT NULL,
                total_count INTEGER NOT NULL
            )""",
            "CREATE INDEX statuses_updated ON statuses (updated)",
            "CREATE INDEX statuses_collection ON statuses (collection)",
            """CREATE TABLE status_details (
                status TEXT NOT NULL REFERENCES statuses (id) ON DELETE CASCADE,
                position INTEGER NOT NULL,
                state INTEGER NOT NULL,
                object_id TEXT NOT NULL,
                version TEXT NOT NULL,
                message TEXT,
                PRIMARY KEY (status, position)
            )""",
            "CREATE INDEX status_details_object ON status_details (status, object_id, position)",
            """CREATE TABLE users (
                name TEXT PRIMARY KEY,
                clearance INTEGER NOT NULL,
                password_hash TEXT,
                admin {bool} NOT NULL
            )""",
            """CREATE TABLE api_keys (
                key_id TEXT PRIMARY KEY,
                user_name TEXT NOT NULL REFERENCES users (name) ON DELETE CASCADE,
                secret_hash TEXT NOT NULL,
                label TEXT NOT NULL,
                created BIGINT NOT NULL
            )""",
            "CREATE INDEX api_keys_user ON api_keys (user_name)",
            """CREATE TABLE grants (
                user_name TEXT NOT NULL REFERENCES users (name) ON DELETE CASCADE,
                collection BIGINT NOT NULL REFERENCES collections (seq) ON DELETE CASCADE,
                can_read {bool} NOT NULL,
                can_write {bool} NOT NULL,
                PRIMARY KEY (user_name, collection)
            )""",
            "CREATE INDEX grants_collection ON grants (collection)",
        ),
    ),
    Migration(
        "audit log and failed logins",
        (
            """CREATE TABLE audit_log (
                seq {serial_pk},
                time_us BIGINT NOT NULL,
                user_name TEXT,
                address TEXT NOT NULL,
                api_root TEXT NOT NULL,
                collection_id TEXT NOT NULL,
                action TEXT NOT NULL,
                object_count INTEGER NOT NULL,
                object_id TEXT,
                status_id TEXT,
                first_added BIGINT,
                last_added BIGINT,
                query TEXT NOT NULL
            )""",
            "CREATE INDEX audit_log_time ON audit_log (time_us)",
            """CREATE TABLE login_failures (
                time_window BIGINT NOT NULL,
                address TEXT NOT NULL,
                failures INTEGER NOT NULL,
                PRIMARY KEY (time_window, address)
            )""",
        ),
    ),
    Migration(
        "status entries: pending apart from final, keyed by position",
        (
            """CREATE TABLE status_pending (
                status TEXT NOT NULL REFERENCES statuses (id) ON DELETE CASCADE,
                position INTEGER NOT NULL,
                object_id TEXT NOT NULL,
                version TEXT NOT NULL,
                message TEXT,
                PRIMARY KEY (status, position)
            ){without_rowid}""",
            """CREATE TABLE status_entries (
                status TEXT NOT NULL REFERENCES statuses (id) ON DELETE CASCADE,
                position INTEGER NOT NULL,
                state INTEGER NOT NULL,
                object_id TEXT NOT NULL,
                version TEXT NOT NULL,
                message TEXT,
                PRIMARY KEY (status, position)
            ){without_rowid}""",
            """INSERT INTO status_pending (status, position, object_id, version, message)
                SELECT status, position, object_id, version, message FROM status_details
                WHERE state = 0""",
            """INSERT INTO status_entries (status, position, state, object_id, version, message)
                SELECT status, position, state, object_id, version, message
                FROM status_details WHERE state <> 0""",
            "DROP TABLE status_details",
        ),
    ),
    Migration(
        "failed logins as a sliding window",
        (
            "DROP TABLE login_failures",
            """CREATE TABLE failed_logins (
                address TEXT NOT NULL,
                time_us BIGINT NOT NULL
            )""",
            "CREATE INDEX failed_logins_address ON failed_logins (address, time_us)",
            "CREATE INDEX failed_logins_time ON failed_logins (time_us)",
        ),
    ),
    Migration(
        "compact audit records, anonymous request counts, statuses of removed users",
        (
            """CREATE TABLE audit_names (
                id {serial_pk},
                name TEXT NOT NULL UNIQUE,
                last_used BIGINT NOT NULL
            )""",
            "CREATE INDEX audit_names_used ON audit_names (last_used)",
            "DROP INDEX audit_log_time",
            "ALTER TABLE audit_log RENAME TO audit_log_v3",
            # Widest first: PostgreSQL pads each column to its alignment.
            """CREATE TABLE audit_log (
                seq {serial_pk},
                time_us BIGINT NOT NULL,
                first_added BIGINT,
                last_added BIGINT,
                added_after BIGINT,
                action INTEGER NOT NULL,
                object_count INTEGER NOT NULL,
                user_ref INTEGER,
                address INTEGER NOT NULL,
                api_root INTEGER NOT NULL,
                collection INTEGER NOT NULL,
                query INTEGER NOT NULL,
                object_ref INTEGER,
                status_id TEXT
            )""",
            "CREATE INDEX audit_log_time ON audit_log (time_us)",
            """INSERT INTO audit_names (name, last_used)
                SELECT name, MAX(used) FROM (
                    SELECT action AS name, time_us AS used FROM audit_log_v3
                    UNION ALL SELECT user_name, time_us FROM audit_log_v3
                        WHERE user_name IS NOT NULL
                    UNION ALL SELECT address, time_us FROM audit_log_v3
                    UNION ALL SELECT api_root, time_us FROM audit_log_v3
                    UNION ALL SELECT collection_id, time_us FROM audit_log_v3
                    UNION ALL SELECT query, time_us FROM audit_log_v3
                    UNION ALL SELECT object_id, time_us FROM audit_log_v3
                        WHERE object_id IS NOT NULL
                ) named GROUP BY name""",
            """INSERT INTO audit_log (seq, time_us, action, object_count, user_ref, address,
                    api_root, collection, query, object_ref, status_id, first_added,
                    last_added)
                SELECT o.seq, o.time_us,
                    (SELECT id FROM audit_names WHERE name = o.action), o.object_count,
                    (SELECT id FROM audit_names WHERE name = o.user_name),
                    (SELECT id FROM audit_names WHERE name = o.address),
                    (SELECT id FROM audit_names WHERE name = o.api_root),
                    (SELECT id FROM audit_names WHERE name = o.collection_id),
                    (SELECT id FROM audit_names WHERE name = o.query),
                    (SELECT id FROM audit_names WHERE name = o.object_id),
                    o.status_id, o.first_added, o.last_added
                FROM audit_log_v3 o""",
            "{continue_audit_seq}",
            "DROP TABLE audit_log_v3",
            """CREATE TABLE request_counts (
                time_window BIGINT NOT NULL,
                address TEXT NOT NULL,
                requests INTEGER NOT NULL,
                PRIMARY KEY (time_window, address)
            ){without_rowid}""",
            """UPDATE statuses SET owner = NULL
                WHERE owner IS NOT NULL AND owner NOT IN (SELECT name FROM users)""",
        ),
    ),
    Migration(
        "marking-definition registry; unknown markings admin-only, stored versions re-ranked",
        (
            """CREATE TABLE marking_definitions (
                id TEXT PRIMARY KEY,
                tlp INTEGER NOT NULL,
                digest {bytes} NOT NULL
            )""",
        ),
        steps=(rerank_store,),
    ),
    Migration(
        "object owners and organizations (issue 9, finding 2)",
        (
            "ALTER TABLE objects ADD COLUMN owner TEXT",
            "ALTER TABLE objects ADD COLUMN origin TEXT",
            "ALTER TABLE users ADD COLUMN organization TEXT",
            # Only the objects an upgrade left waiting for a user: set-organization
            # and removing a user find them without reading every object.
            f"CREATE INDEX objects_pending_owner ON objects (owner) WHERE {PENDING_OWNERS}",
        ),
        steps=(_own_objects,),
    ),
    Migration(
        "status entries in blocks (issue 10)",
        (
            # A rowid table: its blocks are tens of kilobytes (a WITHOUT ROWID table
            # wants small rows).
            """CREATE TABLE status_blocks (
                status TEXT NOT NULL REFERENCES statuses (id) ON DELETE CASCADE,
                position INTEGER NOT NULL,
                entry_count INTEGER NOT NULL,
                entries {bytes} NOT NULL,
                PRIMARY KEY (status, position)
            )""",
        ),
        steps=(_block_entries, _drop_entries),
    ),
    Migration(
        "objects found by a 64-bit key of their id (issue 10)",
        (
            "DROP INDEX objects_version",
            "ALTER TABLE objects ADD COLUMN id_key BIGINT",
        ),
        steps=(_key_objects,),
    ),
)

#: The schema version this code reads and writes.
LATEST = len(MIGRATIONS)


def read_version(tx: Transaction) -> int:
    """The schema version recorded in the database; 0 when it has no schema at all."""
    if tx.row(tx.dialect.table_exists, ("schema_version",)) is None:
        return 0
    row = tx.row("SELECT version FROM schema_version")
    if row is None:
        raise StorageError("the schema_version table is empty; the database is damaged")
    return int(row[0])


def _too_new(location: str, version: int) -> SchemaTooNew:
    return SchemaTooNew(
        f"{location}: the database schema is at version {version}, written by a newer "
        f"atlas-taxii; this one knows versions up to {LATEST}. Upgrade atlas-taxii."
    )


def upgrade(db: Database) -> int:
    """Apply every missing migration, one transaction each; return the final version."""
    while True:
        with db.transaction(Mode.WRITE) as tx:
            if tx.dialect.migration_lock:
                tx.script(tx.dialect.migration_lock)
            version = read_version(tx)
            if version > LATEST:
                raise _too_new(db.location, version)
            if version == LATEST:
                return version
            migration = MIGRATIONS[version]
            for template in migration.statements:
                statement = tx.dialect.ddl(template).strip()
                if statement:
                    tx.script(statement)
            for step in migration.steps:
                step(tx)
            tx.run("UPDATE schema_version SET version = ?", (version + 1,))


def check_schema(db: Database, *, migrate: bool) -> None:
    """Make sure the database holds the schema this code knows, upgrading it when
    ``migrate`` is set; otherwise raise a :class:`StorageError` that tells the operator
    what to do."""
    with db.transaction(Mode.READ) as tx:
        version = read_version(tx)
    if version == LATEST:
        return
    if version > LATEST:
        raise _too_new(db.location, version)
    if migrate:
        upgrade(db)
        return
    if version == 0:
        raise StorageError(
            f"{db.location} holds no atlas-taxii schema yet; create it with "
            "`atlas-taxii db upgrade`"
        )
    raise StorageError(
        f"{db.location}: the database schema is at version {version} and this "
        f"atlas-taxii needs version {LATEST}; back the database up, then run "
        "`atlas-taxii db upgrade`"
    )
