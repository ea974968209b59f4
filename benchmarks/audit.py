"""``python -m benchmarks audit``: what the audit record costs each read of objects.

Every objects, manifest, object and versions response is preceded by one committed
insert into the audit log (``taxii_server.audit``).  This suite times, in one run and
interleaved so the machine's drift hits both alike:

* ``poll, audited``: ``GET …/objects/?limit=100`` through the Flask test client (the
  whole TAXII layer with cached credentials), as the server runs it;
* ``poll, not audited``: the same request with the audit record skipped (the peer);
* ``empty poll``: ``added_after`` = the newest ``date_added`` (a SIEM's steady state),
  audited and not;
* ``record_audit``: the store call alone, as a read makes it (``durable=False``: committed
  without waiting for the disk), and ``record_audit, durable`` as an add or a delete
  makes it.

On SQLite (WAL, ``synchronous=FULL`` except for records of reads) and, when PostgreSQL's
server binaries are installed, on a throwaway cluster with ``fsync`` on.  Results go
to ``benchmarks/results/audit.json``; compare rows of one run, not runs.
"""

from __future__ import annotations

import argparse
import base64
import json
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from taxii_server.app import create_app
from taxii_server.audit import Auditor
from taxii_server.credentials import hash_secret
from taxii_server.settings import load_settings
from taxii_server.storage import open_storage
from taxii_server.storage.base import (
    ApiRoot,
    AuditRecord,
    Collection,
    Grant,
    NewObject,
    ObjectQuery,
    Storage,
    User,
)
from taxii_server.storage.versions import canonical_json
from taxii_server.timestamps import format_timestamp

ROOT = "bench"
COLLECTION = "4a3b2c1d-0e9f-4a8b-8c7d-6e5f4a3b2c1d"
PASSWORD = "benchmark-password"  # noqa: S105 - a throwaway user in a temporary store
RESULTS = Path(__file__).parent / "results" / "audit.json"


def configure(parser: argparse.ArgumentParser) -> None:
    """Add this suite's arguments."""
    parser.add_argument("--objects", type=int, default=5_000, help="collection size")
    parser.add_argument("--repeat", type=int, default=300, help="timed requests per row")
    parser.add_argument("--no-postgres", action="store_true", help="SQLite only")
    parser.set_defaults(run=run)


class _Unaudited(Auditor):
    """The peer: an auditor that records nothing."""

    def read(self, *args: Any, **kwargs: Any) -> None:
        return None


def _seed(storage: Storage, count: int) -> None:
    storage.put_api_root(ApiRoot(ROOT, "Bench"))
    storage.create_collection(Collection(COLLECTION, ROOT, "Bench"))
    storage.put_user(User("poller", 4, hash_secret(PASSWORD)))
    storage.set_grant(Grant("poller", COLLECTION, True, False))
    for start in range(0, count, 1000):
        batch = []
        for i in range(start, min(count, start + 1000)):
            oid = f"indicator--{uuid.UUID(int=i, version=4)}"
            body = {
                "type": "indicator",
                "spec_version": "2.1",
                "id": oid,
                "created": "2024-06-01T00:00:00.000Z",
                "modified": "2024-06-01T00:00:00.000Z",
                "name": f"Scam domain {i}",
                "pattern": f"[domain-name:value = 'scam-{i}.example.com']",
                "pattern_type": "stix",
                "valid_from": "2024-06-01T00:00:00Z",
            }
            batch.append(NewObject(oid, "indicator", "2.1", 1_717_200_000_000_000, 0,
                                   canonical_json(body)))  # fmt: skip
        storage.add_objects(COLLECTION, batch)


def _time(call: Callable[[], object]) -> float:
    start = time.perf_counter()
    call()
    return (time.perf_counter() - start) * 1000


def _summary(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "median_ms": round(statistics.median(ordered), 3),
        "p95_ms": round(ordered[int(len(ordered) * 0.95) - 1], 3),
    }


def _measure(storage_url: str, count: int, repeat: int) -> dict[str, dict[str, float]]:
    storage = open_storage(storage_url, migrate=True)
    try:
        _seed(storage, count)
        settings = load_settings(environ={}, storage_url=storage_url, max_limit=1000)
        app = create_app(settings, storage=storage)
        service = app.extensions["taxii"].service
        audited, unaudited = service.audit, _Unaudited(storage, service.clock)
        client = app.test_client()
        headers = {
            "Accept": "application/taxii+json;version=2.1",
            "Authorization": "Basic " + base64.b64encode(f"poller:{PASSWORD}".encode()).decode(),
        }
        path = f"/{ROOT}/collections/{COLLECTION}/objects/"
        first = client.get(path, query_string={"limit": "1"}, headers=headers)  # warm the cache
        assert first.status_code == 200, first.data
        every = storage.query_manifest(COLLECTION, ObjectQuery(clearance=4, limit=count))
        empty = {"added_after": format_timestamp(every.items[-1].date_added)}
        rows: dict[str, list[float]] = {
            "poll, audited": [],
            "poll, not audited": [],
            "empty poll, audited": [],
            "empty poll, not audited": [],
            "record_audit": [],
            "record_audit, durable": [],
        }
        record = AuditRecord(0, "poller", "127.0.0.1", ROOT, COLLECTION, "objects", 100,
                             first=1, last=2, query="tlp=red")  # fmt: skip
        for _ in range(repeat):
            for auditor, suffix in ((audited, "audited"), (unaudited, "not audited")):
                service.audit = auditor
                rows[f"poll, {suffix}"].append(
                    _time(lambda: client.get(path, query_string={"limit": "100"}, headers=headers))
                )
                rows[f"empty poll, {suffix}"].append(
                    _time(lambda: client.get(path, query_string=empty, headers=headers))
                )
            rows["record_audit"].append(_time(lambda: storage.record_audit(record, durable=False)))
            rows["record_audit, durable"].append(_time(lambda: storage.record_audit(record)))
        service.audit = audited
        return {name: _summary(samples) for name, samples in rows.items()}
    finally:
        storage.close()


@contextmanager
def durable_postgres() -> Iterator[str | None]:
    """The URL of a database on a throwaway durable cluster, or ``None`` without
    PostgreSQL's server binaries."""
    try:
        from tests.pg import PgCluster, PgUnavailable
    except ImportError:  # benchmarks run from a checkout; tests/ is there
        yield None
        return
    try:
        cluster = PgCluster.start_new(durable=True)
    except PgUnavailable:
        yield None
        return
    try:
        yield cluster.create_database("audit_bench")
    finally:
        cluster.stop()


def run(args: argparse.Namespace) -> int:
    """Run the suite and print one table per backend."""
    results: dict[str, Any] = {"objects": args.objects, "repeat": args.repeat}
    with tempfile.TemporaryDirectory() as directory:
        results["sqlite"] = _measure(
            f"sqlite:///{Path(directory) / 'audit.db'}", args.objects, args.repeat
        )
    if not args.no_postgres:
        with durable_postgres() as url:
            if url is not None:
                results["postgresql"] = _measure(url, args.objects, args.repeat)
    for backend in ("sqlite", "postgresql"):
        if backend not in results:
            continue
        print(f"\n{backend} ({args.objects} objects, {args.repeat} requests per row)")
        print(f"{'row':<26}{'median ms':>10}{'p95 ms':>10}")
        for name, summary in results[backend].items():
            print(f"{name:<26}{summary['median_ms']:>10.3f}{summary['p95_ms']:>10.3f}")
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    return 0
