"""Concurrency: writer processes and pollers against a multi-worker server, on SQLite
and PostgreSQL (TAXII 2.1 §3.4.2, ``added_after``; Appendix B, ``next``).

Three writer processes post envelopes to one collection of a live server with three
gunicorn workers, while four pollers read it over and over, each resuming from the
``X-TAXII-Date-Added-Last`` of its previous answer; two of them follow ``next`` while
``more`` is true.  When the writers are done, each poller polls until an empty page.
Every poller must then have seen every committed object exactly once: none missed
because a transaction committed behind the poller's cursor, none twice because pages
overlapped.  That is what ``date_added`` assigned under the collection's write lock
(docs/design.md) promises; here it is checked through the whole stack.
"""

from __future__ import annotations

import itertools
import multiprocessing
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.hardening.clients import Poller, write, writer_objects
from tests.hardening.live import INBOX, LiveTaxii, deploy
from tests.pg import PgCluster

WRITERS, ENVELOPES, SIZE = 3, 12, 40
POLLERS = [(False, 29), (False, 97), (True, 13), (True, 50)]  # (follow next, limit)
WAIT = 180.0  # seconds the writers may take before the test gives up
_databases = itertools.count()

BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
]


@pytest.fixture(params=BACKENDS)
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[LiveTaxii]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'taxii.db'}"
    else:
        cluster: PgCluster = request.getfixturevalue("pg_cluster")
        url = cluster.create_database(f"concurrency_{next(_databases)}")
    live = deploy(tmp_path, url, workers=3).start()
    try:
        yield live
    finally:
        live.stop()


def _run_poller(poller: Poller, writing: threading.Event, errors: list[BaseException]) -> None:
    try:
        with requests.Session() as session:
            while writing.is_set():
                poller.poll(session)
            while poller.poll(session) or poller._next is not None:
                pass
    except BaseException as exc:  # reported by the test thread
        errors.append(exc)


@pytest.mark.slow
def test_every_poller_sees_every_committed_object_once(server: LiveTaxii) -> None:
    objects_url = server.url(INBOX, "objects")
    context = multiprocessing.get_context("spawn")
    writers = [
        context.Process(target=write, args=(objects_url, server.writer.api_key, n, ENVELOPES, SIZE))
        for n in range(WRITERS)
    ]
    pollers = [
        Poller(objects_url, server.reader.api_key, follow_next, limit)
        for follow_next, limit in POLLERS
    ]
    writing = threading.Event()
    writing.set()
    errors: list[BaseException] = []
    threads = [threading.Thread(target=_run_poller, args=(p, writing, errors)) for p in pollers]
    for thread in threads:
        thread.start()
    try:
        for process in writers:
            process.start()
        for process in writers:
            process.join(WAIT)
    finally:
        writing.clear()
        for process in writers:
            if process.is_alive():
                process.kill()
        for thread in threads:
            thread.join(WAIT)
    assert [p.exitcode for p in writers] == [0] * WRITERS
    assert not errors, errors

    committed = {
        o["id"]
        for writer in range(WRITERS)
        for envelope in range(ENVELOPES)
        for o in writer_objects(writer, envelope, SIZE)
    }
    for poller in pollers:
        duplicates = len(poller.seen) - len(set(poller.seen))
        assert duplicates == 0, f"{poller}: {duplicates} objects seen twice"
        assert set(poller.seen) == committed, f"missed {len(committed - set(poller.seen))}"
    # The pollers really did poll while the writers wrote.
    assert all(p.requests > ENVELOPES for p in pollers), [p.requests for p in pollers]
