"""The audit log, on every backend: records appended in order, durable, never changed,
filtered by user, collection and time, and kept when their user or collection goes."""

from __future__ import annotations

import multiprocessing
from dataclasses import replace

import pytest

from taxii_server.storage import open_storage
from taxii_server.storage.base import (
    AuditQuery,
    AuditRecord,
    Collection,
    Storage,
    User,
)
from tests.storage import workers

T0 = 1_717_000_000_000_000


def _record(n: int, *, user: str | None = "alice", collection_id: str = "c-1") -> AuditRecord:
    return AuditRecord(
        time=T0 + n,
        user=user,
        address=f"192.0.2.{n % 250}",
        api_root="community",
        collection_id=collection_id,
        action="objects",
        count=n,
        first=T0 + 10 * n if n else None,
        last=T0 + 10 * n + 5 if n else None,
        query="match[type]=indicator" if n % 2 else "",
        added_after=T0 - n if n % 3 else None,
    )


def _without_seq(records: list[AuditRecord]) -> list[AuditRecord]:
    return [AuditRecord(**{**_fields(r), "seq": 0}) for r in records]


def _fields(record: AuditRecord) -> dict[str, object]:
    return {name: getattr(record, name) for name in AuditRecord.__slots__}  # type: ignore[attr-defined]


def test_records_come_back_as_written_in_order(storage: Storage) -> None:
    written = [_record(n) for n in range(5)]
    written.append(
        AuditRecord(
            time=T0,
            user="bob",
            address="2001:db8::1",
            api_root="community",
            collection_id="c-2",
            action="add",
            count=50_000,
            status_id="9a7619de-9821-42ea-a242-380895fd5cb2",
        )
    )
    written.append(
        AuditRecord(T0, None, "-", "community", "c-2", "delete", 3, object_id="indicator--x")
    )
    for record in written:
        storage.record_audit(record)
    read = storage.query_audit(AuditQuery())
    assert _without_seq(read) == written
    seqs = [r.seq for r in read]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs) and seqs[0] > 0


def test_seq_given_by_the_caller_is_ignored(storage: Storage) -> None:
    storage.record_audit(AuditRecord(**{**_fields(_record(1)), "seq": 10**9}))
    storage.record_audit(_record(2))
    seqs = [r.seq for r in storage.query_audit(AuditQuery())]
    assert seqs[0] < seqs[1] < 10**9


def test_filters_combine(storage: Storage) -> None:
    for n in range(12):
        storage.record_audit(
            _record(n, user=("alice", "bob", None)[n % 3], collection_id=f"c-{n % 2}")
        )
    every = storage.query_audit(AuditQuery())
    assert [r.count for r in storage.query_audit(AuditQuery(user="bob"))] == [1, 4, 7, 10]
    assert [r.count for r in storage.query_audit(AuditQuery(collection_id="c-1"))] == [
        1,
        3,
        5,
        7,
        9,
        11,
    ]
    assert [
        r.count
        for r in storage.query_audit(AuditQuery(user="alice", collection_id="c-0", since=T0 + 1))
    ] == [6]
    assert [r.count for r in storage.query_audit(AuditQuery(since=T0 + 3, until=T0 + 5))] == [
        3,
        4,
        5,
    ]
    assert storage.query_audit(AuditQuery(user="nobody")) == []
    page = storage.query_audit(AuditQuery(after=every[3].seq, limit=2))
    assert page == every[4:6]


def test_pages_by_seq_cover_everything_once(storage: Storage) -> None:
    for n in range(25):
        storage.record_audit(_record(n))
    seen: list[AuditRecord] = []
    after = 0
    while page := storage.query_audit(AuditQuery(after=after, limit=7)):
        seen.extend(page)
        after = page[-1].seq
    assert [r.count for r in seen] == list(range(25))


def test_records_outlive_their_user_and_collection(
    storage: Storage, collection: Collection
) -> None:
    storage.put_user(User("alice", 1))
    storage.record_audit(_record(1, collection_id=collection.id))
    storage.delete_user("alice")
    storage.delete_collection(collection.api_root, collection.id)
    assert [r.collection_id for r in storage.query_audit(AuditQuery(user="alice"))] == [
        collection.id
    ]


