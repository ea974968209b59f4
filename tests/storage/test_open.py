"""Opening stores: URL schemes, missing drivers, SQLite URL forms, unreachable
databases, and driver errors translated into StorageError."""

from __future__ import annotations

import sys
import threading
import uuid
from pathlib import Path

import pytest

from taxii_server.storage import BACKENDS, open_storage
from taxii_server.storage.base import (
    ApiRoot,
    Collection,
    StorageError,
    StorageUnavailable,
)
from tests.storage.stix import query, sdo


@pytest.mark.parametrize("url", ["mysql://localhost/db", "atlas.db", "", "file:///x.db"])
def test_unknown_scheme_names_the_supported_ones(url: str) -> None:
    with pytest.raises(StorageError, match=r"sqlite://, postgresql://, postgres://, mongodb://"):
        open_storage(url)


def test_missing_driver_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "psycopg", None)  # import psycopg -> ImportError
    monkeypatch.delitem(sys.modules, "taxii_server.storage.sql_postgres", raising=False)
    with pytest.raises(StorageError, match=r"pip install 'atlas-taxii\[postgres\]'"):
        open_storage("postgresql://localhost/atlas")


def test_missing_backend_module_is_a_storage_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(BACKENDS, "nosuch", ("taxii_server.storage.nosuch", None))
    with pytest.raises(StorageError, match="nosuch://"):
        open_storage("nosuch://x")


def test_sqlite_relative_and_absolute_paths(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    open_storage("sqlite:///relative.db", migrate=True).close()
    assert (tmp_path / "relative.db").exists()
    absolute = tmp_path / "sub dir" / "absolute.db"
    absolute.parent.mkdir()
    open_storage(f"sqlite:///{absolute}", migrate=True).close()  # //// + /tmp/…
    assert absolute.exists()
    open_storage(f"sqlite:///{absolute}").close()


@pytest.mark.parametrize(
    "url", ["sqlite://", "sqlite:///", "sqlite://host/x.db", "sqlite:///x.db?mode=ro"]
)
def test_malformed_sqlite_urls_are_refused(url: str) -> None:
    with pytest.raises(StorageError, match="sqlite:///relative/path.db"):
        open_storage(url)


def test_sqlite_in_memory_is_shared_by_threads() -> None:
    storage = open_storage("sqlite:///:memory:", migrate=True)
    try:
        storage.put_api_root(ApiRoot("r", "R"))
        collection = Collection(str(uuid.uuid4()), "r", "C")
        storage.create_collection(collection)

        def add() -> None:
            for _ in range(10):
                storage.add_objects(collection.id, [sdo()])

        threads = [threading.Thread(target=add) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(storage.query_objects(collection.id, query()).items) == 40
    finally:
        storage.close()


def test_sqlite_in_an_unreachable_place_is_unavailable(tmp_path: Path) -> None:
    with pytest.raises(StorageUnavailable, match="unable to open"):
        open_storage(f"sqlite:///{tmp_path}/missing-dir/x.db", migrate=True)


def test_sqlite_file_that_is_not_a_database(tmp_path: Path) -> None:
    path = tmp_path / "garbage.db"
    path.write_bytes(b"this is not an SQLite database, just text" * 100)
    with pytest.raises(StorageError, match="not a database"):
        open_storage(f"sqlite:///{path}", migrate=True)


@pytest.mark.postgres
def test_postgresql_that_does_not_answer_is_unavailable(tmp_path: Path) -> None:
    url = f"postgresql:///atlas?host={tmp_path}&port=1&user=postgres"  # no server there
    with pytest.raises(StorageUnavailable, match="connection"):
        open_storage(url)


def test_public_names_and_nothing_loaded_at_import() -> None:
    import subprocess

    import taxii_server.storage as package

    assert sorted(package.__all__) == ["BACKENDS", "inspect_schema", "open_storage"]
    assert all(hasattr(package, name) for name in package.__all__)
    probe = (
        "import sys, taxii_server.storage; "
        "print(sorted(m for m in ('sqlite3', 'psycopg', 'pymongo', 'taxii_server.storage.sql') "
        "if m in sys.modules))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert loaded == "[]"
