"""The marking-definition registry on every backend: a marking definition is stored
with the rank it defines, its id cannot take another body in any collection (STIX 2.1
§7.2.1), and the migration that adds the registry re-ranks what a store already holds
(issue 9, finding 1: unknown markings were stored as TLP:CLEAR)."""

from __future__ import annotations

import threading
import uuid
from typing import Any

import pymongo
import pytest

from converters.tlp import ADMIN_ONLY, MARKING_IDS, TLP_EXTENSION_ID, normalise_id
from taxii_server.storage import mongo_schema, open_storage, sql, sql_schema
from taxii_server.storage.base import (
    AddOutcome,
    ApiRoot,
    Collection,
    NewObject,
    ObjectQuery,
    Storage,
    VersionSelector,
)
from taxii_server.storage.sql_dialect import Mode
from taxii_server.storage.versions import canonical_json
from taxii_server.timestamps import parse_timestamp
from tests.storage.stix import ts

PARTNER = "marking-definition--3a1c4c0e-7f1b-4d8e-9a57-0b6f2f1e5d11"
UNKNOWN = "marking-definition--0d6e3a2f-9b1c-4f7e-8a5d-3c2b1a0f9e87"
OFFICIAL_RED_UPPER = MARKING_IDS["red"].upper()


def _definition(mid: str, level: str) -> dict[str, Any]:
    return {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": mid,
        "created": "2024-01-01T00:00:00.000Z",
        "extensions": {
            TLP_EXTENSION_ID: {"extension_type": "property-extension", "tlp_2_0": level}
        },
    }


def _record(body: dict[str, Any], *, tlp: int = 0, marking: int | None = None) -> NewObject:
    stamp = body.get("modified", body.get("created"))
    return NewObject(
        id=body["id"],
        type=body["type"],
        spec_version="2.1",
        version=None if stamp is None else parse_timestamp(stamp),
        tlp=tlp,
        data=canonical_json(body),
        marking=marking,
    )


def _indicator(name: str, *refs: str, modified: int = 0) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": "indicator",
        "spec_version": "2.1",
        "id": f"indicator--{uuid.uuid5(uuid.NAMESPACE_URL, name)}",
        "created": "2024-01-01T00:00:00.000Z",
        "modified": f"2024-01-01T00:00:{modified:02d}.000Z",
        "pattern": "[ipv4-addr:value = '198.51.100.7']",
        "pattern_type": "stix",
        "valid_from": "2024-01-01T00:00:00Z",
    }
    if refs:
        body["object_marking_refs"] = list(refs)
    return body


def _versioned(body: dict[str, Any], seconds: int, tlp: int) -> NewObject:
    return NewObject(body["id"], "indicator", "2.1", ts(seconds), tlp, canonical_json(body))


def _ids(storage: Storage, collection: Collection, clearance: int) -> set[str]:
    page = storage.query_objects(collection.id, ObjectQuery(clearance=clearance, limit=100))
    return {o.id for o in page.items}


def _latest(storage: Storage, collection: Collection, clearance: int, object_id: str) -> list[int]:
    query = ObjectQuery(
        clearance=clearance, limit=10, ids=(object_id,), versions=VersionSelector(last=True)
    )
    return [o.version for o in storage.query_objects(collection.id, query).items]


def _two_collections(storage: Storage) -> tuple[Collection, Collection]:
    storage.put_api_root(ApiRoot("community", "Community"))
    first = Collection(str(uuid.uuid4()), "community", "First")
    second = Collection(str(uuid.uuid4()), "community", "Second")
    storage.create_collection(first)
    storage.create_collection(second)
    return first, second


def test_a_marking_definition_registers_its_rank_server_wide(storage: Storage) -> None:
    first, second = _two_collections(storage)
    definition = _record(_definition(PARTNER, "red"), marking=4)
    assert storage.marking_ranks([normalise_id(PARTNER)]) == {}
    assert [r.outcome for r in storage.add_objects(first.id, [definition])] == [AddOutcome.ADDED]
    assert storage.marking_ranks([normalise_id(PARTNER), UNKNOWN]) == {PARTNER: 4}
    # The same body elsewhere is stored there too; another body is refused everywhere.
    assert [r.outcome for r in storage.add_objects(second.id, [definition])] == [AddOutcome.ADDED]
    softer = _record(_definition(PARTNER, "clear"), marking=0)
    for collection in (first, second):
        (result,) = storage.add_objects(collection.id, [softer])
        assert result.outcome is AddOutcome.REDEFINED
    assert storage.marking_ranks([PARTNER]) == {PARTNER: 4}
    served = storage.query_objects(second.id, ObjectQuery(clearance=5, limit=10)).items
    assert [o.data for o in served] == [definition.data]


