"""Access: a user of collection A learns nothing about collection B, and TLP clearance
holds on every endpoint, for ``next`` tokens minted by someone else, and for status
resources.

"Learns nothing" is checked literally: every request about a collection the caller may
not see gets the very answer (status, body, TAXII headers) that the same request about
a collection that does not exist gets, once the two ids are swapped; and every request
about an object above the caller's clearance gets the answer a missing object gets.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import orjson
import pytest
from werkzeug.test import TestResponse

from taxii_server.storage.base import Grant
from tests.server import data
from tests.server.conftest import OTHER, ROOT, SHARED, Caller, World, url

NOWHERE = "00000000-0000-4000-8000-00000000beef"
MISSING = "indicator--00000000-0000-4000-8000-00000000cafe"
_HEADERS = ("Content-Type", "X-TAXII-Date-Added-First", "X-TAXII-Date-Added-Last", "Allow",
            "WWW-Authenticate", "Cache-Control")  # fmt: skip


def _seen(response: TestResponse, *secrets: str) -> tuple[int, dict[str, Any], dict[str, str]]:
    """What a caller can observe of a response, with ``secrets`` blanked out."""
    text = response.data.decode()
    for secret in secrets:
        text = text.replace(secret, "<id>")
    body = orjson.loads(text) if text else {}
    headers = {h: response.headers[h] for h in _HEADERS if h in response.headers}
    return response.status_code, body, headers


def _requests(collection: str, object_id: str) -> list[tuple[str, str, dict[str, str]]]:
    objects = url(collection, "objects")
    return [
        ("GET", url(collection), {}),
        ("GET", objects, {}),
        ("GET", objects, {"match[id]": object_id, "limit": "1"}),
        ("GET", url(collection, "manifest"), {"added_after": "2024-01-01T00:00:00Z"}),
        ("GET", url(collection, "objects", object_id), {}),
        ("GET", url(collection, "objects", object_id, "versions"), {}),
        ("DELETE", url(collection, "objects", object_id), {}),
        ("POST", objects, {}),
    ]


def _send(caller: Caller, method: str, path: str, query: dict[str, str]) -> TestResponse:
    if method == "POST":
        return caller.post(path, {"objects": [data.indicator("probe")]})
    if method == "DELETE":
        return caller.delete(path, query)
    return caller.get(path, query)


@pytest.mark.parametrize("user", ["carol", None])
def test_another_collection_is_indistinguishable_from_none(
    taxii: Callable[..., Caller], world: World, user: str | None
) -> None:
    caller = taxii(user)
    for (method, path, query), (_, missing_path, _) in zip(
        _requests(SHARED, data.IND_GREEN["id"]), _requests(NOWHERE, data.IND_GREEN["id"]),
        strict=True,
    ):  # fmt: skip
        real = _seen(_send(caller, method, path, query), SHARED)
        missing = _seen(_send(caller, method, missing_path, query), NOWHERE)
        assert real == missing, (method, path)
        assert real[0] in (401, 404)
    # Nor by alias or title, nor in the list of collections.
    assert _seen(caller.get(url("shared")), "shared") == _seen(caller.get(url("nope")), "nope")
    listing = caller.get(f"/{ROOT}/collections/")
    assert SHARED.encode() not in listing.data and b"Shared" not in listing.data


def test_statuses_of_others_are_indistinguishable_from_none(
    taxii: Callable[..., Caller],
) -> None:
    posted = orjson.loads(taxii("alice").post(url(SHARED, "objects"), {"objects": [
        data.indicator("for alice's eyes", "red")]}).data)  # fmt: skip
    status_id = posted["id"]
    for user in ("carol", "bob", "amy", "walt"):
        real = taxii(user).get(f"/{ROOT}/status/{status_id}/")
        missing = taxii(user).get(f"/{ROOT}/status/{uuid.uuid4()}/")
        assert real.status_code == 404
        assert _seen(real, status_id) == _seen(missing, orjson.loads(missing.data)["description"]
                                               .split("'")[1])  # fmt: skip
    assert taxii("root").get(f"/{ROOT}/status/{status_id}/").status_code == 200
    assert taxii(None).get(f"/{ROOT}/status/{status_id}/").status_code == 401


def test_a_next_token_of_another_collection_reveals_nothing(
    taxii: Callable[..., Caller],
) -> None:
    token = orjson.loads(taxii("alice").get(url(SHARED, "objects"), {"limit": "1"}).data)["next"]
    carol = taxii("carol")
    real = _seen(carol.get(url(SHARED, "objects"), {"next": token}), SHARED)
    missing = _seen(carol.get(url(NOWHERE, "objects"), {"next": token}), NOWHERE)
    assert real == missing and real[0] == 404
    own = carol.get(url(OTHER, "objects"), {"next": token})
    assert own.status_code == 400 and SHARED.encode() not in own.data


# -- TLP clearance ------------------------------------------------------------------------

GREEN_VISIBLE = [data.IDENTITY, data.IND_CLEAR, data.IND_GREEN, data.MALWARE_V2, data.IP_SCO]


@pytest.fixture
def bob(taxii: Callable[..., Caller], world: World) -> Caller:
    """Green, with read and write on the shared collection (so delete is allowed)."""
    world.storage.set_grant(Grant("bob", SHARED, True, True))
    return taxii("bob")


@pytest.mark.parametrize("hidden", [data.IND_RED, data.IND_AMBER], ids=["red", "amber"])
def test_objects_above_clearance_are_indistinguishable_from_none(
    bob: Caller, taxii: Callable[..., Caller], hidden: dict[str, Any]
) -> None:
    object_id = hidden["id"]
    for (method, path, query), (_, missing_path, missing_query) in zip(
        _requests(SHARED, object_id), _requests(SHARED, MISSING), strict=True
    ):
        if method == "POST":
            continue
        if "match[id]" in missing_query:
            missing_query = {**missing_query, "match[id]": MISSING}
        real = _seen(_send(bob, method, path, query), object_id)
        missing = _seen(_send(bob, method, missing_path, missing_query), MISSING)
        assert real == missing, (method, path)
    # Still there, for those cleared for it.
    assert taxii("alice").get(url(SHARED, "objects", object_id)).status_code == 200


def test_hidden_versions_are_indistinguishable_from_none(bob: Caller) -> None:
    malware = url(SHARED, "objects", data.MALWARE_V1["id"])
    versions = orjson.loads(bob.get(f"{malware}versions/").data)["versions"]
    assert versions == ["2024-03-01T00:00:00.000000Z", "2024-03-02T00:00:00.000000Z"]
    assert orjson.loads(bob.get(malware).data)["objects"] == [data.MALWARE_V2]
    for selector in ("last", "first,last", "all"):
        body = orjson.loads(bob.get(malware, {"match[version]": selector}).data)
        assert data.MALWARE_V3 not in body["objects"]
    red_version = _seen(bob.get(malware, {"match[version]": "2024-03-03T00:00:00Z"}))
    no_version = _seen(bob.get(malware, {"match[version]": "2024-03-04T00:00:00Z"}))
    assert red_version == no_version


@pytest.mark.parametrize("endpoint", ["objects", "manifest"])
def test_more_and_next_do_not_hint_at_hidden_objects(bob: Caller, endpoint: str) -> None:
    exact = bob.get(url(SHARED, endpoint), {"limit": str(len(GREEN_VISIBLE))})
    body = orjson.loads(exact.data)
    assert len(body["objects"]) == len(GREEN_VISIBLE)
    assert body["more"] is False and "next" not in body  # red objects follow, unseen


@pytest.mark.parametrize("endpoint", ["objects", "manifest"])
def test_tokens_minted_by_red_give_green_only_green(
    taxii: Callable[..., Caller], bob: Caller, endpoint: str
) -> None:
    path = url(SHARED, endpoint)
    token = orjson.loads(taxii("alice").get(path, {"limit": "1"}).data)["next"]
    seen: list[str] = []
    query: dict[str, str] = {"next": token}
    while True:
        body = orjson.loads(bob.get(path, query).data)
        seen.extend(o["id"] for o in body["objects"])
        if not body["more"]:
            break
        query = {"next": body["next"]}
    assert data.IND_RED["id"] not in seen and data.IND_AMBER["id"] not in seen
    assert set(seen) == {o["id"] for o in GREEN_VISIBLE[1:]}


def test_versions_tokens_minted_by_red_give_green_only_green(
    taxii: Callable[..., Caller], bob: Caller
) -> None:
    path = url(SHARED, "objects", data.MALWARE_V1["id"], "versions")
    token = orjson.loads(taxii("alice").get(path, {"limit": "1"}).data)["next"]
    body = orjson.loads(bob.get(path, {"next": token}).data)
    assert body["versions"] == ["2024-03-02T00:00:00.000000Z"]
    assert body["more"] is False


def test_date_added_headers_do_not_reveal_hidden_objects(bob: Caller, world: World) -> None:
    real = bob.get(url(SHARED, "objects"), {"match[id]": data.IND_RED["id"]})
    missing = bob.get(url(SHARED, "objects"), {"match[id]": MISSING})
    assert real.headers["X-TAXII-Date-Added-Last"] == missing.headers["X-TAXII-Date-Added-Last"]
    assert real.headers["X-TAXII-Date-Added-Last"] == "1970-01-01T00:00:00.000000Z"


def test_a_status_lists_only_what_its_poster_sent(taxii: Callable[..., Caller]) -> None:
    """A green writer's status names the objects it posted, nothing else stored."""
    walt = taxii("walt")  # green, write-only
    posted = orjson.loads(walt.post(url(SHARED, "objects"), {"objects": [
        data.indicator("walt's")]}).data)  # fmt: skip
    status = orjson.loads(walt.get(f"/{ROOT}/status/{posted['id']}/").data)
    listed = {e["id"] for key in ("successes", "failures", "pendings") for e in status.get(key, [])}
    assert listed == {data.indicator("walt's")["id"]}
    assert status["total_count"] == 1
