"""Get an Object (§5.6) and Get Object Versions (§5.8)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson
import pytest

from taxii_server.timestamps import format_timestamp, parse_timestamp

from . import data
from .conftest import SHARED, Caller, follow, objects_of, url
from .test_negotiation import assert_taxii_error

MALWARE = data.MALWARE_V1["id"]
MISSING = "indicator--00000000-0000-4000-8000-000000000000"


def obj(object_id: str) -> str:
    return url(SHARED, "objects", object_id)


def versions(object_id: str) -> str:
    return url(SHARED, "objects", object_id, "versions")


def stamps(*objects: dict[str, Any]) -> list[str]:
    return [format_timestamp(parse_timestamp(o["modified"])) for o in objects]


@pytest.mark.parametrize(
    ("user", "query", "expected"),
    [
        pytest.param("alice", {}, [data.MALWARE_V3], id="red-latest"),
        pytest.param("bob", {}, [data.MALWARE_V2], id="green-latest-is-v2"),
        pytest.param(
            "alice",
            {"match[version]": "all"},
            [data.MALWARE_V1, data.MALWARE_V2, data.MALWARE_V3],
            id="red-all",
        ),
        pytest.param(
            "bob", {"match[version]": "all"}, [data.MALWARE_V1, data.MALWARE_V2], id="green-all"
        ),
        pytest.param("bob", {"match[version]": "first"}, [data.MALWARE_V1], id="first"),
        pytest.param(
            "alice",
            {"match[version]": data.MALWARE_V3["modified"]},
            [data.MALWARE_V3],
            id="timestamp",
        ),
        pytest.param(
            "bob", {"match[version]": data.MALWARE_V3["modified"]}, [], id="invisible-version"
        ),
        pytest.param("alice", {"match[spec_version]": "2.0"}, [], id="spec-version"),
    ],
)
def test_get_an_object(
    taxii: Callable[..., Caller], user: str, query: dict[str, str], expected: list[Any]
) -> None:
    response = taxii(user).get(obj(MALWARE), query)
    assert objects_of(response) == expected
    assert response.headers["X-TAXII-Date-Added-First"]
    assert response.headers["X-TAXII-Date-Added-Last"]


def test_object_pages_through_its_versions(taxii: Callable[..., Caller]) -> None:
    pages = follow(taxii("alice"), obj(MALWARE), {"match[version]": "all", "limit": "1"})
    assert [objects_of(p) for p in pages] == [
        [data.MALWARE_V1],
        [data.MALWARE_V2],
        [data.MALWARE_V3],
    ]


@pytest.mark.parametrize(
    ("user", "expected"),
    [
        pytest.param("alice", stamps(data.MALWARE_V1, data.MALWARE_V2, data.MALWARE_V3), id="red"),
        pytest.param("bob", stamps(data.MALWARE_V1, data.MALWARE_V2), id="green"),
    ],
)
def test_versions(taxii: Callable[..., Caller], user: str, expected: list[str]) -> None:
    response = taxii(user).get(versions(MALWARE))
    assert response.status_code == 200
    assert orjson.loads(response.data) == {"more": False, "versions": expected}
    assert (
        response.headers["X-TAXII-Date-Added-First"] < response.headers["X-TAXII-Date-Added-Last"]
    )


def test_versions_are_paged(taxii: Callable[..., Caller]) -> None:
    pages = [
        orjson.loads(p.data) for p in follow(taxii("alice"), versions(MALWARE), {"limit": "2"})
    ]
    assert [p["more"] for p in pages] == [True, False]
    assert [v for p in pages for v in p["versions"]] == stamps(
        data.MALWARE_V1, data.MALWARE_V2, data.MALWARE_V3
    )


def test_versions_of_another_spec_version_is_an_empty_list(taxii: Callable[..., Caller]) -> None:
    response = taxii("alice").get(versions(MALWARE), {"match[spec_version]": "2.0"})
    assert orjson.loads(response.data) == {"more": False}  # no empty list (TAXII 2.1 §2)


def test_existing_object_with_nothing_after_added_after_is_an_empty_page(
    taxii: Callable[..., Caller],
) -> None:
    response = taxii("alice").get(obj(data.IDENTITY["id"]), {"added_after": "2999-01-01T00:00:00Z"})
    assert objects_of(response) == []
    assert response.headers["X-TAXII-Date-Added-Last"] == "2999-01-01T00:00:00.000000Z"


@pytest.mark.parametrize("make", [obj, versions], ids=["object", "versions"])
@pytest.mark.parametrize(
    ("user", "object_id"),
    [
        pytest.param("alice", MISSING, id="missing"),
        pytest.param("bob", data.IND_RED["id"], id="above-clearance"),
        pytest.param("amy", data.IND_RED["id"], id="above-amber"),
    ],
)
def test_objects_that_do_not_exist_for_the_caller_are_404(
    taxii: Callable[..., Caller], make: Callable[[str], str], user: str, object_id: str
) -> None:
    body = assert_taxii_error(taxii(user).get(make(object_id)), 404)
    assert object_id in body["description"]


@pytest.mark.parametrize("make", [obj, versions], ids=["object", "versions"])
def test_malformed_object_id_is_400(
    taxii: Callable[..., Caller], make: Callable[[str], str]
) -> None:
    body = assert_taxii_error(taxii("alice").get(make("indicator--not-a-uuid")), 400)
    assert "STIX identifier" in body["description"]
