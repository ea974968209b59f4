"""API roots and collections (TAXII 2.1 §4.2, §5.1, §5.2), on every backend."""

from __future__ import annotations

import uuid
from dataclasses import replace
from typing import Any

import pytest

from taxii_server.storage.base import (
    ApiRoot,
    Collection,
    Grant,
    Status,
    Storage,
    StorageConflict,
    StorageNotFound,
    User,
)
from tests.storage.stix import T0, query, sdo


def _collection(title: str, api_root: str = "community", **fields: object) -> Collection:
    return Collection(str(uuid.uuid4()), api_root, title, **fields)  # type: ignore[arg-type]


def test_api_roots_are_created_replaced_and_listed(storage: Storage) -> None:
    assert storage.list_api_roots() == []
    storage.put_api_root(ApiRoot("b", "B"))
    storage.put_api_root(ApiRoot("a", "A", "first", 1024))
    storage.put_api_root(ApiRoot("b", "B2", "replaced", 2048))
    assert storage.list_api_roots() == [
        ApiRoot("a", "A", "first", 1024),
        ApiRoot("b", "B2", "replaced", 2048),
    ]
    assert storage.get_api_root("a") == ApiRoot("a", "A", "first", 1024)
    assert storage.get_api_root("missing") is None


def test_collection_round_trips_every_field(storage: Storage) -> None:
    storage.put_api_root(ApiRoot("community", "Community"))
    created = _collection(
        "Indicators",
        description="Ä description",
        alias="ind",
        public=True,
        media_types=("application/stix+json;version=2.1", "application/stix+json"),
    )
    storage.create_collection(created)
    assert storage.get_collection("community", created.id) == created
    assert storage.list_collections("community") == [created]


def test_collection_is_found_by_alias_and_an_id_wins_over_an_alias(storage: Storage) -> None:
    storage.put_api_root(ApiRoot("community", "Community"))
    first = _collection("First")
    second = _collection("Second", alias=first.id)  # an alias that is another's id
    third = _collection("Third", alias="third")
    for c in (first, second, third):
        storage.create_collection(c)
    assert storage.get_collection("community", "third") == third
    assert storage.get_collection("community", first.id) == first
    assert storage.get_collection("community", "nothing") is None


def test_collections_are_scoped_by_api_root(storage: Storage) -> None:
    storage.put_api_root(ApiRoot("one", "One"))
    storage.put_api_root(ApiRoot("two", "Two"))
    a = _collection("Same title", "one", alias="same")
    b = _collection("Same title", "two", alias="same")  # title and alias unique per root
    storage.create_collection(a)
    storage.create_collection(b)
    assert storage.list_collections("one") == [a]
    assert storage.get_collection("two", "same") == b
    assert storage.get_collection("two", a.id) is None


def test_collections_list_in_title_order(storage: Storage) -> None:
    storage.put_api_root(ApiRoot("community", "Community"))
    made = [_collection(title) for title in ("b", "c", "a")]
    for c in made:
        storage.create_collection(c)
    assert [c.title for c in storage.list_collections("community")] == ["a", "b", "c"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        pytest.param({"title": "Taken"}, "titled 'Taken'", id="title"),
        pytest.param({"alias": "taken"}, "aliased 'taken'", id="alias"),
    ],
)
def test_duplicate_title_or_alias_is_a_conflict(
    storage: Storage, change: dict[str, Any], message: str
) -> None:
    storage.put_api_root(ApiRoot("community", "Community"))
    storage.create_collection(_collection("Taken", alias="taken"))
    with pytest.raises(StorageConflict, match=message):
        storage.create_collection(replace(_collection("Other"), **change))
    assert len(storage.list_collections("community")) == 1


def test_duplicate_id_is_a_conflict_and_collections_without_alias_coexist(
    storage: Storage,
) -> None:
    storage.put_api_root(ApiRoot("community", "Community"))
    first = _collection("One")
    storage.create_collection(first)
    storage.create_collection(_collection("Two"))
    with pytest.raises(StorageConflict, match=first.id):
        storage.create_collection(replace(first, title="Three"))


def test_collection_in_a_missing_api_root_is_not_found(storage: Storage) -> None:
    with pytest.raises(StorageNotFound, match="nowhere"):
        storage.create_collection(_collection("X", "nowhere"))


def test_update_collection_replaces_fields_and_keeps_rules(storage: Storage) -> None:
    storage.put_api_root(ApiRoot("community", "Community"))
    one = _collection("One", alias="one")
    two = _collection("Two", alias="two")
    storage.create_collection(one)
    storage.create_collection(two)
    changed = replace(one, title="Uno", alias=None, public=True, description="d")
    storage.update_collection(changed)
    assert storage.get_collection("community", one.id) == changed
    storage.update_collection(replace(changed, title="Uno"))  # its own title is no conflict
    with pytest.raises(StorageConflict, match="titled 'Two'"):
        storage.update_collection(replace(changed, title="Two"))
    with pytest.raises(StorageConflict, match="aliased 'two'"):
        storage.update_collection(replace(changed, alias="two"))
    with pytest.raises(StorageNotFound):
        storage.update_collection(_collection("Ghost"))
    assert storage.get_collection("community", one.id) == changed


def test_delete_collection_takes_objects_grants_and_statuses(
    storage: Storage, collection: Collection
) -> None:
    storage.add_objects(collection.id, [sdo()])
    storage.put_user(User("alice", 1))
    storage.set_grant(Grant("alice", collection.id, True, True))
    status = Status("s1", "community", collection.id, "alice", T0, T0, 0)
    storage.create_status(status)

    storage.delete_collection("community", collection.id)

    assert storage.get_collection("community", collection.id) is None
    assert storage.get_grant("alice", collection.id) is None
    assert storage.list_grants("alice") == []
    assert storage.get_status("community", "s1") is None
    # A collection created again under the same id starts empty.
    storage.create_collection(collection)
    assert storage.query_objects(collection.id, query()).items == []
    with pytest.raises(StorageNotFound):
        storage.delete_collection("community", str(uuid.uuid4()))
