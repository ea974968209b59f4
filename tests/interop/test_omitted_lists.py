"""The server leaves out every list that would be empty (TAXII 2.1 §2): an empty page
is ``{"more": false}``, a status without failures has no ``failures``.  The clients
partners use read such answers as they read full ones: taxii2-client 2.3 and the
stix2 library's TAXIICollectionSource, against the real multi-worker server."""

from __future__ import annotations

import uuid
from typing import Any

from stix2 import Filter, TAXIICollectionSource
from taxii2client.v21 import Collection, as_pages

from .conftest import INBOX_ID, INDICATORS_ID, LiveServer
from .dataset import MULTI_VERSION_ID

_NOTHING = {"type": "x-nothing-of-this-type"}


def _collection(live: LiveServer, collection_id: str) -> Collection:
    return Collection(
        live.collection_url(collection_id), user="alice", password=live.alice.password
    )


def _indicator() -> dict[str, Any]:
    return {
        "type": "indicator",
        "spec_version": "2.1",
        "id": f"indicator--{uuid.uuid4()}",
        "created": "2024-06-01T00:00:00.000Z",
        "modified": "2024-06-01T00:00:00.000Z",
        "pattern": "[ipv4-addr:value = '198.51.100.7']",
        "pattern_type": "stix",
        "valid_from": "2024-06-01T00:00:00.000Z",
    }


def test_taxii2_client_reads_empty_pages(live: LiveServer) -> None:
    collection = _collection(live, INDICATORS_ID)
    assert collection.get_objects(**_NOTHING) == {"more": False}
    assert collection.get_manifest(**_NOTHING) == {"more": False}
    pages = list(as_pages(collection.get_objects, per_request=50, **_NOTHING))
    assert pages == [{"more": False}]
    assert [p.get("objects", []) for p in pages] == [[]]
    versions = collection.object_versions(MULTI_VERSION_ID, spec_version="2.0")
    assert versions == {"more": False}


def test_taxii2_client_reads_statuses_without_some_lists(live: LiveServer) -> None:
    inbox = _collection(live, INBOX_ID)
    fine = inbox.add_objects({"objects": [_indicator()]}, poll_interval=0.2, timeout=30)
    assert fine.status == "complete" and (fine.success_count, fine.failure_count) == (1, 0)
    assert fine.failures == [] and fine.pendings == []  # the client's own default
    refused = inbox.add_objects(
        {"objects": [{"type": "indicator", "id": f"indicator--{uuid.uuid4()}"}]},
        poll_interval=0.2,
        timeout=30,
    )
    assert (refused.success_count, refused.failure_count) == (0, 1)
    assert refused.successes == [] and refused.failures[0]["message"]
    refused.refresh()  # GET the status resource: the same shape, accepted again
    assert refused.failure_count == 1


def test_stix2_data_source_reads_empty_answers(live: LiveServer) -> None:
    source = TAXIICollectionSource(_collection(live, INDICATORS_ID), items_per_page=300)
    assert source.query([Filter("type", "=", "x-nothing-of-this-type")]) == []
    assert source.get(f"indicator--{uuid.uuid4()}") is None  # 404
    assert source.all_versions(f"indicator--{uuid.uuid4()}") == []
    latest = source.get(MULTI_VERSION_ID)
    assert latest is not None and latest.id == MULTI_VERSION_ID
