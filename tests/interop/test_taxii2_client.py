"""taxii2-client 2.3 (v21) against a real multi-worker server: discovery, API root,
collections, paging through a whole collection, the manifest, adding objects and
polling their status."""

from __future__ import annotations

import uuid

import pytest
import requests
from taxii2client.common import TokenAuth
from taxii2client.v21 import ApiRoot, Collection, Server, as_pages

from .conftest import INBOX_ID, INDICATORS_ID, LiveServer
from .dataset import MULTI_VERSION_ID, MULTI_VERSIONS, visible_ids


def _collection(live: LiveServer, collection_id: str, user: str, password: str) -> Collection:
    return Collection(live.collection_url(collection_id), user=user, password=password)


def test_discovery_api_root_and_collections(live: LiveServer) -> None:
    server = Server(live.discovery_url, user="alice", password=live.alice.password)
    assert server.title == live.settings.title
    assert server.default is not None and server.default.url.endswith("/community/")
    (api_root,) = server.api_roots
    assert api_root.title == "Community"
    assert "application/taxii+json;version=2.1" in api_root.versions
    assert api_root.max_content_length == live.settings.max_content_length

    by_title = {c.title: c for c in api_root.collections}
    # alice reads Indicators, reads and writes Inbox, and may read the public one.
    assert set(by_title) == {"Indicators", "Inbox", "Public"}
    assert (by_title["Indicators"].can_read, by_title["Indicators"].can_write) == (True, False)
    assert (by_title["Inbox"].can_read, by_title["Inbox"].can_write) == (True, True)
    for collection in by_title.values():
        assert uuid.UUID(collection.id).version == 4  # Microsoft Sentinel insists


def test_a_user_without_grants_sees_only_public_collections(live: LiveServer) -> None:
    api_root = ApiRoot(f"{live.base_url}/community/", user="bob", password=live.bob.password)
    assert [c.title for c in api_root.collections] == ["Public"]


@pytest.mark.parametrize("per_request", [50, 100, 500])
def test_as_pages_reads_the_whole_collection_once(live: LiveServer, per_request: int) -> None:
    collection = _collection(live, INDICATORS_ID, "alice", live.alice.password)
    seen: list[str] = []
    pages = 0
    for envelope in as_pages(collection.get_objects, per_request=per_request):
        objects = envelope.get("objects", [])
        assert len(objects) <= per_request
        seen.extend(o["id"] for o in objects)
        pages += 1
    assert len(seen) == len(set(seen)), "an object came twice"
    assert set(seen) == visible_ids(live.objects, live.alice.clearance)
    assert pages >= len(seen) // per_request


def test_clearance_decides_what_a_reader_gets(live: LiveServer) -> None:
    root = _collection(live, INDICATORS_ID, "root", live.root.password)
    ids = {o["id"] for env in as_pages(root.get_objects, per_request=500) for o in env["objects"]}
    assert ids == visible_ids(live.objects, live.root.clearance)
    assert ids > visible_ids(live.objects, live.alice.clearance)


def test_limit_above_the_maximum_is_capped(live: LiveServer) -> None:
    collection = _collection(live, INDICATORS_ID, "root", live.root.password)
    envelope = collection.get_objects(limit=100_000)
    assert len(envelope["objects"]) == live.settings.max_limit
    assert envelope["more"] is True and envelope["next"]


def test_filters_and_versions(live: LiveServer) -> None:
    collection = _collection(live, INDICATORS_ID, "alice", live.alice.password)
    malware = [
        o
        for env in as_pages(collection.get_objects, per_request=100, type="malware")
        for o in env["objects"]
    ]
    assert malware and {o["type"] for o in malware} == {"malware"}

    latest = collection.get_object(MULTI_VERSION_ID)["objects"]
    assert [o["modified"] for o in latest] == [MULTI_VERSIONS[-1]]
    versions = collection.object_versions(MULTI_VERSION_ID)["versions"]
    assert len(versions) == len(MULTI_VERSIONS)
    every = collection.get_objects(id=MULTI_VERSION_ID, version="all")["objects"]
    assert sorted(o["modified"] for o in every) == list(MULTI_VERSIONS)


def test_manifest_pages_match_the_objects(live: LiveServer) -> None:
    collection = _collection(live, INDICATORS_ID, "alice", live.alice.password)
    entries = [
        e for env in as_pages(collection.get_manifest, per_request=200) for e in env["objects"]
    ]
    assert {e["id"] for e in entries} == visible_ids(live.objects, live.alice.clearance)
    added = [e["date_added"] for e in entries]
    assert added == sorted(added) and len(set(added)) == len(added)
    assert all(e["media_type"] == "application/stix+json;version=2.1" for e in entries)


def test_add_objects_then_poll_status_then_read_back(live: LiveServer) -> None:
    collection = _collection(live, INBOX_ID, "alice", live.alice.password)
    indicator_id = f"indicator--{uuid.uuid4()}"
    envelope = {
        "objects": [
            {
                "type": "indicator",
                "spec_version": "2.1",
                "id": indicator_id,
                "created": "2024-06-01T00:00:00.000Z",
                "modified": "2024-06-01T00:00:00.000Z",
                "pattern": "[ipv4-addr:value = '198.51.100.7']",
                "pattern_type": "stix",
                "valid_from": "2024-06-01T00:00:00.000Z",
            },
            {"type": "indicator", "spec_version": "2.1", "id": f"indicator--{uuid.uuid4()}"},
        ]
    }
    status = collection.add_objects(envelope, poll_interval=0.2, timeout=30)
    assert status.status == "complete"
    assert (status.total_count, status.success_count, status.failure_count) == (2, 1, 1)
    assert status.successes[0]["id"] == indicator_id
    assert status.failures[0]["message"]  # says why the bare indicator was refused

    # Posting the same object again is a success that stores nothing new (§5.5).
    again = collection.add_objects({"objects": envelope["objects"][:1]}, poll_interval=0.2)
    assert (again.success_count, again.failure_count) == (1, 0)
    stored = collection.get_objects(id=indicator_id, version="all")["objects"]
    assert len(stored) == 1

    # The status is readable from any worker, by URL, for its owner.
    refreshed = ApiRoot(
        f"{live.base_url}/community/", user="alice", password=live.alice.password
    ).get_status(status.id)
    assert refreshed.status == "complete" and refreshed.success_count == 1


def test_a_collection_without_a_grant_does_not_exist_for_the_caller(live: LiveServer) -> None:
    collection = _collection(live, INBOX_ID, "root", live.root.password)
    with pytest.raises(requests.HTTPError) as info:
        collection.get_objects()
    assert info.value.response.status_code == 404


def test_token_auth_with_an_api_key(live: LiveServer) -> None:
    collection = Collection(live.collection_url(INDICATORS_ID), auth=TokenAuth(live.alice.api_key))
    assert collection.can_read
    assert collection.get_objects(limit=5)["objects"]
