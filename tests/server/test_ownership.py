"""Issue 9, finding 2, through TAXII: any writer could rewrite any partner's objects.

Each reproduction of the issue, as a partner would try it over HTTP, and what the
server answers now (STIX 2.1 §3.6: only an object's creator changes it): a per-object
failure saying which rule (TAXII 2.1 §4.3.1), a 403 for a delete of an object the
caller can see, a 404 for one they cannot.  The seed objects are alice's
organization's (``Atlas Research``); walt (write-only) and bob are other partners."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson

from converters.ids import organization_identity_id, sco_id
from converters.tlp import EXTENSION_DEFINITION, MARKING_IDS
from taxii_server.storage.base import AuditQuery, Grant, User
from taxii_server.storage.versions import NOT_OWNER_MESSAGE

from . import data
from .conftest import (
    ORGANIZATIONS,
    SHARED,
    Caller,
    World,
    cheap_hash,
    objects_of,
    password_of,
    url,
)
from .test_negotiation import assert_taxii_error

OBJECTS = url(SHARED, "objects")
ATLAS = organization_identity_id(ORGANIZATIONS["alice"])
WALT = organization_identity_id(ORGANIZATIONS["walt"])


def _status(caller: Caller, objects: list[dict[str, Any]]) -> dict[str, Any]:
    response = caller.post(OBJECTS, {"objects": objects})
    assert response.status_code == 202, response.data
    status: dict[str, Any] = orjson.loads(response.data)
    return status


def _failure(status: dict[str, Any]) -> str:
    """The message of the status's only failure (nothing succeeded)."""
    assert status["success_count"] == 0, status
    (failure,) = status["failures"]
    message: str = failure["message"]
    return message


def _latest(caller: Caller, object_id: str) -> dict[str, Any]:
    (found,) = objects_of(caller.get(url(SHARED, "objects", object_id)))
    return found


def test_a_write_only_user_cannot_post_a_later_version_of_a_partners_object(
    taxii: Callable[..., Caller],
) -> None:
    """The reproduction: walt, who may only write, posts a later version of alice's
    TLP:RED indicator marked TLP:CLEAR with a new name; readers got it as the latest."""
    later = {
        **data.IND_RED,
        "modified": "2024-09-01T00:00:00.000Z",
        "name": "harmless",
        "object_marking_refs": [MARKING_IDS["clear"]],
    }
    message = _failure(_status(taxii("walt"), [later]))
    assert message == NOT_OWNER_MESSAGE
    assert _latest(taxii("alice"), data.IND_RED["id"]) == data.IND_RED
    assert_taxii_error(taxii("bob").get(url(SHARED, "objects", data.IND_RED["id"])), 404)


def test_a_new_version_may_not_change_created_or_created_by_ref(
    taxii: Callable[..., Caller],
) -> None:
    mine = {**data.indicator("lineage", "green"), "created_by_ref": ATLAS}
    assert _status(taxii("alice"), [mine])["success_count"] == 1
    for change in (
        {"created": "2024-04-01T00:00:00.000Z"},
        {"created_by_ref": WALT},
    ):
        later = {**mine, "modified": "2024-09-01T00:00:00.000Z", **change}
        message = _failure(_status(taxii("alice"), [later]))
        assert "never change" in message or "is not your organization's identity" in message
    assert _latest(taxii("alice"), mine["id"]) == mine


def test_created_by_ref_must_be_the_posters_organization(taxii: Callable[..., Caller]) -> None:
    forged = {**data.indicator("forged", "green"), "created_by_ref": ATLAS}
    message = _failure(_status(taxii("walt"), [forged]))
    assert f"created_by_ref {ATLAS} is not your organization's identity {WALT}" in message
    own = {**data.indicator("walts own", "green"), "created_by_ref": WALT}
    assert _status(taxii("walt"), [own])["success_count"] == 1


