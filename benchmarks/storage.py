"""``python -m benchmarks storage``: what the SQL store's operations cost, per backend.

Seeds ``--objects`` objects (indicators at mixed TLP levels, a tenth malware with two
versions, a fifth IPv4 address SCOs; bodies of realistic size) into a collection on
each backend, then times, through the :class:`~taxii_server.storage.base.Storage`
interface alone (no HTTP):

* ``page 1000``: the first objects page of 1000 (a new poller);
* ``page 1000, deep``: 1000 objects after the middle of the collection (a ``next``);
* ``manifest 1000``, ``type page 1000`` (``match[type]=malware``),
  ``two-type page 1000`` (``match[type]=malware,ipv4-addr``);
* ``object by id`` (the object endpoint) and ``empty poll`` (``added_after`` = newest:
  a SIEM's steady state);
* ``add 1000``: one envelope of 1000 new objects, one transaction;
* ``re-post 1000``: the same envelope again (all unchanged);
* ``add 1000 + status``: 1000 new objects moving 1000 pending status entries.

Peer rows, in the same run: on PostgreSQL, ``page 1000 via jsonb`` reads the JSONB
copy and re-serialises each object into canonical bytes (serving from JSONB alone
instead of keeping the canonical bytes); on every backend, ``page 1000, reparsed``
adds parsing and re-serialising the stored bodies (what servers that keep parsed
documents do per request).

PostgreSQL's statistics are refreshed after seeding (``ANALYZE``, as autovacuum does
within a minute of a bulk load; before that its planner may sort a whole small
collection instead of walking the index).  PostgreSQL runs on a throwaway cluster
(``tests/pg.py``, fsync on, like SQLite's ``synchronous=FULL``) unless
``--postgres-url`` names a database to use (it must be empty).  Results go to
``benchmarks/results/storage.json``.  Compare rows of one run, not runs: the machine
is shared.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson

from converters.ids import sco_id
from converters.tlp import MARKING_IDS, object_rank
from taxii_server.storage import open_storage
from taxii_server.storage.base import (
    ApiRoot,
    Collection,
    NewObject,
    ObjectQuery,
    Status,
    StatusDetail,
    Storage,
    VersionSelector,
)
from taxii_server.storage.versions import canonical_json
from taxii_server.timestamps import format_timestamp, now_us, parse_timestamp

PAGE = 1000
_LEVELS = ("clear", "green", "amber", "green", "clear", "red")
_RESULTS = Path(__file__).parent / "results" / "storage.json"


def configure(parser: argparse.ArgumentParser) -> None:
    """Add this suite's arguments."""
    parser.add_argument("--objects", type=int, default=20_000, help="collection size")
    parser.add_argument("--repeat", type=int, default=20, help="timed calls per row")
    parser.add_argument(
        "--backends", default="sqlite,postgresql", help="comma-separated: sqlite,postgresql"
    )
    parser.add_argument("--postgres-url", help="an empty PostgreSQL database to use")
    parser.set_defaults(run=run)


def _ip(n: int) -> str:
    return f"10.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}"


def _body(n: int, salt: str, version: int = 0) -> dict[str, Any]:
    oid = uuid.uuid5(uuid.NAMESPACE_OID, f"{salt}.{n}")
    if n % 5 == 4:
        return {
            "type": "ipv4-addr",
            "spec_version": "2.1",
            "id": sco_id({"type": "ipv4-addr", "value": _ip(n)}),  # STIX 2.1 §2.9
            "value": _ip(n),
        }
    kind = "malware" if n % 10 == 3 else "indicator"
    body: dict[str, Any] = {
        "type": kind,
        "spec_version": "2.1",
        "id": f"{kind}--{oid}",
        "created": "2024-05-01T10:00:00.000Z",
        "modified": f"2024-05-{1 + version:02d}T10:00:00.000Z",
        "created_by_ref": "identity--b4f3b2a1-3c2d-4e5f-8a9b-0c1d2e3f4a5b",
        "name": f"Campaign infrastructure {n}",
        "description": "Observed in phishing waves targeting retail banking customers; "
        "infrastructure rotates weekly and reuses a bulletproof hosting provider.",
        "labels": ["phishing", "banking"],
        "confidence": 70,
        "external_references": [
            {"source_name": "community-report", "url": f"https://example.org/r/{n}"}
        ],
        "object_marking_refs": [MARKING_IDS[_LEVELS[n % len(_LEVELS)]]],
    }
    if kind == "indicator":
        body |= {
            "pattern": f"[domain-name:value = 'login-{n}.example-bank.top']",
            "pattern_type": "stix",
            "valid_from": "2024-05-01T10:00:00Z",
            "indicator_types": ["malicious-activity"],
        }
    else:
        body["is_family"] = False
    return body


def _record(body: dict[str, Any]) -> NewObject:
    modified = body.get("modified")
    return NewObject(
        id=body["id"],
        type=body["type"],
        spec_version="2.1",
        version=None if modified is None else parse_timestamp(modified),
        tlp=object_rank(body),
        data=canonical_json(body),
    )


def _time(repeat: int, call: Callable[[], object]) -> dict[str, float]:
    call()  # warm caches and prepared statements
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return {
        "median_ms": round(statistics.median(samples), 3),
        "p90_ms": round(samples[int(len(samples) * 0.9) - 1 if len(samples) > 1 else 0], 3),
    }


def _query(limit: int = PAGE, **fields: Any) -> ObjectQuery:
    return ObjectQuery(clearance=4, limit=limit, **fields)


