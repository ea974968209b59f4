"""Status resources in SQL (TAXII 2.1 §4.3): one row per status, one per entry.

An envelope of 50,000 objects is stored in chunks, each chunk moving its entries from
pending to success or failure in the same transaction as its objects.  Keeping each
entry in its own row makes a chunk's bookkeeping an indexed update of that chunk's
entries; a status kept as one serialised document would be rewritten whole by every
chunk, quadratic in the envelope size.

``position`` keeps the order the entries were given in; an entry keeps its position
when it moves from pending to its final list.  A move is a delete of the pending row
before the add assigns ``date_added`` and an insert of the final row after it (with
``COPY`` on PostgreSQL): a fraction of the cost of one ``UPDATE`` per entry, and little
work left between assigning ``date_added`` and committing.
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from taxii_server.storage.base import (
    AddResult,
    NewObject,
    Status,
    StatusDetail,
    StorageNotFound,
)
from taxii_server.storage.sql_dialect import Transaction
from taxii_server.storage.versions import status_entry
from taxii_server.timestamps import now_us

__all__ = ["StatusMoves", "insert_status", "read_status", "record_results", "take_pending"]

_PENDING, _SUCCESS, _FAILURE = 0, 1, 2
_STATE_OF_LIST = {"pendings": _PENDING, "successes": _SUCCESS, "failures": _FAILURE}
_CHUNK = 500

_DETAIL_ROW = ("status", "position", "state", "object_id", "version", "message")


def insert_status(tx: Transaction, status: Status) -> None:
    """Store a new status with its entries."""
    row = tx.row("SELECT seq FROM collections WHERE id = ?", (status.collection_id,))
    if row is None:
        raise StorageNotFound(
            f"status {status.id}: collection {status.collection_id} does not exist"
        )
    tx.run(
        "INSERT INTO statuses (id, api_root, collection, owner, request_timestamp, updated, "
        "total_count) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (
            status.id,
            status.api_root,
            row[0],
            status.owner,
            status.request_timestamp,
            status.updated,
            status.total_count,
        ),
    )
    details: list[tuple[Any, ...]] = []
    for state, entries in (
        (_SUCCESS, status.successes),
        (_FAILURE, status.failures),
        (_PENDING, status.pendings),
    ):
        for entry in entries:
            details.append((status.id, len(details), state, entry.id, entry.version, entry.message))
    tx.insert_rows("status_details", _DETAIL_ROW, details)


def read_status(tx: Transaction, api_root: str, status_id: str) -> Status | None:
    """The status ``status_id`` of ``api_root``; run in a snapshot transaction."""
    row = tx.row(
        "SELECT s.owner, s.request_timestamp, s.updated, s.total_count, c.id "
        "FROM statuses s JOIN collections c ON c.seq = s.collection "
        "WHERE s.id = ? AND s.api_root = ?",
        (status_id, api_root),
    )
    if row is None:
        return None
    owner, request_timestamp, updated, total_count, collection_id = row
    lists: dict[int, list[StatusDetail]] = {_PENDING: [], _SUCCESS: [], _FAILURE: []}
    for state, object_id, version, message in tx.rows(
        "SELECT state, object_id, version, message FROM status_details "
        "WHERE status = ? ORDER BY position",
        (status_id,),
    ):
        lists[state].append(StatusDetail(object_id, version, message))
    return Status(
        id=status_id,
        api_root=api_root,
        collection_id=collection_id,
        owner=owner,
        request_timestamp=request_timestamp,
        updated=updated,
        total_count=total_count,
        successes=tuple(lists[_SUCCESS]),
        failures=tuple(lists[_FAILURE]),
        pendings=tuple(lists[_PENDING]),
    )


@dataclass(frozen=True, slots=True)
class StatusMoves:
    """Where each object of an add records its outcome: the position of the pending
    entry it takes over, or ``None`` for a new entry numbered from ``next_position``."""

    status_id: str
    positions: tuple[int | None, ...]
    next_position: int


def take_pending(tx: Transaction, status_id: str, objects: Sequence[NewObject]) -> StatusMoves:
    """Remove the pending entries ``objects`` will replace (the first pending entry
    with each object's id), before the add assigns ``date_added``: what is left for
    after it, inserting the final entries, is one bulk insert.  Raises
    :class:`StorageNotFound` for an unknown status."""
    if tx.run("UPDATE statuses SET updated = ? WHERE id = ?", (now_us(), status_id)) == 0:
        raise StorageNotFound(f"status {status_id} does not exist")
    ids = list(dict.fromkeys(o.id for o in objects))
    pending: defaultdict[str, deque[int]] = defaultdict(deque)
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        marks = ", ".join("?" * len(chunk))
        for position, object_id in tx.rows(
            "SELECT position, object_id FROM status_details "
            f"WHERE status = ? AND object_id IN ({marks}) AND state = ? ORDER BY position",
            [status_id, *chunk, _PENDING],
        ):
            pending[object_id].append(position)
    row = tx.row(
        "SELECT COALESCE(MAX(position), -1) FROM status_details WHERE status = ?",
        (status_id,),
    )
    positions = tuple(queue.popleft() if (queue := pending.get(o.id)) else None for o in objects)
    taken = [p for p in positions if p is not None]
    for start in range(0, len(taken), _CHUNK):
        chunk_positions = taken[start : start + _CHUNK]
        tx.run(
            "DELETE FROM status_details WHERE status = ? "
            f"AND position IN ({', '.join('?' * len(chunk_positions))})",
            [status_id, *chunk_positions],
        )
    return StatusMoves(status_id, positions, (row[0] if row else -1) + 1)


def record_results(
    tx: Transaction,
    moves: StatusMoves,
    objects: Sequence[NewObject],
    results: Sequence[AddResult],
) -> None:
    """Write each object's final entry: in the list its result belongs in, at the
    position of the pending entry it replaces (or after every entry), so the status
    never omits an object that was stored."""
    rows: list[tuple[Any, ...]] = []
    appended = 0
    for obj, result, position in zip(objects, results, moves.positions, strict=True):
        list_name, entry = status_entry(obj.id, result)
        if position is None:
            position = moves.next_position + appended
            appended += 1
        state = _STATE_OF_LIST[list_name]
        rows.append((moves.status_id, position, state, entry.id, entry.version, entry.message))
    tx.insert_rows("status_details", _DETAIL_ROW, rows)
