"""Marking definitions in SQL: the server-wide registry that makes them immutable
(STIX 2.1 §7.2.1) and ranks them for the objects they mark, and the migration that
re-ranks an existing store (:mod:`.markings`).

``marking_definitions`` holds one row per marking-definition id (lower-cased): the rank
it gives what it marks and the SHA-256 of the first body stored under it.  A write
inserts its marking definitions' rows (``ON CONFLICT DO NOTHING``) in its own
transaction, then reads them back: a body whose digest is not the registered one is a
redefinition and is not stored.  The id is the primary key, so two writers racing to
register different bodies under one id in two collections cannot both win.
"""

from __future__ import annotations

from collections.abc import Sequence

from taxii_server.storage.base import NewObject
from taxii_server.storage.markings import MARKING_REF, registrations, stored_rank
from taxii_server.storage.sql_dialect import Transaction
from taxii_server.storage.versions import (
    VersionRow,
    clearance_bit,
    marking_claims,
    redefinitions,
    refresh_masks,
)

__all__ = ["claim", "ranks", "rerank_store"]

# Ids per "IN (…)" list.
_CHUNK = 500
# Rows read per statement while re-ranking.
_BATCH = 2000


def _marks(count: int) -> str:
    return ", ".join("?" * count)


def ranks(tx: Transaction, ids: Sequence[str]) -> dict[str, int]:
    """The registered rank of each id among ``ids`` (normalised) that has one."""
    found: dict[str, int] = {}
    for start in range(0, len(ids), _CHUNK):
        chunk = list(ids[start : start + _CHUNK])
        found.update(
            (str(i), int(r))
            for i, r in tx.rows(
                f"SELECT id, tlp FROM marking_definitions WHERE id IN ({_marks(len(chunk))})",
                chunk,
            )
        )
    return found


def claim(tx: Transaction, objects: Sequence[NewObject]) -> set[int]:
    """Register the marking definitions among ``objects`` not registered yet; return
    the positions of those registered with another body (not to be stored)."""
    claims = marking_claims(objects)
    if not claims:
        return set()
    # In id order (stable: the first body of an id still comes first): two writers
    # registering the same ids wait for each other in one order, never in a deadlock.
    tx.run_many(
        "INSERT INTO marking_definitions (id, tlp, digest) VALUES (?, ?, ?) "
        "ON CONFLICT (id) DO NOTHING",
        sorted(claims, key=lambda claim: claim[0]),
    )
    ids = list(dict.fromkeys(c[0] for c in claims))
    registered = {
        str(i): bytes(d)
        for i, d in tx.rows(
            f"SELECT id, digest FROM marking_definitions WHERE id IN ({_marks(len(ids))})", ids
        )
    }
    return redefinitions(objects, registered)


def rerank_store(tx: Transaction) -> None:
    """The migration's step (schema version 6): register the stored marking
    definitions, re-rank every stored version that carries a marking, give every
    version's masks the admin-only clearance's bit (what RED sees, before re-ranking),
    and recompute the masks of the objects whose ranks changed."""
    bodies = (
        bytes(data)
        for (data,) in tx.rows(
            "SELECT data FROM objects WHERE type = 'marking-definition' ORDER BY date_added"
        )
    )
    registry = registrations(bodies)
    tx.run_many(
        "INSERT INTO marking_definitions (id, tlp, digest) VALUES (?, ?, ?)",
        [(key, rank, digest) for key, (rank, digest) in registry.items()],
    )
    defined = {key: rank for key, (rank, _digest) in registry.items()}
    red, admin = clearance_bit(4), clearance_bit(5)
    for column in ("first_mask", "latest_mask"):
        tx.run(
            f"UPDATE objects SET {column} = {column} + ? WHERE ({column} & ?) <> 0", (admin, red)
        )
    changed: list[tuple[int, int, str, int]] = []
    last = (-1, -1)
    while True:
        rows = tx.rows(
            "SELECT collection, date_added, id, version, tlp, data FROM objects "
            "WHERE collection > ? OR (collection = ? AND date_added > ?) "
            "ORDER BY collection, date_added LIMIT ?",
            (last[0], last[0], last[1], _BATCH),
        )
        if not rows:
            break
        for seq, _date_added, object_id, version, tlp, data in rows:
            body = bytes(data)
            if MARKING_REF in body:
                rank = stored_rank(body, defined)
                if rank != tlp:
                    changed.append((int(seq), int(version), str(object_id), rank))
        last = (int(rows[-1][0]), int(rows[-1][1]))
    tx.run_many(
        "UPDATE objects SET tlp = ? WHERE collection = ? AND id = ? AND version = ?",
        [(rank, seq, object_id, version) for seq, version, object_id, rank in changed],
    )
    for seq, object_id in dict.fromkeys((c[0], c[2]) for c in changed):
        known = [
            VersionRow(int(v), int(t), False, b"", int(f), int(lt))
            for v, t, f, lt in tx.rows(
                "SELECT version, tlp, first_mask, latest_mask FROM objects "
                "WHERE collection = ? AND id = ?",
                (seq, object_id),
            )
        ]
        tx.run_many(
            "UPDATE objects SET first_mask = ?, latest_mask = ? "
            "WHERE collection = ? AND id = ? AND version = ?",
            [
                (row.first_mask, row.latest_mask, seq, object_id, row.version)
                for row in refresh_masks(known)
            ],
        )
