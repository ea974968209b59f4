"""Objects in SQL: the page queries, adding versions, deleting them (TAXII 2.1 §5.3–§5.8).

Every page is one statement that walks an index in ``date_added`` order and stops
after ``limit + 1`` matching rows, so its cost is O(log n + page) index work whatever
the collection's size:

* no id or type filter: the ``(collection, date_added)`` primary key;
* ``match[id]``: the ``(collection, id_key)`` index (few rows, sorted after);
* ``match[type]``: one arm per type on ``(collection, type, date_added)``, each
  already ordered and limited, merged by a ``UNION ALL`` (a plain ``type IN (…)`` would
  make the database collect and sort every match of every type before the limit).

An object's versions are found by :func:`id_key`, a 64-bit hash of its id, not by the
id's text: the index then holds 8 bytes per version where the text took about 45,
and a bulk load of random ids dirties a fifth of the pages it did (schema version 9).
Every query by key also compares the id itself, so two ids that share a key are never
confused.

Writers hold the collection's write lock for the whole transaction (see
:mod:`taxii_server.storage.sql`), so the existence checks, version masks and
``date_added`` values computed here cannot be invalidated by another writer before
commit.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from taxii_server.storage import sql_markings
from taxii_server.storage.base import (
    Actor,
    AddResult,
    NewObject,
    NotOwner,
    ObjectQuery,
)
from taxii_server.storage.sql_dialect import Transaction
from taxii_server.storage.versions import (
    ALL_CLEARANCES,
    NOT_OWNER_MESSAGE,
    VersionRow,
    add_results,
    assign_date_added,
    claimable,
    clearance_bit,
    may_change,
    refresh_masks,
    resolve_additions,
)

__all__ = [
    "MANIFEST_COLUMNS",
    "OBJECT_COLUMNS",
    "LockedCollection",
    "add_objects",
    "delete_objects",
    "id_key",
    "lock_collection",
    "select_page",
]

OBJECT_COLUMNS = "o.id, o.date_added, o.version, o.spec_version, o.data"
MANIFEST_COLUMNS = "o.id, o.date_added, o.version, o.spec_version"

# Ids per "IN (…)" list: well below SQLite's and PostgreSQL's parameter limits.
_CHUNK = 500
# Most match[type] values answered by one UNION ALL arm each; beyond, a plain
# "type IN (…)" (SQLite refuses more than 500 arms, and planning many costs more than
# it saves).
_MAX_TYPE_ARMS = 16

_OBJECT_ROW = (
    "collection",
    "date_added",
    "id",
    "type",
    "version",
    "spec_version",
    "tlp",
    "first_mask",
    "latest_mask",
    "by_content",
    "digest",
    "data",
    "owner",
    "origin",
    "id_key",
)
_UPDATE_MASKS = (
    "UPDATE objects SET first_mask = ?, latest_mask = ? "
    "WHERE collection = ? AND id_key = ? AND id = ? AND version = ?"
)


def id_key(object_id: str) -> int:
    """The ``id_key`` of the rows of ``object_id``: the first 8 bytes of its BLAKE2b
    hash as a signed 64-bit integer (the range of SQL's ``BIGINT``).

    Fixed forever: stored keys are computed by it.  Not a secret and not unique: the
    queries compare the id too, so a collision (chance 2**-64 per pair) costs a row
    read, never a wrong answer.
    """
    digest = hashlib.blake2b(object_id.encode("utf-8", "surrogatepass"), digest_size=8)
    return int.from_bytes(digest.digest(), "big", signed=True)


def _marks(count: int) -> str:
    return ", ".join("?" * count)


def _filters(query: ObjectQuery) -> tuple[list[str], list[Any]]:
    """The conditions every endpoint applies: clearance, spec versions, version
    selection (TAXII 2.1 §3.4.1 ``match[version]``, ``match[spec_version]``)."""
    clauses = ["o.tlp <= ?"]
    params: list[Any] = [query.clearance]
    if query.spec_versions:
        clauses.append(f"o.spec_version IN ({_marks(len(query.spec_versions))})")
        params.extend(query.spec_versions)
    selector = query.versions
    if not selector.all:
        # The masks hold one bit per clearance level; a query above the top level
        # sees what the top level sees.
        bit = clearance_bit(min(max(query.clearance, 0), ALL_CLEARANCES - 1))
        either: list[str] = []
        if selector.first:
            either.append("(o.first_mask & ?) <> 0")
            params.append(bit)
        if selector.last:
            either.append("(o.latest_mask & ?) <> 0")
            params.append(bit)
        if selector.at:
            either.append(f"o.version IN ({_marks(len(selector.at))})")
            params.extend(selector.at)
        clauses.append("(" + " OR ".join(either) + ")" if either else "1 = 0")
    return clauses, params


def select_page(
    tx: Transaction, collection_id: str, query: ObjectQuery, columns: str
) -> tuple[list[tuple[Any, ...]], bool]:
    """Up to ``query.limit`` rows of ``columns`` in ``date_added`` order, and whether
    more match."""
    if query.limit < 1:
        return [], False
    head = ["o.collection = (SELECT seq FROM collections WHERE id = ?)"]
    head_params: list[Any] = [collection_id]
    if query.after is not None:
        head.append("o.date_added > ?")
        head_params.append(query.after)
    clauses, params = _filters(query)
    types = list(dict.fromkeys(query.types))  # a repeated type must not repeat rows
    fetch = query.limit + 1
    if query.ids or len(types) <= 1 or len(types) > _MAX_TYPE_ARMS:
        where = head + clauses
        all_params = head_params + params
        if query.ids:
            keys = list(dict.fromkeys(id_key(object_id) for object_id in query.ids))
            where.append(f"o.id_key IN ({_marks(len(keys))})")
            where.append(f"o.id IN ({_marks(len(query.ids))})")
            all_params.extend(keys)
            all_params.extend(query.ids)
        if types:
            where.append(f"o.type IN ({_marks(len(types))})")
            all_params.extend(types)
        # match[id] names a few objects: find their versions by id, then sort them.
        hint = tx.dialect.use_index("objects_id") if query.ids else ""
        sql = (
            f"SELECT {columns} FROM objects o{hint} WHERE {' AND '.join(where)} "
            "ORDER BY o.date_added LIMIT ?"
        )
        rows = tx.rows(sql, [*all_params, fetch])
    else:
        arms: list[str] = []
        all_params = []
        for number, type_ in enumerate(types):
            arm_where = " AND ".join([*head, "o.type = ?", *clauses])
            arms.append(
                f"SELECT * FROM (SELECT {columns} FROM objects o WHERE {arm_where} "
                f"ORDER BY o.date_added LIMIT ?) AS arm{number}"
            )
            all_params.extend([*head_params, type_, *params, fetch])
        sql = " UNION ALL ".join(arms) + " ORDER BY date_added LIMIT ?"
        rows = tx.rows(sql, [*all_params, fetch])
    return rows[: query.limit], len(rows) > query.limit


@dataclass(frozen=True, slots=True)
class LockedCollection:
    """A collection whose write lock this transaction holds."""

    seq: int
    last_date_added: int


def lock_collection(tx: Transaction, collection_id: str) -> LockedCollection | None:
    """Take the collection's write lock, first thing in a write transaction (every
    writer takes the collection's lock before any other row's, so writers never
    deadlock); ``None`` when there is no such collection."""
    row = tx.row(
        f"SELECT seq, last_date_added FROM collections WHERE id = ?{tx.dialect.for_update}",
        (collection_id,),
    )
    return None if row is None else LockedCollection(int(row[0]), int(row[1]))


def _stored_versions(
    tx: Transaction, seq: int, keys: dict[str, int]
) -> dict[str, list[VersionRow]]:
    """The stored versions of the objects ``keys`` maps to their :func:`id_key`."""
    found: dict[str, list[VersionRow]] = {object_id: [] for object_id in keys}
    wanted = list(dict.fromkeys(keys.values()))  # two ids may share a key
    for start in range(0, len(wanted), _CHUNK):
        chunk = wanted[start : start + _CHUNK]
        where = tx.dialect.objects_with_keys.format(marks=_marks(len(chunk)))
        for object_id, version, tlp, by_content, digest, first, latest, owner, origin in tx.rows(
            "SELECT o.id, o.version, o.tlp, o.by_content, o.digest, o.first_mask, "
            f"o.latest_mask, o.owner, o.origin FROM {where}",
            [seq, *chunk],
        ):
            versions = found.get(object_id)
            if versions is None:
                continue  # another id with the same key
            versions.append(
                VersionRow(
                    int(version),
                    tlp,
                    bool(by_content),
                    bytes(digest),
                    first,
                    latest,
                    owner=owner,
                    origin=origin,
                )
            )
    return found


def add_objects(
    tx: Transaction, collection: LockedCollection, objects: Sequence[NewObject], actor: Actor
) -> list[AddResult]:
    """Store new versions of ``objects`` in a collection locked by this transaction;
    what each object is (added, unchanged, conflict, refused, a redefined marking
    definition) is decided by :func:`~taxii_server.storage.versions.resolve_additions`,
    with the owners read along with the stored versions."""
    seq = collection.seq
    # A marking definition its poster may not create is not registered either.
    refused = sql_markings.claim(tx, claimable(objects, actor))
    keys = {object_id: id_key(object_id) for object_id in dict.fromkeys(o.id for o in objects)}
    versions = _stored_versions(tx, seq, keys)
    resolved, added = resolve_additions(objects, versions, refused, actor)
    if added:
        # date_added as late as possible: right before the rows are written.
        last = assign_date_added(added, collection.last_date_added)
        _write_versions(tx, seq, keys, versions, added)
        tx.run("UPDATE collections SET last_date_added = ? WHERE seq = ?", (last, seq))
    return add_results(resolved)


def _write_versions(
    tx: Transaction,
    seq: int,
    keys: dict[str, int],
    versions: dict[str, list[VersionRow]],
    added: list[VersionRow],
) -> None:
    touched = {row.new.id for row in added if row.new is not None}
    updates = [
        (row.first_mask, row.latest_mask, seq, keys[object_id], object_id, row.version)
        for object_id in touched
        for row in refresh_masks(versions[object_id])
    ]
    tx.run_many(_UPDATE_MASKS, updates)
    tx.insert_rows(
        "objects",
        _OBJECT_ROW,
        [
            (
                seq,
                row.date_added,
                row.new.id,
                row.new.type,
                row.version,
                row.new.spec_version,
                row.tlp,
                row.first_mask,
                row.latest_mask,
                row.by_content,
                row.digest,
                row.new.data,
                row.owner,
                row.origin,
                keys[row.new.id],
            )
            for row in added
            if row.new is not None
        ],
    )


def delete_objects(
    tx: Transaction, collection_id: str, object_id: str, query: ObjectQuery, actor: Actor
) -> int:
    """Delete the versions of ``object_id`` that ``query`` selects and recompute the
    masks of the versions that remain; must run in a write transaction.  Raises
    :class:`NotOwner` when some are selected and the object is not ``actor``'s."""
    locked = lock_collection(tx, collection_id)
    if locked is None:
        return 0
    seq = locked.seq
    key = id_key(object_id)
    clauses, params = _filters(query)
    where = " AND ".join(["o.collection = ?", "o.id_key = ?", "o.id = ?", *clauses])
    selected = tx.rows(
        f"SELECT o.version, o.owner FROM objects o WHERE {where}",
        [seq, key, object_id, *params],
    )
    if any(not may_change(actor, owner) for _, owner in selected):
        raise NotOwner(f"{object_id}: {NOT_OWNER_MESSAGE}")
    doomed = [version for version, _ in selected]
    deleted = 0
    for start in range(0, len(doomed), _CHUNK):
        chunk = doomed[start : start + _CHUNK]
        deleted += tx.run(
            "DELETE FROM objects WHERE collection = ? AND id_key = ? AND id = ? "
            f"AND version IN ({_marks(len(chunk))})",
            [seq, key, object_id, *chunk],
        )
    if deleted:
        remaining = [
            VersionRow(int(version), tlp, False, b"", first, latest)
            for version, tlp, first, latest in tx.rows(
                "SELECT version, tlp, first_mask, latest_mask FROM objects "
                "WHERE collection = ? AND id_key = ? AND id = ?",
                (seq, key, object_id),
            )
        ]
        tx.run_many(
            _UPDATE_MASKS,
            [
                (row.first_mask, row.latest_mask, seq, key, object_id, row.version)
                for row in refresh_masks(remaining)
            ],
        )
    return deleted
