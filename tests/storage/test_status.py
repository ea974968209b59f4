"""Status resources (TAXII 2.1 §4.3): pendings move with their objects, atomically."""

from __future__ import annotations

import uuid
from dataclasses import replace

import pytest

from taxii_server.storage.base import (
    AddOutcome,
    AuditQuery,
    AuditRecord,
    Collection,
    ObjectQuery,
    Status,
    StatusDetail,
    Storage,
    StorageConflict,
    StorageNotFound,
    User,
)
from taxii_server.storage.versions import CONFLICT_MESSAGE
from taxii_server.timestamps import format_timestamp, now_us
from tests.storage.stix import T0, sdo, ts


def _status(collection: Collection, pendings: list[str], **fields: object) -> Status:
    entries = tuple(StatusDetail(i, format_timestamp(ts(1))) for i in pendings)
    values: dict[str, object] = {
        "id": str(uuid.uuid4()),
        "api_root": collection.api_root,
        "collection_id": collection.id,
        "owner": "alice",
        "request_timestamp": T0,
        "updated": T0,
        "total_count": len(pendings),
        "pendings": entries,
        **fields,
    }
    return Status(**values)  # type: ignore[arg-type]


def test_status_round_trips(storage: Storage, collection: Collection) -> None:
    status = _status(
        collection,
        ["indicator--1", "indicator--2"],
        successes=(StatusDetail("indicator--0", "2024-06-01T00:00:00.000000Z"),),
        failures=(StatusDetail("bad--1", "", "not valid STIX: $.type"),),
        total_count=4,
        owner=None,
    )
    storage.create_status(status)
    assert storage.get_status(collection.api_root, status.id) == status
    assert storage.get_status("other-root", status.id) is None
    assert storage.get_status(collection.api_root, "missing") is None
    with pytest.raises(StorageConflict):
        storage.create_status(status)


def test_status_for_a_missing_collection_is_refused(
    storage: Storage, collection: Collection
) -> None:
    with pytest.raises(StorageNotFound):
        storage.create_status(_status(collection, [], collection_id=str(uuid.uuid4())))


def test_adding_moves_entries_from_pending(storage: Storage, collection: Collection) -> None:
    good, repeat, clash = sdo(modified=ts(1)), sdo(modified=ts(1)), sdo(modified=ts(1))
    storage.add_objects(collection.id, [repeat, clash])
    clash2 = sdo(clash.id, modified=ts(1), name="different")
    late = sdo(modified=ts(1))
    status = _status(collection, [good.id, repeat.id, clash.id, late.id])
    storage.create_status(status)
    before = now_us()

    storage.add_objects(collection.id, [good, repeat, clash2], status_id=status.id)

    got = storage.get_status(collection.api_root, status.id)
    assert got is not None
    version = format_timestamp(ts(1))
    assert got.successes == (StatusDetail(good.id, version), StatusDetail(repeat.id, version))
    assert got.failures == (StatusDetail(clash.id, version, CONFLICT_MESSAGE),)
    assert got.pendings == (StatusDetail(late.id, version),)
    assert (got.success_count, got.failure_count, got.pending_count) == (2, 1, 1)
    assert not got.complete and got.updated >= before and got.total_count == 4

    storage.add_objects(collection.id, [late], status_id=status.id)
    done = storage.get_status(collection.api_root, status.id)
    assert done is not None and done.complete and done.success_count == 3


def test_repeated_ids_move_one_pending_entry_each(storage: Storage, collection: Collection) -> None:
    one = sdo(modified=ts(1))
    newer = sdo(one.id, modified=ts(2))
    status = _status(collection, [one.id, one.id, one.id])
    storage.create_status(status)
    storage.add_objects(collection.id, [one, newer], status_id=status.id)
    got = storage.get_status(collection.api_root, status.id)
    assert got is not None
    assert [d.version for d in got.successes] == [format_timestamp(ts(1)), format_timestamp(ts(2))]
    assert got.pending_count == 1


def test_an_object_without_pending_entry_is_recorded(
    storage: Storage, collection: Collection
) -> None:
    expected = sdo(modified=ts(2))
    status = _status(collection, [expected.id])
    storage.create_status(status)
    stray = sdo(modified=ts(3))
    storage.add_objects(collection.id, [expected, stray], status_id=status.id)
    got = storage.get_status(collection.api_root, status.id)
    assert got is not None and got.pendings == ()
    assert got.successes == (
        StatusDetail(expected.id, format_timestamp(ts(2))),
        StatusDetail(stray.id, format_timestamp(ts(3))),
    )