def _measure(storage: Storage, url: str, count: int, repeat: int) -> dict[str, Any]:
    storage.put_api_root(ApiRoot("bench", "Bench"))
    collection = Collection(str(uuid.uuid4()), "bench", "Bench")
    storage.create_collection(collection)
    cid = collection.id
    started = time.perf_counter()
    for start in range(0, count, 1000):
        batch = [_body(n, "seed") for n in range(start, min(start + 1000, count))]
        batch += [_body(n, "seed", 1) for n in range(start, start + 1000, 10) if n % 10 == 3]
        storage.add_objects(cid, [_record(b) for b in batch])
    seeded = time.perf_counter() - started
    if url.startswith(("postgresql:", "postgres:")):
        _analyze(url)  # what autovacuum does within a minute of a bulk load

    every = storage.query_manifest(cid, _query(limit=count * 2, versions=VersionSelector(all=True)))
    middle = every.items[len(every.items) // 2].date_added
    newest = every.items[-1].date_added
    some_id = every.items[len(every.items) // 3].id
    rows: dict[str, dict[str, float]] = {}
    rows["page 1000"] = _time(repeat, lambda: storage.query_objects(cid, _query()))
    rows["page 1000, deep"] = _time(
        repeat, lambda: storage.query_objects(cid, _query(after=middle))
    )
    rows["manifest 1000"] = _time(repeat, lambda: storage.query_manifest(cid, _query()))
    rows["type page 1000"] = _time(
        repeat, lambda: storage.query_objects(cid, _query(types=("malware",)))
    )
    rows["two-type page 1000"] = _time(
        repeat, lambda: storage.query_objects(cid, _query(types=("malware", "ipv4-addr")))
    )
    rows["object by id"] = _time(repeat, lambda: storage.query_objects(cid, _query(ids=(some_id,))))
    rows["empty poll"] = _time(repeat, lambda: storage.query_objects(cid, _query(after=newest)))

    def reparsed() -> bytes:
        page = storage.query_objects(cid, _query())
        return b",".join(canonical_json(orjson.loads(o.data)) for o in page.items)

    rows["page 1000, reparsed (peer)"] = _time(repeat, reparsed)
    if url.startswith(("postgresql:", "postgres:")):
        rows["page 1000 via jsonb (peer)"] = _time(repeat, _jsonb_page(url, cid))

    batches = iter(range(repeat + 1))
    fresh = [[_record(_body(n, f"add{k}")) for n in range(PAGE)] for k in range(repeat + 1)]
    rows["add 1000"] = _time(repeat, lambda: storage.add_objects(cid, fresh[next(batches)]))
    rows["re-post 1000"] = _time(repeat, lambda: storage.add_objects(cid, fresh[0]))

    statused = [[_record(_body(n, f"status{k}")) for n in range(PAGE)] for k in range(repeat + 1)]
    for k, objects in enumerate(statused):
        pendings = tuple(StatusDetail(o.id, "") for o in objects)
        stamp = now_us()
        storage.create_status(
            Status(f"s{k}", "bench", cid, None, stamp, stamp, PAGE, pendings=pendings)
        )
    rounds = iter(range(repeat + 1))

    def add_with_status() -> None:
        k = next(rounds)
        storage.add_objects(cid, statused[k], status_id=f"s{k}")

    rows["add 1000 + status"] = _time(repeat, add_with_status)
    return {"seed_s": round(seeded, 2), "stored_rows": len(every.items), "rows": rows}


def _analyze(url: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute("ANALYZE")


def _jsonb_page(url: str, collection_id: str) -> Callable[[], bytes]:
    """A page served from the JSONB column, re-serialised into canonical bytes."""
    import psycopg

    connection = psycopg.connect(url, autocommit=True)
    sql = (
        "SELECT o.doc FROM objects o WHERE o.collection = "
        "(SELECT seq FROM collections WHERE id = %s) ORDER BY o.date_added LIMIT %s"
    )

    def page() -> bytes:
        docs = connection.execute(sql, (collection_id, PAGE + 1)).fetchall()
        return b",".join(canonical_json(doc) for (doc,) in docs[:PAGE])

    return page


@contextmanager
def _backend(name: str, args: argparse.Namespace, workdir: Path) -> Iterator[str]:
    if name == "sqlite":
        yield f"sqlite:///{workdir / 'bench.db'}"
    elif name == "postgresql" and args.postgres_url:
        yield args.postgres_url
    elif name == "postgresql":
        from tests.pg import PgCluster

        cluster = PgCluster.start_new(durable=True)
        try:
            yield cluster.create_database("bench")
        finally:
            cluster.stop()
    else:
        raise SystemExit(f"unknown backend {name!r}; use sqlite and/or postgresql")


def run(args: argparse.Namespace) -> int:
    """Run the suite and print one table per backend."""
    results: dict[str, Any] = {
        "objects": args.objects,
        "repeat": args.repeat,
        "when": format_timestamp(now_us()),
        "backends": {},
    }
    with tempfile.TemporaryDirectory(prefix="atlas-bench-") as tmp:
        for name in [b.strip() for b in args.backends.split(",") if b.strip()]:
            with _backend(name, args, Path(tmp)) as url:
                storage = open_storage(url, migrate=True)
                try:
                    measured = _measure(storage, url, args.objects, args.repeat)
                finally:
                    storage.close()
            results["backends"][name] = measured
            print(f"\n{name}: {measured['stored_rows']} rows seeded in {measured['seed_s']} s")
            print(f"  {'operation':32} {'median ms':>10} {'p90 ms':>10}")
            for row, timing in measured["rows"].items():
                print(f"  {row:32} {timing['median_ms']:>10.2f} {timing['p90_ms']:>10.2f}")
    _RESULTS.parent.mkdir(exist_ok=True)
    _RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    return 0
