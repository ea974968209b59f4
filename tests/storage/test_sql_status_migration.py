"""Schema version 3 moves status entries out of ``status_details``: a status written
before the upgrade reads back the same after it, and its pending entries still move
when the rest of its envelope is stored."""

from __future__ import annotations

import pytest

from taxii_server.storage import open_storage, sql
from taxii_server.storage.base import StatusDetail
from taxii_server.storage.sql_dialect import Mode
from tests.storage.old_schema import sql_store_at
from tests.storage.stix import T0, sdo, ts

_BEFORE = 2  # the schema version that kept entries in status_details


@pytest.fixture(autouse=True)
def _sql_only(backend: str) -> None:
    if backend not in ("sqlite", "postgresql"):
        pytest.skip("SQL schema migrations")


def test_statuses_survive_the_upgrade(blank_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    collection = sql_store_at(_BEFORE, blank_url, monkeypatch)
    waiting = sdo(modified=ts(5))
    # Position, state (0 pending, 1 success, 2 failure), id, version, message: as
    # version 2 wrote them, with a pending entry between final ones.
    entries = [
        (0, 2, "indicator--bad", "", "not valid"),
        (1, 1, "indicator--stored", "2024-01-01T00:00:00.000000Z", None),
        (2, 0, waiting.id, "2024-01-01T00:00:05.000000Z", None),
        (3, 1, "indicator--later", "2024-01-02T00:00:00.000000Z", None),
    ]
    database = sql.open_database(blank_url, create=False)
    with database.transaction(Mode.WRITE) as tx:
        tx.run(
            "INSERT INTO statuses (id, api_root, collection, owner, request_timestamp, "
            "updated, total_count) SELECT ?, ?, seq, ?, ?, ?, ? FROM collections WHERE id = ?",
            ("s1", "r", "alice", T0, T0, 4, collection.id),
        )
        for position, state, object_id, version, message in entries:
            tx.run(
                "INSERT INTO status_details (status, position, state, object_id, version, "
                "message) VALUES (?, ?, ?, ?, ?, ?)",
                ("s1", position, state, object_id, version, message),
            )
    database.close()
    monkeypatch.undo()

    storage = open_storage(blank_url, migrate=True)
    try:
        status = storage.get_status("r", "s1")
        assert status is not None
        assert status.failures == (StatusDetail("indicator--bad", "", "not valid"),)
        assert [d.id for d in status.successes] == ["indicator--stored", "indicator--later"]
        assert status.pendings == (StatusDetail(waiting.id, "2024-01-01T00:00:05.000000Z"),)
        storage.add_objects(collection.id, [waiting], status_id="s1")
        after = storage.get_status("r", "s1")
        assert after is not None and after.pendings == ()
        # It keeps its place between the entries that were final before the upgrade.
        assert [d.id for d in after.successes] == [
            "indicator--stored",
            waiting.id,
            "indicator--later",
        ]
    finally:
        storage.close()
