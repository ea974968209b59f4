"""PostgreSQL keeps a JSONB copy of every body for operators' ad-hoc queries."""

from __future__ import annotations

import orjson
import psycopg
import pytest

from taxii_server.storage.base import Collection, Storage
from tests.storage.stix import sdo


@pytest.mark.postgres
def test_jsonb_copy_of_bodies(
    backend: str, store_url: str, storage: Storage, collection: Collection
) -> None:
    if backend != "postgresql":
        pytest.skip("PostgreSQL only")
    plain = sdo(name="Ünïcode indicator", labels=["a", "b"])
    with_nul = sdo(name="has a \x00 inside")  # JSON spells it \\u0000, which jsonb refuses
    storage.add_objects(collection.id, [plain, with_nul])
    with psycopg.connect(store_url) as connection:
        docs = dict(connection.execute("SELECT id, doc FROM objects").fetchall())
        names = connection.execute(
            "SELECT doc->>'name' FROM objects WHERE doc @> %s::jsonb", ('{"labels": ["b"]}',)
        ).fetchall()
    assert docs[plain.id] == orjson.loads(plain.data)
    assert docs[with_nul.id] is None  # stored and served all the same, without a copy
    assert names == [("Ünïcode indicator",)]
