"""The MongoDB store's writes: collection write turns, the ordering pollers rely on,
and what an interrupted write leaves behind (see taxii_server/storage/mongo_writes.py).

A writer is paused after it has allocated ``date_added`` and before it inserts: the
danger without turns is a second writer allocating after it but inserting first.  The
lease tests need a standalone server (mongomock, or a standalone real one); on a
replica set the turn is a transaction and they are skipped.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pymongo
import pymongo.errors
import pytest

from taxii_server.storage import mongo_accounts, mongo_objects, mongo_status, mongo_writes
from taxii_server.storage.base import (
    AddOutcome,
    AddResult,
    ApiKey,
    Collection,
    ManifestEntry,
    Status,
    StatusDetail,
    Storage,
    StorageNotFound,
    StorageUnavailable,
    User,
)
from taxii_server.storage.mongo_connection import MongoConnection
from taxii_server.timestamps import format_timestamp, now_us
from tests.storage.stix import T0, query, sdo, ts

# How long a writer that ought to be blocked is given to finish.  A slow machine can
# only make these tests pass when they should fail, never the reverse.
_GRACE = 1.0
ID = "indicator--2f3a6b1c-9d8e-4f7a-8b6c-5d4e3f2a1b0c"


@pytest.fixture
def backend() -> str:
    """These tests are about the MongoDB store only."""
    return "mongodb"


@pytest.fixture
def transactions(store_url: str) -> bool:
    """Whether the test's server runs transactions (a replica set)."""
    connection = MongoConnection(store_url)
    try:
        return connection.transactions
    finally:
        connection.close()


@pytest.fixture
def leases(transactions: bool) -> None:
    if transactions:
        pytest.skip("the server runs transactions: writers take turns without leases")


@pytest.fixture
def raw(store_url: str) -> Iterator[Any]:
    """The test's database through pymongo itself (mongomock while it stands in)."""
    client: Any = pymongo.MongoClient(store_url)
    try:
        yield client.get_default_database()
    finally:
        client.close()


def _pause_after_allocating(
    monkeypatch: pytest.MonkeyPatch, thread: str
) -> tuple[threading.Event, threading.Event]:
    """Make the writer running in thread ``thread`` stop right after it has allocated
    its ``date_added`` values, until the second event is set."""
    allocated, resume = threading.Event(), threading.Event()
    for writer in (mongo_writes._LeaseWriter, mongo_writes._TransactionWriter):
        original = writer.advance

        def advance(self: Any, *args: Any, _original: Callable[..., None] = original) -> None:
            _original(self, *args)
            if threading.current_thread().name == thread:
                allocated.set()
                resume.wait(30)

        monkeypatch.setattr(writer, "advance", advance)
    return allocated, resume


def _in_thread(name: str, target: Callable[[], object]) -> tuple[threading.Thread, list[object]]:
    outcome: list[object] = []

    def run() -> None:
        try:
            outcome.append(target())
        except BaseException as exc:  # reported by the test, in its own thread
            outcome.append(exc)

    thread = threading.Thread(target=run, name=name)
    thread.start()
    return thread, outcome


def _manifest(storage: Storage, collection: Collection, after: int | None = None) -> list[str]:
    return [m.id for m in storage.query_manifest(collection.id, query(after=after)).items]


def test_a_writer_waits_while_another_has_allocated(
    storage: Storage, collection: Collection, monkeypatch: pytest.MonkeyPatch
) -> None:
    allocated, resume = _pause_after_allocating(monkeypatch, "first")
    one, two = sdo(), sdo()
    first, first_outcome = _in_thread("first", lambda: storage.add_objects(collection.id, [one]))
    second = None
    try:
        assert allocated.wait(30)
        second, second_outcome = _in_thread(
            "second", lambda: storage.add_objects(collection.id, [two])
        )
        second.join(_GRACE)
        assert second.is_alive(), "a second writer stored objects while the first held the turn"
        assert _manifest(storage, collection) == []
    finally:
        resume.set()
        first.join()
        if second is not None:
            second.join()
    assert [type(o) for o in first_outcome + second_outcome] == [list, list]
    assert _manifest(storage, collection) == [one.id, two.id]  # date_added order


def test_without_turns_a_poller_would_miss_objects(
    storage: Storage,
    collection: Collection,
    monkeypatch: pytest.MonkeyPatch,
    leases: None,
) -> None:
    """Why the turn exists: with it taken away, the first writer's objects arrive
    behind a poller that has already moved past them, and it never receives them."""

    class NoTurns(mongo_writes._LeaseWriter):
        def lock_collection(self, collection_id: str) -> mongo_writes.LockedCollection | None:
            return mongo_writes._UnlockedWriter.lock_collection(self, collection_id)  # type: ignore[arg-type]

        def _fenced(self, collection: mongo_writes.LockedCollection, fields: Any) -> None:
            if fields:
                self._collections.update_one({"_id": collection.id}, {"$set": fields})

    monkeypatch.setattr(mongo_writes, "_LeaseWriter", NoTurns)
    allocated, resume = _pause_after_allocating(monkeypatch, "first")
    early, late = sdo(), sdo()
    first, _ = _in_thread("first", lambda: storage.add_objects(collection.id, [early]))
    try:
        assert allocated.wait(30)
        storage.add_objects(collection.id, [late])  # allocates after `early`, stored first
        seen = storage.query_manifest(collection.id, query()).items
    finally:
        resume.set()
        first.join()
    assert [m.id for m in seen] == [late.id]
    assert _manifest(storage, collection, after=seen[-1].date_added) == []  # never sees it
    assert _manifest(storage, collection) == [early.id, late.id]