def test_an_upper_case_id_is_the_same_marking_definition(storage: Storage) -> None:
    first, _ = _two_collections(storage)
    storage.add_objects(first.id, [_record(_definition(PARTNER, "red"), marking=4)])
    upper = _record(_definition(PARTNER.upper(), "clear"), marking=0)
    (result,) = storage.add_objects(first.id, [upper])
    assert result.outcome is AddOutcome.REDEFINED


def test_two_bodies_in_one_write_register_the_first(storage: Storage) -> None:
    first, _ = _two_collections(storage)
    red = _record(_definition(PARTNER, "red"), marking=4)
    clear = _record({**_definition(PARTNER, "clear"), "created": "2024-01-02T00:00:00Z"}, marking=0)
    outcomes = [r.outcome for r in storage.add_objects(first.id, [red, clear])]
    assert outcomes == [AddOutcome.ADDED, AddOutcome.REDEFINED]
    assert storage.marking_ranks([PARTNER]) == {PARTNER: 4}


def test_admin_only_versions_are_seen_at_the_admin_clearance_alone(storage: Storage) -> None:
    first, _ = _two_collections(storage)
    body_v1, body_v2 = _indicator("x", MARKING_IDS["green"]), _indicator("x", UNKNOWN, modified=5)
    storage.add_objects(first.id, [_versioned(body_v1, 1, 1), _versioned(body_v2, 2, ADMIN_ONLY)])
    assert _latest(storage, first, 4, body_v1["id"]) == [ts(1)]
    assert _latest(storage, first, ADMIN_ONLY, body_v1["id"]) == [ts(2)]
    assert _latest(storage, first, 0, body_v1["id"]) == []


# -- the migration ---------------------------------------------------------------------


def _old_store(blank_url: str, backend: str) -> tuple[Collection, Collection, dict[str, Any]]:
    """A store as the code before the registry left it: the current schema minus the
    registry, every version ranked by the old rule (a marking it did not know: 0), the
    masks without the admin-only level."""
    storage = open_storage(blank_url, migrate=True)
    first, second = _two_collections(storage)
    partner_marked = _indicator("partner", PARTNER)
    unknown = _indicator("unknown", UNKNOWN)
    upper = _indicator("upper", OFFICIAL_RED_UPPER)
    plain = _indicator("plain")
    green_v1 = _indicator("changing", MARKING_IDS["green"])
    unknown_v2 = _indicator("changing", UNKNOWN, modified=5)
    storage.add_objects(first.id, [_record(_definition(PARTNER, "red"))])  # not registered
    storage.add_objects(
        second.id,
        [
            _versioned(partner_marked, 1, 0),
            _versioned(unknown, 1, 0),
            _versioned(upper, 1, 0),
            _versioned(plain, 1, 0),
            _versioned(green_v1, 1, 1),
            _versioned(unknown_v2, 2, 0),
        ],
    )
    storage.close()
    if backend == "mongodb":
        client: Any = pymongo.MongoClient(blank_url)
        database = client.get_default_database()
        database["objects"].update_many({}, {"$pull": {"first": 5, "latest": 5}})
        database.drop_collection("marking_definitions")
        database["meta"].update_one({"_id": "schema"}, {"$set": {"version": _MONGO_BEFORE}})
        client.close()
    else:
        database = sql.open_database(blank_url, create=False)
        with database.transaction(Mode.WRITE) as tx:
            tx.run(
                "UPDATE objects SET first_mask = first_mask & 31, latest_mask = latest_mask & 31"
            )
            tx.script("DROP TABLE marking_definitions")
            # And what the later schema version (object owners) added.
            tx.script("DROP INDEX objects_pending_owner")
            for table, column in (("objects", "owner"), ("objects", "origin")):
                tx.script(f"ALTER TABLE {table} DROP COLUMN {column}")
            tx.script("ALTER TABLE users DROP COLUMN organization")
            # And what the status blocks (version 8) replaced.
            tx.script("DROP TABLE status_blocks")
            tx.script(tx.dialect.ddl(_STATUS_ENTRIES))
            # And what the id keys (version 9) replaced.
            tx.script("DROP INDEX objects_id")
            tx.script("ALTER TABLE objects DROP COLUMN id_key")
            tx.script(_OBJECTS_VERSION)
            tx.run("UPDATE schema_version SET version = ?", (_SQL_BEFORE,))
        database.close()
    names = {
        "partner": partner_marked["id"],
        "unknown": unknown["id"],
        "upper": upper["id"],
        "plain": plain["id"],
        "changing": green_v1["id"],
    }
    return first, second, names


