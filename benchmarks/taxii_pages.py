"""``python -m benchmarks pages``: what one TAXII page read costs in-process.

Seeds ``--objects`` objects (default 100,000: indicators at mixed TLP levels, malware
with versions, IP address SCOs) into a temporary SQLite store, then times requests
through the Flask test client (the whole TAXII layer: negotiation, cached auth, query
parsing, ``next`` signing, the store query, the response) for:

* ``first page``: ``GET …/objects/?limit=1000``;
* ``deep page``: the page a ``next`` token from the middle of the collection resumes at;
* ``type page``: ``match[type]=malware`` (a tenth of the rows), a page of 1000;
* ``manifest``: a manifest page of 1000;
* ``object``: one object by id;
* ``empty poll``: ``added_after`` = the newest ``date_added`` (a SIEM's steady state).

In the same run, on the same 1000 stored rows, the ``peer`` rows show what building the
page costs when each stored body is parsed and the envelope serialised again (what
medallion and most servers do) against assembling the stored bytes (what we do), and
what the bare store query costs, so the HTTP layer's own share is visible.  Results
go to ``benchmarks/results/taxii_pages.json``.  Compare rows of one run, not runs.
"""

from __future__ import annotations

import argparse
import base64
import json
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

from converters.tlp import MARKING_IDS, object_rank
from taxii_server.app import create_app
from taxii_server.credentials import hash_secret
from taxii_server.resources import envelope_bytes
from taxii_server.settings import load_settings
from taxii_server.storage import open_storage
from taxii_server.storage.base import (
    ApiRoot,
    Collection,
    Grant,
    NewObject,
    ObjectQuery,
    Storage,
    User,
)
from taxii_server.storage.versions import canonical_json
from taxii_server.timestamps import parse_timestamp

PAGE = 1000
ROOT = "bench"
COLLECTION = "6f5e4d3c-2b1a-4908-8f7e-6d5c4b3a2918"
PASSWORD = "benchmark-password"  # noqa: S105 - a throwaway user in a temporary store
_LEVELS = ("clear", "green", "amber", "green", "clear", "red")


def configure(parser: argparse.ArgumentParser) -> None:
    """Add this suite's arguments."""
    parser.add_argument("--objects", type=int, default=100_000, help="collection size")
    parser.add_argument("--repeat", type=int, default=30, help="timed requests per row")
    parser.add_argument("--seed", type=int, default=1, help="varies ids and patterns")
    parser.set_defaults(run=run)


def _object(i: int, seed: int) -> dict[str, Any]:
    stamp = f"2024-{1 + i % 12:02d}-{1 + i % 28:02d}T{i % 24:02d}:{i % 60:02d}:00.000Z"
    oid = uuid.UUID(int=(seed << 64) + i, version=4)
    if i % 5 == 4:
        return {
            "type": "ipv4-addr",
            "spec_version": "2.1",
            "id": f"ipv4-addr--{oid}",
            "value": f"10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}",
        }
    if i % 10 == 3:
        return {
            "type": "malware",
            "spec_version": "2.1",
            "id": f"malware--{oid}",
            "created": stamp,
            "modified": stamp,
            "name": f"Loader family {i}",
            "is_family": True,
            "object_marking_refs": [MARKING_IDS[_LEVELS[i % len(_LEVELS)]]],
        }
    return {
        "type": "indicator",
        "spec_version": "2.1",
        "id": f"indicator--{oid}",
        "created": stamp,
        "modified": stamp,
        "name": f"Scam domain {i}",
        "description": "Domain used by a fake investment platform to collect deposits.",
        "pattern": f"[domain-name:value = 'scam-{i}.example.com']",
        "pattern_type": "stix",
        "valid_from": stamp,
        "labels": ["investment-fraud"],
        "object_marking_refs": [MARKING_IDS[_LEVELS[i % len(_LEVELS)]]],
    }


def _record(obj: dict[str, Any]) -> NewObject:
    stamp = obj.get("modified")
    return NewObject(
        id=obj["id"],
        type=obj["type"],
        spec_version="2.1",
        version=None if stamp is None else parse_timestamp(stamp),
        tlp=object_rank(obj),
        data=canonical_json(obj),
    )


