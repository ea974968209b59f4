"""Adding objects (TAXII 2.1 §5.4): new versions, identical re-posts, conflicts and
objects versioned by content, on every backend."""

from __future__ import annotations

import uuid

import pytest

from taxii_server.storage.base import (
    AddOutcome,
    AddResult,
    Collection,
    Storage,
    StorageNotFound,
)
from tests.storage.stix import query, sco, sdo, ts

ADDED, UNCHANGED, CONFLICT = AddOutcome.ADDED, AddOutcome.UNCHANGED, AddOutcome.CONFLICT


def _stored(storage: Storage, collection: Collection) -> list[tuple[str, int, int, bytes]]:
    page = storage.query_objects(collection.id, query(all_=True, limit=1000))
    return [(o.id, o.version, o.date_added, o.data) for o in page.items]


def test_results_follow_the_input(storage: Storage, collection: Collection) -> None:
    objects = [sdo(modified=ts(i)) for i in range(3)]
    results = storage.add_objects(collection.id, objects)
    assert results == [AddResult(ADDED, ts(i)) for i in range(3)]
    assert storage.add_objects(collection.id, []) == []


def test_identical_repost_is_unchanged_and_stores_nothing(
    storage: Storage, collection: Collection
) -> None:
    first = sdo(modified=ts(1))
    storage.add_objects(collection.id, [first])
    before = _stored(storage, collection)
    results = storage.add_objects(collection.id, [first, first])
    assert results == [AddResult(UNCHANGED, ts(1))] * 2
    assert _stored(storage, collection) == before  # same rows, same date_added


def test_same_version_with_other_content_is_a_conflict(
    storage: Storage, collection: Collection
) -> None:
    original = sdo(modified=ts(1), name="original")
    changed = sdo(original.id, modified=ts(1), name="changed")
    storage.add_objects(collection.id, [original])
    assert storage.add_objects(collection.id, [changed]) == [AddResult(CONFLICT, ts(1))]
    assert [row[3] for row in _stored(storage, collection)] == [original.data]


def test_duplicates_inside_one_envelope(storage: Storage, collection: Collection) -> None:
    one = sdo(modified=ts(1), name="one")
    other = sdo(one.id, modified=ts(1), name="other")
    results = storage.add_objects(collection.id, [one, one, other])
    assert [r.outcome for r in results] == [ADDED, UNCHANGED, CONFLICT]
    assert len(_stored(storage, collection)) == 1


def test_objects_without_timestamps_are_versioned_by_content(
    storage: Storage, collection: Collection
) -> None:
    address = "ipv4-addr--ff11b6e3-0a5b-5c5f-9d2e-6e0a8f7a3b10"
    a = sco("10.0.0.1", object_id=address)
    b = sco("10.0.0.2", object_id=address)  # same id, other content: a new version
    (first,) = storage.add_objects(collection.id, [a])
    assert first.outcome is ADDED
    stored = _stored(storage, collection)
    assert stored[0][1] == stored[0][2] == first.version  # version is its date_added

    results = storage.add_objects(collection.id, [a, b, b, a])
    assert results[0] == AddResult(UNCHANGED, first.version)
    assert results[1].outcome is ADDED and results[1].version > first.version
    assert results[2] == AddResult(UNCHANGED, results[1].version)
    assert results[3] == AddResult(UNCHANGED, first.version)
    versions = [row[1] for row in _stored(storage, collection)]
    assert versions == [first.version, results[1].version]
    latest = storage.query_objects(collection.id, query(ids=(address,))).items
    assert [o.data for o in latest] == [b.data]


def test_bodies_are_kept_byte_for_byte(storage: Storage, collection: Collection) -> None:
    tricky = sdo(
        name="naïve ünïcödé — \U0001f600",
        description='NUL \x00 and quotes " and backslash \\ and \u2028',
        pattern="[ipv4-addr:value = '10.0.0.1']",
    )
    storage.add_objects(collection.id, [tricky])
    assert _stored(storage, collection)[0][3] == tricky.data


def test_versions_before_the_epoch_and_far_ahead(storage: Storage, collection: Collection) -> None:
    old = sdo(modified=-1_000_000)
    far = sdo(modified=253402300799_000000)  # 9999-12-31T23:59:59Z
    assert [r.outcome for r in storage.add_objects(collection.id, [old, far])] == [ADDED, ADDED]
    assert sorted(row[1] for row in _stored(storage, collection)) == [
        -1_000_000,
        253402300799_000000,
    ]


def test_adding_to_a_missing_collection_stores_nothing(
    storage: Storage, collection: Collection
) -> None:
    with pytest.raises(StorageNotFound, match="collection"):
        storage.add_objects(str(uuid.uuid4()), [sdo()])
    assert _stored(storage, collection) == []


def test_a_failed_add_stores_none_of_its_objects(storage: Storage, collection: Collection) -> None:
    """One transaction per call: a status that does not exist aborts the whole add."""
    with pytest.raises(StorageNotFound, match="status"):
        storage.add_objects(collection.id, [sdo(), sdo()], status_id="no-such-status")
    assert _stored(storage, collection) == []
    assert storage.add_objects(collection.id, [sdo()])[0].outcome is ADDED
