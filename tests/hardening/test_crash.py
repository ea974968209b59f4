"""Crash safety: a server SIGKILLed in the middle of storing a 50,000-object envelope
loses nothing it reported and shows nothing half-written, on SQLite and PostgreSQL.

The envelope is posted to a live ``atlas-taxii serve``; as soon as a late object of it
is visible in the store, the gunicorn master and every worker are killed at once (what
a power cut, the OOM killer or ``kill -9`` does).  After a restart on the same store:

* the status (found through the audit log, which records a POST before anything is
  stored) lists as successes exactly the objects the collection holds, and each of
  them is stored byte for byte as posted: a chunk is stored with its status entries
  in one transaction, so there is no object without its success and no success
  without its object;
* once twice the request timeout has passed, the status is complete: the objects the
  killed worker never reached are failures that say to post them again;
* posting failures again stores them, each object once.
"""

from __future__ import annotations

import contextlib
import itertools
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
import requests

from taxii_server.service import ABANDONED_MESSAGE
from taxii_server.storage.base import AuditQuery, ObjectQuery, Status, Storage, VersionSelector
from taxii_server.storage.versions import canonical_json
from tests.hardening.live import ROOT, SECRET, TAXII, LiveTaxii, deploy, post_envelope
from tests.interop.dataset import build_objects
from tests.pg import PgCluster

OBJECTS = 49_995  # + the dataset's 5 marking definitions: 50,000, the default maximum
KILL_AFTER = 10_000  # kill once the object at this position is stored
REQUEST_TIMEOUT = 2  # seconds; a status is abandoned after twice this
RETRIED = 2_000  # failures the client posts again
WAIT = 120.0  # seconds any one step may take before the test gives up
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
        url = cluster.create_database(f"crash_{next(_databases)}")
    live = deploy(
        tmp_path,
        url,
        workers=2,
        request_timeout=REQUEST_TIMEOUT,
        max_content_length=64 * 1024 * 1024,
    )
    try:
        yield live
    finally:
        live.stop()


def _wait_for(condition: Any, what: str) -> None:
    deadline = time.monotonic() + WAIT
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.01)


def _stored(storage: Storage) -> dict[str, bytes]:
    """Every stored version in the collection: id -> body."""
    found: dict[str, bytes] = {}
    after = None
    while True:
        query = ObjectQuery(
            clearance=4, limit=5000, after=after, versions=VersionSelector(last=False, all=True)
        )
        page = storage.query_objects(SECRET, query)
        for item in page.items:
            assert item.id not in found, f"{item.id} stored twice"
            found[item.id] = item.data
        if not page.more:
            return found
        after = page.items[-1].date_added


def _status(server: LiveTaxii, status_id: str) -> dict[str, Any]:
    response = requests.get(
        f"{server.base_url}/{ROOT}/status/{status_id}/",
        headers={"Accept": TAXII, **server.writer.bearer},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = orjson.loads(response.content)
    return body


@pytest.mark.slow
def test_sigkill_while_storing_loses_nothing_reported(server: LiveTaxii) -> None:
    objects = build_objects(OBJECTS)
    by_id = {o["id"]: o for o in objects if o["id"] != objects[-1]["id"]}
    # One version per id, so "stored once" is a property of ids.
    objects = list(by_id.values())
    assert len(objects) == 50_000
    marker = objects[KILL_AFTER]["id"]
    server.start()
    storage = server.open_store()
    try:
        outcome: list[BaseException | requests.Response] = []

        def post() -> None:
            try:
                outcome.append(post_envelope(server, SECRET, objects, timeout=WAIT))
            except requests.RequestException as exc:
                outcome.append(exc)

        poster = threading.Thread(target=post)
        poster.start()
        probe = ObjectQuery(clearance=4, limit=1, ids=(marker,))
        _wait_for(lambda: storage.query_manifest(SECRET, probe).items, "the first chunks")
        server.kill()
        poster.join(WAIT)
        assert outcome and isinstance(outcome[0], requests.RequestException), outcome

        # Before any server runs again: the store alone must be consistent.
        (record,) = storage.query_audit(AuditQuery(collection_id=SECRET))
        assert (record.action, record.user, record.count) == ("add", "writer", len(objects))
        assert record.status_id is not None
        status = storage.get_status(ROOT, record.status_id)
        assert status is not None
        stored = _stored(storage)
        _assert_consistent(status, stored, objects)
        assert KILL_AFTER < len(stored) < len(objects), "the kill must land mid-way"

        server.start()
        # The status, over HTTP, once the killed worker's pendings are abandoned.
        _wait_for(
            lambda: _status(server, record.status_id or "")["status"] == "complete",
            "the abandoned status to complete",
        )
        reported = _status(server, record.status_id)
        assert reported["success_count"] == len(stored)
        assert reported["failure_count"] == len(objects) - len(stored)
        assert {f["message"] for f in reported["failures"]} == {ABANDONED_MESSAGE}
        assert _stored(storage) == stored  # the restart changed nothing

        # The client does what the status says: post the failures again (a slice of
        # them: storing tens of thousands more objects proves nothing new).
        retry = [by_id[f["id"]] for f in reported["failures"][:RETRIED]]
        again = post_envelope(server, SECRET, retry, timeout=WAIT)
        assert again.status_code == 202, again.text
        body = orjson.loads(again.content)
        assert body["success_count"] == len(retry) and body["failure_count"] == 0
        final = _stored(storage)
        assert set(final) == set(stored) | {o["id"] for o in retry}
        assert all(final[i] == canonical_json(by_id[i]) for i in final)
    finally:
        storage.close()
        with contextlib.suppress(Exception):
            server.stop()


def _assert_consistent(status: Status, stored: dict[str, bytes], objects: list[Any]) -> None:
    """Successes and stored objects are the same set; every body is whole."""
    posted = {o["id"]: o for o in objects}
    successes = {s.id for s in status.successes}
    assert not status.failures
    assert successes == set(stored), (len(successes), len(stored))
    assert {p.id for p in status.pendings} == set(posted) - successes
    for object_id, body in stored.items():
        assert body == canonical_json(posted[object_id]), f"{object_id} is not as posted"
