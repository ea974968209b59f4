"""The query plans of the MongoDB store's page reads, checked with ``explain()`` on a
real server (``ATLAS_TEST_MONGODB_URI``); mongomock has no planner, so without a
server these tests are skipped.

A page must walk an index in ``date_added`` order and stop after ``limit + 1``
documents: no blocking ``SORT`` of every match, except after a ``match[id]`` lookup,
which finds a few versions by id and sorts those.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pymongo
import pytest

from taxii_server.storage.base import Collection, ObjectQuery, Storage
from taxii_server.storage.mongo_objects import OBJECTS, page_filter
from tests.storage.mongo_mock import MONGODB_URI_ENV
from tests.storage.stix import query, sdo

pytestmark = pytest.mark.skipif(
    not os.environ.get(MONGODB_URI_ENV),
    reason=f"query plans need a real MongoDB server: set {MONGODB_URI_ENV}",
)

_TYPES = ("indicator", "malware", "threat-actor", "identity", "tool")


@pytest.fixture
def backend() -> str:
    return "mongodb"


@pytest.fixture
def filled(storage: Storage, collection: Collection, store_url: str) -> Iterator[tuple[Any, int]]:
    """The objects collection holding 2,000 versions of mixed types, and the
    collection's number."""
    for start in range(0, 2000, 500):
        storage.add_objects(
            collection.id, [sdo(type_=_TYPES[n % len(_TYPES)]) for n in range(start, start + 500)]
        )
    client: Any = pymongo.MongoClient(store_url)
    try:
        database = client.get_default_database()
        seq = database["collections"].find_one({"_id": collection.id})["seq"]
        yield database[OBJECTS], seq
    finally:
        client.close()


def _stages(plan: dict[str, Any]) -> list[dict[str, Any]]:
    """Every stage of a plan tree (classic or slot-based engine)."""
    found = [plan]
    for key in ("inputStage", "queryPlan"):
        if isinstance(plan.get(key), dict):
            found.extend(_stages(plan[key]))
    for child in plan.get("inputStages", []):
        found.extend(_stages(child))
    return found


def _plan(objects: Any, seq: int, q: ObjectQuery) -> list[dict[str, Any]]:
    planned = page_filter(seq, q)
    assert planned is not None
    where, hint = planned
    explained = (
        objects.find(where)
        .sort("date_added", pymongo.ASCENDING)
        .limit(q.limit + 1)
        .hint(hint)
        .explain()
    )
    return _stages(explained["queryPlanner"]["winningPlan"])


@pytest.mark.parametrize(
    ("q", "index", "sorts"),
    [
        pytest.param(query(limit=100), "objects_page", False, id="poll"),
        pytest.param(query(limit=100, after=1), "objects_page", False, id="resume"),
        pytest.param(query(limit=100, all_=True), "objects_page", False, id="all-versions"),
        pytest.param(query(limit=100, types=("malware",)), "objects_type", False, id="one-type"),
        pytest.param(
            query(limit=100, types=("malware", "tool", "identity")),
            "objects_type",
            False,
            id="three-types",
        ),
        pytest.param(
            query(limit=100, types=tuple(f"x-{n}" for n in range(300)) + ("tool",)),
            "objects_page",
            False,
            id="many-types",
        ),
        pytest.param(
            query(limit=100, ids=("indicator--00000000-0000-4000-8000-000000000000",)),
            "objects_version",
            True,
            id="by-id",
        ),
    ],
)
def test_pages_walk_an_index_in_date_added_order(
    filled: tuple[Any, int], q: ObjectQuery, index: str, sorts: bool
) -> None:
    objects, seq = filled
    stages = _plan(objects, seq, q)
    names = {stage.get("stage") for stage in stages}
    used = {stage.get("indexName") for stage in stages if stage.get("stage") == "IXSCAN"}
    assert used == {index}, stages
    assert ("SORT" in names) is sorts, stages
    assert "COLLSCAN" not in names
