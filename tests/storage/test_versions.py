"""Version selection per clearance (TAXII 2.1 §3.4.1 ``match[version]``), TLP
visibility and deletion (§5.7), on every backend."""

from __future__ import annotations

import pytest

from taxii_server.storage.base import Collection, NewObject, Storage
from tests.storage.stix import query, sdo, ts

ID = "indicator--6f0c3ea1-6b0e-4bd5-9f31-4a1e5f1f3c11"


def _versions(storage: Storage, collection: Collection, **selection: object) -> list[int]:
    page = storage.query_objects(collection.id, query(ids=(ID,), **selection))  # type: ignore[arg-type]
    return sorted(o.version for o in page.items)


def _add(storage: Storage, collection: Collection, *objects: NewObject) -> None:
    storage.add_objects(collection.id, list(objects))


@pytest.mark.parametrize(
    ("selection", "expected"),
    [
        pytest.param({}, [3], id="default-last"),
        pytest.param({"first": True, "last": False}, [1], id="first"),
        pytest.param({"first": True}, [1, 3], id="first-and-last"),
        pytest.param({"all_": True}, [1, 2, 3], id="all"),
        pytest.param({"last": False, "at": (ts(2),)}, [2], id="at"),
        pytest.param({"at": (ts(2),)}, [2, 3], id="at-and-last"),
        pytest.param({"last": False, "at": (ts(9),)}, [], id="at-unknown"),
        pytest.param({"last": False}, [], id="nothing-selected"),
    ],
)
def test_version_selection(
    storage: Storage, collection: Collection, selection: dict[str, object], expected: list[int]
) -> None:
    # Added out of order: masks follow the version timestamps, not arrival.
    _add(storage, collection, sdo(ID, modified=ts(2)))
    _add(storage, collection, sdo(ID, modified=ts(3)), sdo(ID, modified=ts(1)))
    assert _versions(storage, collection, **selection) == [ts(v) for v in expected]


@pytest.mark.parametrize(
    ("clearance", "last", "first", "every"),
    [
        pytest.param(0, 1, 1, [1], id="clear"),
        pytest.param(1, 2, 1, [1, 2], id="green"),
        pytest.param(2, 2, 1, [1, 2], id="amber"),
        pytest.param(4, 3, 1, [1, 2, 3], id="red"),
    ],
)
def test_latest_and_first_are_per_clearance(
    storage: Storage,
    collection: Collection,
    clearance: int,
    last: int,
    first: int,
    every: list[int],
) -> None:
    """A newer, more restricted version is invisible: the reader's latest is the newest
    version they may see, and they cannot tell that another exists."""
    _add(
        storage,
        collection,
        sdo(ID, modified=ts(1), tlp="clear"),
        sdo(ID, modified=ts(2), tlp="green"),
        sdo(ID, modified=ts(3), tlp="red"),
    )
    assert _versions(storage, collection, clearance=clearance) == [ts(last)]
    assert _versions(storage, collection, clearance=clearance, first=True, last=False) == [
        ts(first)
    ]
    assert _versions(storage, collection, clearance=clearance, all_=True) == [ts(v) for v in every]
    manifest = storage.query_manifest(collection.id, query(clearance=clearance, all_=True))
    assert sorted(m.version for m in manifest.items) == [ts(v) for v in every]
    hidden = query(clearance=clearance, last=False, at=(ts(3),))
    assert len(storage.query_objects(collection.id, hidden).items) == (clearance >= 4)


def test_restricted_first_version_moves_first_for_lower_clearance(
    storage: Storage, collection: Collection
) -> None:
    _add(storage, collection, sdo(ID, modified=ts(1), tlp="amber"), sdo(ID, modified=ts(2)))
    assert _versions(storage, collection, clearance=0, first=True, last=False) == [ts(2)]
    assert _versions(storage, collection, clearance=2, first=True, last=False) == [ts(1)]


def test_an_object_wholly_above_clearance_does_not_exist(
    storage: Storage, collection: Collection
) -> None:
    _add(storage, collection, sdo(ID, modified=ts(1), tlp="red"), sdo(tlp="amber+strict"))
    assert storage.query_objects(collection.id, query(clearance=2, all_=True)).items == []
    assert len(storage.query_objects(collection.id, query(clearance=3, all_=True)).items) == 1
    assert storage.delete_objects(collection.id, ID, query(clearance=3, all_=True)) == 0
    assert _versions(storage, collection, all_=True) == [ts(1)]


def test_granular_markings_rank_the_whole_object(storage: Storage, collection: Collection) -> None:
    marked = sdo(
        ID,
        granular_markings=[
            {
                "marking_ref": "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
                "selectors": ["name"],
            }
        ],
        name="secret",
    )
    assert marked.tlp == 4
    _add(storage, collection, marked)
    assert _versions(storage, collection, clearance=3) == []
    assert _versions(storage, collection, clearance=4) == [marked.version]


def test_delete_latest_makes_the_previous_version_latest(
    storage: Storage, collection: Collection
) -> None:
    _add(storage, collection, *(sdo(ID, modified=ts(v)) for v in (1, 2, 3)))
    assert storage.delete_objects(collection.id, ID, query()) == 1
    assert _versions(storage, collection) == [ts(2)]
    assert _versions(storage, collection, first=True, last=False) == [ts(1)]
    assert storage.delete_objects(collection.id, ID, query(first=True, last=False)) == 1
    assert _versions(storage, collection, first=True, last=False) == [ts(2)]
    assert _versions(storage, collection, all_=True) == [ts(2)]


def test_delete_respects_clearance_and_recomputes_masks_for_every_level(
    storage: Storage, collection: Collection
) -> None:
    _add(
        storage,
        collection,
        sdo(ID, modified=ts(1)),
        sdo(ID, modified=ts(2), tlp="green"),
        sdo(ID, modified=ts(3), tlp="red"),
    )
    # A green reader deleting "all" removes what they can see and nothing more.
    assert storage.delete_objects(collection.id, ID, query(clearance=1, all_=True)) == 2
    assert _versions(storage, collection, all_=True) == [ts(3)]
    assert _versions(storage, collection, clearance=4, first=True, last=False) == [ts(3)]
    assert _versions(storage, collection, clearance=1, first=True) == []


def test_delete_by_version_and_spec_version(storage: Storage, collection: Collection) -> None:
    _add(storage, collection, *(sdo(ID, modified=ts(v)) for v in (1, 2, 3)))
    assert storage.delete_objects(collection.id, ID, query(last=False, at=(ts(2),))) == 1
    assert storage.delete_objects(collection.id, ID, query(all_=True, spec_versions=("2.0",))) == 0
    assert _versions(storage, collection, all_=True) == [ts(1), ts(3)]
    assert storage.delete_objects(collection.id, ID, query(all_=True)) == 2
    assert _versions(storage, collection, all_=True) == []
    # A deleted version may be stored again.
    assert storage.add_objects(collection.id, [sdo(ID, modified=ts(2))])[0].outcome.value == "added"
    assert _versions(storage, collection) == [ts(2)]


def test_delete_touches_only_the_named_object_and_collection(
    storage: Storage, collection: Collection
) -> None:
    other = sdo(modified=ts(1))
    _add(storage, collection, sdo(ID, modified=ts(1)), other)
    assert storage.delete_objects(collection.id, "indicator--missing", query(all_=True)) == 0
    assert storage.delete_objects("no-such-collection", ID, query(all_=True)) == 0
    assert storage.delete_objects(collection.id, ID, query(all_=True)) == 1
    assert [o.id for o in storage.query_objects(collection.id, query()).items] == [other.id]
