"""Schema version 9 finds an object's versions by a 64-bit key of its id: a store
written before the upgrade answers the same after it, and ids that share a key are
never confused."""

from __future__ import annotations

import pytest

from taxii_server.storage import open_storage, sql, sql_objects, sql_schema
from taxii_server.storage.base import AddOutcome, Collection, Storage
from taxii_server.storage.sql_dialect import Mode
from tests.storage.old_schema import sql_store_at
from tests.storage.stix import query, sco, sdo, ts

#: The unique ``(collection, id, version)`` index, as schema version 1 created it.
_OBJECTS_VERSION = next(
    statement
    for migration in sql_schema.MIGRATIONS
    for statement in migration.statements
    if "INDEX objects_version" in statement
)


@pytest.fixture(autouse=True)
def _sql_only(backend: str) -> None:
    if backend not in ("sqlite", "postgresql"):
        pytest.skip("SQL schema migrations")


def _versions(storage: Storage, collection_id: str, object_id: str) -> list[int]:
    page = storage.query_objects(collection_id, query(ids=(object_id,), last=False, all_=True))
    return [item.version for item in page.items]


def _back_to_version_8(url: str) -> None:
    """Undo what version 9 added, as the code before it left the objects table."""
    database = sql.open_database(url, create=False)
    with database.transaction(Mode.WRITE) as tx:
        tx.script("DROP INDEX objects_id")
        tx.script("ALTER TABLE objects DROP COLUMN id_key")
        tx.script(_OBJECTS_VERSION)
        tx.run("UPDATE schema_version SET version = ?", (8,))
    database.close()


def test_stored_versions_are_found_by_id_after_the_upgrade(
    blank_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    collection = sql_store_at(sql_schema.LATEST, blank_url, monkeypatch)
    monkeypatch.undo()
    twice = [sdo(modified=ts(1)) for _ in range(4)]
    once = [sdo() for _ in range(30)] + [sco(f"198.51.100.{n}") for n in range(5)]
    storage = open_storage(blank_url)
    storage.add_objects(collection.id, [*once, *twice])
    storage.add_objects(collection.id, [sdo(o.id, modified=ts(2)) for o in twice])
    storage.close()
    _back_to_version_8(blank_url)
    # Pages of the upgrade that end between the versions of one object.
    monkeypatch.setattr(sql_schema, "_KEY_PAGE", 7)

    with pytest.raises(Exception, match="db upgrade"):
        open_storage(blank_url)
    storage = open_storage(blank_url, migrate=True)
    try:
        for obj in once:
            found = _versions(storage, collection.id, obj.id)
            assert len(found) == 1 and found[0] == (obj.version or found[0])
        for obj in twice:
            assert _versions(storage, collection.id, obj.id) == [ts(1), ts(2)]
        # A re-post is recognised, a newer version becomes the latest, a delete finds
        # its rows: every path by id reads the keys the upgrade wrote.
        (same,) = storage.add_objects(collection.id, [sdo(twice[0].id, modified=ts(2))])
        assert same.outcome is AddOutcome.UNCHANGED
        storage.add_objects(collection.id, [sdo(twice[0].id, modified=ts(3))])
        latest = storage.query_objects(collection.id, query(ids=(twice[0].id,)))
        assert [item.version for item in latest.items] == [ts(3)]
        assert storage.delete_objects(collection.id, twice[1].id, query(all_=True)) == 2
        assert _versions(storage, collection.id, twice[1].id) == []
        assert _versions(storage, collection.id, twice[2].id) == [ts(1), ts(2)]
    finally:
        storage.close()


def test_ids_that_share_a_key_are_told_apart(
    storage: Storage, collection: Collection, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every id under one key: each query still answers for its own id only."""
    monkeypatch.setattr(sql_objects, "id_key", lambda object_id: 42)
    target = collection.id
    first, second = sdo(modified=ts(1)), sdo(modified=ts(1))
    assert [r.outcome for r in storage.add_objects(target, [first, second])] == [
        AddOutcome.ADDED,
        AddOutcome.ADDED,
    ]
    # A re-post of one is recognised as itself, not as the other's conflict.
    (again,) = storage.add_objects(target, [first])
    assert again.outcome is AddOutcome.UNCHANGED
    storage.add_objects(target, [sdo(first.id, modified=ts(2))])
    assert _versions(storage, target, first.id) == [ts(1), ts(2)]
    assert _versions(storage, target, second.id) == [ts(1)]
    # Only the second's latest flag is its own: a new version of the first does
    # not take it away.
    latest = storage.query_objects(target, query(ids=(second.id,)))
    assert [item.id for item in latest.items] == [second.id]
    assert storage.delete_objects(target, second.id, query(all_=True)) == 1
    assert _versions(storage, target, first.id) == [ts(1), ts(2)]
    assert _versions(storage, target, second.id) == []
