"""Issue 9, finding 2, in every store: only the organization that created an object
changes it (STIX 2.1 §3.6), applied inside the store's write transaction.

Each test reproduces one way a writer could rewrite another partner's objects and
checks that the store now refuses it, leaving what was stored as it was."""

from __future__ import annotations

import uuid
from typing import Any

import orjson
import pytest

from converters.ids import organization_identity_id
from converters.tlp import MARKING_IDS
from converters.validation import get_validator
from taxii_server.ingest import prepare_objects
from taxii_server.storage.base import (
    OPERATOR,
    Actor,
    AddOutcome,
    Collection,
    NewObject,
    NotOwner,
    Storage,
)
from taxii_server.storage.versions import NOT_OWNER_MESSAGE
from tests.storage.stix import query

BANK = organization_identity_id("Example Bank FIU")
EXCHANGE = organization_identity_id("Example Exchange Security")
AS_BANK = Actor(BANK)
AS_EXCHANGE = Actor(EXCHANGE)
ADMIN = Actor(None, admin=True)


def _indicator(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": "indicator",
        "spec_version": "2.1",
        "id": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
        "created": "2024-05-01T10:00:00.000Z",
        "modified": "2024-05-01T10:00:00.000Z",
        "created_by_ref": BANK,
        "name": "Mule account collector",
        "pattern": "[ipv4-addr:value = '198.51.100.7']",
        "pattern_type": "stix",
        "valid_from": "2024-05-01T10:00:00Z",
        "object_marking_refs": [MARKING_IDS["red"]],
    }
    body.update(changes)
    return {k: v for k, v in body.items() if v is not None}


def _new(*objects: dict[str, Any]) -> list[NewObject]:
    prepared = prepare_objects(list(objects), get_validator())
    assert not prepared.failures, prepared.failures
    return prepared.valid


def _latest(storage: Storage, collection: Collection, object_id: str) -> dict[str, Any]:
    (item,) = storage.query_objects(collection.id, query(ids=(object_id,))).items
    found: dict[str, Any] = orjson.loads(item.data)
    return found


def _versions(storage: Storage, collection: Collection, object_id: str) -> int:
    return len(storage.query_manifest(collection.id, query(ids=(object_id,), all_=True)).items)


def _refused(storage: Storage, collection: Collection, obj: dict[str, Any], actor: Actor) -> str:
    (result,) = storage.add_objects(collection.id, _new(obj), actor=actor)
    assert result.outcome is AddOutcome.REFUSED
    assert result.message
    return result.message


@pytest.fixture
def owned(storage: Storage, collection: Collection) -> dict[str, Any]:
    """A TLP:RED indicator the bank posted."""
    first = _indicator()
    (result,) = storage.add_objects(collection.id, _new(first), actor=AS_BANK)
    assert result.outcome is AddOutcome.ADDED
    return first


def test_another_organization_cannot_post_a_later_version(
    storage: Storage, collection: Collection, owned: dict[str, Any]
) -> None:
    """The reproduction: a later version, TLP:CLEAR and renamed, by someone else."""
    later = _indicator(
        modified="2024-06-01T00:00:00.000Z",
        name="harmless",
        object_marking_refs=[MARKING_IDS["clear"]],
        created_by_ref=None,
    )
    assert _refused(storage, collection, later, AS_EXCHANGE) == NOT_OWNER_MESSAGE
    assert _latest(storage, collection, owned["id"]) == owned
    # Claiming to be the bank does not help: created_by_ref must be one's own.
    forged = dict(later, created_by_ref=BANK)
    assert "is not your organization's identity" in _refused(
        storage, collection, forged, AS_EXCHANGE
    )
    assert _versions(storage, collection, owned["id"]) == 1


def test_nor_revoke_it(storage: Storage, collection: Collection, owned: dict[str, Any]) -> None:
    revoked = _indicator(modified="2024-06-01T00:00:00.000Z", revoked=True, created_by_ref=None)
    assert _refused(storage, collection, revoked, AS_EXCHANGE) == NOT_OWNER_MESSAGE
    assert "revoked" not in _latest(storage, collection, owned["id"])