def _seed(storage: Storage, count: int, seed: int) -> float:
    storage.put_api_root(ApiRoot(ROOT, "Benchmark"))
    storage.create_collection(Collection(COLLECTION, ROOT, "Bench"))
    storage.put_user(User("reader", 4, hash_secret(PASSWORD)))
    storage.set_grant(Grant("reader", COLLECTION, True, False))
    started = time.perf_counter()
    for start in range(0, count, 5000):
        storage.add_objects(
            COLLECTION, [_record(_object(i, seed)) for i in range(start, min(count, start + 5000))]
        )
    return time.perf_counter() - started


def _time(repeat: int, call: Callable[[], object]) -> dict[str, float]:
    call()  # warm: caches, statement preparation, the auth cache
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    return {
        "median_ms": round(statistics.median(samples), 3),
        "p90_ms": round(sorted(samples)[int(0.9 * (len(samples) - 1))], 3),
    }


def run(args: argparse.Namespace) -> int:
    """Seed, measure, print a table and write the JSON results."""
    with tempfile.TemporaryDirectory(prefix="atlas-pages-") as tmp:
        url = f"sqlite:///{Path(tmp) / 'pages.db'}"
        storage = open_storage(url, migrate=True)
        seeding = _seed(storage, args.objects, args.seed)
        settings = load_settings(environ={}, storage_url=url, default_limit=PAGE, max_limit=PAGE)
        client = create_app(settings, storage=storage).test_client()
        auth = base64.b64encode(f"reader:{PASSWORD}".encode()).decode()
        headers = {"Accept": "application/taxii+json;version=2.1", "Authorization": f"Basic {auth}"}
        base = f"/{ROOT}/collections/{COLLECTION}"

        def get(path: str, **query: str) -> bytes:
            response = client.get(path, query_string=query, headers=headers)
            assert response.status_code == 200, response.data
            return response.data

        first = get(f"{base}/objects/", limit=str(PAGE))
        middle = get(f"{base}/objects/", limit=str(args.objects // 2))  # lowered to PAGE
        token = json.loads(middle)["next"]
        any_id = json.loads(first)["objects"][0]["id"]
        rows = storage.query_objects(COLLECTION, ObjectQuery(clearance=4, limit=PAGE)).items

        results = {
            "first page": _time(args.repeat, lambda: get(f"{base}/objects/", limit=str(PAGE))),
            "deep page": _time(args.repeat, lambda: get(f"{base}/objects/", next=token)),
            "type page": _time(
                args.repeat, lambda: get(f"{base}/objects/", **{"match[type]": "malware"})
            ),
            "manifest": _time(args.repeat, lambda: get(f"{base}/manifest/", limit=str(PAGE))),
            "object": _time(args.repeat, lambda: get(f"{base}/objects/{any_id}/")),
            "empty poll": _time(
                args.repeat,
                lambda: get(f"{base}/objects/", added_after="2999-01-01T00:00:00Z"),
            ),
            "peer: store query only": _time(
                args.repeat,
                lambda: storage.query_objects(COLLECTION, ObjectQuery(clearance=4, limit=PAGE)),
            ),
            "peer: envelope from stored bytes": _time(
                args.repeat, lambda: envelope_bytes(rows, True, "x")
            ),
            "peer: envelope re-serialised": _time(
                args.repeat,
                lambda: orjson.dumps(
                    {"more": True, "next": "x", "objects": [orjson.loads(r.data) for r in rows]}
                ),
            ),
            "peer: re-serialised with json": _time(
                args.repeat,
                lambda: json.dumps(
                    {"more": True, "next": "x", "objects": [json.loads(r.data) for r in rows]}
                ),
            ),
        }
        storage.close()

    print(f"{args.objects} objects seeded in {seeding:.1f} s; pages of {PAGE}")
    print(f"{'case':36} {'median ms':>10} {'p90 ms':>10}")
    for name, figures in results.items():
        print(f"{name:36} {figures['median_ms']:>10.2f} {figures['p90_ms']:>10.2f}")
    out = Path(__file__).resolve().parent / "results" / "taxii_pages.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(
        json.dumps(
            {"objects": args.objects, "page": PAGE, "seed_seconds": seeding, "results": results},
            indent=2,
        )
    )
    return 0
