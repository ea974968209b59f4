"""TLP clearance: an object above the caller's clearance does not exist for them in
any endpoint: objects, manifest, object, versions, delete, counts and headers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson
import pytest

from converters.tlp import MARKING_IDS

from . import data
from .conftest import PUBLIC, SHARED, Caller, all_ids, follow, url
from .test_negotiation import assert_taxii_error

MALWARE = data.MALWARE_V1["id"]
VISIBLE = {
    "bob": [data.IDENTITY, data.IND_CLEAR, data.IND_GREEN, data.MALWARE_V2, data.IP_SCO],
    "amy": [
        data.IDENTITY,
        data.IND_CLEAR,
        data.IND_GREEN,
        data.IND_AMBER,
        data.MALWARE_V2,
        data.IP_SCO,
    ],
    "alice": [
        data.IDENTITY,
        data.IND_CLEAR,
        data.IND_GREEN,
        data.IND_AMBER,
        data.IND_RED,
        data.MALWARE_V3,
        data.IP_SCO,
    ],
}
HIDDEN_FROM = {
    "bob": [data.IND_AMBER, data.IND_RED],
    "amy": [data.IND_RED],
    "alice": [],
}
USERS = list(VISIBLE)


@pytest.mark.parametrize("user", USERS)
def test_objects_pages_hold_only_visible_objects(taxii: Callable[..., Caller], user: str) -> None:
    served = [
        o
        for r in follow(taxii(user), url(SHARED, "objects"))
        for o in orjson.loads(r.data)["objects"]
    ]
    assert sorted(served, key=lambda o: o["id"]) == sorted(VISIBLE[user], key=lambda o: o["id"])


@pytest.mark.parametrize("user", USERS)
def test_manifest_holds_only_visible_versions(taxii: Callable[..., Caller], user: str) -> None:
    entries = [
        e
        for r in follow(taxii(user), url(SHARED, "manifest"), {"match[version]": "all"})
        for e in orjson.loads(r.data)["objects"]
    ]
    malware_versions = [e["version"][:10] for e in entries if e["id"] == MALWARE]
    expected = {"bob": 2, "amy": 2, "alice": 3}[user]
    assert len(malware_versions) == expected
    assert {e["id"] for e in entries} == {o["id"] for o in VISIBLE[user]}


@pytest.mark.parametrize("user", [u for u in USERS if HIDDEN_FROM[u]])
@pytest.mark.parametrize(
    "endpoint",
    [
        pytest.param(lambda oid: url(SHARED, "objects", oid), id="object"),
        pytest.param(lambda oid: url(SHARED, "objects", oid, "versions"), id="versions"),
    ],
)
def test_hidden_objects_are_404_on_their_own_urls(
    taxii: Callable[..., Caller], user: str, endpoint: Callable[[str], str]
) -> None:
    for hidden in HIDDEN_FROM[user]:
        assert_taxii_error(taxii(user).get(endpoint(hidden["id"])), 404)


@pytest.mark.parametrize("path", [url(SHARED, "objects"), url(SHARED, "manifest")])
def test_filtering_for_a_hidden_object_reveals_nothing(
    taxii: Callable[..., Caller], path: str
) -> None:
    response = taxii("bob").get(path, {"match[id]": data.IND_RED["id"]})
    assert orjson.loads(response.data) == {"more": False}  # no empty list (TAXII 2.1 §2)
    assert response.headers["X-TAXII-Date-Added-Last"] == "1970-01-01T00:00:00.000000Z"


def test_headers_reflect_only_visible_objects(taxii: Callable[..., Caller]) -> None:
    query = {"match[type]": "indicator"}
    green = taxii("bob").get(url(SHARED, "objects"), query)
    red = taxii("alice").get(url(SHARED, "objects"), query)
    green_last = green.headers["X-TAXII-Date-Added-Last"]
    red_last = red.headers["X-TAXII-Date-Added-Last"]
    assert green_last < red_last  # IND_GREEN's date_added, not IND_RED's
    manifest = taxii("bob").get(url(SHARED, "manifest"), query)
    assert orjson.loads(manifest.data)["objects"][-1]["date_added"] == green_last


def test_anonymous_callers_of_a_public_collection_get_tlp_clear(
    taxii: Callable[..., Caller],
) -> None:
    seen = all_ids(taxii(None), url(PUBLIC, "objects"))
    assert sorted(seen) == sorted([data.IND_CLEAR["id"], data.IDENTITY["id"]])
    # An authenticated user reads the same public collection at their own clearance.
    assert data.IND_GREEN["id"] in all_ids(taxii("bob"), url(PUBLIC, "objects"))


def _post(caller: Caller, obj: dict[str, Any]) -> None:
    response = caller.post(url(SHARED, "objects"), {"objects": [obj]})
    assert orjson.loads(response.data)["success_count"] == 1, response.data


@pytest.mark.parametrize(
    "obj",
    [
        pytest.param(
            data.indicator("granular")
            | {
                "description": "who reported this",
                "granular_markings": [
                    {"marking_ref": MARKING_IDS["red"], "selectors": ["description"]}
                ],
            },
            id="granular-red",
        ),
        pytest.param(
            data.indicator("tlp1-red")
            | {"object_marking_refs": ["marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed"]},
            id="tlp-1.0-red",
        ),
        pytest.param(data.indicator("strict", "amber+strict"), id="amber-strict"),
    ],
)
def test_every_way_of_marking_hides_an_object(
    taxii: Callable[..., Caller], obj: dict[str, Any]
) -> None:
    _post(taxii("alice"), obj)
    assert_taxii_error(taxii("amy").get(url(SHARED, "objects", obj["id"])), 404)
    assert taxii("alice").get(url(SHARED, "objects", obj["id"])).status_code == 200
