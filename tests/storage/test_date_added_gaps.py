"""``date_added`` does not let a reader count the objects hidden from them (issue 9,
item 7).  It used to be ``+1 µs`` per object in the order posted: a TLP:CLEAR reader
seeing 10, 13 knew that two objects above their clearance were posted in between.
Now a write stamps its objects least restricted first, and starts on a whole
millisecond, so neither the gaps within a write nor where the next one starts depend
on how many objects were hidden."""

from __future__ import annotations

import uuid

import pytest

from taxii_server.storage import versions
from taxii_server.storage.base import ApiRoot, Collection, Storage
from tests.storage.stix import T0, query, sdo

CLEAR = 0


def _collection(storage: Storage, title: str) -> Collection:
    storage.put_api_root(ApiRoot("community", "Community"))
    collection = Collection(str(uuid.uuid4()), "community", title)
    storage.create_collection(collection)
    return collection


def _seen(storage: Storage, collection: Collection, clearance: int) -> list[int]:
    return [e.date_added for e in storage.query_manifest(collection.id, query(clearance)).items]


def test_within_a_write_a_readers_objects_come_without_gaps(storage: Storage) -> None:
    collection = _collection(storage, "Mixed")
    levels = ["clear", "red", "green", "red", "red", "clear", "amber", "clear"]
    storage.add_objects(collection.id, [sdo(tlp=level) for level in levels])
    for clearance in range(5):
        seen = _seen(storage, collection, clearance)
        assert seen == list(range(seen[0], seen[0] + len(seen))), clearance
    assert _seen(storage, collection, CLEAR)[0] % versions.DATE_ADDED_GRANULE == 0


@pytest.mark.parametrize("hidden", [1, 5, 400])
def test_where_the_next_write_starts_does_not_depend_on_what_was_hidden(
    storage: Storage, monkeypatch: pytest.MonkeyPatch, hidden: int
) -> None:
    # The clock stands still, as it nearly does for writes a few microseconds apart:
    # before, the next write started right after the hidden ones.
    monkeypatch.setattr(versions, "now_us", lambda: T0 + 7)
    collection = _collection(storage, f"Hidden {hidden}")
    storage.add_objects(
        collection.id,
        [sdo(tlp="clear")] + [sdo(tlp="red")] * 0 + [sdo(tlp="red") for _ in range(hidden)],
    )
    storage.add_objects(collection.id, [sdo(tlp="clear")])
    first, second = _seen(storage, collection, CLEAR)
    granule = versions.DATE_ADDED_GRANULE
    assert (first, second) == (T0 + granule, T0 + 2 * granule)
