"""Query plans of the SQL store: every statement on objects and statuses is an index
search, and pages come out of an index already in ``date_added`` order, so a poll
costs O(log n + page) whatever the collection's size.

The statements are the store's own, recorded while it serves a realistic sequence
of requests; only the ``EXPLAIN`` around them is written here.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from taxii_server.storage import open_storage, sql
from taxii_server.storage.base import ApiRoot, Collection, ObjectQuery, Status, StatusDetail
from taxii_server.storage.sql_dialect import Mode, Transaction
from tests.storage.stix import T0, query, sdo, ts

TYPES = ("indicator", "malware", "threat-actor", "campaign", "tool", "report")
PER_COLLECTION = 3000


@pytest.fixture(autouse=True)
def _sql_only(backend: str) -> None:
    if backend not in ("sqlite", "postgresql"):
        pytest.skip("SQL query plans")


class _Recorder:
    """Records the statements the store runs (SQL text and parameters)."""

    def __init__(self) -> None:
        self.statements: dict[str, list[Any]] = {}
        self.tags: dict[str, str] = {}
        self.tag = ""

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        for name in ("rows", "row", "run"):
            original = getattr(Transaction, name)

            def recording(
                tx: Transaction, sql_text: str, params: Any = (), *, _o: Any = original
            ) -> Any:
                self.statements.setdefault(sql_text, list(params))
                self.tags.setdefault(sql_text, self.tag)
                return _o(tx, sql_text, params)

            monkeypatch.setattr(Transaction, name, recording)


@pytest.fixture
def plans(
    store_url: str, backend: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[dict[str, list[str]]]:
    """The plan of every statement the store ran, by request shape."""
    storage = open_storage(store_url)
    storage.put_api_root(ApiRoot("r", "R"))
    collections = [Collection(str(uuid.uuid4()), "r", f"C{n}") for n in range(2)]
    for c in collections:
        storage.create_collection(c)
        for start in range(0, PER_COLLECTION, 500):
            storage.add_objects(
                c.id, [sdo(type_=TYPES[i % 6], modified=ts(i)) for i in range(start, start + 500)]
            )
    target = collections[0].id
    for n in range(200):  # enough status entries that an index beats reading them all
        entries = tuple(StatusDetail(f"indicator--{n}-{k}", "") for k in range(10))
        storage.create_status(
            Status(f"old-{n}", "r", target, None, T0, T0, 10, entries[:5], pendings=entries[5:])
        )
    every = storage.query_manifest(target, query(limit=PER_COLLECTION)).items
    middle, one = every[PER_COLLECTION // 2].date_added, every[7].id
    database = sql.open_database(store_url, create=False)
    if backend == "postgresql":  # what autovacuum does on a live server
        with database.transaction(Mode.READ) as tx:
            tx.script("ANALYZE")

    recorder = _Recorder()
    recorder.install(monkeypatch)
    shapes: dict[str, ObjectQuery] = {
        "poll": query(limit=100),
        "poll-after": query(limit=100, after=middle),
        "type": query(limit=100, types=("malware",)),
        "types-after": query(limit=100, types=("malware", "tool"), after=middle),
        "id": query(limit=100, ids=(one,)),
        "versions": query(limit=100, ids=(one,), all_=True),
        "first": query(limit=100, first=True, last=False, clearance=1),
    }
    for tag, shape in shapes.items():
        recorder.tag = tag
        storage.query_objects(target, shape)
    recorder.tag = "add"
    status = Status("s", "r", target, None, T0, T0, 2, pendings=(StatusDetail(one, ""),))
    storage.create_status(status)
    storage.add_objects(target, [sdo(one, modified=ts(9999)), sdo()], status_id="s")
    recorder.tag = "delete"
    storage.delete_objects(target, one, query(all_=True))
    recorder.tag = "status"
    storage.get_status("r", "s")
    monkeypatch.undo()
    storage.close()

    explain = "EXPLAIN QUERY PLAN " if backend == "sqlite" else "EXPLAIN (COSTS OFF) "
    found: dict[str, list[str]] = {}
    with database.transaction(Mode.WRITE) as tx:  # rolled back: EXPLAIN runs nothing
        for statement, params in recorder.statements.items():
            if not re.match(r"\s*(SELECT|UPDATE|DELETE)", statement):
                continue
            rows = tx.rows(explain + statement, params)
            lines = [str(row[-1]) for row in rows]
            found.setdefault(recorder.tags[statement], []).append("\n".join(lines))
    database.close()
    yield found


def _full_scans(plan: str) -> list[str]:
    """Lines of a plan that read a whole large table.  (``statuses`` is left out: the
    test's few hundred rows fit in a few pages, which PostgreSQL rightly reads whole
    rather than through the primary key it uses once the table is large.)"""
    return [
        line
        for line in plan.splitlines()
        if re.search(r"\bSCAN (o|objects|status_pending|status_blocks|statuses)\b(?! USING)", line)
        or re.search(r"Seq Scan on (objects|status_pending|status_blocks)\b", line)
    ]


def test_query_plans(plans: dict[str, list[str]]) -> None:
    """One test per backend: building the plans is the expensive part."""
    assert set(plans) >= {
        "poll",
        "poll-after",
        "type",
        "types-after",
        "id",
        "versions",
        "add",
        "delete",
        "status",
    }
    for tag, statements in plans.items():
        for plan in statements:
            assert _full_scans(plan) == [], f"{tag} scans a table:\n{plan}"

    for shape in ("poll", "poll-after", "type", "types-after", "first"):
        (plan,) = plans[shape]
        # SQLite sorts only the merged arms of a multi-type page (at most types x page).
        for line in plan.splitlines():
            if "TEMP B-TREE" in line:
                assert shape == "types-after", f"{shape} sorts:\n{plan}"
            assert line.strip() not in ("Sort", "->  Sort"), f"{shape} sorts:\n{plan}"
    assert re.search(r"date_added ?> ?(\?|'\d+'::bigint)", plans["poll-after"][0])
    for shape in ("type", "types-after"):
        assert "objects_type" in plans[shape][0], plans[shape][0]
    for shape in ("id", "versions"):
        assert "objects_id" in plans[shape][0], plans[shape][0]
