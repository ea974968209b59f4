"""A SQL store as an earlier release of atlas-taxii created it, for upgrade tests."""

from __future__ import annotations

import uuid

import pytest

from taxii_server.storage import open_storage, sql_schema
from taxii_server.storage.base import ApiRoot, Collection

__all__ = ["sql_store_at"]


def sql_store_at(version: int, url: str, monkeypatch: pytest.MonkeyPatch) -> Collection:
    """Create the SQL database at ``url`` with the first ``version`` migrations only,
    holding API root ``r`` and one collection (returned).

    The code stays at that version until ``monkeypatch.undo()``: the test writes what
    that version wrote, then undoes and opens the store again to upgrade it.
    """
    monkeypatch.setattr(sql_schema, "MIGRATIONS", sql_schema.MIGRATIONS[:version])
    monkeypatch.setattr(sql_schema, "LATEST", version)
    old = open_storage(url, migrate=True)
    try:
        old.put_api_root(ApiRoot("r", "R"))
        collection = Collection(str(uuid.uuid4()), "r", "C")
        old.create_collection(collection)
    finally:
        old.close()
    return collection
