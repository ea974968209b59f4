"""``python -m benchmarks memory``: what large POSTs leave in a server's workers.

A partner's bulk load is envelopes of up to 50,000 objects.  This suite starts
``atlas-taxii serve`` (SQLite, ``--workers`` gthread workers of ``--threads``), POSTs
``--posts`` envelopes of ``--objects`` small SCOs (domain names, as a blocklist feed
is) one after the other on fresh connections, so that they land on the workers'
different threads, and reads each worker's resident memory (``/proc``) after every
POST.  Variants, each on a fresh server:

* ``no release``: memory is not handed back after a POST;
* ``malloc_trim``: the default, ``malloc_trim(0)`` after each POST
  (``taxii_server/cli/memory.py``);
* ``max_requests=N``: no trim, gunicorn restarts a worker after about N requests;
* ``before`` (with ``--before DIR``): the server of another source tree, e.g.
  ``git archive main | tar -x -C DIR``, run with ``PYTHONPATH=DIR``.

The table gives, per variant, the median seconds per POST, the largest worker's
resident memory after the last POST, the highest seen after any, and the highest a
worker reached while processing one (``VmHWM``; a restarted worker starts again).  Results:
``benchmarks/results/memory.json``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import orjson
import requests

from benchmarks.machine import load_average, machine_info, peak_rss_bytes, rss_bytes
from benchmarks.servers import Target, launch_atlas
from converters.ids import sco_id

__all__ = ["configure", "run"]

RESULTS = Path(__file__).parent / "results" / "memory.json"
_TAXII = "application/taxii+json;version=2.1"
_MB = 1024 * 1024


def configure(parser: argparse.ArgumentParser) -> None:
    """Arguments of the ``memory`` suite."""
    parser.add_argument("--posts", type=int, default=14, help="envelopes posted (14)")
    parser.add_argument("--objects", type=int, default=50_000, help="objects per envelope")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (2)")
    parser.add_argument("--threads", type=int, default=4, help="threads per worker (4)")
    parser.add_argument(
        "--max-requests", type=int, default=4, help="the max_requests variant's N (4)"
    )
    parser.add_argument(
        "--variants",
        default="no-release,malloc-trim,max-requests",
        help="no-release,malloc-trim,max-requests (all); 'before' is added with --before",
    )
    parser.add_argument("--before", type=Path, help="a source tree to measure as 'before'")
    parser.set_defaults(run=run)


def _envelope(index: int, count: int) -> bytes:
    objects = [
        {
            "type": "domain-name",
            "spec_version": "2.1",
            # STIX 2.1 §2.9: the id its value gives (the server checks it).
            "id": sco_id({"type": "domain-name", "value": f"{index}-{n}.example.org"}),
            "value": f"{index}-{n}.example.org",
        }
        for n in range(count)
    ]
    return orjson.dumps({"objects": objects})


def _command(variant: str, args: argparse.Namespace) -> list[str] | None:
    this = [sys.executable, "-m", "benchmarks.memory_server"]
    if variant == "no-release":
        return [*this, "--no-release"]
    if variant == "max-requests":
        return [*this, "--no-release", "--max-requests", str(args.max_requests)]
    if variant == "before":
        code = "import sys; from taxii_server.cli import main; sys.exit(main())"
        # -P: the working directory (this tree) must not come before PYTHONPATH.
        return ["env", f"PYTHONPATH={args.before.resolve()}", sys.executable, "-P", "-c", code]
    return None  # malloc-trim: atlas-taxii serve as it is


def _worker_rss(target: Target) -> list[int]:
    return sorted(rss_bytes(pid) for pid in target.server.tree.workers())


def _peak_rss(target: Target) -> int:
    """The highest resident memory any running worker has had."""
    return max([peak_rss_bytes(pid) for pid in target.server.tree.workers()], default=0)


def _measure(variant: str, args: argparse.Namespace, bodies: Sequence[bytes]) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as scratch:
        url = f"sqlite:///{Path(scratch, 'atlas.db')}"
        with launch_atlas(
            Path(scratch),
            url,
            workers=args.workers,
            threads=args.threads,
            label=variant,
            command=_command(variant, args),
        ) as target:
            headers = {**target.headers, "Content-Type": _TAXII, "Accept": _TAXII}
            seconds: list[float] = []
            after: list[list[int]] = []
            peak = 0
            for body in bodies:
                started = time.perf_counter()
                response = requests.post(
                    target.base_url + target.objects_path, data=body, headers=headers, timeout=600
                )
                seconds.append(time.perf_counter() - started)
                status = response.json()
                if response.status_code != 202 or status.get("success_count") != args.objects:
                    raise RuntimeError(f"{variant}: {response.status_code} {str(status)[:300]}")
                time.sleep(0.5)  # the post_request hook runs after the response
                after.append(_worker_rss(target))
                peak = max(peak, _peak_rss(target))
    return {
        "seconds_per_post": statistics.median(seconds),
        "rss_after_each_mb": [[round(r / _MB) for r in rss] for rss in after],
        "largest_worker_after_last_mb": round(max(after[-1]) / _MB),
        "largest_worker_ever_mb": round(max(max(rss) for rss in after) / _MB),
        "peak_worker_mb": round(peak / _MB),
    }


def run(args: argparse.Namespace) -> int:
    """Run every variant on its own server and print one table."""
    variants = [v for v in args.variants.split(",") if v]
    if args.before is not None:
        variants.insert(0, "before")
    print(f"machine: {machine_info().describe()}; load {load_average()[0]:.1f}", flush=True)
    bodies = [_envelope(i, args.objects) for i in range(args.posts)]
    print(f"{args.posts} envelopes of {args.objects:,} objects, {len(bodies[0]) / _MB:.1f} MB each")
    results: dict[str, Any] = {
        "posts": args.posts,
        "objects": args.objects,
        "workers": args.workers,
        "threads": args.threads,
        "max_requests": args.max_requests,
    }
    print(
        f"{'variant':<16}{'s/POST':>8}{'largest worker after':>22}{'highest after':>15}{'peak':>9}"
    )
    for variant in variants:
        started_load = load_average()[0]
        figures = _measure(variant, args, bodies)
        figures["load"] = started_load
        results[variant] = figures
        name = variant if variant != "max-requests" else f"max_requests={args.max_requests}"
        print(
            f"{name:<16}{figures['seconds_per_post']:>8.2f}"
            f"{figures['largest_worker_after_last_mb']:>19} MB"
            f"{figures['largest_worker_ever_mb']:>12} MB"
            f"{figures['peak_worker_mb']:>6} MB   (load {started_load:.1f})",
            flush=True,
        )
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    return 0
