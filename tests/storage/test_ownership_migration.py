"""The upgrade that gives stored objects their owners (SQL schema 7, MongoDB 5; issue
9, finding 2), from a store at the schema version before it: an object belongs to the
user who posted its first version where the audit log and its status still tell
(pending until that user has an organization), else to the organization its first
version's ``created_by_ref`` names, else to nobody (admins only); ``created`` and
``created_by_ref`` are fixed from then on."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterator
from typing import Any

import orjson
import pymongo
import pytest

from converters.ids import organization_identity_id
from converters.validation import get_validator
from taxii_server.ingest import prepare_objects
from taxii_server.storage import mongo_schema, open_storage, sql, sql_schema
from taxii_server.storage.base import (
    Actor,
    AddOutcome,
    ApiRoot,
    AuditRecord,
    Collection,
    Status,
    StatusDetail,
    Storage,
)
from taxii_server.storage.sql_dialect import Mode
from taxii_server.storage.versions import NOT_OWNER_MESSAGE, canonical_json, version_masks
from taxii_server.timestamps import format_timestamp, parse_timestamp

ATLAS = organization_identity_id("Atlas Research")
BANK = organization_identity_id("Example Bank FIU")
MALLORY = organization_identity_id("Mallory Ltd")
T = parse_timestamp("2024-05-01T10:00:00Z")


def _indicator(name: str, modified: str, creator: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": "indicator",
        "spec_version": "2.1",
        "id": f"indicator--{uuid.uuid5(uuid.NAMESPACE_URL, name)}",
        "created": "2024-05-01T10:00:00.000Z",
        "modified": modified,
        "name": name,
        "pattern": "[ipv4-addr:value = '198.51.100.7']",
        "pattern_type": "stix",
        "valid_from": "2024-05-01T10:00:00Z",
    }
    if creator is not None:
        body["created_by_ref"] = creator
    return body


# alice posted the first version of "posted" and mallory a second; "named" and
# "removed" (posted by a user deleted since) name the bank as creator; "anonymous"
# names nobody and its poster is not known.
POSTED = [
    _indicator("posted", "2024-05-01T10:00:00.000Z"),
    _indicator("posted", "2024-06-01T10:00:00.000Z"),
]
NAMED = _indicator("named", "2024-05-01T10:00:00.000Z", BANK)
REMOVED = _indicator("removed", "2024-05-01T10:00:00.000Z", BANK)
ANONYMOUS = _indicator("anonymous", "2024-05-01T10:00:00.000Z")
STORED = [*POSTED, NAMED, REMOVED, ANONYMOUS]
# (status, poster, objects it stored)
POSTS = [("s1", "alice", [POSTED[0]]), ("s2", "mallory", [POSTED[1]]), ("s3", "gone", [REMOVED])]


def _version(obj: dict[str, Any]) -> int:
    return parse_timestamp(obj["modified"])


def _rows(seq: int) -> list[dict[str, Any]]:
    """The objects as the previous schema stored them (no owner, no origin)."""
    rows = []
    by_id: dict[str, list[dict[str, Any]]] = {}
    for obj in STORED:
        by_id.setdefault(obj["id"], []).append(obj)
    date_added = T
    for object_id, versions in by_id.items():
        masks = version_masks([(_version(v), 0) for v in versions])
        for obj, (first, latest) in zip(versions, masks, strict=True):
            data = canonical_json(obj)
            date_added += 1
            rows.append(
                {
                    "collection": seq,
                    "date_added": date_added,
                    "id": object_id,
                    "type": "indicator",
                    "version": _version(obj),
                    "spec_version": "2.1",
                    "tlp": 0,
                    "first_mask": first,
                    "latest_mask": latest,
                    "by_content": False,
                    "digest": hashlib.sha256(data).digest(),
                    "data": data,
                }
            )
    return rows


def _write_sql(url: str, collection: Collection) -> None:
    database = sql.open_database(url, create=False)
    with database.transaction(Mode.WRITE) as tx:
        for name in ("alice", "mallory"):  # "gone" was deleted: no row
            tx.run(
                "INSERT INTO users (name, clearance, password_hash, admin) VALUES (?, ?, ?, ?)",
                (name, 4, None, False),
            )
        row = tx.row("SELECT seq FROM collections WHERE id = ?", (collection.id,))
        assert row is not None
        for doc in _rows(int(row[0])):
            tx.run(
                "INSERT INTO objects (collection, date_added, id, type, version, "
                "spec_version, tlp, first_mask, latest_mask, by_content, digest, data) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                list(doc.values()),
            )
        # The statuses, one row per entry as that schema kept them.
        for status_id, _poster, objects in POSTS:
            tx.run(
                "INSERT INTO statuses (id, api_root, collection, owner, request_timestamp, "
                "updated, total_count) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (status_id, "r", row[0], None, T, T, len(objects)),
            )
            for position, obj in enumerate(objects):
                tx.run(
                    "INSERT INTO status_entries (status, position, state, object_id, version, "
                    "message) VALUES (?, ?, 1, ?, ?, NULL)",
                    (status_id, position, obj["id"], format_timestamp(_version(obj))),
                )
    database.close()


def _write_mongo(url: str, collection: Collection) -> None:
    client: Any = pymongo.MongoClient(url)
    try:
        database = client.get_default_database()
        for name in ("alice", "mallory"):
            database["users"].insert_one(
                {"_id": name, "clearance": 4, "password_hash": None, "admin": False}
            )
        seq = database["collections"].find_one({"_id": collection.id})["seq"]
        for row in _rows(seq):
            first, latest = row.pop("first_mask"), row.pop("latest_mask")
            row["first"] = [c for c in range(5) if first >> c & 1]
            row["latest"] = [c for c in range(5) if latest >> c & 1]
            database["objects"].insert_one(row)
    finally:
        client.close()


@pytest.fixture
def upgraded(
    backend: str, blank_url: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Storage, Collection]]:
    """A store written at the previous schema version, then upgraded."""
    with monkeypatch.context() as old_code:
        if backend == "mongodb":
            old_code.setattr(mongo_schema, "MIGRATIONS", mongo_schema.MIGRATIONS[:4])
            old_code.setattr(mongo_schema, "LATEST", 4)
        else:
            old_code.setattr(sql_schema, "MIGRATIONS", sql_schema.MIGRATIONS[:6])
            old_code.setattr(sql_schema, "LATEST", 6)
        old = open_storage(blank_url, migrate=True)
        old.put_api_root(ApiRoot("r", "R"))
        collection = Collection(str(uuid.uuid4()), "r", "C")
        old.create_collection(collection)
        for status_id, poster, objects in POSTS:
            successes = tuple(StatusDetail(o["id"], format_timestamp(_version(o))) for o in objects)
            if backend == "mongodb":  # SQL: written by _write_sql, as schema 6 kept them
                old.create_status(
                    Status(
                        status_id, "r", collection.id, None, T, T, len(objects), successes=successes
                    )
                )
            old.record_audit(
                AuditRecord(
                    T, poster, "192.0.2.1", "r", collection.id, "add", 1, status_id=status_id
                )
            )
        old.close()
        (_write_mongo if backend == "mongodb" else _write_sql)(blank_url, collection)
    storage = open_storage(blank_url, migrate=True)
    try:
        yield storage, collection
    finally:
        storage.close()


def _add(storage: Storage, collection: Collection, obj: dict[str, Any], actor: Actor) -> Any:
    prepared = prepare_objects([obj], get_validator())
    assert not prepared.failures, prepared.failures
    (result,) = storage.add_objects(collection.id, prepared.valid, actor=actor)
    return result


def _later(obj: dict[str, Any], **changes: Any) -> dict[str, Any]:
    return {**obj, "modified": "2024-09-01T00:00:00.000Z", **changes}


def test_the_first_versions_poster_owns_it_once_they_have_an_organization(
    upgraded: tuple[Storage, Collection],
) -> None:
    storage, collection = upgraded
    later = _later(POSTED[1])
    # Until alice has an organization the object waits for her: admins only.
    for actor in (Actor(ATLAS), Actor(MALLORY)):
        assert _add(storage, collection, later, actor).message == NOT_OWNER_MESSAGE
    user = storage.get_user("alice")
    assert user is not None and user.organization is None
    assert storage.set_organization("alice", "Atlas Research", ATLAS) == 2  # both versions
    assert _add(storage, collection, later, Actor(MALLORY)).outcome is AddOutcome.REFUSED
    assert _add(storage, collection, later, Actor(ATLAS)).outcome is AddOutcome.ADDED


def test_else_the_organization_its_first_version_names(
    upgraded: tuple[Storage, Collection],
) -> None:
    storage, collection = upgraded
    for obj in (NAMED, REMOVED):  # REMOVED's poster no longer exists
        assert _add(storage, collection, _later(obj), Actor(MALLORY)).outcome is (
            AddOutcome.REFUSED
        )
        assert _add(storage, collection, _later(obj), Actor(BANK)).outcome is AddOutcome.ADDED


def test_else_admins_only(upgraded: tuple[Storage, Collection]) -> None:
    storage, collection = upgraded
    later = _later(ANONYMOUS)
    assert _add(storage, collection, later, Actor(BANK)).message == NOT_OWNER_MESSAGE
    assert _add(storage, collection, later, Actor(None, admin=True)).outcome is AddOutcome.ADDED


def test_created_is_fixed_by_what_was_stored(upgraded: tuple[Storage, Collection]) -> None:
    storage, collection = upgraded
    moved = _later(NAMED, created="2024-04-01T00:00:00.000Z")
    message = _add(storage, collection, moved, Actor(BANK)).message
    assert message is not None and "never change" in message
    stored = storage.query_objects(collection.id, _everything(NAMED["id"])).items
    assert [orjson.loads(s.data) for s in stored] == [NAMED]


def _everything(object_id: str) -> Any:
    from tests.storage.stix import query

    return query(ids=(object_id,), all_=True)


def test_objects_waiting_for_a_removed_user_pass_to_admins_not_to_a_namesake(
    upgraded: tuple[Storage, Collection],
) -> None:
    from taxii_server.storage.base import User

    storage, collection = upgraded
    storage.delete_user("alice")
    storage.put_user(User("alice", 1))
    assert storage.set_organization("alice", "Atlas Research", ATLAS) == 0
    later = _later(POSTED[1])
    assert _add(storage, collection, later, Actor(ATLAS)).message == NOT_OWNER_MESSAGE
    assert _add(storage, collection, later, Actor(None, admin=True)).outcome is AddOutcome.ADDED
