"""``python -m benchmarks map``: ``atlas-taxii map`` on a large collection.

For each size in ``--objects`` (default 100,000), generates research packages of one
ecosystem as several partners publish them (:mod:`benchmarks.ecosystem_data`: about
1,100 objects each, shared services recognised by wallets and ``same_as``), converts
them and publishes them into a collection of a SQLite store with the project's own
``publish`` path (not timed).  Then measures what a user runs::

    atlas-taxii map --storage sqlite:///… --collection bench --format json -o map.json

as a separate process: wall time, CPU time (user + system, which the machine's load
changes far less than the wall time) and peak resident memory (the kernel's maximum
RSS of that process), best and median of ``--repeat`` runs.  One more in-process run
times the stages — reading and parsing the collection, building the map, ranking,
writing the JSON document — to say what dominates.  No peer: no other tool ranks
choke points (OpenCTI draws graphs; taxii2-client and medallion only move objects);
the "read + parse" stage is the floor any tool pays to see the collection.

The machine is shared: the load average is recorded before and after each size.
Results go to ``benchmarks/results/map.json``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

from benchmarks.ecosystem_data import PACKAGE_OBJECTS, write_packages
from benchmarks.machine import load_average, machine_info

RESULTS = Path(__file__).resolve().parent / "results" / "map.json"
_COLLECTION = "bench"
_CONFIG = """
[[api_roots]]
name = "bench"
title = "Benchmark"

