"""Pagination (TAXII 2.1 §3.4 ``limit`` and ``next``, Appendix B): consistent
``more``/``next``, stateless signed tokens that survive restarts, minutes of waiting
and dropped filters, and that are re-authorised against whoever presents them."""

from __future__ import annotations

from collections.abc import Callable

import orjson
import pytest
from flask import Flask

from . import data
from .conftest import (
    OTHER,
    PUBLIC,
    SHARED,
    Caller,
    FakeClock,
    World,
    all_ids,
    basic,
    follow,
    ids_of,
    password_of,
    store,
    url,
)
from .test_negotiation import assert_taxii_error
from .test_objects import LATEST_FOR_RED

OBJECTS = url(SHARED, "objects")
MANIFEST = url(SHARED, "manifest")


def first_page(caller: Caller, path: str = OBJECTS, **query: str) -> dict[str, object]:
    response = caller.get(path, query)
    assert response.status_code == 200, response.data
    body: dict[str, object] = orjson.loads(response.data)
    return body


def test_default_limit_applies_without_limit(taxii: Callable[..., Caller]) -> None:
    body = first_page(taxii("alice"))
    assert len(body["objects"]) == 4  # type: ignore[arg-type]  # settings.default_limit
    assert body["more"] is True and isinstance(body["next"], str)


def test_limit_never_exceeds_the_maximum(taxii: Callable[..., Caller]) -> None:
    body = first_page(taxii("alice"), limit="1000")
    assert len(body["objects"]) == 6  # type: ignore[arg-type]  # settings.max_limit


@pytest.mark.parametrize("path", [OBJECTS, MANIFEST], ids=["objects", "manifest"])
@pytest.mark.parametrize("limit", ["1", "2", "3", "7"])
def test_more_and_next_are_consistent_on_every_page(
    taxii: Callable[..., Caller], path: str, limit: str
) -> None:
    pages = [orjson.loads(r.data) for r in follow(taxii("alice"), path, {"limit": limit})]
    for page in pages[:-1]:
        assert page["more"] is True and page["next"]
        assert len(page["objects"]) == min(int(limit), 6)
    assert pages[-1]["more"] is False and "next" not in pages[-1]
    assert [o["id"] for p in pages for o in p["objects"]] == LATEST_FOR_RED


@pytest.mark.parametrize(
    "query",
    [
        pytest.param({"match[type]": "indicator,malware"}, id="types"),
        pytest.param({"match[version]": "all"}, id="all-versions"),
        pytest.param(
            {"added_after": "2000-01-01T00:00:00Z", "match[spec_version]": "2.1"}, id="aa"
        ),
    ],
)
def test_next_works_when_the_client_drops_its_filters(
    taxii: Callable[..., Caller], query: dict[str, str]
) -> None:
    caller = taxii("alice")
    kept = follow(caller, OBJECTS, {**query, "limit": "2"})
    dropped = follow(caller, OBJECTS, {**query, "limit": "2"}, keep_filters=False)
    assert [ids_of(r) for r in kept] == [ids_of(r) for r in dropped]
    assert len(kept) > 1


def test_repeated_filters_must_be_the_tokens(taxii: Callable[..., Caller]) -> None:
    caller = taxii("alice")
    token = first_page(caller, **{"match[type]": "indicator", "limit": "1"})["next"]
    same = caller.get(OBJECTS, {"match[type]": "indicator", "next": token})
    assert same.status_code == 200
    body = assert_taxii_error(caller.get(OBJECTS, {"match[type]": "malware", "next": token}), 400)
    assert "match[type]" in body["description"]
    added = caller.get(OBJECTS, {"match[id]": data.IND_RED["id"], "next": token})
    assert_taxii_error(added, 400)


def test_the_client_may_change_the_limit_between_pages(taxii: Callable[..., Caller]) -> None:
    caller = taxii("alice")
    token = first_page(caller, limit="1")["next"]
    assert len(ids_of(caller.get(OBJECTS, {"next": token, "limit": "5"}))) == 5
    assert len(ids_of(caller.get(OBJECTS, {"next": token}))) == 1  # the token's limit


def test_next_stays_valid_for_minutes_then_expires(
    taxii: Callable[..., Caller], clock: FakeClock
) -> None:
    caller = taxii("alice")
    token = first_page(caller, limit="2")["next"]
    clock.advance(9 * 60)  # OpenCTI waits its whole polling interval between pages
    assert ids_of(caller.get(OBJECTS, {"next": token})) == LATEST_FOR_RED[2:4]
    clock.advance(61)  # past next_ttl = 600 s
    body = assert_taxii_error(caller.get(OBJECTS, {"next": token}), 400)
    assert "expired" in body["description"] and "added_after=" in body["description"]


