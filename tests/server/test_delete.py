"""Delete an Object (TAXII 2.1 §5.7): every version, or those ``match[version]`` and
``match[spec_version]`` select, of what the caller can see; needs read and write."""

from __future__ import annotations

from collections.abc import Callable

import orjson
import pytest

from converters.ids import organization_identity_id
from taxii_server.media import MEDIA_TYPE_TAXII_V21
from taxii_server.storage.base import Grant

from . import data
from .conftest import ORGANIZATIONS, SHARED, Caller, World, objects_of, url
from .test_negotiation import assert_taxii_error

MALWARE = data.MALWARE_V1["id"]


def obj(object_id: str) -> str:
    return url(SHARED, "objects", object_id)


def remaining(caller: Caller, object_id: str) -> list[str]:
    response = caller.get(url(SHARED, "objects", object_id, "versions"))
    if response.status_code == 404:
        return []
    return list(orjson.loads(response.data)["versions"])


def test_delete_removes_every_version_by_default(taxii: Callable[..., Caller]) -> None:
    response = taxii("alice").delete(obj(MALWARE))
    assert response.status_code == 200
    assert response.headers["Content-Type"] == MEDIA_TYPE_TAXII_V21
    assert response.data == b""
    assert_taxii_error(taxii("alice").get(obj(MALWARE)), 404)


@pytest.mark.parametrize(
    ("query", "left"),
    [
        pytest.param({"match[version]": "first"}, [data.MALWARE_V2, data.MALWARE_V3], id="first"),
        pytest.param({"match[version]": "last"}, [data.MALWARE_V1, data.MALWARE_V2], id="last"),
        pytest.param(
            {"match[version]": data.MALWARE_V2["modified"]},
            [data.MALWARE_V1, data.MALWARE_V3],
            id="timestamp",
        ),
        pytest.param({"match[version]": "first,last"}, [data.MALWARE_V2], id="first-and-last"),
        pytest.param({"match[version]": "all", "match[spec_version]": "2.1"}, [], id="all"),
    ],
)
def test_delete_selected_versions(
    taxii: Callable[..., Caller], query: dict[str, str], left: list[dict[str, str]]
) -> None:
    assert taxii("alice").delete(obj(MALWARE), query).status_code == 200
    shown = taxii("alice").get(obj(MALWARE), {"match[version]": "all"})
    assert (objects_of(shown) if shown.status_code == 200 else []) == left


def test_latest_and_first_follow_a_delete(taxii: Callable[..., Caller]) -> None:
    taxii("alice").delete(obj(MALWARE), {"match[version]": "first"})
    first = taxii("bob").get(obj(MALWARE), {"match[version]": "first"})
    assert objects_of(first) == [data.MALWARE_V2]


@pytest.mark.parametrize(
    ("object_id", "query"),
    [
        pytest.param("indicator--00000000-0000-4000-8000-000000000000", {}, id="unknown"),
        pytest.param(MALWARE, {"match[spec_version]": "2.0"}, id="no-such-spec-version"),
        pytest.param(MALWARE, {"match[version]": "2020-01-01T00:00:00Z"}, id="no-such-version"),
    ],
)
def test_nothing_to_delete_is_404_and_deletes_nothing(
    taxii: Callable[..., Caller], object_id: str, query: dict[str, str]
) -> None:
    assert_taxii_error(taxii("alice").delete(obj(object_id), query), 404)
    assert len(remaining(taxii("alice"), MALWARE)) == 3


@pytest.mark.parametrize(
    ("user", "code", "says"),
    [
        pytest.param("bob", 403, "read-only", id="read-only"),
        pytest.param("walt", 403, "read access too", id="write-only"),
        pytest.param("carol", 404, "no collection", id="no-grant"),
        pytest.param(None, 401, "authenticate", id="anonymous"),
    ],
)
def test_delete_needs_read_and_write(
    taxii: Callable[..., Caller], user: str | None, code: int, says: str
) -> None:
    body = assert_taxii_error(taxii(user).delete(obj(MALWARE)), code)
    assert says in body["description"]
    assert len(remaining(taxii("alice"), MALWARE)) == 3


def test_delete_only_reaches_what_the_caller_can_see(
    taxii: Callable[..., Caller], world: World
) -> None:
    world.storage.set_grant(Grant("bob", SHARED, True, True))
    # bob joins the seed objects' organization: what he may delete is its objects.
    atlas = ORGANIZATIONS["alice"]
    world.storage.set_organization("bob", atlas, organization_identity_id(atlas))
    assert_taxii_error(taxii("bob").delete(obj(data.IND_RED["id"])), 404)
    assert objects_of(taxii("alice").get(obj(data.IND_RED["id"]))) == [data.IND_RED]
    assert taxii("bob").delete(obj(MALWARE)).status_code == 200  # V1 and V2 only
    assert objects_of(taxii("alice").get(obj(MALWARE), {"match[version]": "all"})) == [
        data.MALWARE_V3
    ]


def test_malformed_delete_parameters_are_400(taxii: Callable[..., Caller]) -> None:
    assert_taxii_error(taxii("alice").delete(obj(MALWARE), {"match[version]": "oldest"}), 400)
    assert_taxii_error(taxii("alice").delete(obj("malware--nope")), 400)