[[collections]]
api_root = "bench"
title = "{title}"
alias = "bench"
"""


def _seed_store(directory: Path, objects: int, seed: int) -> tuple[str, int]:
    """Publish generated packages into a new store; return its URL and object count."""
    from converters import convert_package
    from converters.validation import get_validator
    from taxii_server.bootstrap import ensure_declared
    from taxii_server.publishing import LocalTarget, publish_objects
    from taxii_server.settings import load_settings
    from taxii_server.storage import open_storage

    config = directory / "atlas-taxii.toml"
    url = f"sqlite:///{directory / 'map.db'}"
    config.write_text(_CONFIG.format(title=_COLLECTION), encoding="utf-8")
    settings = load_settings(config, storage_url=url)
    storage = open_storage(url, migrate=True)
    stored = 0
    try:
        (collection,) = ensure_declared(storage, settings).collections
        target = LocalTarget(storage, collection)
        validator = get_validator()
        packages = directory / "packages"
        packages.mkdir()
        paths = write_packages(packages, math.ceil(objects / PACKAGE_OBJECTS), seed)
        for number, path in enumerate(paths, 1):
            report = publish_objects(convert_package(path)["objects"], target, validator)
            stored += report.new + report.changed
            if number % 50 == 0:
                print(f"  seeded {number}/{len(paths)} packages, {stored} objects", flush=True)
    finally:
        storage.close()
    return url, stored


def _store(scratch: Path, size: int, seed: int, keep: str | None) -> tuple[str, int]:
    """A seeded store: new in ``scratch``, or kept in (and reused from) ``keep``."""
    directory = Path(keep) / f"{size}-{seed}" if keep else scratch
    record = directory / "seeded.json"
    if keep and record.exists():
        print(f"reusing the collection in {directory}", flush=True)
        stored: int = json.loads(record.read_text())["objects"]
        return f"sqlite:///{directory / 'map.db'}", stored
    directory.mkdir(parents=True, exist_ok=True)
    print(f"seeding a collection of about {size:,} objects …", flush=True)
    url, stored = _seed_store(directory, size, seed)
    record.write_text(json.dumps({"objects": stored}))
    return url, stored


def _run_map(url: str, output: Path) -> tuple[float, float, int]:
    """One ``atlas-taxii map`` process: wall seconds, CPU seconds (user + system: what
    the machine's load does not change much) and peak RSS bytes."""
    command = [str(Path(sys.executable).parent / "atlas-taxii"), "map", "--storage", url]
    command += ["--collection", _COLLECTION, "--format", "json", "-o", str(output)]
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        error = process.stderr.read().decode() if process.stderr else ""
        raise SystemExit(f"atlas-taxii map failed ({process.returncode}): {error}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss * 1024  # KiB on Linux


def _stages(url: str) -> dict[str, float]:
    """Where the time goes, in-process: read + parse, build, rank, JSON."""
    from ecosystem import build_map, rank
    from ecosystem.document import map_document
    from taxii_server.gc_pause import gc_paused
    from taxii_server.storage import open_storage
    from taxii_server.storage.base import ObjectQuery

    marks: dict[str, float] = {}

    def timed(name: str, work: Callable[[], Any]) -> Any:
        start = time.perf_counter()
        value = work()
        marks[name] = time.perf_counter() - start
        return value

    def read() -> list[Any]:
        storage = open_storage(url)
        try:
            (collection,) = storage.list_collections("bench")
            objects: list[Any] = []
            after = None
            while True:
                page = storage.query_objects(
                    collection.id, ObjectQuery(clearance=4, limit=5000, after=after)
                )
                objects.extend(orjson.loads(item.data) for item in page.items)
                if not page.more or not page.items:
                    return objects
                after = page.items[-1].date_added
        finally:
            storage.close()

    with gc_paused():  # as the command runs
        objects = timed("read + parse", read)
        emap = timed("build", lambda: build_map(objects))
        candidates = timed("rank", lambda: rank(emap))
        timed("json", lambda: orjson.dumps(map_document(emap, candidates)))
    marks["actors"] = len(emap.of_kind("actor"))
    marks["nodes"] = emap.graph.number_of_nodes()
    return marks


def configure(parser: argparse.ArgumentParser) -> None:
    """Arguments of the ``map`` suite."""
    parser.add_argument(
        "--objects",
        default="100000",
        help="collection sizes, comma-separated (default 100000; e.g. 100000,1000000)",
    )
    parser.add_argument("--repeat", type=int, default=3, help="runs per size (default 3)")
    parser.add_argument("--seed", type=int, default=11, help="seed of the generated packages")
    parser.add_argument(
        "--keep",
        metavar="DIR",
        help="keep the seeded stores in DIR and reuse them in later runs (seeding "
        "1,000,000 objects takes about 25 minutes on a loaded 2-core machine)",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Seed, measure, print a table, write the results file."""
    sizes = [int(s) for s in args.objects.split(",")]
    rows = []
    for size in sizes:
        with tempfile.TemporaryDirectory(prefix="atlas-map-bench-") as scratch:
            directory = Path(scratch)
            start = time.perf_counter()
            url, stored = _store(directory, size, args.seed, args.keep)
            seeded = time.perf_counter() - start
            load_before = load_average()
            runs = [_run_map(url, directory / "map.json") for _ in range(args.repeat)]
            stages = _stages(url)
            load_after = load_average()
            document = json.loads((directory / "map.json").read_bytes())
        walls = [wall for wall, _, _ in runs]
        rows.append(
            {
                "objects": stored,
                "seed_s": round(seeded, 1),
                "wall_s_best": round(min(walls), 2),
                "wall_s_median": round(statistics.median(walls), 2),
                "cpu_s_best": round(min(cpu for _, cpu, _ in runs), 2),
                "peak_rss_mib": round(max(rss for _, _, rss in runs) / 2**20),
                "stages_s": {
                    k: round(v, 2) for k, v in stages.items() if k not in ("actors", "nodes")
                },
                "actors": int(stages["actors"]),
                "nodes": int(stages["nodes"]),
                "candidates": len(document["candidates"]),
                "clusters": len(document["clusters"]),
                "load_before": [round(x, 2) for x in load_before],
                "load_after": [round(x, 2) for x in load_after],
            }
        )
    machine = machine_info()
    print(f"\n{machine.describe()}")
    print(
        f"{'objects':>10} {'best s':>7} {'median s':>9} {'CPU s':>6} {'peak MiB':>9} "
        f"{'load 1/5/15 before':>20}"
    )
    for row in rows:
        load = "/".join(f"{x:.2f}" for x in row["load_before"])
        print(
            f"{row['objects']:>10,} {row['wall_s_best']:>7.2f} {row['wall_s_median']:>9.2f} "
            f"{row['cpu_s_best']:>6.2f} {row['peak_rss_mib']:>9} {load:>20}"
        )
        print("           stages (s): " + ", ".join(f"{k} {v}" for k, v in row["stages_s"].items()))
    RESULTS.parent.mkdir(exist_ok=True)
    result = {"suite": "map", "machine": machine.describe(), "repeat": args.repeat, "rows": rows}
    RESULTS.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return 0