@pytest.mark.parametrize(
    "mangle",
    [
        pytest.param(lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"), id="signature"),
        pytest.param(lambda t: t[:8] + ("x" if t[8] != "x" else "y") + t[9:], id="payload"),
        pytest.param(lambda t: t + "x", id="appended"),
        pytest.param(lambda t: "1718000000000000|indicator--x", id="vendor-shaped"),
    ],
)
def test_tampered_next_is_400(taxii: Callable[..., Caller], mangle: Callable[[str], str]) -> None:
    caller = taxii("alice")
    token = str(first_page(caller, limit="2")["next"])
    body = assert_taxii_error(caller.get(OBJECTS, {"next": mangle(token)}), 400)
    assert "next" in body["description"]


def test_next_from_another_server_is_400(
    make_app: Callable[..., Flask], taxii: Callable[..., Caller]
) -> None:
    other = Caller(
        make_app(next_secrets=("another-server-secret-0001",)).test_client(),
        basic("alice", password_of("alice")),
    )
    foreign = first_page(other, limit="2")["next"]
    assert_taxii_error(taxii("alice").get(OBJECTS, {"next": foreign}), 400)


@pytest.mark.parametrize(
    ("minted_at", "used_at"),
    [
        pytest.param(OBJECTS, MANIFEST, id="objects-token-on-manifest"),
        pytest.param(MANIFEST, OBJECTS, id="manifest-token-on-objects"),
        pytest.param(url(PUBLIC, "objects"), OBJECTS, id="other-collection"),
        pytest.param(
            url(SHARED, "objects", data.MALWARE_V1["id"]),
            url(SHARED, "objects", data.IND_RED["id"]),
            id="other-object",
        ),
    ],
)
def test_next_is_bound_to_its_query(
    taxii: Callable[..., Caller], minted_at: str, used_at: str
) -> None:
    caller = taxii("alice")
    token = first_page(caller, minted_at, limit="1", **{"match[version]": "all"})["next"]
    assert token
    body = assert_taxii_error(caller.get(used_at, {"next": token}), 400)
    assert "another query" in body["description"]


def test_next_minted_by_red_gives_green_only_green(taxii: Callable[..., Caller]) -> None:
    token = first_page(taxii("alice"), limit="1")["next"]  # after IDENTITY
    seen = all_ids(taxii("bob"), OBJECTS, {"next": token, "limit": "6"})
    assert seen == [
        data.IND_CLEAR["id"],
        data.IND_GREEN["id"],
        data.MALWARE_V1["id"],
        data.IP_SCO["id"],
    ]
    served = [
        o
        for r in follow(taxii("bob"), OBJECTS, {"next": token})
        for o in orjson.loads(r.data)["objects"]
    ]
    assert data.MALWARE_V2 in served and data.MALWARE_V3 not in served


def test_next_is_reauthorised_against_the_caller(taxii: Callable[..., Caller]) -> None:
    token = first_page(taxii("alice"), limit="1")["next"]
    assert_taxii_error(taxii("carol").get(OBJECTS, {"next": token}), 404)
    assert_taxii_error(taxii(None).get(OBJECTS, {"next": token}), 401)


def test_next_survives_a_restart_with_a_shared_stored_secret(
    make_app: Callable[..., Flask], taxii: Callable[..., Caller]
) -> None:
    token = first_page(taxii("alice"), limit="2")["next"]
    restarted = Caller(make_app().test_client(), basic("alice", password_of("alice")))
    assert ids_of(restarted.get(OBJECTS, {"next": token})) == LATEST_FOR_RED[2:4]


def test_next_survives_secret_rotation(make_app: Callable[..., Flask]) -> None:
    alice = basic("alice", password_of("alice"))
    old = Caller(make_app(next_secrets=("old-secret-0123456789",)).test_client(), alice)
    token = first_page(old, limit="2")["next"]
    rotated = Caller(
        make_app(next_secrets=("new-secret-0123456789", "old-secret-0123456789")).test_client(),
        alice,
    )
    assert ids_of(rotated.get(OBJECTS, {"next": token})) == LATEST_FOR_RED[2:4]
    retired = Caller(make_app(next_secrets=("new-secret-0123456789",)).test_client(), alice)
    assert_taxii_error(retired.get(OBJECTS, {"next": token}), 400)


def test_objects_added_while_paging_are_not_missed(
    taxii: Callable[..., Caller], world: World
) -> None:
    caller = taxii("alice")
    token = first_page(caller, limit="6")["next"]
    late = data.indicator("arrived-while-paging", "green")
    store(world.storage, SHARED, [late])
    assert ids_of(caller.get(OBJECTS, {"next": token})) == [data.IP_SCO["id"], late["id"]]


def test_pages_of_an_empty_result_have_no_next(taxii: Callable[..., Caller]) -> None:
    body = first_page(taxii("carol"), url(OTHER, "objects"), **{"match[type]": "malware"})
    assert body == {"more": False}
