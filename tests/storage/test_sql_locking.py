"""The collection write lock of the SQL store, made observable.

A writer is paused after it has assigned ``date_added`` and before it commits; a
second writer to the same collection must then wait, or a poller could see the
second writer's later ``date_added`` first, move its cursor past the first writer's
objects and never receive them.  (The multi-process test in test_concurrency.py checks
the same property under real contention, where the window is narrow.)
"""

from __future__ import annotations

import threading

import pytest

from taxii_server.storage import sql_objects
from taxii_server.storage.base import AddResult, Collection, Grant, Status, Storage, User
from tests.storage.stix import T0, query, sdo

# How long the second writer is given to finish while it ought to be blocked.  A slow
# machine can only make the test pass when it should fail, never the reverse.
_GRACE = 1.0


@pytest.fixture(autouse=True)
def _sql_only(backend: str) -> None:
    if backend not in ("sqlite", "postgresql"):
        pytest.skip("SQL write lock")


def test_second_writer_waits_for_the_first_to_commit(
    storage: Storage, collection: Collection, monkeypatch: pytest.MonkeyPatch
) -> None:
    assigned, release = threading.Event(), threading.Event()
    original = sql_objects._write_versions

    def paused_write(*args: object, **kwargs: object) -> None:
        if threading.current_thread().name == "first":
            assigned.set()
            release.wait(30)
        original(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(sql_objects, "_write_versions", paused_write)
    results: dict[str, list[AddResult]] = {}
    errors: list[BaseException] = []

    def add(name: str) -> None:
        try:
            results[name] = storage.add_objects(collection.id, [sdo()])
        except BaseException as exc:
            errors.append(exc)

    first = threading.Thread(target=add, args=("first",), name="first")
    second = threading.Thread(target=add, args=("second",), name="second")
    first.start()
    try:
        assert assigned.wait(30)
        second.start()
        second.join(_GRACE)
        assert second.is_alive(), "a second writer committed while the first held the lock"
        assert storage.query_manifest(collection.id, query()).items == []
    finally:
        release.set()
        first.join()
        if second.ident is not None:
            second.join()
    assert errors == []
    stored = storage.query_manifest(collection.id, query()).items
    assert len(stored) == 2 and stored[0].date_added < stored[1].date_added


def test_the_write_lock_does_not_hold_up_statuses_and_grants(
    backend: str, storage: Storage, collection: Collection, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Creating a status or a grant for a collection that is being written to only
    checks that the collection exists; it must not wait for the writer."""
    if backend == "sqlite":
        pytest.skip("SQLite has one write lock for the whole database")
    assigned, release = threading.Event(), threading.Event()
    original = sql_objects._write_versions

    def paused_write(*args: object, **kwargs: object) -> None:
        assigned.set()
        release.wait(30)
        original(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(sql_objects, "_write_versions", paused_write)
    writer = threading.Thread(target=storage.add_objects, args=(collection.id, [sdo()]))
    writer.start()
    try:
        assert assigned.wait(30)
        done: list[str] = []

        def other_writes() -> None:
            storage.create_status(Status("s1", collection.api_root, collection.id, None, T0, T0, 0))
            storage.put_user(User("alice", 1))
            storage.set_grant(Grant("alice", collection.id, True, False))
            done.append("yes")

        other = threading.Thread(target=other_writes)
        other.start()
        other.join(30)  # generous: it either finishes at once or waits for `release`
        assert done == ["yes"], "status and grant writes waited for the object writer"
    finally:
        release.set()
        writer.join()