def test_the_owner_and_admins_post_later_versions(
    storage: Storage, collection: Collection, owned: dict[str, Any]
) -> None:
    second = _indicator(modified="2024-06-01T00:00:00.000Z", name="renamed by the bank")
    third = _indicator(modified="2024-07-01T00:00:00.000Z", name="fixed by an admin")
    assert storage.add_objects(collection.id, _new(second), actor=AS_BANK)[0].outcome is (
        AddOutcome.ADDED
    )
    assert storage.add_objects(collection.id, _new(third), actor=ADMIN)[0].outcome is (
        AddOutcome.ADDED
    )
    assert _latest(storage, collection, owned["id"]) == third
    # The admin's version did not change the owner: the bank still makes the next one.
    fourth = _indicator(modified="2024-08-01T00:00:00.000Z")
    assert storage.add_objects(collection.id, _new(fourth), actor=AS_BANK)[0].outcome is (
        AddOutcome.ADDED
    )


def test_an_identical_repost_by_anyone_is_unchanged(
    storage: Storage, collection: Collection, owned: dict[str, Any]
) -> None:
    """Nothing changes, so nothing is refused (TAXII 2.1 §5.5: not an error)."""
    (result,) = storage.add_objects(collection.id, _new(owned), actor=AS_EXCHANGE)
    assert result.outcome is AddOutcome.UNCHANGED


@pytest.mark.parametrize(
    "change",
    [
        pytest.param({"created": "2024-04-01T00:00:00.000Z"}, id="created"),
        pytest.param({"created_by_ref": None}, id="created_by_ref-dropped"),
        pytest.param({"created_by_ref": EXCHANGE}, id="created_by_ref-changed"),
    ],
)
def test_created_and_created_by_ref_never_change(
    storage: Storage, collection: Collection, owned: dict[str, Any], change: dict[str, Any]
) -> None:
    later = _indicator(modified="2024-06-01T00:00:00.000Z", **change)
    for actor in (AS_BANK, ADMIN):  # the rule binds admins too: it is STIX's
        message = _refused(storage, collection, later, actor)
        assert "never change" in message or "is not your organization's" in message
    assert _latest(storage, collection, owned["id"]) == owned


def test_the_same_instant_written_differently_is_the_same_created(
    storage: Storage, collection: Collection, owned: dict[str, Any]
) -> None:
    later = _indicator(modified="2024-06-01T00:00:00.000Z", created="2024-05-01T10:00:00.000000Z")
    (result,) = storage.add_objects(collection.id, _new(later), actor=AS_BANK)
    assert result.outcome is AddOutcome.ADDED


def test_a_new_object_must_name_its_poster_as_creator(
    storage: Storage, collection: Collection
) -> None:
    theirs = _indicator(id=f"indicator--{uuid.uuid4()}")
    assert "is not your organization's identity" in _refused(
        storage, collection, theirs, AS_EXCHANGE
    )
    unnamed = _indicator(id=f"indicator--{uuid.uuid4()}", created_by_ref=None)
    (result,) = storage.add_objects(collection.id, _new(unnamed), actor=AS_EXCHANGE)
    assert result.outcome is AddOutcome.ADDED
    # The first version fixed the owner: the exchange, not whoever comes next.
    later = dict(unnamed, modified="2024-06-01T00:00:00.000Z")
    assert _refused(storage, collection, later, AS_BANK) == NOT_OWNER_MESSAGE


def test_an_admin_acts_for_the_organization_an_object_names(
    storage: Storage, collection: Collection
) -> None:
    """Publishing into the local store and importing go this way (OPERATOR)."""
    posted = _indicator(id=f"indicator--{uuid.uuid4()}")
    assert storage.add_objects(collection.id, _new(posted), actor=OPERATOR)[0].outcome is (
        AddOutcome.ADDED
    )
    later = dict(posted, modified="2024-06-01T00:00:00.000Z")
    _refused(storage, collection, later, AS_EXCHANGE)
    (result,) = storage.add_objects(collection.id, _new(later), actor=AS_BANK)
    assert result.outcome is AddOutcome.ADDED


def test_objects_nobody_owns_are_changed_by_admins_only(
    storage: Storage, collection: Collection
) -> None:
    unowned = _indicator(id=f"indicator--{uuid.uuid4()}", created_by_ref=None)
    storage.add_objects(collection.id, _new(unowned), actor=OPERATOR)
    later = dict(unowned, modified="2024-06-01T00:00:00.000Z")
    for actor in (AS_BANK, AS_EXCHANGE):
        assert _refused(storage, collection, later, actor) == NOT_OWNER_MESSAGE
    with pytest.raises(NotOwner):
        storage.delete_objects(collection.id, unowned["id"], query(all_=True), actor=AS_BANK)


