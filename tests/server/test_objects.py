"""Get Objects (TAXII 2.1 §5.4): filters (§3.4.1), order (§3.3), headers (§3.2)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import orjson
import pytest

from taxii_server.timestamps import format_timestamp, parse_timestamp

from . import data
from .conftest import EMPTY, SHARED, Caller, all_ids, follow, ids_of, objects_of, url

OBJECTS = url(SHARED, "objects")
MANIFEST = url(SHARED, "manifest")
MALWARE = data.MALWARE_V1["id"]
MICROSECONDS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")

# What alice (RED) sees with the default, latest-version selection, in date_added order.
LATEST_FOR_RED = [
    data.IDENTITY["id"],
    data.IND_CLEAR["id"],
    data.IND_GREEN["id"],
    data.IND_AMBER["id"],
    data.IND_RED["id"],
    MALWARE,
    data.IP_SCO["id"],
]


def test_default_is_the_latest_version_in_date_added_order(taxii: Callable[..., Caller]) -> None:
    assert all_ids(taxii("alice"), OBJECTS) == LATEST_FOR_RED
    latest_malware = [
        o for r in follow(taxii("alice"), OBJECTS) for o in objects_of(r) if o["id"] == MALWARE
    ]
    assert latest_malware == [data.MALWARE_V3]


def test_objects_are_served_as_posted(taxii: Callable[..., Caller]) -> None:
    served = {o["id"]: o for r in follow(taxii("alice"), OBJECTS) for o in objects_of(r)}
    assert served[data.IND_RED["id"]] == data.IND_RED
    assert served[data.IP_SCO["id"]] == data.IP_SCO


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        pytest.param(
            {"match[type]": "malware,identity"}, [data.IDENTITY["id"], MALWARE], id="types-comma"
        ),
        pytest.param(
            {"match[type]": ["malware", "identity"]},
            [data.IDENTITY["id"], MALWARE],
            id="types-repeated",
        ),
        pytest.param({"match[type]": "x-unknown-type"}, [], id="unknown-type-empty"),
        pytest.param(
            {"match[id]": f"{data.IND_RED['id']},{data.IDENTITY['id']}"},
            [data.IDENTITY["id"], data.IND_RED["id"]],
            id="ids-comma",
        ),
        pytest.param(
            {"match[id]": [data.IND_RED["id"], data.IDENTITY["id"]]},
            [data.IDENTITY["id"], data.IND_RED["id"]],
            id="ids-repeated",
        ),
        pytest.param(
            {"match[id]": MALWARE, "match[version]": "all"}, [MALWARE] * 3, id="version-all"
        ),
        pytest.param(
            {"match[id]": data.IND_RED["id"], "match[type]": "malware"}, [], id="id-and-type"
        ),
        pytest.param({"match[spec_version]": "2.1"}, LATEST_FOR_RED, id="spec-version-2.1"),
        pytest.param({"match[spec_version]": "2.0"}, [], id="spec-version-2.0"),
        pytest.param(
            {"match[spec_version]": "2.0,2.1", "match[type]": "identity"},
            [data.IDENTITY["id"]],
            id="spec-versions-list",
        ),
    ],
)
def test_filters(taxii: Callable[..., Caller], query: dict[str, Any], expected: list[str]) -> None:
    assert all_ids(taxii("alice"), OBJECTS, query) == expected


@pytest.mark.parametrize(
    ("version", "expected"),
    [
        pytest.param("last", [data.MALWARE_V3], id="last"),
        pytest.param("first", [data.MALWARE_V1], id="first"),
        pytest.param("first,last", [data.MALWARE_V1, data.MALWARE_V3], id="first-and-last"),
        pytest.param("all", [data.MALWARE_V1, data.MALWARE_V2, data.MALWARE_V3], id="all"),
        pytest.param(data.MALWARE_V2["modified"], [data.MALWARE_V2], id="timestamp"),
        pytest.param(
            f"{data.MALWARE_V2['modified']},first",
            [data.MALWARE_V1, data.MALWARE_V2],
            id="ts-first",
        ),
        pytest.param("2024-01-01T00:00:00Z", [], id="no-such-version"),
    ],
)
def test_match_version(
    taxii: Callable[..., Caller], version: str, expected: list[dict[str, Any]]
) -> None:
    response = taxii("alice").get(OBJECTS, {"match[id]": MALWARE, "match[version]": version})
    assert objects_of(response) == expected


def _date_added(taxii: Callable[..., Caller]) -> dict[str, list[int]]:
    """date_added of every version alice can see, by object id, from the manifest."""
    out: dict[str, list[int]] = {}
    for response in follow(taxii("alice"), MANIFEST, {"match[version]": "all"}):
        for entry in orjson.loads(response.data)["objects"]:
            out.setdefault(entry["id"], []).append(parse_timestamp(entry["date_added"]))
    return out


def test_added_after_is_exclusive(taxii: Callable[..., Caller]) -> None:
    added = _date_added(taxii)
    bound = added[data.IND_GREEN["id"]][0]
    after = all_ids(taxii("alice"), OBJECTS, {"added_after": format_timestamp(bound)})
    assert after == LATEST_FOR_RED[LATEST_FOR_RED.index(data.IND_GREEN["id"]) + 1 :]


@pytest.mark.parametrize(
    "spell",
    [
        pytest.param(lambda us: format_timestamp(us), id="microseconds"),
        pytest.param(lambda us: format_timestamp(us)[:23] + "Z", id="milliseconds-opencti"),
        pytest.param(lambda us: format_timestamp(us)[:19] + "Z", id="seconds-elastic"),
        pytest.param(lambda us: format_timestamp(us + 7_200_000_000)[:26] + "+02:00", id="offset"),
        pytest.param(
            lambda us: format_timestamp(us - 5_400_000_000)[:26] + "-01:30", id="negative-offset"
        ),
    ],
)
def test_added_after_precisions_and_offsets_never_lose_objects(
    taxii: Callable[..., Caller], spell: Callable[[int], str]
) -> None:
    added = _date_added(taxii)
    bound = added[data.IND_AMBER["id"]][0]
    seen = all_ids(taxii("alice"), OBJECTS, {"added_after": spell(bound)})
    later = LATEST_FOR_RED[LATEST_FOR_RED.index(data.IND_AMBER["id"]) + 1 :]
    # A coarser spelling of the same moment may repeat what came at it, never lose more.
    assert seen[-len(later) :] == later
    if spell(bound) == format_timestamp(bound):
        assert seen == later


def test_headers_carry_first_and_last_date_added_at_microseconds(
    taxii: Callable[..., Caller],
) -> None:
    added = _date_added(taxii)
    response = taxii("alice").get(OBJECTS, {"limit": "3"})
    first, last = (response.headers[f"X-TAXII-Date-Added-{w}"] for w in ("First", "Last"))
    assert MICROSECONDS.match(first) and MICROSECONDS.match(last)
    ids = ids_of(response)
    assert parse_timestamp(first) == added[ids[0]][0]
    assert parse_timestamp(last) == max(added[ids[-1]])


def test_date_added_is_strictly_increasing(taxii: Callable[..., Caller]) -> None:
    stamps = sorted(s for values in _date_added(taxii).values() for s in values)
    assert len(set(stamps)) == len(stamps) == len(data.SEED)


@pytest.mark.parametrize(
    ("path", "query", "bound"),
    [
        pytest.param(url(EMPTY, "objects"), {}, "1970-01-01T00:00:00.000000Z", id="empty-epoch"),
        pytest.param(
            url(EMPTY, "objects"),
            {"added_after": "2024-06-11T09:00:00Z"},
            "2024-06-11T09:00:00.000000Z",
            id="empty-added-after",
        ),
        pytest.param(
            OBJECTS,
            {"match[type]": "x-none"},
            "1970-01-01T00:00:00.000000Z",
            id="no-match-epoch",
        ),
        pytest.param(
            url(EMPTY, "manifest"),
            {"added_after": "2024-06-11T11:00:00.5+02:00"},
            "2024-06-11T09:00:00.500000Z",
            id="manifest-offset",
        ),
    ],
)
def test_empty_pages_carry_the_lower_bound_in_both_headers(
    taxii: Callable[..., Caller], path: str, query: dict[str, str], bound: str
) -> None:
    response = taxii("alice").get(path, query)
    assert response.status_code == 200
    assert orjson.loads(response.data) == {"more": False}  # no empty list (TAXII 2.1 §2)
    assert response.headers["X-TAXII-Date-Added-First"] == bound
    assert response.headers["X-TAXII-Date-Added-Last"] == bound


def test_manifest_records(taxii: Callable[..., Caller]) -> None:
    response = taxii("alice").get(MANIFEST, {"match[id]": MALWARE, "match[version]": "all"})
    entries = orjson.loads(response.data)["objects"]
    assert [e["version"] for e in entries] == [
        "2024-03-01T00:00:00.000000Z",
        "2024-03-02T00:00:00.000000Z",
        "2024-03-03T00:00:00.000000Z",
    ]
    assert {e["media_type"] for e in entries} == {"application/stix+json;version=2.1"}
    assert all(MICROSECONDS.match(e["date_added"]) for e in entries)
    assert response.headers["X-TAXII-Date-Added-First"] == entries[0]["date_added"]
    assert response.headers["X-TAXII-Date-Added-Last"] == entries[-1]["date_added"]


@pytest.mark.parametrize(
    "query",
    [
        pytest.param({"added_after": "last tuesday"}, id="added-after"),
        pytest.param({"added_after": "2024-06-11"}, id="added-after-date-only"),
        pytest.param({"match[version]": "newest"}, id="version"),
        pytest.param({"match[id]": "not-an-id"}, id="id"),
        pytest.param({"match[spec_version]": "latest"}, id="spec-version"),
        pytest.param({"limit": "lots"}, id="limit"),
        pytest.param({"next": "forged"}, id="next"),
    ],
)
@pytest.mark.parametrize("path", [OBJECTS, MANIFEST], ids=["objects", "manifest"])
def test_malformed_parameters_are_400(
    taxii: Callable[..., Caller], query: dict[str, str], path: str
) -> None:
    from .test_negotiation import assert_taxii_error

    body = assert_taxii_error(taxii("alice").get(path, query), 400)
    assert next(iter(query)) in body["description"]
