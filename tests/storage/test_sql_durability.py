"""Which SQL writes wait for the disk (``Mode.RECORD``): objects, statuses and the
audit records of writes do; records of reads, failed logins and request counts are
committed without an fsync, and the connection is durable again for the next write."""

from __future__ import annotations

from typing import Any

import pytest

from taxii_server.storage import sql_audit
from taxii_server.storage.base import AuditQuery, AuditRecord, Storage
from taxii_server.storage.sql_dialect import Transaction

T0 = 1_717_000_000_000_000

_SETTING = {
    "sqlite": "PRAGMA synchronous",
    # The tests' cluster runs with synchronous_commit off for speed: where the setting
    # came from tells a transaction's own SET LOCAL from the server's default.
    "postgresql": "SELECT setting, source FROM pg_settings WHERE name = 'synchronous_commit'",
}
# What the setting reads as in a durable and in a relaxed transaction.
_DURABLE = {"sqlite": (2,), "postgresql": ("off", "command line")}
_RELAXED = {"sqlite": (1,), "postgresql": ("off", "session")}


@pytest.fixture(autouse=True)
def _sql_only(backend: str) -> None:
    if backend not in _SETTING:
        pytest.skip("SQL durability settings")


def _record(action: str) -> AuditRecord:
    return AuditRecord(
        time=T0,
        user="alice",
        address="192.0.2.1",
        api_root="community",
        collection_id="c-1",
        action=action,
        count=1,
    )


def _observe(monkeypatch: pytest.MonkeyPatch, backend: str, name: str) -> list[Any]:
    """Record the durability setting in force whenever ``sql_audit.<name>`` runs."""
    seen: list[Any] = []
    original = getattr(sql_audit, name)

    def observed(tx: Transaction, *args: Any, **kwargs: Any) -> Any:
        seen.append(tuple(tx.rows(_SETTING[backend], ())[0]))
        return original(tx, *args, **kwargs)

    monkeypatch.setattr(sql_audit, name, observed)
    return seen


def test_a_read_is_recorded_without_waiting_for_the_disk_a_write_with(
    storage: Storage, backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen = _observe(monkeypatch, backend, "insert_audit")
    storage.record_audit(_record("objects"), durable=False)
    storage.record_audit(_record("delete"))
    storage.record_audit(_record("objects"), durable=False)
    assert seen == [_RELAXED[backend], _DURABLE[backend], _RELAXED[backend]]
    assert len(storage.query_audit(AuditQuery())) == 3


def test_failed_logins_and_request_counts_are_records(
    storage: Storage, backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    failures = _observe(monkeypatch, backend, "record_login_failure")
    counts = _observe(monkeypatch, backend, "count_request")
    storage.record_login_failure("192.0.2.1", T0, forget_before=T0 - 1)
    storage.count_request("192.0.2.1", 7)
    assert failures == [_RELAXED[backend]]
    assert counts == [_RELAXED[backend]]
    assert storage.login_failures("192.0.2.1", T0 - 1) == [T0]
    assert storage.request_counts("192.0.2.1", 7) == (0, 1)


def test_sqlite_write_transactions_get_a_larger_page_cache(
    storage: Storage, backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An add dirties about a page per object: its transaction has room for them (no
    spilling to the WAL mid-transaction); the connection's reads keep the default."""
    if backend != "sqlite":
        pytest.skip("SQLite's page cache")
    seen: list[Any] = []
    original = sql_audit.insert_audit

    def observed(tx: Transaction, *args: Any, **kwargs: Any) -> Any:
        seen.append(tx.rows("PRAGMA cache_size", ())[0][0])
        return original(tx, *args, **kwargs)

    monkeypatch.setattr(sql_audit, "insert_audit", observed)
    storage.record_audit(_record("delete"))
    storage.record_audit(_record("objects"), durable=False)
    storage.record_audit(_record("delete"))
    assert seen == [-16384, -2000, -16384]
