"""Collections (§5.1, §5.2) and per-collection grants: a collection the caller can
neither read nor write does not exist for them."""

from __future__ import annotations

from collections.abc import Callable

import orjson
import pytest

from .conftest import CLOSED_ROOT, EMPTY, OTHER, PUBLIC, ROOT, SHARED, Caller, url
from .test_negotiation import assert_taxii_error

ALL = {SHARED, OTHER, PUBLIC, EMPTY}


def listing(caller: Caller, root: str = ROOT) -> dict[str, tuple[bool, bool]]:
    response = caller.get(f"/{root}/collections/")
    assert response.status_code == 200, response.data
    body = orjson.loads(response.data)
    return {c["id"]: (c["can_read"], c["can_write"]) for c in body.get("collections", [])}


@pytest.mark.parametrize(
    ("user", "expected"),
    [
        pytest.param(
            "alice",
            {SHARED: (True, True), EMPTY: (True, True), PUBLIC: (True, False)},
            id="alice-read-write",
        ),
        pytest.param("bob", {SHARED: (True, False), PUBLIC: (True, False)}, id="bob-read"),
        pytest.param("walt", {SHARED: (False, True), PUBLIC: (True, False)}, id="walt-write-only"),
        pytest.param("carol", {OTHER: (True, True), PUBLIC: (True, False)}, id="carol-other"),
        pytest.param("root", {c: (True, True) for c in ALL}, id="admin-all"),
        pytest.param(None, {PUBLIC: (True, False)}, id="anonymous-public-only"),
    ],
)
def test_listing_shows_what_the_caller_may_use_with_their_rights(
    taxii: Callable[..., Caller], user: str | None, expected: dict[str, tuple[bool, bool]]
) -> None:
    assert listing(taxii(user)) == expected


def test_collection_resource_fields(taxii: Callable[..., Caller]) -> None:
    body = orjson.loads(taxii("bob").get(url(SHARED)).data)
    assert body == {
        "id": SHARED,
        "title": "Shared",
        "description": "Mixed TLP levels",
        "alias": "shared",
        "can_read": True,
        "can_write": False,
        "media_types": ["application/stix+json;version=2.1"],
    }


def test_collection_found_by_alias(taxii: Callable[..., Caller]) -> None:
    by_alias = orjson.loads(taxii("bob").get(url("shared")).data)
    assert by_alias["id"] == SHARED


def test_api_root_without_collections_for_the_caller_is_an_empty_object(
    taxii: Callable[..., Caller],
) -> None:
    response = taxii("bob").get(f"/{CLOSED_ROOT}/collections/")
    assert response.status_code == 200
    assert orjson.loads(response.data) == {}


def test_anonymous_caller_of_an_api_root_without_public_collections_is_challenged(
    taxii: Callable[..., Caller],
) -> None:
    assert_taxii_error(taxii(None).get(f"/{CLOSED_ROOT}/collections/"), 401)


@pytest.mark.parametrize(
    "path",
    [
        pytest.param(url(OTHER), id="collection"),
        pytest.param(url(OTHER, "objects"), id="objects"),
        pytest.param(url(OTHER, "manifest"), id="manifest"),
        pytest.param(
            url(OTHER, "objects", "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"), id="object"
        ),
        pytest.param(
            url(OTHER, "objects", "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", "versions"),
            id="versions",
        ),
    ],
)
def test_a_collection_without_grant_is_indistinguishable_from_none(
    taxii: Callable[..., Caller], path: str
) -> None:
    missing = path.replace(OTHER, "00000000-0000-4000-8000-000000000000")
    hidden = assert_taxii_error(taxii("bob").get(path), 404)
    absent = assert_taxii_error(taxii("bob").get(missing), 404)
    assert hidden["title"] == absent["title"]
    assert hidden["description"].replace(OTHER, "X") == absent["description"].replace(
        "00000000-0000-4000-8000-000000000000", "X"
    )


def test_write_only_collection_cannot_be_read(taxii: Callable[..., Caller]) -> None:
    assert taxii("walt").get(url(SHARED)).status_code == 200
    assert_taxii_error(taxii("walt").get(url(SHARED, "objects")), 403)
    assert_taxii_error(taxii("walt").get(url(SHARED, "manifest")), 403)


def test_read_only_collection_cannot_be_written(taxii: Callable[..., Caller]) -> None:
    body = assert_taxii_error(taxii("bob").post(url(SHARED, "objects"), {"objects": []}), 403)
    assert "read-only" in body["description"]


def test_anonymous_callers_read_public_collections_but_never_write(
    taxii: Callable[..., Caller],
) -> None:
    assert taxii(None).get(url(PUBLIC, "objects")).status_code == 200
    assert_taxii_error(taxii(None).post(url(PUBLIC, "objects"), {"objects": []}), 401)


def test_users_without_a_grant_read_public_collections(taxii: Callable[..., Caller]) -> None:
    assert taxii("carol").get(url(PUBLIC, "objects")).status_code == 200
    assert_taxii_error(taxii("carol").post(url(PUBLIC, "objects"), {"objects": []}), 403)