def test_poller_sees_each_object_once_while_threads_write(
    storage: Storage, collection: Collection, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The multi-process test of test_concurrency.py, with threads (mongomock lives in
    one process); every writer yields right after allocating, where the danger is."""
    for writer in (mongo_writes._LeaseWriter, mongo_writes._TransactionWriter):
        original = writer.advance

        def advance(self: Any, *args: Any, _original: Callable[..., None] = original) -> None:
            _original(self, *args)
            time.sleep(0.001)  # let another thread run here; not a timing assertion

        monkeypatch.setattr(writer, "advance", advance)
    writers, batches, size = 4, 8, 5
    ids = [[sdo() for _ in range(batches * size)] for _ in range(writers)]
    errors: list[BaseException] = []

    def write(objects: list[Any]) -> None:
        try:
            for start in range(0, len(objects), size):
                storage.add_objects(collection.id, objects[start : start + size])
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(objects,)) for objects in ids]
    seen: list[ManifestEntry] = []

    def poll() -> bool:
        after = seen[-1].date_added if seen else None
        page = storage.query_manifest(collection.id, query(limit=7, after=after))
        seen.extend(page.items)
        return bool(page.items)

    for thread in threads:
        thread.start()
    while any(thread.is_alive() for thread in threads):
        poll()
    for thread in threads:
        thread.join()
    while poll():
        pass
    assert errors == []
    expected = [o.id for objects in ids for o in objects]
    assert sorted(m.id for m in seen) == sorted(expected)  # each exactly once
    added = [m.date_added for m in seen]
    assert all(a < b for a, b in zip(added, added[1:], strict=False))
    position = {m.id: n for n, m in enumerate(seen)}
    for objects in ids:  # one envelope's objects are contiguous, envelopes in order
        for start in range(0, len(objects), size):
            places = [position[o.id] for o in objects[start : start + size]]
            assert places == list(range(places[0], places[0] + size))


def test_a_lock_left_by_a_dead_writer_is_taken_over(
    storage: Storage, collection: Collection, raw: Any, leases: None
) -> None:
    raw.collections.update_one(
        {"_id": collection.id}, {"$set": {"lock": {"token": "dead", "expires": now_us() - 1}}}
    )
    assert storage.add_objects(collection.id, [sdo()])[0].outcome is AddOutcome.ADDED
    assert "lock" not in raw.collections.find_one({"_id": collection.id})


def test_a_live_lock_makes_writers_wait_then_give_up(
    storage: Storage,
    collection: Collection,
    raw: Any,
    monkeypatch: pytest.MonkeyPatch,
    leases: None,
) -> None:
    monkeypatch.setattr(mongo_writes, "LOCK_WAIT", 0.2)
    held = {"token": "alive", "expires": now_us() + 60_000_000}
    raw.collections.update_one({"_id": collection.id}, {"$set": {"lock": held}})
    with pytest.raises(StorageUnavailable, match=f"collection {collection.id} is locked"):
        storage.add_objects(collection.id, [sdo()])
    with pytest.raises(StorageUnavailable):
        storage.delete_objects(collection.id, ID, query())
    assert _manifest(storage, collection) == []
    assert raw.collections.find_one({"_id": collection.id})["lock"] == held  # not released


def test_a_writer_that_lost_its_lease_stops_before_storing(
    storage: Storage, collection: Collection, monkeypatch: pytest.MonkeyPatch, leases: None
) -> None:
    clock = [now_us()]
    monkeypatch.setattr(mongo_writes, "now_us", lambda: clock[0])
    locked, resume = threading.Event(), threading.Event()
    original = mongo_objects._stored_versions

    def stalled(*args: Any) -> Any:
        if threading.current_thread().name == "slow":
            locked.set()
            resume.wait(30)
        return original(*args)

    monkeypatch.setattr(mongo_objects, "_stored_versions", stalled)
    lost, taken = sdo(), sdo()
    slow, outcome = _in_thread("slow", lambda: storage.add_objects(collection.id, [lost]))
    try:
        assert locked.wait(30)
        clock[0] += int((mongo_writes.LEASE + 1) * 1_000_000)  # the lease runs out
        storage.add_objects(collection.id, [taken])  # takes the expired lease over
    finally:
        resume.set()
        slow.join()
    assert len(outcome) == 1 and isinstance(outcome[0], StorageUnavailable)
    assert "lost its lock" in str(outcome[0])
    assert _manifest(storage, collection) == [taken.id]
    storage.add_objects(collection.id, [lost])  # posting again works at once
    assert _manifest(storage, collection) == [taken.id, lost.id]


def _fail_once(monkeypatch: pytest.MonkeyPatch, owner: Any, name: str, when: Any = None) -> None:
    """Make ``owner.name`` raise a lost connection the first time (``when(args)``)."""
    original = getattr(owner, name)
    failed: list[bool] = []

    def failing(*args: Any, **kwargs: Any) -> Any:
        if not failed and (when is None or when(args)):
            failed.append(True)
            raise pymongo.errors.AutoReconnect("connection lost (injected by the test)")
        return original(*args, **kwargs)

    monkeypatch.setattr(owner, name, failing)


def test_interrupted_mask_update_is_repaired_by_a_repost(
    storage: Storage,
    collection: Collection,
    raw: Any,
    transactions: bool,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    v1, v2 = sdo(ID, modified=ts(1)), sdo(ID, modified=ts(2))
    storage.add_objects(collection.id, [v1])
    objects_class = type(raw[mongo_objects.OBJECTS])
    _fail_once(monkeypatch, objects_class, "bulk_write", lambda args: args[0].name == "objects")
    with pytest.raises(StorageUnavailable, match="connection lost"):
        storage.add_objects(collection.id, [v2])

    latest = sorted(o.version for o in storage.query_objects(collection.id, query()).items)
    # A transaction stored nothing; a standalone server kept the new version, and the
    # old one still claims to be the latest too (never neither).
    assert latest == ([ts(1)] if transactions else [ts(1), ts(2)])
    expected = AddOutcome.ADDED if transactions else AddOutcome.UNCHANGED
    assert storage.add_objects(collection.id, [v2]) == [AddResult(expected, ts(2))]
    assert [o.version for o in storage.query_objects(collection.id, query()).items] == [ts(2)]
    first = query(first=True, last=False)
    assert [o.version for o in storage.query_objects(collection.id, first).items] == [ts(1)]


def test_interrupted_status_move_keeps_entries_pending_until_posted_again(
    storage: Storage,
    collection: Collection,
    transactions: bool,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    obj = sdo(modified=ts(1))
    pending = (StatusDetail(obj.id, format_timestamp(ts(1))),)
    status = Status("s-1", collection.api_root, collection.id, "alice", T0, T0, 1, pendings=pending)
    storage.create_status(status)
    _fail_once(monkeypatch, mongo_status, "record_results")
    with pytest.raises(StorageUnavailable):
        storage.add_objects(collection.id, [obj], status_id=status.id)
    got = storage.get_status(collection.api_root, status.id)
    assert got is not None and got.pendings == pending  # never a success not stored
    assert _manifest(storage, collection) == ([] if transactions else [obj.id])
    storage.add_objects(collection.id, [obj], status_id=status.id)
    done = storage.get_status(collection.api_root, status.id)
    assert done is not None and done.complete and done.successes == pending


def test_deleting_a_collection_waits_for_its_writer_and_leaves_nothing(
    storage: Storage,
    collection: Collection,
    raw: Any,
    monkeypatch: pytest.MonkeyPatch,
    leases: None,
) -> None:
    storage.add_objects(collection.id, [sdo()])
    allocated, resume = _pause_after_allocating(monkeypatch, "writer")
    writer, _ = _in_thread("writer", lambda: storage.add_objects(collection.id, [sdo(), sdo()]))
    deleter = None
    try:
        assert allocated.wait(30)
        deleter, deleted = _in_thread(
            "deleter", lambda: storage.delete_collection(collection.api_root, collection.id)
        )
        deleter.join(_GRACE)
        assert deleter.is_alive(), "the collection was deleted under a writer"
    finally:
        resume.set()
        writer.join()
        if deleter is not None:
            deleter.join()
    assert deleted == [None]
    assert raw[mongo_objects.OBJECTS].count_documents({}) == 0  # no orphans
    storage.create_collection(collection)  # the same id again starts empty
    assert _manifest(storage, collection) == []


def test_a_key_added_while_its_user_is_deleted_does_not_survive(
    storage: Storage, monkeypatch: pytest.MonkeyPatch
) -> None:
    storage.put_user(User("alice", 1))
    original = mongo_accounts._user_exists
    calls: list[str] = []

    def racing(database: Any, name: str) -> bool:
        calls.append(name)
        if len(calls) == 2:  # after the key's insert, before its check
            mongo_accounts.delete_user(database, name)
        return original(database, name)

    monkeypatch.setattr(mongo_accounts, "_user_exists", racing)
    with pytest.raises(StorageNotFound, match="alice"):
        storage.add_api_key(ApiKey("aaaaaaaaaaaa", "alice", "scrypt$1"))
    monkeypatch.setattr(mongo_accounts, "_user_exists", original)
    storage.put_user(User("alice", 1))  # a new alice inherits nothing
    assert storage.get_api_key("aaaaaaaaaaaa") is None
    assert storage.list_api_keys("alice") == []
