"""Several threads of one process share a store (gunicorn gthread workers)."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from taxii_server.storage import open_storage
from taxii_server.storage.base import Collection, Storage
from tests.storage.stix import query, sdo


def test_threads_add_and_read_at_once(storage: Storage, collection: Collection) -> None:
    errors: list[BaseException] = []

    def work() -> None:
        try:
            for _ in range(10):
                storage.add_objects(collection.id, [sdo(), sdo()])
                storage.query_manifest(collection.id, query(limit=5))
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    added = [o.date_added for o in storage.query_manifest(collection.id, query(limit=100)).items]
    assert len(added) == 80 and added == sorted(set(added))


def test_sqlite_closes_connections_of_ended_threads(tmp_path: Path) -> None:
    """A server that starts a thread per request (Werkzeug's) must not leak a
    connection, and its file descriptors, per request."""
    url = f"sqlite:///{tmp_path / 'threads.db'}"
    storage = open_storage(url, migrate=True)

    def open_files() -> int:
        fds = Path("/proc/self/fd")
        if not fds.exists():
            pytest.skip("needs /proc to count open files")
        return sum(1 for fd in fds.iterdir() if str(tmp_path) in os.path.realpath(fd))

    def request() -> None:
        storage.list_api_roots()

    try:
        for _ in range(30):
            thread = threading.Thread(target=request)
            thread.start()
            thread.join()
        # db, -wal and -shm of the last thread's connection, and of this thread's.
        request()
        assert open_files() <= 6
    finally:
        storage.close()
    assert open_files() == 0
