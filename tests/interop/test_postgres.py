"""The same server on PostgreSQL: several gunicorn workers, each with its own
connection pool, one database (skipped when the PostgreSQL binaries are absent)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import pytest
import requests
from taxii2client.v21 import Collection, as_pages

from tests.pg import PgCluster, PgUnavailable

from .conftest import INBOX_ID, INDICATORS_ID, LiveServer, start_server
from .dataset import build_objects, visible_ids
from .server import WORKER_HEADER

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


@pytest.fixture(scope="module")
def pg_live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    try:
        cluster = PgCluster.start_new()
    except PgUnavailable as exc:
        pytest.skip(str(exc))
    try:
        url = cluster.create_database("atlas_interop")
        server = start_server(tmp_path_factory.mktemp("interop-pg"), build_objects(400), url)
        try:
            yield server
        finally:
            server.process.stop()
    finally:
        cluster.stop()


def test_taxii2_client_pages_through_everything(pg_live: LiveServer) -> None:
    collection = Collection(
        pg_live.collection_url(INDICATORS_ID), user="alice", password=pg_live.alice.password
    )
    seen = [
        o["id"] for env in as_pages(collection.get_objects, per_request=64) for o in env["objects"]
    ]
    assert len(seen) == len(set(seen))
    assert set(seen) == visible_ids(pg_live.objects, pg_live.alice.clearance)


def test_add_objects_and_status(pg_live: LiveServer) -> None:
    inbox = Collection(
        pg_live.collection_url(INBOX_ID), user="alice", password=pg_live.alice.password
    )
    identity_id = f"identity--{uuid.uuid4()}"
    status = inbox.add_objects(
        {
            "objects": [
                {
                    "type": "identity",
                    "spec_version": "2.1",
                    "id": identity_id,
                    "created": "2024-06-01T00:00:00.000Z",
                    "modified": "2024-06-01T00:00:00.000Z",
                    "name": "PostgreSQL partner",
                }
            ]
        },
        poll_interval=0.2,
        timeout=30,
    )
    assert (status.status, status.success_count) == ("complete", 1)
    assert [o["id"] for o in inbox.get_object(identity_id)["objects"]] == [identity_id]


def test_next_on_another_worker_after_a_wait(pg_live: LiveServer) -> None:
    url = f"{pg_live.collection_url(INDICATORS_ID)}objects/"
    auth = ("alice", pg_live.alice.password)
    headers = {"Accept": "application/taxii+json;version=2.1"}
    first = requests.get(url, params={"limit": "50"}, auth=auth, headers=headers, timeout=30)
    minted_by = first.headers[WORKER_HEADER]
    time.sleep(1.0)
    for _ in range(200):
        response = requests.get(
            url, params={"next": first.json()["next"]}, auth=auth, headers=headers, timeout=30
        )
        assert response.status_code == 200, response.text
        if response.headers[WORKER_HEADER] != minted_by:
            break
    assert response.headers[WORKER_HEADER] != minted_by
    page = response.json()["objects"]
    assert page and not {o["id"] for o in page} & {o["id"] for o in first.json()["objects"]}
