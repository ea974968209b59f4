"""The SQL store when its database misbehaves: locked, restarted, connections killed.

Every case must surface as :class:`StorageUnavailable` (the HTTP layer's 503) or be
absorbed, never as a driver exception, and the store must work again afterwards
without being reopened.
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from taxii_server.storage import open_storage, sql_sqlite
from taxii_server.storage.base import ApiRoot, Collection, Storage, StorageError, StorageUnavailable
from tests.pg import PgCluster, PgUnavailable
from tests.storage.stix import query, sdo


def _collection(storage: Storage) -> Collection:
    storage.put_api_root(ApiRoot("r", "R"))
    collection = Collection(str(uuid.uuid4()), "r", "C")
    storage.create_collection(collection)
    return collection


def test_sqlite_writer_locked_out_past_the_busy_timeout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sql_sqlite, "BUSY_TIMEOUT", 0.2)
    url = f"sqlite:///{tmp_path / 'locked.db'}"
    storage = open_storage(url, migrate=True)
    collection = _collection(storage)
    storage.add_objects(collection.id, [sdo()])
    holder = sqlite3.connect(tmp_path / "locked.db", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another process writing, for a long time
    try:
        with pytest.raises(StorageUnavailable, match="locked"):
            storage.add_objects(collection.id, [sdo()])
        # WAL: readers are not blocked by the writer.
        assert len(storage.query_objects(collection.id, query()).items) == 1
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    storage.add_objects(collection.id, [sdo()])
    assert len(storage.query_objects(collection.id, query()).items) == 2
    storage.close()


@pytest.fixture
def own_cluster() -> Iterator[PgCluster]:
    """A cluster of this test's own, which it may stop and start."""
    try:
        cluster = PgCluster.start_new()
    except PgUnavailable as exc:
        pytest.skip(str(exc))
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.mark.postgres
def test_postgresql_restart_is_unavailable_then_recovers(own_cluster: PgCluster) -> None:
    url = own_cluster.create_database("outage") + "&pool_timeout=1"
    storage = open_storage(url, migrate=True)
    collection = _collection(storage)
    storage.add_objects(collection.id, [sdo()])
    own_cluster.stop_server()
    with pytest.raises(StorageUnavailable):
        storage.query_objects(collection.id, query())
    with pytest.raises(StorageUnavailable):
        storage.add_objects(collection.id, [sdo()])
    own_cluster.start_server()
    storage.add_objects(collection.id, [sdo()])
    assert len(storage.query_objects(collection.id, query()).items) == 2
    storage.close()


@pytest.mark.postgres
def test_postgresql_killed_connections_are_replaced(pg_cluster: PgCluster, pg_shared: str) -> None:
    pg_cluster.empty_database(pg_shared, keep=("schema_version",))
    url = pg_cluster.url(pg_shared)
    storage = open_storage(url)
    collection = _collection(storage)
    with psycopg.connect(pg_cluster.url("postgres"), autocommit=True) as admin:
        killed = admin.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid()",
            (pg_shared,),
        ).fetchone()
    assert killed is not None and killed[0] >= 1
    storage.add_objects(collection.id, [sdo()])  # the pool notices and reconnects
    assert len(storage.query_objects(collection.id, query()).items) == 1
    storage.close()


@pytest.mark.postgres
@pytest.mark.parametrize("parameter", ["pool_size=0", "pool_size=many", "pool_timeout=-1"])
def test_postgresql_pool_parameters_are_checked(parameter: str) -> None:
    with pytest.raises(StorageError, match=parameter.split("=")[0]):
        open_storage(f"postgresql://localhost/atlas?{parameter}")


@pytest.mark.postgres
def test_postgresql_messages_never_show_the_password(tmp_path: Path) -> None:
    url = f"postgresql://atlas:s3cret-pw@/atlas?host={tmp_path}&port=1&password=s3cret-pw"
    with pytest.raises(StorageUnavailable) as caught:
        open_storage(url)
    assert "s3cret-pw" not in str(caught.value)
