"""Object and manifest pages (TAXII 2.1 §3.4, §5.3, §5.4): filters, order, ``more``."""

from __future__ import annotations

import uuid

import pytest

from taxii_server.storage.base import Collection, NewObject, Storage, StoredObject
from taxii_server.timestamps import now_us
from tests.storage.stix import query, sco, sdo


def _all(
    storage: Storage, collection: Collection, limit: int, **filters: object
) -> list[list[StoredObject]]:
    """Every page of a query, resuming after the last date_added as a poller does."""
    pages: list[list[StoredObject]] = []
    after = None
    while True:
        page = storage.query_objects(collection.id, query(limit=limit, after=after, **filters))  # type: ignore[arg-type]
        pages.append(page.items)
        if not page.more:
            return pages
        assert len(page.items) == limit
        after = page.items[-1].date_added


def _mixed(storage: Storage, collection: Collection) -> list[NewObject]:
    objects = [
        sdo(type_="indicator", name="i1"),
        sdo(type_="malware", name="m1", is_family=False),
        sco("10.0.0.1"),
        sdo(type_="indicator", name="i2"),
        sdo(type_="malware", name="m2", is_family=True),
        sco("10.0.0.2"),
        sdo(type_="threat-actor", name="t1"),
    ]
    storage.add_objects(collection.id, objects[:4])
    storage.add_objects(collection.id, objects[4:])
    return objects


def test_objects_come_back_in_date_added_order_with_their_bytes(
    storage: Storage, collection: Collection
) -> None:
    before = now_us()
    objects = _mixed(storage, collection)
    page = storage.query_objects(collection.id, query())
    assert [o.id for o in page.items] == [o.id for o in objects]
    assert [o.data for o in page.items] == [o.data for o in objects]
    assert [o.spec_version for o in page.items] == ["2.1"] * 7
    added = [o.date_added for o in page.items]
    assert added == sorted(set(added))  # unique and strictly increasing
    assert added[0] >= before  # never earlier than the moment of the add
    assert not page.more


@pytest.mark.parametrize("limit", [1, 2, 3, 7, 8])
def test_pages_resume_after_the_last_date_added(
    storage: Storage, collection: Collection, limit: int
) -> None:
    objects = _mixed(storage, collection)
    pages = _all(storage, collection, limit)
    assert [o.id for page in pages for o in page] == [o.id for o in objects]
    # `more` is false on the last page even when it is exactly full.
    assert all(len(page) == limit for page in pages[:-1])
    assert 0 < len(pages[-1]) <= limit or len(objects) % limit == 0


def test_manifest_matches_objects(storage: Storage, collection: Collection) -> None:
    _mixed(storage, collection)
    objects = storage.query_objects(collection.id, query(limit=4))
    manifest = storage.query_manifest(collection.id, query(limit=4))
    assert manifest.more is objects.more is True
    assert [(m.id, m.date_added, m.version, m.spec_version) for m in manifest.items] == [
        (o.id, o.date_added, o.version, o.spec_version) for o in objects.items
    ]


def test_filter_by_ids(storage: Storage, collection: Collection) -> None:
    objects = _mixed(storage, collection)
    wanted = (objects[5].id, objects[0].id, "indicator--00000000-0000-4000-8000-000000000000")
    page = storage.query_objects(collection.id, query(ids=wanted))
    assert [o.id for o in page.items] == [objects[0].id, objects[5].id]  # date_added order


@pytest.mark.parametrize(
    ("types", "expected"),
    [
        pytest.param(("malware",), [1, 4], id="one"),
        pytest.param(("malware", "ipv4-addr"), [1, 2, 4, 5], id="two"),
        pytest.param(("ipv4-addr", "malware", "malware"), [1, 2, 4, 5], id="repeated"),
        pytest.param(("unknown-type",), [], id="unknown"),
        pytest.param(("unknown-type", "threat-actor"), [6], id="unknown-and-known"),
    ],
)
def test_filter_by_types(
    storage: Storage, collection: Collection, types: tuple[str, ...], expected: list[int]
) -> None:
    objects = _mixed(storage, collection)
    for limit in (1, 2, 100):  # paging through several types keeps the order
        pages = _all(storage, collection, limit, types=types)
        assert [o.id for page in pages for o in page] == [objects[i].id for i in expected]


def test_filter_by_very_many_types(storage: Storage, collection: Collection) -> None:
    objects = _mixed(storage, collection)
    many = tuple(f"x-type-{n}" for n in range(600)) + ("malware", "threat-actor")
    pages = _all(storage, collection, 2, types=many)
    assert [o.id for page in pages for o in page] == [objects[i].id for i in (1, 4, 6)]


def test_filter_by_ids_and_types_together(storage: Storage, collection: Collection) -> None:
    objects = _mixed(storage, collection)
    ids = (objects[0].id, objects[1].id, objects[2].id)
    page = storage.query_objects(collection.id, query(ids=ids, types=("malware", "ipv4-addr")))
    assert [o.id for o in page.items] == [objects[1].id, objects[2].id]


def test_filter_by_spec_version(storage: Storage, collection: Collection) -> None:
    _mixed(storage, collection)
    assert len(storage.query_objects(collection.id, query(spec_versions=("2.1",))).items) == 7
    assert storage.query_objects(collection.id, query(spec_versions=("2.0",))).items == []
    both = query(spec_versions=("2.0", "2.1"))
    assert len(storage.query_objects(collection.id, both).items) == 7


def test_after_excludes_the_bound(storage: Storage, collection: Collection) -> None:
    _mixed(storage, collection)
    every = storage.query_objects(collection.id, query()).items
    later = storage.query_objects(collection.id, query(after=every[2].date_added)).items
    assert later == every[3:]
    assert storage.query_objects(collection.id, query(after=every[-1].date_added)).items == []


def test_collections_do_not_see_each_others_objects(
    storage: Storage, collection: Collection
) -> None:
    other = Collection(str(uuid.uuid4()), "community", "Other")
    storage.create_collection(other)
    storage.add_objects(collection.id, [sdo()])
    storage.add_objects(other.id, [sdo(), sdo()])
    assert len(storage.query_objects(collection.id, query()).items) == 1
    assert len(storage.query_manifest(other.id, query()).items) == 2


def test_unknown_collection_has_no_objects(storage: Storage) -> None:
    page = storage.query_objects(str(uuid.uuid4()), query())
    assert page.items == [] and not page.more


def test_date_added_increases_across_adds(storage: Storage, collection: Collection) -> None:
    for _ in range(5):
        storage.add_objects(collection.id, [sdo(), sdo()])
    added = [o.date_added for o in storage.query_objects(collection.id, query()).items]
    assert len(added) == 10 and all(a < b for a, b in zip(added, added[1:], strict=False))
