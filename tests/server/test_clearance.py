"""TLP clearance: an object above the caller's clearance does not exist for them in
any endpoint: objects, manifest, object, versions, delete, counts and headers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson
import pytest

from converters.tlp import MARKING_IDS
from taxii_server.storage.base import AuditQuery, Grant

from . import data
from .conftest import PUBLIC, SHARED, Caller, World, all_ids, follow, url
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


PUBLIC_CLEAR = sorted([data.IND_CLEAR["id"], data.IDENTITY["id"]])


@pytest.mark.parametrize("user", [None, "bob", "carol"])
def test_a_public_collection_gives_tlp_clear_to_everyone_without_a_grant(
    taxii: Callable[..., Caller], world: World, user: str | None
) -> None:
    """Anonymous or signed in, without a read grant a public collection shows its
    TLP:CLEAR objects only, on every endpoint: signing in widens nothing by itself."""
    caller = taxii(user)
    assert sorted(all_ids(caller, url(PUBLIC, "objects"))) == PUBLIC_CLEAR
    manifest = orjson.loads(caller.get(url(PUBLIC, "manifest")).data)["objects"]
    assert sorted(entry["id"] for entry in manifest) == PUBLIC_CLEAR
    green = data.IND_GREEN["id"]
    assert_taxii_error(caller.get(url(PUBLIC, "objects", green)), 404)
    assert_taxii_error(caller.get(url(PUBLIC, "objects", green, "versions")), 404)
    records = world.storage.query_audit(AuditQuery(collection_id=PUBLIC))
    assert records and all(r.query.startswith("tlp=clear") for r in records)


def test_a_read_grant_on_a_public_collection_gives_the_users_clearance(
    taxii: Callable[..., Caller], world: World
) -> None:
    world.storage.set_grant(Grant("bob", PUBLIC, can_read=True, can_write=False))
    seen = all_ids(taxii("bob"), url(PUBLIC, "objects"))
    assert sorted(seen) == sorted([*PUBLIC_CLEAR, data.IND_GREEN["id"]])
    # A write grant alone does not: it gives no right to read.
    world.storage.set_grant(Grant("carol", PUBLIC, can_read=False, can_write=True))
    assert sorted(all_ids(taxii("carol"), url(PUBLIC, "objects"))) == PUBLIC_CLEAR
    # Admins read everything at their clearance.
    assert data.IND_GREEN["id"] in all_ids(taxii("root"), url(PUBLIC, "objects"))


def test_a_next_token_of_a_granted_reader_gives_others_tlp_clear(
    taxii: Callable[..., Caller], world: World
) -> None:
    """Clearance comes from the caller's access to the collection, never from a token
    minted by someone with more."""
    world.storage.set_grant(Grant("bob", PUBLIC, can_read=True, can_write=False))
    first = orjson.loads(taxii("bob").get(url(PUBLIC, "objects"), {"limit": "1"}).data)
    assert first["more"]
    rest = follow(taxii("carol"), url(PUBLIC, "objects"), {"next": first["next"]})
    seen = [o["id"] for page in rest for o in orjson.loads(page.data).get("objects", [])]
    assert data.IND_GREEN["id"] not in seen


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
