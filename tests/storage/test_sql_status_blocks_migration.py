"""Schema version 8 keeps a status's final entries in blocks: a status written before
the upgrade, one row per entry, reads back the same after it, and its pending entries
still move when the rest of its envelope is stored."""

from __future__ import annotations

import uuid

import pytest

from taxii_server.storage import open_storage, sql, sql_schema
from taxii_server.storage.base import StatusDetail
from taxii_server.storage.sql_dialect import Mode
from tests.storage.old_schema import sql_store_at
from tests.storage.stix import T0, sdo, ts

_BEFORE = 7  # the schema version that kept one row per final entry (status_entries)
_MANY = 2345  # successes before the pending entry: more than one block holds


@pytest.fixture(autouse=True)
def _sql_only(backend: str) -> None:
    if backend not in ("sqlite", "postgresql"):
        pytest.skip("SQL schema migrations")


def _success(n: int) -> StatusDetail:
    return StatusDetail(f"indicator--{uuid.UUID(int=n)}", f"2024-01-01T00:00:{n % 60:02d}.000000Z")


def test_statuses_survive_the_upgrade(blank_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    collection = sql_store_at(_BEFORE, blank_url, monkeypatch)
    waiting = sdo(modified=ts(5))
    # (position, state, id, version, message) as version 7 wrote them: a failure, many
    # successes, a pending entry (status_pending), then one more success; and a second
    # status with a single failure.
    first = [(0, 2, "indicator--bad", "2024-01-01T00:00:00.000000Z", "not valid")]
    first += [(1 + n, 1, _success(n).id, _success(n).version, None) for n in range(_MANY)]
    first += [(_MANY + 2, 1, "indicator--later", "2024-01-02T00:00:00.000000Z", None)]
    second = [(0, 2, "indicator--other", "2024-01-03T00:00:00.000000Z", "refused")]
    database = sql.open_database(blank_url, create=False)
    with database.transaction(Mode.WRITE) as tx:
        for status_id, entries in (("s1", first), ("s2", second)):
            tx.run(
                "INSERT INTO statuses (id, api_root, collection, owner, request_timestamp, "
                "updated, total_count) SELECT ?, ?, seq, ?, ?, ?, ? FROM collections WHERE id = ?",
                (status_id, "r", "alice", T0, T0, len(entries) + 1, collection.id),
            )
            tx.run_many(
                "INSERT INTO status_entries (status, position, state, object_id, version, "
                "message) VALUES (?, ?, ?, ?, ?, ?)",
                [(status_id, *entry) for entry in entries],
            )
        tx.run(
            "INSERT INTO status_pending (status, position, object_id, version, message) "
            "VALUES (?, ?, ?, ?, NULL)",
            ("s1", _MANY + 1, waiting.id, "2024-01-01T00:00:05.000000Z"),
        )
    database.close()
    monkeypatch.undo()
    # Pages of the upgrade's read that end inside a status's entries.
    monkeypatch.setattr(sql_schema, "_ENTRY_PAGE", 700)

    storage = open_storage(blank_url, migrate=True)
    try:
        status = storage.get_status("r", "s1")
        assert status is not None
        assert status.failures == (
            StatusDetail("indicator--bad", "2024-01-01T00:00:00.000000Z", "not valid"),
        )
        assert status.successes == (
            *(_success(n) for n in range(_MANY)),
            StatusDetail("indicator--later", "2024-01-02T00:00:00.000000Z"),
        )
        assert status.pendings == (StatusDetail(waiting.id, "2024-01-01T00:00:05.000000Z"),)
        other = storage.get_status("r", "s2")
        assert other is not None and other.failures == (
            StatusDetail("indicator--other", "2024-01-03T00:00:00.000000Z", "refused"),
        )
        storage.add_objects(collection.id, [waiting], status_id="s1")
        after = storage.get_status("r", "s1")
        assert after is not None and after.pendings == ()
        # It keeps its place between the entries that were final before the upgrade.
        assert [d.id for d in after.successes[-3:]] == [
            _success(_MANY - 1).id,
            waiting.id,
            "indicator--later",
        ]
    finally:
        storage.close()
    database = sql.open_database(blank_url, create=False)
    with database.transaction(Mode.READ) as tx:
        assert tx.row(tx.dialect.table_exists, ("status_entries",)) is None
        # One block per run of consecutive positions, of at most 1,000 entries.
        counts = [
            (status, position, count)
            for status, position, count in tx.rows(
                "SELECT status, position, entry_count FROM status_blocks ORDER BY status, position"
            )
        ]
    database.close()
    assert counts == [
        ("s1", 0, 1000),
        ("s1", 1000, 1000),
        ("s1", 2000, _MANY + 1 - 2000),
        ("s1", _MANY + 1, 1),  # the entry stored after the upgrade
        ("s1", _MANY + 2, 1),
        ("s2", 0, 1),
    ]