def test_large_status_moves_in_chunks(storage: Storage, collection: Collection) -> None:
    objects = [sdo(modified=ts(1)) for _ in range(1200)]
    status = _status(collection, [o.id for o in objects])
    storage.create_status(status)
    for start in range(0, 1200, 500):
        storage.add_objects(collection.id, objects[start : start + 500], status_id=status.id)
        got = storage.get_status(collection.api_root, status.id)
        assert got is not None and got.success_count == min(start + 500, 1200)
    assert got is not None and got.complete
    assert [d.id for d in got.successes] == [o.id for o in objects]  # original order


def test_purge_removes_statuses_not_updated_since(storage: Storage, collection: Collection) -> None:
    old = _status(collection, ["indicator--x"], updated=ts(0))
    touched = _status(collection, ["indicator--y"], updated=ts(0))
    fresh = _status(collection, [], updated=ts(100))
    for status in (old, touched, fresh):
        storage.create_status(status)
    storage.add_objects(collection.id, [sdo()], status_id=touched.id)  # refreshes `updated`
    assert storage.purge_statuses(ts(50)) == 1
    assert storage.get_status(collection.api_root, old.id) is None
    assert storage.get_status(collection.api_root, touched.id) is not None
    assert storage.get_status(collection.api_root, fresh.id) is not None
    assert storage.purge_statuses(ts(50)) == 0


def test_a_removed_users_statuses_are_not_a_new_user_of_that_name(
    storage: Storage, collection: Collection
) -> None:
    storage.put_user(User("alice", 1))
    status = _status(collection, [], owner="alice")
    storage.create_status(status)
    stored = storage.get_status(collection.api_root, status.id)
    assert stored is not None and stored.owner == "alice"
    storage.delete_user("alice")
    storage.put_user(User("alice", 1))  # someone else, under the same name
    disowned = storage.get_status(collection.api_root, status.id)
    assert disowned == replace(status, owner=None)  # kept, for admins


def test_a_status_posted_by_a_user_removed_meanwhile_has_no_owner(
    storage: Storage, collection: Collection
) -> None:
    status = _status(collection, ["indicator--1"], owner="removed-while-posting")
    storage.create_status(status)
    stored = storage.get_status(collection.api_root, status.id)
    assert stored is not None and stored.owner is None


def _addition(collection: Collection, status: Status) -> AuditRecord:
    return AuditRecord(
        time=T0,
        user="alice",
        address="192.0.2.7",
        api_root=collection.api_root,
        collection_id=collection.id,
        action="add",
        count=status.total_count,
        status_id=status.id,
        query="tlp=red",
    )


def test_an_envelope_is_stored_with_its_status_and_audit_record(
    storage: Storage, collection: Collection
) -> None:
    stored, clash = sdo(modified=ts(1)), sdo(modified=ts(1))
    storage.add_objects(collection.id, [stored, clash])
    objects = [sdo(modified=ts(2)), stored, sdo(clash.id, modified=ts(1), name="other")]
    invalid = StatusDetail("$.objects[1]", "", "not valid STIX")
    status = _status(collection, [], total_count=4, failures=(invalid,))
    audit = _addition(collection, status)

    results = storage.add_envelope(status, objects, audit)

    assert [r.outcome for r in results] == [
        AddOutcome.ADDED,
        AddOutcome.UNCHANGED,
        AddOutcome.CONFLICT,
    ]
    got = storage.get_status(collection.api_root, status.id)
    assert got is not None and got.complete and got.total_count == 4
    version = format_timestamp(ts(1))
    assert got.successes == (
        StatusDetail(objects[0].id, format_timestamp(ts(2))),
        StatusDetail(stored.id, version),
    )
    assert got.failures == (invalid, StatusDetail(clash.id, version, CONFLICT_MESSAGE))
    (record,) = storage.query_audit(AuditQuery(collection_id=collection.id))
    assert (record.action, record.status_id, record.count) == ("add", status.id, 4)
    page = storage.query_objects(collection.id, ObjectQuery(clearance=4, limit=10))
    assert {o.id for o in page.items} == {objects[0].id, stored.id, clash.id}


def test_an_envelope_for_a_missing_collection_stores_nothing(
    storage: Storage, collection: Collection
) -> None:
    status = _status(collection, [], collection_id=str(uuid.uuid4()))
    with pytest.raises(StorageNotFound):
        storage.add_envelope(status, [sdo()], _addition(collection, status))
    assert storage.get_status(collection.api_root, status.id) is None
    assert storage.query_audit(AuditQuery()) == []
