"""The audit log and the failed logins in SQL (SQLite and PostgreSQL alike).

Both are append-only tables (see :mod:`.sql_schema`: ``audit_log``, version 2;
``failed_logins``, version 4).  An audit record is one ``INSERT`` in its own write
transaction, so a poll pays one indexed insert and one commit for its record; a failed
login is one insert, after deleting the failures too old to matter.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from taxii_server.storage.base import AuditQuery, AuditRecord
from taxii_server.storage.sql_dialect import Transaction

__all__ = ["insert_audit", "login_failures", "record_login_failure", "select_audit"]

_COLUMNS = (
    "time_us, user_name, address, api_root, collection_id, action, object_count, "
    "object_id, status_id, first_added, last_added, query"
)
_INSERT = f"INSERT INTO audit_log ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"


def insert_audit(tx: Transaction, record: AuditRecord) -> None:
    """Append one record (the store assigns its ``seq``)."""
    tx.run(
        _INSERT,
        (
            record.time,
            record.user,
            record.address,
            record.api_root,
            record.collection_id,
            record.action,
            record.count,
            record.object_id,
            record.status_id,
            record.first,
            record.last,
            record.query,
        ),
    )


def _record(row: Sequence[Any]) -> AuditRecord:
    seq, time, user, address, api_root, collection_id, action, count, *rest = row
    object_id, status_id, first, last, query = rest
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
        seq=seq,
    )


def select_audit(tx: Transaction, query: AuditQuery) -> list[AuditRecord]:
    """The records ``query`` selects, in ``seq`` order."""
    clauses: list[str] = ["seq > ?"]
    params: list[object] = [query.after]
    for column, value in (("user_name", query.user), ("collection_id", query.collection_id)):
        if value is not None:
            clauses.append(f"{column} = ?")
            params.append(value)
    if query.since is not None:
        clauses.append("time_us >= ?")
        params.append(query.since)
    if query.until is not None:
        clauses.append("time_us <= ?")
        params.append(query.until)
    params.append(query.limit)
    rows = tx.rows(
        f"SELECT seq, {_COLUMNS} FROM audit_log WHERE {' AND '.join(clauses)} ORDER BY seq LIMIT ?",
        params,
    )
    return [_record(row) for row in rows]


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
