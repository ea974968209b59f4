"""``python -m benchmarks taxii``: atlas-taxii over HTTP beside medallion and OpenTAXII,
on the same generated data, in one run.

    python -m benchmarks taxii --objects 100000 --store sqlite
    python -m benchmarks taxii --objects 10000,100000,1000000 --store sqlite,postgresql
    python -m benchmarks taxii --objects 100000 --peers none --with-convert

For each collection size and store, the suite starts atlas-taxii itself
(``atlas-taxii serve``: gunicorn, ``--workers`` gthread workers, an empty SQLite file or
a database on a throwaway PostgreSQL cluster), loads the generated objects by POSTing
them, and measures ingest, full reads, polling, ``match[id]`` and versions lookups,
8 and 32 concurrent clients and the workers' memory (see :mod:`benchmarks.measures`
and :mod:`benchmarks.concurrency` for each method).  Then the same workload runs
against each peer (:mod:`benchmarks.peers`): its ingest on all the objects, its reads
on at most ``--medallion-objects`` / ``--opentaxii-objects`` of them (on a server
loaded with just those), each figure bounded by ``--peer-deadline`` seconds; a peer
given fewer objects, or stopped by the deadline, says so in the table.  A peer run is
reused for every size at which it would get the same objects.

Time, on the 2-core machine of docs/performance.md: 14 minutes at 100,000 objects with the
peers at their defaults (atlas-taxii itself takes under a minute; the peers are
stopped at the deadline on most figures), 6 for ``--objects 10000,100000,1000000
--store sqlite,postgresql --peers none``.

Output: a table per size with every figure as a ratio to the better peer, a growth
table across sizes and stores, the CPU each measure cost the client and the server,
and ``benchmarks/results/taxii.json``.  ``--with-convert`` also runs ``python -m
benchmarks convert`` and includes its result.  Everything is seeded (``--seed``): two
runs on a quiet machine measure the same work.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.machine import load_average, machine_info
from benchmarks.report import TargetRun, cpu_table, growth_table, size_table
from benchmarks.runs import atlas_run, peer_run, postgres_cluster
from benchmarks.workload import generate

__all__ = ["configure", "run"]

RESULTS = Path(__file__).resolve().parent / "results" / "taxii.json"
CONVERT_RESULTS = Path(__file__).resolve().parent / "results" / "convert.json"


def _sizes(text: str) -> list[int]:
    try:
        sizes = sorted({int(part.replace("_", "")) for part in text.split(",") if part.strip()})
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: give sizes like 10000,100000") from None
    if not sizes or sizes[0] < 100:
        raise argparse.ArgumentTypeError("each size must be at least 100 objects")
    return sizes


def _names(allowed: tuple[str, ...]) -> Callable[[str], list[str]]:
    def parse(text: str) -> list[str]:
        names = [n.strip() for n in text.split(",") if n.strip() and n.strip() != "none"]
        unknown = [n for n in names if n not in allowed]
        if unknown:
            raise argparse.ArgumentTypeError(f"unknown: {', '.join(unknown)}; use {allowed}")
        return names

    return parse


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the suite's options."""
    parser.add_argument(
        "--objects",
        type=_sizes,
        default=[100_000],
        metavar="N[,N...]",
        help="collection sizes, e.g. 10000,100000,1000000 (default 100000)",
    )
    parser.add_argument(
        "--store",
        type=_names(("sqlite", "postgresql")),
        default=["sqlite"],
        metavar="S[,S]",
        help="sqlite and/or postgresql (default sqlite)",
    )
    parser.add_argument("--workers", type=int, default=1, help="gunicorn workers (default 1)")
    parser.add_argument("--threads", type=int, default=4, help="threads per gthread worker")
    parser.add_argument(
        "--peers",
        type=_names(("medallion", "opentaxii")),
        default=["medallion", "opentaxii"],
        metavar="P[,P]",
        help="medallion,opentaxii (default), or none",
    )
    parser.add_argument(
        "--medallion-objects",
        type=int,
        default=500,
        help="most objects medallion's reads get (its cost grows with the square of the "
        "collection: a poll of 1,000 objects takes seconds); its ingest gets them all",
    )
    parser.add_argument(
        "--opentaxii-objects", type=int, default=100_000, help="most objects OpenTAXII gets"
    )
    parser.add_argument(
        "--peer-deadline",
        type=float,
        default=60.0,
        metavar="S",
        help="seconds a peer may spend on one figure before it is stopped",
    )
    parser.add_argument("--envelope", type=int, default=5000, help="objects per POST")
    parser.add_argument("--polls", type=int, default=500, help="polls by the single client")
    parser.add_argument(
        "--concurrent-polls", type=int, default=100, help="polls by each concurrent client"
    )
    parser.add_argument(
        "--clients",
        type=_sizes_small,
        default=[8, 32],
        metavar="C[,C]",
        help="concurrent clients (default 8,32)",
    )
    parser.add_argument("--probes", type=int, default=200, help="ids looked up")
    parser.add_argument("--seed", type=int, default=1, help="seed of the generated objects")
    parser.add_argument(
        "--with-convert",
        action="store_true",
        help="also run the converter benchmark and include its result",
    )
    parser.add_argument(
        "--medallion-venv",
        type=Path,
        default=Path("/work/peers/medallion-venv"),
        metavar="DIR",
        help="a virtualenv with medallion 3.0.0 (else one is made in the cache)",
    )
    parser.add_argument(
        "--opentaxii-venv",
        type=Path,
        default=Path("/work/peers/opentaxii-venv"),
        metavar="DIR",
        help="a virtualenv with OpenTAXII 0.9.3 (else one is made in the cache)",
    )
    parser.add_argument("--output", type=Path, default=RESULTS, help="where the JSON goes")
    parser.set_defaults(run=run)  # fmt: skip