def test_an_sco_under_another_values_id_is_refused(taxii: Callable[..., Caller]) -> None:
    """The reproduction: a domain-name posted under the deterministic id of another
    value; readers then got the attacker's value under the real one's id."""
    real_id = sco_id({"type": "domain-name", "value": "bank.example"})
    squat = {
        "type": "domain-name",
        "spec_version": "2.1",
        "id": real_id,
        "value": "attacker.example",
    }
    status = _status(taxii("walt"), [squat])
    message = _failure(status)
    assert status["failures"][0]["id"] == real_id
    assert "does not match the object's id-contributing properties (value)" in message
    assert sco_id({"type": "domain-name", "value": "attacker.example"}) in message
    assert_taxii_error(taxii("alice").get(url(SHARED, "objects", real_id)), 404)
    real = dict(squat, value="bank.example")
    assert _status(taxii("walt"), [real])["success_count"] == 1


def test_a_reader_writer_of_another_organization_cannot_delete(
    taxii: Callable[..., Caller], world: World
) -> None:
    """The reproduction: a read+write user deleted every version of another partner's
    object.  Now 403 for what they can see; 404, as before, for what they cannot."""
    world.storage.set_grant(Grant("bob", SHARED, True, True))
    response = taxii("bob").delete(url(SHARED, "objects", data.IND_GREEN["id"]))
    assert_taxii_error(response, 403)
    assert "belongs to another organization" in orjson.loads(response.data)["description"]
    assert _latest(taxii("alice"), data.IND_GREEN["id"]) == data.IND_GREEN
    # TLP:RED is above bob's clearance: it does not exist for him (no 403 to tell him).
    assert_taxii_error(taxii("bob").delete(url(SHARED, "objects", data.IND_RED["id"])), 404)
    assert taxii("alice").delete(url(SHARED, "objects", data.IND_GREEN["id"])).status_code == 200


def test_a_user_without_an_organization_reads_but_cannot_write(
    taxii: Callable[..., Caller], world: World
) -> None:
    world.storage.put_user(User("nina", 1, cheap_hash(password_of("nina"))))
    world.storage.set_grant(Grant("nina", SHARED, True, True))
    nina = taxii("nina")
    assert nina.get(OBJECTS).status_code == 200
    response = nina.post(OBJECTS, {"objects": [data.indicator("nina's")]})
    assert_taxii_error(response, 403)
    assert "belongs to no organization" in orjson.loads(response.data)["description"]
    assert "users set-organization" in orjson.loads(response.data)["description"]
    assert_taxii_error(nina.delete(url(SHARED, "objects", data.IND_GREEN["id"])), 403)


def test_an_admin_acts_for_any_organization_and_the_audit_log_says_who(
    taxii: Callable[..., Caller], world: World
) -> None:
    later = {**data.IND_RED, "modified": "2024-09-01T00:00:00.000Z", "name": "corrected"}
    status = _status(taxii("root"), [later])
    assert status["success_count"] == 1
    assert _latest(taxii("alice"), data.IND_RED["id"]) == later
    (record,) = [r for r in world.storage.query_audit(AuditQuery()) if r.status_id == status["id"]]
    assert record.user == "root" and record.action == "add"
    # The object is still alice's organization's: she makes the next version.
    newest = {**data.IND_RED, "modified": "2024-10-01T00:00:00.000Z"}
    assert _status(taxii("alice"), [newest])["success_count"] == 1


def test_the_definitions_the_converter_ships_are_anyones(taxii: Callable[..., Caller]) -> None:
    """Every converted bundle carries OASIS's TLP extension definition: any partner may
    post it, byte for byte, and nobody owns it."""
    assert _status(taxii("walt"), [dict(EXTENSION_DEFINITION)])["success_count"] == 1
    assert _status(taxii("alice"), [dict(EXTENSION_DEFINITION)])["success_count"] == 1
    altered = {**EXTENSION_DEFINITION, "modified": "2024-01-01T00:00:00.000Z", "name": "TLP 9"}
    assert "is not your organization's identity" in _failure(_status(taxii("alice"), [altered]))
