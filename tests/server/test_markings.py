"""Markings the server cannot rank fail closed (issue 9, finding 1), and marking
definitions are immutable, the official TLP ones built in (finding 2).

Each reproduction of the finding is posted over HTTP and read back by an anonymous
caller of a public collection, users cleared green, amber and red, and an admin: an
object whose marking was served as TLP:CLEAR before is now ranked as its marking says,
or admin-only (an admin cleared for RED alone receives it).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson
import pytest

from converters.tlp import BUILT_IN_DEFINITIONS, MARKING_IDS, TLP_EXTENSION_ID
from taxii_server.storage.versions import REDEFINED_MESSAGE

from . import data
from .conftest import PUBLIC, SHARED, Caller, ids_of, url

OPENCTI_AMBER_STRICT = "marking-definition--826578e1-40ad-459f-bc73-ede076f81f37"
TLP_RED_1_0 = "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed"
PARTNER_RED = "marking-definition--3a1c4c0e-7f1b-4d8e-9a57-0b6f2f1e5d11"
PARTNER_GREEN = "marking-definition--5b9e1a7c-2d4f-4e6a-8c3b-1f0e9d8c7b62"
UNKNOWN = "marking-definition--0d6e3a2f-9b1c-4f7e-8a5d-3c2b1a0f9e87"


def _definition(mid: str, level: str, **extra: Any) -> dict[str, Any]:
    """A partner's own marking definition carrying the official TLP 2.0 extension."""
    return {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": mid,
        "created": "2024-01-01T00:00:00.000Z",
        "name": f"Partner TLP:{level.upper()}",
        "extensions": {
            TLP_EXTENSION_ID: {"extension_type": "property-extension", "tlp_2_0": level},
        },
        **extra,
    }


def _upper_uuid(identifier: str) -> str:
    """The id with its UUID in upper case (RFC 4122: the same UUID; STIX 2.1 §2.9
    spells the type part in lower case, and the schema refuses it otherwise)."""
    kind, _, uuid_part = identifier.partition("--")
    return f"{kind}--{uuid_part.upper()}"


def _marked(name: str, *refs: str) -> dict[str, Any]:
    return {**data.indicator(name), "object_marking_refs": list(refs)}


def _post(caller: Caller, path: str, objects: list[dict[str, Any]]) -> dict[str, Any]:
    response = caller.post(path, {"objects": objects})
    assert response.status_code == 202, response.data
    status: dict[str, Any] = orjson.loads(response.data)
    return status


def _visible(caller: Caller, collection: str, ids: list[str]) -> set[str]:
    return set(ids_of(caller.get(url(collection, "objects"), {"match[id]": ",".join(ids)})))


#: name -> (what it carries, the level its readers need: a user clearance, or "admin")
CASES: dict[str, tuple[Callable[[], list[dict[str, Any]]], str]] = {
    "opencti-amber-strict": (lambda: [_marked("opencti", OPENCTI_AMBER_STRICT)], "amber+strict"),
    "partner-definition-red-same-envelope": (
        lambda: [_marked("partner", PARTNER_RED), _definition(PARTNER_RED, "red")],
        "red",
    ),
    "official-red-upper-case": (lambda: [_marked("upper", _upper_uuid(TLP_RED_1_0))], "red"),
    "official-red-2-0-upper-case": (
        lambda: [_marked("upper2", _upper_uuid(MARKING_IDS["red"]))],
        "red",
    ),
    "unknown-id": (lambda: [_marked("unknown", UNKNOWN)], "admin"),
    "granular-unknown": (
        lambda: [
            {
                **data.indicator("granular"),
                "granular_markings": [{"marking_ref": UNKNOWN, "selectors": ["pattern"]}],
            }
        ],
        "admin",
    ),
    "pap-definition": (
        lambda: [
            _marked("pap", UNKNOWN),
            {
                "type": "marking-definition",
                "spec_version": "2.1",
                "id": UNKNOWN,
                "created": "2024-01-01T00:00:00.000Z",
                "definition_type": "PAP",
                "definition": {"PAP": "PAP:RED"},
            },
        ],
        "admin",
    ),
    "statement": (
        lambda: [
            _marked("statement", UNKNOWN),
            {
                "type": "marking-definition",
                "spec_version": "2.1",
                "id": UNKNOWN,
                "created": "2024-01-01T00:00:00.000Z",
                "definition_type": "statement",
                "definition": {"statement": "Copyright 2024 Example Bank"},
            },
        ],
        "clear",
    ),
}
# Readers of SHARED (grants there) with their clearance, and the admin.
READERS = {"bob": "green", "amy": "amber", "alice": "red", "root": "admin"}
ORDER = ["clear", "green", "amber", "amber+strict", "red", "admin"]


