"""Schema versions and migrations of the SQL store (SQLite and PostgreSQL)."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import pytest

from taxii_server.storage import inspect_schema, open_storage, sql_schema
from taxii_server.storage.base import ApiRoot, SchemaTooNew, StorageError
from taxii_server.storage.sql_schema import LATEST, Migration
from tests.storage import workers

SQL_BACKENDS = ("sqlite", "postgresql")


@pytest.fixture(autouse=True)
def _sql_only(backend: str) -> None:
    if backend not in SQL_BACKENDS:
        pytest.skip("SQL schema migrations")


@pytest.fixture
def own_url(blank_url: str) -> str:
    """A migrated database of this test's own (these tests change its schema)."""
    open_storage(blank_url, migrate=True).close()
    return blank_url


def _extend(monkeypatch: pytest.MonkeyPatch, *statements: str) -> None:
    """Pretend this code knows one more migration."""
    extra = Migration("test step", statements)
    monkeypatch.setattr(sql_schema, "MIGRATIONS", (*sql_schema.MIGRATIONS, extra))
    monkeypatch.setattr(sql_schema, "LATEST", LATEST + 1)


def test_a_migrated_database_is_current(store_url: str) -> None:
    assert inspect_schema(store_url) == (LATEST, LATEST)


def test_an_empty_database_needs_an_upgrade(blank_url: str, backend: str) -> None:
    with pytest.raises(StorageError, match="atlas-taxii db upgrade"):
        open_storage(blank_url)
    if backend == "sqlite":
        assert not Path(blank_url.removeprefix("sqlite:///")).exists()  # nothing created
        with pytest.raises(StorageError, match="no such database file"):
            inspect_schema(blank_url)
    else:
        assert inspect_schema(blank_url) == (0, LATEST)
    open_storage(blank_url, migrate=True).close()
    assert inspect_schema(blank_url) == (LATEST, LATEST)
    open_storage(blank_url).close()


def test_a_newer_schema_is_refused(own_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    with monkeypatch.context() as patch:
        _extend(patch, "CREATE TABLE later_feature (x INTEGER)")
        open_storage(own_url, migrate=True).close()
    assert inspect_schema(own_url) == (LATEST + 1, LATEST)
    for migrate in (False, True):
        with pytest.raises(SchemaTooNew, match=f"version {LATEST + 1}.*Upgrade atlas-taxii"):
            open_storage(own_url, migrate=migrate)


def test_an_older_schema_is_upgraded_only_when_asked(
    own_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    storage = open_storage(own_url)
    storage.put_api_root(ApiRoot("kept", "Kept"))
    storage.close()
    _extend(monkeypatch, "CREATE TABLE later_feature (x INTEGER)")
    with pytest.raises(
        StorageError, match=f"version {LATEST}.*needs version {LATEST + 1}.*db upgrade"
    ):
        open_storage(own_url)
    upgraded = open_storage(own_url, migrate=True)
    try:
        assert inspect_schema(own_url) == (LATEST + 1, LATEST + 1)
        assert upgraded.get_api_root("kept") == ApiRoot("kept", "Kept")
    finally:
        upgraded.close()


def test_a_failed_migration_changes_nothing(own_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    with monkeypatch.context() as patch:
        _extend(patch, "CREATE TABLE half_done (x INTEGER)", "THIS IS NOT SQL")
        with pytest.raises(StorageError):
            open_storage(own_url, migrate=True)
    assert inspect_schema(own_url) == (LATEST, LATEST)
    # The first statement was rolled back with the second: the step can run again.
    _extend(monkeypatch, "CREATE TABLE half_done (x INTEGER)")
    open_storage(own_url, migrate=True).close()
    assert inspect_schema(own_url) == (LATEST + 1, LATEST + 1)


def test_processes_migrating_at_once_apply_each_step_once(blank_url: str) -> None:
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(3)
    processes = [
        context.Process(target=workers.migrate_after, args=(blank_url, barrier)) for _ in range(3)
    ]
    for process in processes:
        process.start()
    for process in processes:
        process.join()
    assert [p.exitcode for p in processes] == [0, 0, 0]
    assert inspect_schema(blank_url) == (LATEST, LATEST)