def _sizes_small(text: str) -> list[int]:
    try:
        values = sorted({int(part) for part in text.split(",") if part.strip()})
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: give counts like 8,32") from None
    if not values or values[0] < 1:
        raise argparse.ArgumentTypeError("client counts must be positive")
    return values


def _convert(args: argparse.Namespace) -> dict[str, Any] | None:
    print("\n== converter benchmark (python -m benchmarks convert)", flush=True)
    done = subprocess.run([sys.executable, "-m", "benchmarks", "convert"], check=False)
    if done.returncode != 0 or not CONVERT_RESULTS.exists():
        print("the converter benchmark failed; see its output above")
        return None
    result: dict[str, Any] = json.loads(CONVERT_RESULTS.read_text())
    return result


def run(args: argparse.Namespace) -> int:
    """Generate, measure every server at every size, print the tables, write JSON."""
    info = machine_info()
    began, began_load = time.perf_counter(), load_average()
    print(f"machine: {info.describe()}; load average {began_load[0]:.2f}", flush=True)
    largest = max(args.objects)
    print(f"generating {largest:,} objects (seed {args.seed}) ...", flush=True)
    full = generate(largest, args.seed)
    print(f"generated in {time.perf_counter() - began:.1f} s", flush=True)
    ours: list[TargetRun] = []
    peers: dict[tuple[str, int], TargetRun] = {}
    tables: list[str] = []
    with (
        tempfile.TemporaryDirectory(prefix="atlas-taxii-bench-") as tmp,
        postgres_cluster(args.store) as pg,
    ):
        directory = Path(tmp)
        for size in args.objects:
            workload = full.prefix(size)
            at_size = [atlas_run(directory, s, size, workload, args, pg) for s in args.store]
            ours += at_size
            compared = []
            for name in args.peers:
                cap = args.medallion_objects if name == "medallion" else args.opentaxii_objects
                key = (name, min(size, cap))
                if key not in peers:
                    peers[key] = peer_run(name, directory, size, full, args)
                compared.append(peers[key])
            table = f"\n{size:,} objects, {args.workers} worker(s)\n" + size_table(
                at_size, compared
            )
            tables.append(table)
            print(table, flush=True)
    everything = ours + list(peers.values())
    if len(ours) > 1:
        tables.append("\ngrowth (atlas-taxii)\n" + growth_table(ours))
    tables.append(f"\nCPU during each measure, share of {info.cores} cores\n"
                  + cpu_table(everything, info.cores))  # fmt: skip
    for table in tables[-2 if len(ours) > 1 else -1 :]:
        print(table)
    converted = _convert(args) if args.with_convert else None
    took = time.perf_counter() - began
    ended_load = load_average()
    print(f"\nwhole run: {took / 60:.1f} min; load average {began_load[0]:.2f} at the start, "
          f"{ended_load[0]:.2f} at the end")  # fmt: skip
    result = {
        "suite": "taxii",
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "command": " ".join(["python -m benchmarks", *sys.argv[1:]]),
        "machine": {"cpu": info.cpu, "cores": info.cores, "ram_gib": round(info.ram_gib, 1),
                    "python": info.python, "system": info.system},
        "load_average": {"start": began_load, "end": ended_load},
        "seconds": round(took, 1),
        "options": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()
                    if k != "run"},
        "runs": [r.as_json() for r in everything],
        "tables": tables,
        "convert": converted,
    }  # fmt: skip
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"results: {args.output}")
    failed = [r for r in ours if r.problems()]
    return 1 if failed else 0