@pytest.mark.parametrize("case", list(CASES))
def test_each_reproduction_reaches_only_readers_cleared_for_it(
    taxii: Callable[..., Caller], case: str
) -> None:
    make, needed = CASES[case]
    objects = make()
    status = _post(taxii("alice"), url(SHARED, "objects"), objects)
    assert status["success_count"] == len(objects), status
    target = objects[0]["id"]
    for reader, clearance in READERS.items():
        sees = ORDER.index(clearance) >= ORDER.index(needed)
        assert _visible(taxii(reader), SHARED, [target]) == ({target} if sees else set()), reader


@pytest.mark.parametrize("case", list(CASES))
def test_anonymous_readers_of_a_public_collection_see_only_what_is_clear(
    taxii: Callable[..., Caller], case: str
) -> None:
    make, needed = CASES[case]
    objects = make()
    status = _post(taxii("root"), url(PUBLIC, "objects"), objects)
    assert status["success_count"] == len(objects), status
    target = objects[0]["id"]
    expected = {target} if needed == "clear" else set()
    assert _visible(taxii(None), PUBLIC, [target]) == expected
    assert _visible(taxii("bob"), PUBLIC, [target]) == expected  # no read grant there
    assert _visible(taxii("root"), PUBLIC, [target]) == {target}


def test_a_stored_marking_definition_ranks_later_objects_from_any_collection(
    taxii: Callable[..., Caller],
) -> None:
    """The definition is posted first (into another collection); the objects after."""
    _post(taxii("root"), url(PUBLIC, "objects"), [_definition(PARTNER_RED, "red")])
    _post(taxii("root"), url(PUBLIC, "objects"), [_definition(PARTNER_GREEN, "green")])
    red, green = _marked("later-red", PARTNER_RED), _marked("later-green", PARTNER_GREEN)
    _post(taxii("alice"), url(SHARED, "objects"), [red, green])
    ids = [red["id"], green["id"]]
    assert _visible(taxii("bob"), SHARED, ids) == {green["id"]}
    assert _visible(taxii("alice"), SHARED, ids) == set(ids)


def test_a_definition_arriving_after_its_objects_leaves_them_admin_only(
    taxii: Callable[..., Caller],
) -> None:
    """A rank is fixed when a version is stored (docs/security.md, Markings)."""
    early = _marked("early", PARTNER_GREEN)
    _post(taxii("alice"), url(SHARED, "objects"), [early])
    _post(taxii("alice"), url(SHARED, "objects"), [_definition(PARTNER_GREEN, "green")])
    assert _visible(taxii("alice"), SHARED, [early["id"]]) == set()
    assert _visible(taxii("root"), SHARED, [early["id"]]) == {early["id"]}


def _failure(status: dict[str, Any], object_id: str) -> str:
    messages = [f["message"] for f in status.get("failures", []) if f["id"] == object_id]
    assert messages, status
    return str(messages[0])


