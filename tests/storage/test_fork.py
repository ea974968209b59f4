"""A store opened before ``fork()`` keeps working in the parent and the children
(gunicorn's master opens the store, then forks its workers)."""

from __future__ import annotations

import multiprocessing
import os

import pytest

from taxii_server.storage.base import Collection, Storage
from tests.storage.stix import query, sdo

_shared: tuple[Storage, str] | None = None


def _child_adds() -> None:
    assert _shared is not None
    storage, collection_id = _shared
    storage.add_objects(collection_id, [sdo(), sdo()])
    assert len(storage.query_manifest(collection_id, query()).items) >= 3


@pytest.mark.usefixtures("across_processes")
@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork()")
@pytest.mark.filterwarnings("ignore:.*multi-threaded.*fork:DeprecationWarning")
def test_store_survives_fork(storage: Storage, collection: Collection) -> None:
    global _shared
    storage.add_objects(collection.id, [sdo()])  # connections open before the fork
    _shared = (storage, collection.id)
    try:
        context = multiprocessing.get_context("fork")
        children = [context.Process(target=_child_adds) for _ in range(2)]
        for child in children:
            child.start()
        storage.add_objects(collection.id, [sdo()])  # the parent meanwhile
        for child in children:
            child.join()
    finally:
        _shared = None
    assert [c.exitcode for c in children] == [0, 0]
    added = [m.date_added for m in storage.query_manifest(collection.id, query()).items]
    assert len(added) == 6 and added == sorted(set(added))
