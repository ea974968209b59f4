"""Schema versions and migrations of the MongoDB store: the same rules as the SQL
store's (tests/storage/test_sql_schema.py), with idempotent steps in place of
transactional DDL."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pymongo
import pymongo.errors
import pytest

from taxii_server.cli import main
from taxii_server.storage import inspect_schema, mongo_schema, open_storage
from taxii_server.storage.base import ApiRoot, SchemaTooNew, StorageError, StorageUnavailable
from taxii_server.storage.mongo_schema import LATEST, Index, Migration
from taxii_server.timestamps import now_us


@pytest.fixture
def backend() -> str:
    """These tests are about the MongoDB store only."""
    return "mongodb"


@pytest.fixture
def raw(blank_url: str) -> Iterator[Any]:
    client: Any = pymongo.MongoClient(blank_url)
    try:
        yield client.get_default_database()
    finally:
        client.close()


def _extend(monkeypatch: pytest.MonkeyPatch, migration: Migration) -> None:
    """Pretend this code knows one more migration."""
    monkeypatch.setattr(mongo_schema, "MIGRATIONS", (*mongo_schema.MIGRATIONS, migration))
    monkeypatch.setattr(mongo_schema, "LATEST", LATEST + 1)


_LATER = Migration("test step", indexes=(Index("later_feature", (("x", 1),), "later_x"),))


def test_a_migrated_database_is_current_with_its_indexes(store_url: str) -> None:
    assert inspect_schema(store_url) == (LATEST, LATEST)
    client: Any = pymongo.MongoClient(store_url)
    try:
        objects = client.get_default_database()["objects"].index_information()
    finally:
        client.close()
    assert {"objects_page", "objects_type", "objects_version"} <= set(objects)
    assert objects["objects_version"]["unique"] is True


def test_an_empty_database_needs_an_upgrade_and_is_left_alone(blank_url: str, raw: Any) -> None:
    with pytest.raises(StorageError, match="atlas-taxii db upgrade"):
        open_storage(blank_url)
    assert inspect_schema(blank_url) == (0, LATEST)
    assert raw.list_collection_names() == []  # checking created nothing
    open_storage(blank_url, migrate=True).close()
    assert inspect_schema(blank_url) == (LATEST, LATEST)
    open_storage(blank_url).close()


def test_a_newer_schema_is_refused(blank_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    with monkeypatch.context() as patch:
        _extend(patch, _LATER)
        open_storage(blank_url, migrate=True).close()
    assert inspect_schema(blank_url) == (LATEST + 1, LATEST)
    for migrate in (False, True):
        with pytest.raises(SchemaTooNew, match=f"version {LATEST + 1}.*Upgrade atlas-taxii"):
            open_storage(blank_url, migrate=migrate)


def test_an_older_schema_is_upgraded_only_when_asked(
    blank_url: str, raw: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    storage = open_storage(blank_url, migrate=True)
    storage.put_api_root(ApiRoot("kept", "Kept"))
    storage.close()
    _extend(monkeypatch, _LATER)
    with pytest.raises(
        StorageError, match=f"version {LATEST}.*needs version {LATEST + 1}.*db upgrade"
    ):
        open_storage(blank_url)
    upgraded = open_storage(blank_url, migrate=True)
    try:
        assert inspect_schema(blank_url) == (LATEST + 1, LATEST + 1)
        assert upgraded.get_api_root("kept") == ApiRoot("kept", "Kept")
        assert "later_x" in raw["later_feature"].index_information()
    finally:
        upgraded.close()


def test_a_failed_migration_is_completed_by_running_it_again(
    blank_url: str, raw: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    open_storage(blank_url, migrate=True).close()

    def broken(database: Any) -> None:
        raise pymongo.errors.OperationFailure("disk full (injected by the test)", code=14031)

    with monkeypatch.context() as patch:
        _extend(patch, Migration("half done", _LATER.indexes, steps=(broken,)))
        with pytest.raises(StorageError, match="disk full"):
            open_storage(blank_url, migrate=True)
    assert inspect_schema(blank_url) == (LATEST, LATEST)  # the version did not move
    assert raw["meta"].find_one({"_id": "migration-lock"}) is None  # nor is it held
    _extend(monkeypatch, _LATER)  # the same step, now succeeding, over its half
    open_storage(blank_url, migrate=True).close()
    assert inspect_schema(blank_url) == (LATEST + 1, LATEST + 1)


def test_threads_migrating_at_once_apply_each_step_once(
    blank_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On mongomock, threads stand in for the processes of test_sql_schema.py."""
    runs: list[int] = []
    _extend(monkeypatch, Migration("counted", steps=(lambda database: runs.append(1),)))
    barrier = threading.Barrier(3)
    errors: list[BaseException] = []

    def migrate() -> None:
        try:
            barrier.wait()
            open_storage(blank_url, migrate=True).close()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=migrate) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert runs == [1]
    assert inspect_schema(blank_url) == (LATEST + 1, LATEST + 1)


def test_a_migration_lease_left_by_a_dead_process_is_taken_over(
    blank_url: str, raw: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    raw["meta"].insert_one({"_id": "migration-lock", "token": "dead", "expires": now_us() - 1})
    open_storage(blank_url, migrate=True).close()
    assert inspect_schema(blank_url) == (LATEST, LATEST)
    assert raw["meta"].find_one({"_id": "migration-lock"}) is None


def test_a_migration_in_progress_elsewhere_is_waited_for_then_reported(
    blank_url: str, raw: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(mongo_schema, "MIGRATION_WAIT", 0.2)
    live = {"_id": "migration-lock", "token": "busy", "expires": now_us() + 60_000_000}
    raw["meta"].insert_one(live)
    with pytest.raises(StorageUnavailable, match="another process has been upgrading"):
        open_storage(blank_url, migrate=True)
    assert raw["meta"].find_one({"_id": "migration-lock"}) == live


def test_a_damaged_version_record_is_reported(blank_url: str, raw: Any) -> None:
    raw["meta"].insert_one({"_id": "schema", "version": "seven"})
    with pytest.raises(StorageError, match="'seven', not a number; the database is damaged"):
        open_storage(blank_url, migrate=True)


def test_db_commands_work_on_a_mongodb_store(
    blank_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["db", "version", "--storage", blank_url]) == 1
    assert "no schema yet" in capsys.readouterr().out
    assert main(["db", "upgrade", "--storage", blank_url]) == 0
    assert capsys.readouterr().out == f"schema upgraded from version 0 to {LATEST}\n"
    assert main(["db", "version", "--storage", blank_url]) == 0
    assert capsys.readouterr().out == f"schema version {LATEST}: up to date\n"


def test_version_2_disowns_the_statuses_of_removed_users(
    blank_url: str, raw: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    with monkeypatch.context() as patch:
        patch.setattr(mongo_schema, "MIGRATIONS", mongo_schema.MIGRATIONS[:1])
        patch.setattr(mongo_schema, "LATEST", 1)
        open_storage(blank_url, migrate=True).close()
    raw["users"].insert_one({"_id": "kept", "clearance": 1})
    for status_id, owner in (("s-kept", "kept"), ("s-gone", "gone"), ("s-none", None)):
        raw["statuses"].insert_one({"_id": status_id, "owner": owner})
    open_storage(blank_url, migrate=True).close()
    owners = {doc["_id"]: doc["owner"] for doc in raw["statuses"].find()}
    assert owners == {"s-kept": "kept", "s-gone": None, "s-none": None}
    assert "request_counts_window" in raw["request_counts"].index_information()
