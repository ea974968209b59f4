"""The stix2 library's TAXII data store (TAXIICollectionSource / Sink) against the
real server: query, get, all_versions, and add."""

from __future__ import annotations

import uuid

import stix2
from stix2 import Filter, TAXIICollectionSink, TAXIICollectionSource
from taxii2client.v21 import Collection

from .conftest import INBOX_ID, INDICATORS_ID, LiveServer
from .dataset import MULTI_VERSION_ID, MULTI_VERSIONS, visible_ids


def _source(live: LiveServer, user: str, password: str) -> TAXIICollectionSource:
    collection = Collection(live.collection_url(INDICATORS_ID), user=user, password=password)
    # items_per_page below the server's page size limit, so query() follows `next`.
    return TAXIICollectionSource(collection, items_per_page=300)


def test_query_by_type_pages_through_everything(live: LiveServer) -> None:
    source = _source(live, "alice", live.alice.password)
    indicators = source.query([Filter("type", "=", "indicator")])
    expected = {
        i for i in visible_ids(live.objects, live.alice.clearance) if i.startswith("indicator--")
    }
    assert {o.id for o in indicators} == expected
    assert all(isinstance(o, stix2.v21.Indicator) for o in indicators)


def test_get_returns_the_latest_version(live: LiveServer) -> None:
    source = _source(live, "alice", live.alice.password)
    latest = source.get(MULTI_VERSION_ID)
    assert latest is not None and latest.id == MULTI_VERSION_ID
    assert latest.modified == stix2.utils.parse_into_datetime(MULTI_VERSIONS[-1])


def test_all_versions(live: LiveServer) -> None:
    source = _source(live, "alice", live.alice.password)
    versions = source.all_versions(MULTI_VERSION_ID)
    assert sorted(v.modified for v in versions) == [
        stix2.utils.parse_into_datetime(m) for m in MULTI_VERSIONS
    ]


def test_an_object_above_the_clearance_is_not_found(live: LiveServer) -> None:
    red = next(o for o in live.objects if o["id"] not in visible_ids(live.objects, 2))
    assert _source(live, "alice", live.alice.password).get(red["id"]) is None
    found = _source(live, "root", live.root.password).get(red["id"])
    assert found is not None and found.id == red["id"]


def test_sink_adds_and_source_reads_back(live: LiveServer) -> None:
    inbox = Collection(live.collection_url(INBOX_ID), user="alice", password=live.alice.password)
    identity = stix2.v21.Identity(
        id=f"identity--{uuid.uuid4()}", name="Atlas test partner", identity_class="organization"
    )
    TAXIICollectionSink(inbox).add(identity)
    found = TAXIICollectionSource(inbox).get(identity.id)
    assert found is not None and found.name == "Atlas test partner"
