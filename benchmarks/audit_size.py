"""``python -m benchmarks audit-size``: the bytes an audit record takes, on disk and in
writes, on SQLite and PostgreSQL, for this tree and (``--before DIR``) another.

Each run writes ``--records`` records in a child interpreter
(:mod:`benchmarks.audit_size_child`) through that tree's own auditor: 60 % anonymous
polls of a public collection from 100 addresses, 30 % partners polling by type, 5 %
reads of one object, 5 % adds; ``added_after`` moves on at every poll, as a SIEM's does.
Reported per record:

* **stored**: growth of the audit tables with their indexes (SQLite: of the database
  file after a checkpoint; PostgreSQL: ``pg_total_relation_size``);
* **written**: bytes written to get there (SQLite: what the process passed to
  ``write()``, WAL frames and checkpoints; PostgreSQL: WAL generated).  Each commit
  writes whole pages, so this is mostly the cost of committing once per request.

The before tree is a source directory (``git archive main | tar -x -C DIR``), run with
``PYTHONPATH=DIR``.  Results: ``benchmarks/results/audit_size.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from benchmarks.audit import durable_postgres
from benchmarks.machine import load_average

__all__ = ["configure", "run"]

RESULTS = Path(__file__).parent / "results" / "audit_size.json"
_CHILD = Path(__file__).resolve().parent / "audit_size_child.py"
_ROOT = Path(__file__).resolve().parent.parent


def configure(parser: argparse.ArgumentParser) -> None:
    """Arguments of the ``audit-size`` suite."""
    parser.add_argument("--records", type=int, default=20_000, help="records written (20,000)")
    parser.add_argument("--before", type=Path, help="a source tree to measure beside this one")
    parser.add_argument("--no-postgres", action="store_true", help="SQLite only")
    parser.set_defaults(run=run)


def _child(tree: Path, url: str, records: int) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ATLAS_TAXII_")}
    env["PYTHONPATH"] = str(tree)
    done = subprocess.run(
        [sys.executable, "-P", str(_CHILD), url, str(records)],
        capture_output=True, text=True, env=env, cwd=tempfile.gettempdir(), check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"{tree} on {url.split(':')[0]} failed:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def run(args: argparse.Namespace) -> int:
    """Measure each tree on each store and print one table."""
    trees = {"this tree": _ROOT}
    if args.before is not None:
        trees = {"before": args.before.resolve(), **trees}
    results: dict[str, Any] = {"records": args.records}
    print(f"{args.records:,} records per run; load {load_average()[0]:.1f}")
    print(f"{'store':<12}{'tree':<12}{'stored B/record':>17}{'written B/record':>18}")
    with ExitStack() as stack:
        scratch = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        stores = ["sqlite"] + ([] if args.no_postgres else ["postgresql"])
        for store in stores:
            for name, tree in trees.items():
                if store == "sqlite":
                    url = f"sqlite:///{scratch / name.replace(' ', '-')}.db"
                else:
                    url = stack.enter_context(durable_postgres())
                    if url is None:
                        print("postgresql: server binaries not found, skipped")
                        break
                figures = _child(tree, url, args.records)
                results.setdefault(store, {})[name] = figures
                print(
                    f"{store:<12}{name:<12}{figures['stored_per_record']:>17.0f}"
                    f"{figures['written_per_record']:>18.0f}",
                    flush=True,
                )
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    return 0
