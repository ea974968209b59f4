"""Status resources in SQL (TAXII 2.1 §4.3): one row per status, its final entries in
blocks, its pending entries one row each.

An envelope of 50,000 objects is stored in chunks, each chunk moving its entries from
pending to success or failure in the same transaction as its objects.  Keeping the
entries apart from the status row makes a chunk's bookkeeping work on that chunk's
entries only; a status kept as one serialised document would be rewritten whole by
every chunk, quadratic in the envelope size.

Entries are numbered by ``position``, the order they were given in; an entry keeps its
position when it moves from pending to its final list.  Pending entries are rows of
``status_pending`` keyed by ``(status, position)``.  Final ones (successes and
failures) are written together as a block, a row of ``status_blocks`` holding the
entries of consecutive positions as one JSON array (:func:`block_rows`): a chunk of 1,000
objects writes one row, not 1,000, and reading a status reads its few blocks in
position order.  So a move is a delete from ``status_pending`` and one insert into
``status_blocks``.  The server stores an envelope's valid objects in the order of their
pending entries, so a chunk's entries are the first rows of ``status_pending`` in
position order: read as a range of the key and deleted as one, before the add assigns
``date_added``.  Objects in any other order are matched by id, as the protocol says
(the first pending entry with the object's id); their entries then make a block per
run of consecutive positions.
"""

from __future__ import annotations

import operator
from collections import defaultdict, deque
from collections.abc import Iterable, Sequence
from typing import Any

import orjson

from taxii_server.storage.base import (
    AddResult,
    NewObject,
    Status,
    StatusDetail,
    StorageNotFound,
)
from taxii_server.storage.sql_dialect import Transaction
from taxii_server.storage.versions import StatusMoves, result_message
from taxii_server.timestamps import format_timestamp, now_us

__all__ = ["block_rows", "insert_status", "read_status", "record_results", "take_pending"]

_SUCCESS, _FAILURE = 1, 2
_CHUNK = 500

_PENDING_ROW = ("status", "position", "object_id", "version", "message")
_BLOCK_ROW = ("status", "position", "entry_count", "entries")
#: Most entries in one block (a chunk of a POST fills one; the failures of a large
#: envelope several).
_BLOCK = 1000

#: A final entry: ``(position, state, object_id, version, message)``.
Entry = tuple[int, int, str, str, str | None]
_POSITION = operator.itemgetter(0)


def block_rows(status_id: str, entries: Iterable[Entry]) -> list[tuple[Any, ...]]:
    """Rows of ``status_blocks`` holding ``entries``: sorted by position, one block per
    run of consecutive positions (of at most :data:`_BLOCK` entries), each block the
    JSON array of its entries' ``[state, object_id, version, message]``."""
    rows: list[tuple[Any, ...]] = []
    run: list[tuple[int, str, str, str | None]] = []
    start = 0
    for position, state, object_id, version, message in sorted(entries, key=_POSITION):
        if run and (position != start + len(run) or len(run) == _BLOCK):
            rows.append((status_id, start, len(run), orjson.dumps(run)))
            run = []
        if not run:
            start = position
        run.append((state, object_id, version, message))
    if run:
        rows.append((status_id, start, len(run), orjson.dumps(run)))
    return rows


def insert_status(tx: Transaction, status: Status) -> None:
    """Store a new status with its entries: successes, failures, then pendings.

    Its owner is kept only if that user still exists, and cannot be deleted before this
    commits (``delete_user`` disowns their statuses, so a later user of the same name
    never reads them)."""
    row = tx.row("SELECT seq FROM collections WHERE id = ?", (status.collection_id,))
    if row is None:
        raise StorageNotFound(
            f"status {status.id}: collection {status.collection_id} does not exist"
        )
    owner = status.owner
    if owner is not None and not tx.row(
        f"SELECT 1 FROM users WHERE name = ?{tx.dialect.for_key_share}", (owner,)
    ):
        owner = None  # removed while posting: the status is for admins alone
    tx.run(
        "INSERT INTO statuses (id, api_root, collection, owner, request_timestamp, updated, "
        "total_count) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (
            status.id,
            status.api_root,
            row[0],
            owner,
            status.request_timestamp,
            status.updated,
            status.total_count,
        ),
    )
    entries: list[Entry] = []
    for state, listed in ((_SUCCESS, status.successes), (_FAILURE, status.failures)):
        for entry in listed:
            entries.append((len(entries), state, entry.id, entry.version, entry.message))
    first = len(entries)
    pending = [
        (status.id, first + n, entry.id, entry.version, entry.message)
        for n, entry in enumerate(status.pendings)
    ]
    tx.insert_rows("status_blocks", _BLOCK_ROW, block_rows(status.id, entries))
    tx.insert_rows("status_pending", _PENDING_ROW, pending)


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
    lists: dict[int, list[StatusDetail]] = {_SUCCESS: [], _FAILURE: []}
    for (entries,) in tx.rows(
        "SELECT entries FROM status_blocks WHERE status = ? ORDER BY position", (status_id,)
    ):
        for state, object_id, version, message in orjson.loads(entries):
            lists[state].append(StatusDetail(object_id, version, message))
    pendings = tuple(
        StatusDetail(object_id, version, message)
        for object_id, version, message in tx.rows(
            "SELECT object_id, version, message FROM status_pending "
            "WHERE status = ? ORDER BY position",
            (status_id,),
        )
    )
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
        pendings=pendings,
    )


