"""``python -m benchmarks workbench``: what a workbench page costs as the collection grows.

For each ``--objects`` size, seeds a temporary SQLite store with the ``pages``
benchmark's objects (indicators at mixed TLP levels, malware, IP address SCOs), signs
a user in through the real form, and times workbench pages through the Flask test
client (session check, service, audit record, template):

* ``list: first page``, ``list: deep page`` (a page token from the middle of the
  collection), ``list: type`` (``malware``, a tenth of the rows): one indexed store
  query each, whatever the collection's size;
* ``list: TLP`` (``red``, a sixth) and ``search: common`` (a name a tenth of the
  objects have): filtered while reading, a page of 50 found within a few hundred rows;
* ``search: rare`` (one object) and ``search: none``: the bound, at most 10,000 objects
  read before the page answers "search further";
* ``object page``: one object with its versions and relationships.

Prints the median and p90 wall time and the median CPU time of this process per page;
compare the rows of one run, not runs (the machine is shared).
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from benchmarks.machine import load_average
from benchmarks.taxii_pages import COLLECTION, PASSWORD, ROOT, _object, _seed
from taxii_server.app import create_app
from taxii_server.query import Endpoint, Filters, NextToken
from taxii_server.settings import load_settings
from taxii_server.storage import open_storage
from taxii_server.storage.base import ObjectQuery
from taxii_server.timestamps import now_us


def configure(parser: argparse.ArgumentParser) -> None:
    """Add this suite's arguments."""
    parser.add_argument(
        "--objects", default="10000,1000000", help="collection sizes, comma-separated"
    )
    parser.add_argument("--repeat", type=int, default=15, help="timed requests per row")
    parser.set_defaults(run=run)


def _time(repeat: int, call: Callable[[], object]) -> dict[str, float]:
    call()  # warm
    wall, cpu = [], []
    for _ in range(repeat):
        started, used = time.perf_counter(), time.process_time()
        call()
        wall.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - used) * 1000)
    return {
        "median_ms": round(statistics.median(wall), 2),
        "p90_ms": round(sorted(wall)[int(0.9 * (len(wall) - 1))], 2),
        "cpu_ms": round(statistics.median(cpu), 2),
    }


def _measure(count: int, repeat: int) -> dict[str, dict[str, float]]:
    with tempfile.TemporaryDirectory(prefix="atlas-workbench-") as tmp:
        url = f"sqlite:///{Path(tmp) / 'workbench.db'}"
        storage = open_storage(url, migrate=True)
        _seed(storage, count, 1)
        seeded = now_us()
        app = create_app(load_settings(environ={}, storage_url=url), storage=storage)
        client = app.test_client()
        form = client.get("/ui/login").text
        token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)  # type: ignore[union-attr]
        signed = client.post(
            "/ui/login", data={"username": "reader", "password": PASSWORD, "csrf_token": token}
        )
        assert signed.status_code == 302, signed.text
        base = f"/ui/roots/{ROOT}/collections/{COLLECTION}/"

        def page(query: str = "", path: str = base) -> str:
            response = client.get(path + query)
            assert response.status_code == 200, response.text[:500]
            return response.text

        # A page token from the middle of the collection (objects were added at an
        # even pace: the middle of the seeding time is the middle of the collection).
        service = app.extensions["taxii"].service
        first = storage.query_objects(COLLECTION, ObjectQuery(clearance=4, limit=1)).items[0]
        middle = (first.date_added + seeded) // 2
        token = service.codec.encode(
            NextToken(ROOT, COLLECTION, Endpoint.OBJECTS, None, Filters(), 50, middle, 2**62)
        )
        deep_url = f"{base}?next={token}"
        rare = _object(count - 3, 1)  # near the end: a search reads up to the bound
        object_id = _object(7, 1)["id"]
        results = {
            "list: first page": _time(repeat, page),
            "list: deep page": _time(repeat, lambda: page(path=deep_url)),
            "list: type": _time(repeat, lambda: page("?type=malware")),
            "list: TLP": _time(repeat, lambda: page("?tlp=red")),
            "search: common": _time(repeat, lambda: page("?q=Loader+family")),
            "search: rare": _time(repeat, lambda: page(f"?q={rare.get('name', 'x')}")),
            "search: none": _time(repeat, lambda: page("?q=no-such-name")),
            "object page": _time(repeat, lambda: page(path=f"{base}objects/{object_id}/")),
        }
        storage.close()
    return results


def run(args: argparse.Namespace) -> int:
    """Measure each size and print one table."""
    sizes = [int(n) for n in args.objects.split(",")]
    load = load_average()
    table = {size: _measure(size, args.repeat) for size in sizes}
    print(f"load average at start: {load}; SQLite; pages of 50; wall median / p90 / CPU median")
    print(f"{'page':20}" + "".join(f"{size:>26,}" for size in sizes))
    for name in table[sizes[0]]:
        cells = "".join(
            f"{table[s][name]['median_ms']:>9.1f} /{table[s][name]['p90_ms']:>6.1f} /"
            f"{table[s][name]['cpu_ms']:>6.1f} ms"
            for s in sizes
        )
        print(f"{name:20}{cells}")
    out = Path(__file__).resolve().parent / "results" / "workbench.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({"load": load, "results": table}, indent=2))
    return 0
