"""Several threads of one process share a store (gunicorn gthread workers)."""

from __future__ import annotations

import threading

from taxii_server.storage.base import Collection, Storage
from tests.storage.stix import query, sdo


def test_threads_add_and_read_at_once(storage: Storage, collection: Collection) -> None:
    errors: list[BaseException] = []

    def work() -> None:
        try:
            for _ in range(10):
                storage.add_objects(collection.id, [sdo(), sdo()])
                storage.query_manifest(collection.id, query(limit=5))
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    added = [o.date_added for o in storage.query_manifest(collection.id, query(limit=100)).items]
    assert len(added) == 80 and added == sorted(set(added))
