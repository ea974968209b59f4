"""Several writer processes and a poller on one collection (TAXII 2.1 §3.4.2).

The property that keeps pollers whole: resuming after the last ``date_added`` seen,
a reader sees every committed object exactly once, in strictly increasing
``date_added`` order, however the writers' transactions interleave with its reads.
"""

from __future__ import annotations

import multiprocessing
import time

import pytest

from taxii_server.storage.base import Collection, ManifestEntry, Storage
from tests.storage import workers
from tests.storage.stix import query

WRITERS, BATCHES, SIZE = 3, 15, 20


@pytest.mark.usefixtures("across_processes")
def test_poller_sees_each_object_once_while_processes_write(
    store_url: str, storage: Storage, collection: Collection
) -> None:
    context = multiprocessing.get_context("spawn")
    processes = [
        context.Process(
            target=workers.write_batches,
            args=(store_url, collection.id, writer, BATCHES, SIZE),
        )
        for writer in range(WRITERS)
    ]
    seen: list[ManifestEntry] = []

    def poll() -> bool:
        after = seen[-1].date_added if seen else None
        page = storage.query_manifest(collection.id, query(limit=37, after=after))
        seen.extend(page.items)
        return bool(page.items)

    for process in processes:
        process.start()
    try:
        while any(process.is_alive() for process in processes):
            poll()
            time.sleep(0.002)  # leave the writers some CPU; not a timing assertion
    finally:
        for process in processes:
            process.join()
    assert [p.exitcode for p in processes] == [0] * WRITERS
    while poll():
        pass

    expected = {i for w in range(WRITERS) for i in workers.writer_ids(w, BATCHES, SIZE)}
    assert len(seen) == len(expected) == WRITERS * BATCHES * SIZE
    assert {entry.id for entry in seen} == expected
    added = [entry.date_added for entry in seen]
    assert all(a < b for a, b in zip(added, added[1:], strict=False))
    # Each writer's objects keep their order: one envelope's objects are contiguous.
    position = {entry.id: n for n, entry in enumerate(seen)}
    for writer in range(WRITERS):
        ids = workers.writer_ids(writer, BATCHES, SIZE)
        assert [position[i] for i in ids] == sorted(position[i] for i in ids)
        for start in range(0, len(ids), SIZE):
            chunk = [position[i] for i in ids[start : start + SIZE]]
            assert chunk == list(range(chunk[0], chunk[0] + SIZE))
