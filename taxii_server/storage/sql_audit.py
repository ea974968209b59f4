"""The audit log, failed logins and anonymous request counts in SQL (SQLite and
PostgreSQL alike).

An audit record is one ``INSERT`` in its own write transaction.  Its texts (action,
user, address, API root, collection id, query, object id) repeat from record to
record (a SIEM polls the same collection with the same filters every minute), so each
is stored once, in ``audit_names``, and a record holds their ids (schema 4: about 60
bytes a record on SQLite where the texts took 170).  A process remembers the ids it
has used (:class:`AuditNames`), so a poll's record is one insert; a text it has not
used in the last hour is written again (created, or its ``last_used`` moved on) in the
record's transaction.

Retention (:func:`purge_audit`) deletes records older than a time, in batches, and
then the names no record can need any more: those not used for a day longer than
the records kept.  A process only writes an id it refreshed within the hour, so no
record refers to a purged name (hosts' clocks may differ by up to 23 hours).

A failed login is one insert into ``failed_logins`` (after deleting the failures too old
to matter: a sliding window reads their times); an anonymous request is one upsert
into a per-minute count.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

from taxii_server.storage.base import AuditQuery, AuditRecord, StorageError
from taxii_server.storage.sql_dialect import Transaction

__all__ = [
    "AuditNames",
    "count_request",
    "insert_audit",
    "login_failures",
    "purge_audit",
    "record_login_failure",
    "request_counts",
    "select_audit",
]

_HOUR = 3_600_000_000
_DAY = 24 * _HOUR
#: How long a process uses a name's id before writing it again.
_REFRESH = _HOUR
#: How much longer than the records a name is kept after it was last written.
_NAME_MARGIN = _DAY
_CACHED_NAMES = 10_000

# A record's texts, in the order of its columns below.
_TEXTS = ("action", "user", "address", "api_root", "collection_id", "query", "object_id")
_INSERT = (
    "INSERT INTO audit_log (action, user_ref, address, api_root, collection, query, "
    "object_ref, time_us, object_count, status_id, first_added, last_added, added_after) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_INTERN = (
    "INSERT INTO audit_names (name, last_used) VALUES (?, ?) ON CONFLICT (name) DO UPDATE "
    "SET last_used = CASE WHEN excluded.last_used > audit_names.last_used "
    "THEN excluded.last_used ELSE audit_names.last_used END RETURNING id"
)
_SELECT = (
    "SELECT a.seq, a.time_us, u.name, ad.name, r.name, c.name, ac.name, a.object_count, "
    "ob.name, a.status_id, a.first_added, a.last_added, q.name, a.added_after "
    "FROM audit_log a "
    "JOIN audit_names ac ON ac.id = a.action "
    "LEFT JOIN audit_names u ON u.id = a.user_ref "
    "JOIN audit_names ad ON ad.id = a.address "
    "JOIN audit_names r ON r.id = a.api_root "
    "JOIN audit_names c ON c.id = a.collection "
    "JOIN audit_names q ON q.id = a.query "
    "LEFT JOIN audit_names ob ON ob.id = a.object_ref"
)
_NAMED = "(SELECT id FROM audit_names WHERE name = ?)"


class AuditNames:
    """The ids of the audit texts this process has written lately, and when."""

    def __init__(self) -> None:
        self._ids: dict[str, tuple[int, int]] = {}
        self._lock = threading.Lock()

    def lookup(self, name: str, now: int) -> int | None:
        """The id of ``name`` if it was written within :data:`_REFRESH` of ``now``."""
        found = self._ids.get(name)
        return found[0] if found is not None and now - found[1] < _REFRESH else None

    def remember(self, written: dict[str, tuple[int, int]]) -> None:
        """Names and (id, time) written by a transaction that committed."""
        with self._lock:
            if len(self._ids) + len(written) > _CACHED_NAMES:
                self._ids.clear()
            self._ids.update(written)


def insert_audit(
    tx: Transaction, record: AuditRecord, names: AuditNames
) -> dict[str, tuple[int, int]]:
    """Append one record (the store assigns its ``seq``); return the names written,
    for ``names`` to remember once the transaction has committed."""
    written: dict[str, tuple[int, int]] = {}
    refs: list[int | None] = []
    for field in _TEXTS:
        text: str | None = getattr(record, field)
        ref = None if text is None else names.lookup(text, record.time)
        if text is not None and ref is None:
            ref = written[text][0] if text in written else _intern(tx, text, record.time)
            written[text] = (ref, record.time)
        refs.append(ref)
    tx.run(
        _INSERT,
        (
            *refs,
            record.time,
            record.count,
            record.status_id,
            record.first,
            record.last,
            record.added_after,
        ),
    )
    return written


def _intern(tx: Transaction, text: str, now: int) -> int:
    row = tx.row(_INTERN, (text, now))
    if row is None:  # RETURNING always gives the row
        raise StorageError(f"audit name {text!r} vanished while it was written")
    return int(row[0])


def _record(row: Sequence[Any]) -> AuditRecord:
    seq, time, user, address, api_root, collection_id, action, count, *rest = row
    object_id, status_id, first, last, query, added_after = rest
    return AuditRecord(
        time=time,
        user=user,
        address=address,
        api_root=api_root,
        collection_id=collection_id,
        action=action,
        count=count,
        object_id=object_id,
        status_id=status_id,
        first=first,
        last=last,
        query=query,
        added_after=added_after,
        seq=seq,
    )


def select_audit(tx: Transaction, query: AuditQuery) -> list[AuditRecord]:
    """The records ``query`` selects, in ``seq`` order."""
    clauses: list[str] = ["a.seq > ?"]
    params: list[object] = [query.after]
    for column, value in (("a.user_ref", query.user), ("a.collection", query.collection_id)):
        if value is not None:
            clauses.append(f"{column} = {_NAMED}")
            params.append(value)
    if query.since is not None:
        clauses.append("a.time_us >= ?")
        params.append(query.since)
    if query.until is not None:
        clauses.append("a.time_us <= ?")
        params.append(query.until)
    params.append(query.limit)
    rows = tx.rows(f"{_SELECT} WHERE {' AND '.join(clauses)} ORDER BY a.seq LIMIT ?", params)
    return [_record(row) for row in rows]


def purge_audit(tx: Transaction, older_than: int, limit: int) -> int:
    """Delete up to ``limit`` records from before ``older_than``, oldest first; once
    none is left, the names unused since a day before it.  Return the records deleted."""
    deleted = tx.run(
        "DELETE FROM audit_log WHERE seq IN "
        "(SELECT seq FROM audit_log WHERE time_us < ? ORDER BY time_us LIMIT ?)",
        (older_than, limit),
    )
    if deleted < limit:
        tx.run("DELETE FROM audit_names WHERE last_used < ?", (older_than - _NAME_MARGIN,))
    return deleted


def record_login_failure(tx: Transaction, address: str, time: int, forget_before: int) -> None:
    """Record one failure of ``address`` at ``time``; forget every failure before
    ``forget_before``."""
    tx.run("DELETE FROM failed_logins WHERE time_us < ?", (forget_before,))
    tx.run("INSERT INTO failed_logins (address, time_us) VALUES (?, ?)", (address, time))


def login_failures(tx: Transaction, address: str, since: int) -> list[int]:
    """The times of ``address``'s failures after ``since``, oldest first."""
    rows = tx.rows(
        "SELECT time_us FROM failed_logins WHERE address = ? AND time_us > ? ORDER BY time_us",
        (address, since),
    )
    return [int(row[0]) for row in rows]


def count_request(tx: Transaction, address: str, window: int) -> None:
    """Count one request of ``address`` in ``window``; forget windows before the last
    one."""
    tx.run("DELETE FROM request_counts WHERE time_window < ?", (window - 1,))
    tx.run(
        "INSERT INTO request_counts (time_window, address, requests) VALUES (?, ?, 1) "
        "ON CONFLICT (time_window, address) DO UPDATE "
        "SET requests = request_counts.requests + 1",
        (window, address),
    )


def request_counts(tx: Transaction, address: str, window: int) -> tuple[int, int]:
    """The requests ``address`` made in the window before ``window``, and in it."""
    rows = dict(
        tx.rows(
            "SELECT time_window, requests FROM request_counts "
            "WHERE time_window IN (?, ?) AND address = ?",
            (window - 1, window, address),
        )
    )
    return int(rows.get(window - 1, 0)), int(rows.get(window, 0))