@pytest.mark.parametrize("text", ["", "ünïcode ☃", "x" * 5000, "' OR 1=1 --"])
def test_text_is_kept_verbatim(storage: Storage, text: str) -> None:
    storage.record_audit(AuditRecord(T0, text or None, text, text, text, "objects", 0, query=text))
    (read,) = storage.query_audit(AuditQuery())
    assert (read.user, read.address, read.api_root, read.query) == (text or None, text, text, text)


@pytest.mark.usefixtures("across_processes")
def test_processes_append_without_losing_records(store_url: str, storage: Storage) -> None:
    context = multiprocessing.get_context("spawn")
    processes = [
        context.Process(target=workers.append_audit, args=(store_url, n, 40)) for n in range(3)
    ]
    for process in processes:
        process.start()
    for process in processes:
        process.join()
    assert [p.exitcode for p in processes] == [0, 0, 0]
    records = storage.query_audit(AuditQuery(limit=1000))
    assert len(records) == 120
    for n in range(3):
        mine = [r.count for r in records if r.user == f"writer-{n}"]
        assert mine == list(range(40))  # each process's records in the order it wrote


def test_a_second_connection_sees_a_record_at_once(store_url: str, storage: Storage) -> None:
    other = open_storage(store_url)
    try:
        storage.record_audit(_record(7))
        assert [r.count for r in other.query_audit(AuditQuery())] == [7]
    finally:
        other.close()


DAY = 86_400_000_000


def test_purge_deletes_the_oldest_records_in_batches(storage: Storage) -> None:
    for n in range(12):
        storage.record_audit(replace(_record(n, user=f"user-{n % 3}"), time=T0 + n * DAY))
    assert storage.purge_audit(T0 + 10 * DAY, 4) == 4  # a full batch: more may be left
    assert [r.count for r in storage.query_audit(AuditQuery())][:2] == [4, 5]
    assert storage.purge_audit(T0 + 10 * DAY, 4) == 4
    assert storage.purge_audit(T0 + 10 * DAY, 4) == 2  # fewer than the batch: done
    assert storage.purge_audit(T0 + 10 * DAY, 4) == 0
    kept = storage.query_audit(AuditQuery())
    assert [r.count for r in kept] == [10, 11]
    assert [r.count for r in storage.query_audit(AuditQuery(user="user-1"))] == [10]


def test_records_written_after_a_purge_read_back_whole(store_url: str, storage: Storage) -> None:
    """A purge also forgets texts no record needs any more (SQL); writing them again
    after it must work from this process and from another that remembers them."""
    other = open_storage(store_url)
    try:
        old = replace(_record(1, user="gone"), time=T0)
        other.record_audit(old)
        assert storage.purge_audit(T0 + 400 * DAY, 100) == 1
        for store in (other, storage):
            store.record_audit(replace(old, time=T0 + 401 * DAY))
        records = storage.query_audit(AuditQuery(user="gone"))
        assert [(r.user, r.address, r.query, r.time) for r in records] == [
            ("gone", old.address, old.query, T0 + 401 * DAY)
        ] * 2
    finally:
        other.close()


def test_request_counts_are_kept_per_address_and_window(storage: Storage) -> None:
    for _ in range(3):
        storage.count_request("192.0.2.1", 100)
    storage.count_request("192.0.2.1", 101)
    storage.count_request("2001:db8::/64", 101)
    assert storage.request_counts("192.0.2.1", 101) == (3, 1)
    assert storage.request_counts("192.0.2.1", 100) == (0, 3)
    assert storage.request_counts("2001:db8::/64", 101) == (0, 1)
    assert storage.request_counts("198.51.100.7", 101) == (0, 0)
    storage.count_request("192.0.2.1", 105)  # older windows may be forgotten
    assert storage.request_counts("192.0.2.1", 105) == (0, 1)
