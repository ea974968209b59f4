"""Schema version 4 makes audit records compact (their texts stored once, in
``audit_names``) and disowns the statuses of users deleted before it: records written
before the upgrade read back the same after it, keep their ``seq``, and new ones come
after them."""

from __future__ import annotations

import pytest

from taxii_server.storage import open_storage, sql
from taxii_server.storage.base import AuditQuery, AuditRecord
from taxii_server.storage.sql_dialect import Mode
from tests.storage.old_schema import sql_store_at
from tests.storage.stix import T0

_BEFORE = 3  # the schema version whose audit_log held texts


@pytest.fixture(autouse=True)
def _sql_only(backend: str) -> None:
    if backend not in ("sqlite", "postgresql"):
        pytest.skip("SQL schema migrations")


_OLD = [
    AuditRecord(T0, "alice", "192.0.2.1", "r", "c-1", "objects", 3, first=T0, last=T0 + 2,
                query="tlp=red&match[type]=indicator", seq=1),
    AuditRecord(T0 + 1, None, "2001:db8::1", "r", "c-1", "manifest", 0, query="tlp=clear",
                seq=2),
    AuditRecord(T0 + 2, "alice", "192.0.2.1", "r", "c-2", "add", 50_000,
                status_id="9a7619de-9821-42ea-a242-380895fd5cb2", query="tlp=red", seq=5),
    AuditRecord(T0 + 3, "bob", "192.0.2.9", "r", "c-1", "delete", 2,
                object_id="indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", query="tlp=amber",
                seq=9),
]  # fmt: skip


def test_audit_records_and_statuses_survive_the_upgrade(
    blank_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    collection = sql_store_at(_BEFORE, blank_url, monkeypatch)
    database = sql.open_database(blank_url, create=False)
    with database.transaction(Mode.WRITE) as tx:
        # As version 3 wrote users (this code writes an organization too).
        tx.run(
            "INSERT INTO users (name, clearance, password_hash, admin) VALUES (?, ?, ?, ?)",
            ("kept", 1, None, False),
        )
        for r in _OLD:  # as version 3 wrote them (seq 3, 4, 6-8 were never written)
            tx.run(
                "INSERT INTO audit_log (seq, time_us, user_name, address, api_root, "
                "collection_id, action, object_count, object_id, status_id, first_added, "
                "last_added, query) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (r.seq, r.time, r.user, r.address, r.api_root, r.collection_id, r.action,
                 r.count, r.object_id, r.status_id, r.first, r.last, r.query),
            )  # fmt: skip
        for status_id, owner in (("s-kept", "kept"), ("s-gone", "gone"), ("s-none", None)):
            tx.run(
                "INSERT INTO statuses (id, api_root, collection, owner, request_timestamp, "
                "updated, total_count) SELECT ?, ?, seq, ?, ?, ?, ? FROM collections "
                "WHERE id = ?",
                (status_id, "r", owner, T0, T0, 0, collection.id),
            )
    database.close()
    monkeypatch.undo()

    storage = open_storage(blank_url, migrate=True)
    try:
        assert storage.query_audit(AuditQuery()) == _OLD
        assert [r.seq for r in storage.query_audit(AuditQuery(user="alice"))] == [1, 5]
        assert [r.seq for r in storage.query_audit(AuditQuery(collection_id="c-2"))] == [5]
        new = AuditRecord(T0 + 9, "alice", "192.0.2.1", "r", "c-1", "objects", 1, query="")
        storage.record_audit(new)
        assert storage.query_audit(AuditQuery(after=9))[0].seq > 9
        owners = {
            s: getattr(storage.get_status("r", s), "owner", "?")
            for s in ("s-kept", "s-gone", "s-none")
        }
        assert owners == {"s-kept": "kept", "s-gone": None, "s-none": None}
    finally:
        storage.close()
