"""The audit log and the failed-login counts in SQL (SQLite and PostgreSQL alike).

Both are small append-or-increment tables (see :mod:`.sql_schema`, version 2).  An
audit record is one ``INSERT`` in its own write transaction, so a poll pays one
indexed insert and one commit for its record; a failed login is one upsert.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from taxii_server.storage.base import AuditQuery, AuditRecord
from taxii_server.storage.sql_dialect import Transaction

__all__ = ["count_login_failure", "insert_audit", "login_failures", "select_audit"]

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


def count_login_failure(tx: Transaction, address: str, window: int) -> int:
    """Add one failure for ``address`` in ``window``; forget windows before the last
    one; return the window's count."""
    tx.run("DELETE FROM login_failures WHERE time_window < ?", (window - 1,))
    row = tx.row(
        "INSERT INTO login_failures (time_window, address, failures) VALUES (?, ?, 1) "
        "ON CONFLICT (time_window, address) DO UPDATE "
        "SET failures = login_failures.failures + 1 RETURNING failures",
        (window, address),
    )
    return 0 if row is None else int(row[0])


def login_failures(tx: Transaction, address: str, window: int) -> int:
    """The failures ``address`` has in ``window``."""
    row = tx.row(
        "SELECT failures FROM login_failures WHERE time_window = ? AND address = ?",
        (window, address),
    )
    return 0 if row is None else int(row[0])