def test_the_official_tlp_red_id_cannot_be_hijacked(taxii: Callable[..., Caller]) -> None:
    """Reproduction: a marking definition under the official TLP:RED id saying CLEAR,
    after which the genuine definition was refused as a conflict."""
    red_id = MARKING_IDS["red"]
    genuine = dict(BUILT_IN_DEFINITIONS[red_id])
    forged = {
        **genuine,
        "name": "TLP:CLEAR",
        "extensions": {
            TLP_EXTENSION_ID: {"extension_type": "property-extension", "tlp_2_0": "clear"}
        },
    }
    red = _marked("hijacked", red_id)
    status = _post(taxii("alice"), url(SHARED, "objects"), [forged, red])
    assert "official TLP marking definition" in _failure(status, red_id)
    assert [s["id"] for s in status["successes"]] == [red["id"]]
    assert _visible(taxii("amy"), SHARED, [red["id"], red_id]) == set()
    # The genuine definition is a success; the forged one is refused in upper case too.
    again = _post(taxii("alice"), url(SHARED, "objects"), [genuine])
    assert again["success_count"] == 1, again
    upper = {**forged, "id": _upper_uuid(red_id)}
    refused = _post(taxii("root"), url(PUBLIC, "objects"), [upper])
    assert "official TLP marking definition" in _failure(refused, upper["id"])
    # The TLP 1.0 RED id as a statement saying CLEAR (its TLP content the STIX schema
    # already pins): refused as well.
    statement = {
        **BUILT_IN_DEFINITIONS[TLP_RED_1_0],
        "name": "TLP:CLEAR",
        "definition_type": "statement",
        "definition": {"statement": "TLP:CLEAR, share freely"},
    }
    refused = _post(taxii("root"), url(PUBLIC, "objects"), [statement])
    assert "official TLP marking definition" in _failure(refused, TLP_RED_1_0)


def test_a_marking_ref_with_an_upper_case_type_is_refused(taxii: Callable[..., Caller]) -> None:
    """The type part of a STIX id is lower case (§2.9): such a reference is invalid, a
    failure saying so, and nothing is stored."""
    shouting = _marked("shouting", TLP_RED_1_0.upper())
    status = _post(taxii("alice"), url(SHARED, "objects"), [shouting])
    assert "object_marking_refs" in _failure(status, shouting["id"])
    assert _visible(taxii("root"), SHARED, [shouting["id"]]) == set()


@pytest.mark.parametrize("level", ["clear", "green", "amber", "amber+strict", "red"])
def test_the_official_tlp_2_0_definitions_are_accepted_as_published(
    taxii: Callable[..., Caller], level: str
) -> None:
    genuine = dict(BUILT_IN_DEFINITIONS[MARKING_IDS[level]])
    assert _post(taxii("alice"), url(SHARED, "objects"), [genuine])["success_count"] == 1
    # The same timestamp written without its milliseconds is the same definition.
    short_time = {**genuine, "created": "2022-10-01T00:00:00Z"}
    assert _post(taxii("root"), url(PUBLIC, "objects"), [short_time])["success_count"] == 1
    forged = {**genuine, "name": "TLP:CLEAR (really)"}
    assert _post(taxii("alice"), url(SHARED, "objects"), [forged])["failure_count"] == 1


def test_a_stored_marking_definition_cannot_be_redefined_anywhere(
    taxii: Callable[..., Caller],
) -> None:
    first = _definition(PARTNER_RED, "red")
    _post(taxii("alice"), url(SHARED, "objects"), [first])
    softer = _definition(PARTNER_RED, "clear")
    for caller, collection in ((taxii("alice"), SHARED), (taxii("root"), PUBLIC)):
        status = _post(caller, url(collection, "objects"), [softer])
        assert _failure(status, PARTNER_RED) == REDEFINED_MESSAGE
    # Objects marked with it still rank as the registered definition says, even in the
    # envelope that tried to redefine it.
    red = _marked("still-red", PARTNER_RED)
    _post(taxii("root"), url(PUBLIC, "objects"), [_definition(PARTNER_RED, "clear"), red])
    assert _visible(taxii(None), PUBLIC, [red["id"], PARTNER_RED]) == set()
    # The same content again is a success, in any collection.
    assert _post(taxii("root"), url(PUBLIC, "objects"), [first])["success_count"] == 1
    assert _visible(taxii(None), PUBLIC, [PARTNER_RED]) == {PARTNER_RED}


def test_two_bodies_of_one_marking_definition_in_one_envelope(
    taxii: Callable[..., Caller],
) -> None:
    """The first registers; the second is refused; objects rank by the first."""
    red, clear = _definition(PARTNER_RED, "red"), _definition(PARTNER_RED, "clear")
    marked = _marked("two-bodies", PARTNER_RED)
    status = _post(taxii("alice"), url(SHARED, "objects"), [marked, red, clear])
    assert status["success_count"] == 2 and status["failure_count"] == 1, status
    assert _visible(taxii("amy"), SHARED, [marked["id"]]) == set()
    assert _visible(taxii("alice"), SHARED, [marked["id"]]) == {marked["id"]}