def test_a_writer_without_an_organization_stores_nothing(
    storage: Storage, collection: Collection
) -> None:
    unnamed = _indicator(id=f"indicator--{uuid.uuid4()}", created_by_ref=None)
    assert "no organization" in _refused(storage, collection, unnamed, Actor(None))


def test_an_sco_keeps_its_first_posters_ownership(storage: Storage, collection: Collection) -> None:
    """SCOs are versioned by content: a differing copy is a new version, the owner's."""
    domain = {
        "type": "domain-name",
        "spec_version": "2.1",
        "id": "domain-name--ce99d92d-f062-5ef3-9e4a-a54d5cf8a54e",
        "value": "pay-refund-portal.example",
        "object_marking_refs": [MARKING_IDS["red"]],
    }
    storage.add_objects(collection.id, _new(domain), actor=AS_BANK)
    cleared = dict(domain, object_marking_refs=[MARKING_IDS["clear"]])
    assert _refused(storage, collection, cleared, AS_EXCHANGE) == NOT_OWNER_MESSAGE
    assert storage.query_objects(collection.id, query(clearance=0)).items == []


def test_another_organization_cannot_delete(
    storage: Storage, collection: Collection, owned: dict[str, Any]
) -> None:
    with pytest.raises(NotOwner, match="belongs to another organization"):
        storage.delete_objects(collection.id, owned["id"], query(all_=True), actor=AS_EXCHANGE)
    assert _versions(storage, collection, owned["id"]) == 1
    # What the caller's clearance hides is not refused, just not there (0 deleted).
    hidden = query(clearance=0, all_=True)
    assert storage.delete_objects(collection.id, owned["id"], hidden, actor=AS_EXCHANGE) == 0
    assert storage.delete_objects(collection.id, owned["id"], query(all_=True), actor=AS_BANK) == 1


def test_checks_in_one_batch_see_the_batchs_own_new_objects(
    storage: Storage, collection: Collection
) -> None:
    """Two versions of a new object in one add: the first fixes the owner for the
    second, as if they had come in two adds."""
    first = _indicator(id=f"indicator--{uuid.uuid4()}", created_by_ref=None)
    second = dict(first, modified="2024-06-01T00:00:00.000Z")
    results = storage.add_objects(collection.id, _new(first, second), actor=AS_BANK)
    assert [r.outcome for r in results] == [AddOutcome.ADDED, AddOutcome.ADDED]
    third = dict(first, modified="2024-07-01T00:00:00.000Z")
    assert _refused(storage, collection, third, AS_EXCHANGE) == NOT_OWNER_MESSAGE


def test_set_organization_is_the_users(storage: Storage) -> None:
    from taxii_server.storage.base import StorageNotFound, User

    storage.put_user(User("alice", 2))
    assert storage.set_organization("alice", "Example Bank FIU", BANK) == 0
    user = storage.get_user("alice")
    assert user is not None and user.organization == "Example Bank FIU"
    assert [u.organization for u in storage.list_users()] == ["Example Bank FIU"]
    with pytest.raises(StorageNotFound):
        storage.set_organization("nobody", "Example Bank FIU", BANK)


def test_a_refused_marking_definition_is_not_registered(
    storage: Storage, collection: Collection
) -> None:
    """The marking registry (issue 9, finding 1) must not keep what ownership refused:
    else a forged definition would block the real one under its id."""
    from converters.tlp import TLP_EXTENSION_ID

    def definition(level: str) -> dict[str, Any]:
        return {
            "type": "marking-definition",
            "spec_version": "2.1",
            "id": "marking-definition--2d1c5b1b-8b5a-4a3e-9e5a-1f0b9c8d7e6f",
            "created": "2024-01-01T00:00:00.000Z",
            "created_by_ref": BANK,
            "extensions": {
                TLP_EXTENSION_ID: {"extension_type": "property-extension", "tlp_2_0": level}
            },
        }

    forged = _new(definition("clear"))
    assert forged[0].marking is not None  # a marking definition to register
    (result,) = storage.add_objects(collection.id, forged, actor=AS_EXCHANGE)
    assert result.outcome is AddOutcome.REFUSED
    (real,) = storage.add_objects(collection.id, _new(definition("red")), actor=AS_BANK)
    assert real.outcome is AddOutcome.ADDED
    assert storage.marking_ranks([forged[0].id]) == {forged[0].id: 4}