# The schema versions before the registry's migration.
_SQL_BEFORE = next(
    i for i, m in enumerate(sql_schema.MIGRATIONS) if "marking-definition registry" in m.summary
)
#: ``status_entries`` as schema version 3 created it.
_STATUS_ENTRIES = next(
    statement
    for migration in sql_schema.MIGRATIONS
    for statement in migration.statements
    if "CREATE TABLE status_entries" in statement
)
#: The unique ``(collection, id, version)`` index, as schema version 1 created it.
_OBJECTS_VERSION = next(
    statement
    for migration in sql_schema.MIGRATIONS
    for statement in migration.statements
    if "INDEX objects_version" in statement
)
_MONGO_BEFORE = next(
    i for i, m in enumerate(mongo_schema.MIGRATIONS) if "marking-definition registry" in m.summary
)


def test_the_migration_registers_and_re_ranks_what_is_stored(blank_url: str, backend: str) -> None:
    first, second, names = _old_store(blank_url, backend)
    with pytest.raises(Exception, match="db upgrade"):
        open_storage(blank_url)
    storage = open_storage(blank_url, migrate=True)
    try:
        assert storage.marking_ranks([PARTNER]) == {PARTNER: 4}
        assert _ids(storage, second, 0) == {names["plain"]}
        assert _ids(storage, second, 1) == {names["plain"], names["changing"]}
        red = {names["plain"], names["changing"], names["partner"], names["upper"]}
        assert _ids(storage, second, 4) == red
        assert _ids(storage, second, ADMIN_ONLY) == red | {names["unknown"]}
        assert _latest(storage, second, 4, names["changing"]) == [ts(1)]
        assert _latest(storage, second, ADMIN_ONLY, names["changing"]) == [ts(2)]
        assert _ids(storage, first, ADMIN_ONLY) == {PARTNER}
        # Registered: another body under the id is refused from now on.
        softer = _record(_definition(PARTNER, "clear"), marking=0)
        (result,) = storage.add_objects(second.id, [softer])
        assert result.outcome is AddOutcome.REDEFINED
    finally:
        storage.close()


def test_two_writers_racing_to_register_one_id_cannot_both_win(store_url: str) -> None:
    """Different bodies under one new id, written at once into two collections by two
    threads with their own connections: one is stored, the other refused."""
    setup = open_storage(store_url)
    first, second = _two_collections(setup)
    setup.close()
    bodies = {
        first.id: _record(_definition(PARTNER, "red"), marking=4),
        second.id: _record(_definition(PARTNER, "clear"), marking=0),
    }
    barrier = threading.Barrier(2)
    outcomes: dict[str, AddOutcome] = {}

    def write(collection_id: str) -> None:
        store = open_storage(store_url)
        try:
            barrier.wait()
            (result,) = store.add_objects(collection_id, [bodies[collection_id]])
            outcomes[collection_id] = result.outcome
        finally:
            store.close()

    threads = [threading.Thread(target=write, args=(c,)) for c in bodies]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(o.value for o in outcomes.values()) == ["added", "redefined"]
    check = open_storage(store_url)
    try:
        winner = next(c for c, o in outcomes.items() if o is AddOutcome.ADDED)
        assert check.marking_ranks([PARTNER]) == {PARTNER: bodies[winner].marking}
    finally:
        check.close()