def _by_id(tx: Transaction, status_id: str, objects: Sequence[NewObject]) -> list[int | None]:
    """The first pending entry with each object's id (in object order), for objects
    that do not come in the order of their entries: one pass over the status's
    pending rows."""
    wanted = {o.id for o in objects}
    queues: defaultdict[str, deque[int]] = defaultdict(deque)
    for position, object_id in tx.rows(
        "SELECT position, object_id FROM status_pending WHERE status = ? ORDER BY position",
        (status_id,),
    ):
        if object_id in wanted:
            queues[object_id].append(position)
    return [queue.popleft() if (queue := queues.get(o.id)) else None for o in objects]


def _delete_pending(tx: Transaction, status_id: str, positions: list[int]) -> None:
    if not positions:
        return
    positions.sort()
    if positions[-1] - positions[0] + 1 == len(positions):  # distinct, so a range
        tx.run(
            "DELETE FROM status_pending WHERE status = ? AND position BETWEEN ? AND ?",
            (status_id, positions[0], positions[-1]),
        )
        return
    for start in range(0, len(positions), _CHUNK):
        chunk = positions[start : start + _CHUNK]
        tx.run(
            "DELETE FROM status_pending WHERE status = ? "
            f"AND position IN ({', '.join('?' * len(chunk))})",
            [status_id, *chunk],
        )


def take_pending(tx: Transaction, status_id: str, objects: Sequence[NewObject]) -> StatusMoves:
    """Remove the pending entries ``objects`` will replace (the first pending entry
    with each object's id), before the add assigns ``date_added``: what is left for
    after it, inserting the final entries, is one bulk insert.  Raises
    :class:`StorageNotFound` for an unknown status."""
    if tx.run("UPDATE statuses SET updated = ? WHERE id = ?", (now_us(), status_id)) == 0:
        raise StorageNotFound(f"status {status_id} does not exist")
    head = tx.rows(
        "SELECT position, object_id FROM status_pending WHERE status = ? ORDER BY position LIMIT ?",
        (status_id, len(objects)),
    )
    positions: list[int | None]
    if len(head) == len(objects) and all(
        object_id == obj.id for (_, object_id), obj in zip(head, objects, strict=True)
    ):
        # The next pending entries, in order: each is the first pending entry with its
        # object's id (an earlier one with the same id belongs to an earlier object).
        positions = [position for position, _ in head]
    else:
        positions = _by_id(tx, status_id, objects)
    next_position = 0
    if None in positions:
        # New entries go after every entry, the ones taken here included: read before
        # they leave status_pending.
        row = tx.row(
            "SELECT MAX(p) FROM (SELECT MAX(position) AS p FROM status_pending WHERE status = ? "
            "UNION ALL SELECT MAX(position + entry_count - 1) FROM status_blocks "
            "WHERE status = ?) AS tops",
            (status_id, status_id),
        )
        next_position = 0 if row is None or row[0] is None else int(row[0]) + 1
    _delete_pending(tx, status_id, [p for p in positions if p is not None])
    return StatusMoves(status_id, tuple(positions), next_position)


def record_results(
    tx: Transaction,
    moves: StatusMoves,
    objects: Sequence[NewObject],
    results: Sequence[AddResult],
) -> None:
    """Write each object's final entry: in the list its result belongs in, at the
    position of the pending entry it replaces (or after every entry), so the status
    never omits an object that was stored."""
    # status_entry's rules, without a StatusDetail per object.
    entries: list[Entry] = []
    appended = 0
    for obj, result, position in zip(objects, results, moves.positions, strict=True):
        message = result_message(result)
        if position is None:
            position = moves.next_position + appended
            appended += 1
        state = _SUCCESS if message is None else _FAILURE
        entries.append((position, state, obj.id, format_timestamp(result.version), message))
    tx.insert_rows("status_blocks", _BLOCK_ROW, block_rows(moves.status_id, entries))
