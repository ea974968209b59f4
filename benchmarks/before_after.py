"""``python -m benchmarks before-after``: this tree against an earlier revision, in one run.

    python -m benchmarks before-after                    # against BEFORE (see below)
    python -m benchmarks before-after --before 1a2b3c4 --rounds 5 --measures ingest
    python -m benchmarks before-after --only-this --measures ingest   # this tree alone

The earlier revision (default :data:`BEFORE`, main just before validation moved to
jsonschema-rs) is exported with ``git archive`` and installed, with the dependencies
it declares, into a virtualenv under ``~/.cache/atlas-taxii-bench/`` on first use
(about a minute); nothing of it enters this tree.  Each measure then runs on the two
versions alternately, ``--rounds`` times (before, after, before, after...), so a
change in the load of a shared machine hits both; every figure is printed with the
load average when it started, and the table keeps the best round of each version.

* **validation**: ``get_validator().check_object`` on ``--objects`` realistic valid
  objects (:mod:`benchmarks.stix_mix`), warm, best of 3 passes; objects per CPU second
  of the measuring process (the figure a busy machine disturbs least) and per second.
* **convert**: ``convert_packages`` + ``serialize_bundle`` of the generated package of
  ``--data-points`` data points (:mod:`benchmarks.convert`), best of 3; objects/s.
* **ingest**: ``atlas-taxii serve`` (one gthread worker of 4 threads, an empty SQLite
  file) receiving ``--ingest-objects`` objects (:mod:`benchmarks.workload`) in
  envelopes of ``--envelope``, each POST until its status is complete
  (:func:`benchmarks.measures.ingest`); objects/s, and objects per CPU second of the
  server.

Validation and convert run in a child process on each version's own interpreter
(:mod:`benchmarks.revision_child`).  Results: ``benchmarks/results/before_after.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.convert import generate_package
from benchmarks.figures import Budget
from benchmarks.machine import load_average, machine_info
from benchmarks.measures import ingest
from benchmarks.peers import CACHE
from benchmarks.servers import ROOT, launch_atlas
from benchmarks.stix_mix import realistic_objects
from benchmarks.workload import generate

__all__ = ["BEFORE", "configure", "run"]

#: main before the home-made JSON Schema compiler gave way to jsonschema-rs.
BEFORE = "c177c63"
RESULTS = Path(__file__).resolve().parent / "results" / "before_after.json"
_CHILD = Path(__file__).resolve().parent / "revision_child.py"
_MEASURES = ("validation", "convert", "ingest")


def configure(parser: argparse.ArgumentParser) -> None:
    """Arguments of the ``before-after`` suite."""
    parser.add_argument("--before", default=BEFORE, help=f"the earlier revision ({BEFORE})")
    parser.add_argument("--rounds", type=int, default=3, help="runs of each version (3)")
    parser.add_argument(
        "--measures", default=",".join(_MEASURES), help="validation,convert,ingest (all)"
    )
    parser.add_argument("--objects", type=int, default=20_000, help="validation objects")
    parser.add_argument("--data-points", type=int, default=10_000, help="convert package size")
    parser.add_argument("--ingest-objects", type=int, default=100_000, help="ingest objects")
    parser.add_argument("--envelope", type=int, default=1_000, help="objects per POST")
    parser.add_argument("--seed", type=int, default=7, help="seed of the generated data")
    parser.add_argument(
        "--only-this",
        action="store_true",
        help="measure this tree alone (no earlier revision installed or run)",
    )
    parser.set_defaults(run=run)


def _revision_venv(revision: str) -> Path:
    """A virtualenv with ``revision`` of this repository installed (made on first use)."""
    sha = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--verify", f"{revision}^{{commit}}"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    venv = CACHE / f"atlas-taxii-{sha[:12]}"
    marker = venv / "installed"
    if marker.exists() and marker.read_text(encoding="utf-8").strip() == sha:
        return venv
    print(f"installing atlas-taxii {sha[:12]} into {venv} (once) ...", flush=True)
    with tempfile.TemporaryDirectory() as scratch:
        archive = Path(scratch, "revision.tar")
        subprocess.run(
            ["git", "-C", str(ROOT), "archive", "--output", str(archive), sha], check=True
        )
        with tarfile.open(archive) as tar:
            tar.extractall(Path(scratch, "src"), filter="data")
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
        pip = [str(venv / "bin" / "pip"), "install", "--quiet", "--disable-pip-version-check"]
        done = subprocess.run(
            [*pip, str(Path(scratch, "src"))], capture_output=True, text=True, check=False
        )
        if done.returncode != 0:
            raise RuntimeError(f"cannot install {sha[:12]}:\n{done.stderr[-3000:]}")
    marker.write_text(sha + "\n", encoding="utf-8")
    return venv


def _child(python: str, measure: str, source: Path) -> dict[str, Any]:
    done = subprocess.run(
        [python, str(_CHILD), measure, str(source), "3"],
        capture_output=True, text=True, cwd=tempfile.gettempdir(), check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"{measure} on {python} failed:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _ingest(command: list[str] | None, args: argparse.Namespace, workload: Any) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as scratch:
        url = f"sqlite:///{Path(scratch, 'atlas.db')}"
        with launch_atlas(
            Path(scratch), url, workers=1, threads=4, label="ingest", command=command
        ) as target:
            measure = ingest(target, workload, args.envelope, Budget(None))
    if measure.problems:
        raise RuntimeError(f"ingest: {'; '.join(measure.problems)}")
    return {
        "objects": target.objects_posted,
        "wall_s": measure.wall_s,
        "cpu_s": measure.server_cpu_s,
    }


def run(args: argparse.Namespace) -> int:
    """Prepare both versions and the inputs, measure them alternately, print a table."""
    measures = [m for m in args.measures.split(",") if m]
    versions: dict[str, str] = {}
    commands: dict[str, list[str] | None] = {}
    if not args.only_this:
        venv = _revision_venv(args.before)
        versions["before"] = str(venv / "bin" / "python")
        commands["before"] = [str(venv / "bin" / "atlas-taxii")]
    versions["after"] = sys.executable
    commands["after"] = None
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as scratch:
        objects = Path(scratch, "objects.json")
        objects.write_text(json.dumps(realistic_objects(args.objects, args.seed)))
        package_dir = Path(scratch, "package")
        package_dir.mkdir()
        package = generate_package(package_dir, args.data_points, args.seed)
        workload = generate(args.ingest_objects, args.seed) if "ingest" in measures else None
        work: dict[str, Callable[[str], dict[str, Any]]] = {
            "validation": lambda v: _child(versions[v], "validation", objects),
            "convert": lambda v: _child(versions[v], "convert", package),
            "ingest": lambda v: _ingest(commands[v], args, workload),
        }
        for measure in measures:
            for round_ in range(1, args.rounds + 1):
                for version in versions:
                    load = load_average()[0]
                    figure = work[measure](version)
                    row = {"measure": measure, "version": version, "round": round_}
                    rows.append({**row, **figure, "load": load})
                    _print(rows[-1])
    summary = _summary(rows, measures, list(versions))
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "suite": "before-after",
                "before": args.before,
                "machine": machine_info().describe(),
                "cpus": os.cpu_count(),
                "args": {k: v for k, v in vars(args).items() if k != "run"},
                "rounds": rows,
                "summary": summary,
            },
            indent=2,
        )
        + "\n",
        encoding="utf-8",
    )
    print(f"results: {RESULTS}")
    return 0


def _print(row: dict[str, Any]) -> None:
    print(
        f"{row['measure']:10} {row['version']:6} round {row['round']}: "
        f"{row['objects'] / row['wall_s']:>9,.0f} objects/s, "
        f"{row['objects'] / row['cpu_s']:>9,.0f} per CPU s  (load {row['load']:.2f})",
        flush=True,
    )


def _summary(
    rows: list[dict[str, Any]], measures: list[str], versions: list[str]
) -> list[dict[str, Any]]:
    """The best round of each version per measure, and after/before."""
    if "before" not in versions:
        return _summary_alone(rows, measures)
    print(f"\n{'best of the rounds':18} {'before':>10} {'after':>10} {'after/before':>13}")
    summary = []
    for measure in measures:
        best = {}
        for version in ("before", "after"):
            mine = [r for r in rows if r["measure"] == measure and r["version"] == version]
            best[version] = max(r["objects"] / r["wall_s"] for r in mine)
            best[version + "_cpu"] = max(r["objects"] / r["cpu_s"] for r in mine)
        for unit, suffix in (("objects/s", ""), ("per CPU s", "_cpu")):
            ratio = best["after" + suffix] / best["before" + suffix]
            label = f"{measure} {unit}"
            print(
                f"{label:18} {best['before' + suffix]:>10,.0f} "
                f"{best['after' + suffix]:>10,.0f} {ratio:>12.2f}x"
            )
        summary.append({"measure": measure, **{k: round(v) for k, v in best.items()}})
    return summary


def _summary_alone(rows: list[dict[str, Any]], measures: list[str]) -> list[dict[str, Any]]:
    """The best round of this tree per measure (``--only-this``)."""
    print(f"\n{'best of the rounds':18} {'this tree':>10}")
    summary = []
    for measure in measures:
        mine = [r for r in rows if r["measure"] == measure]
        best = {
            "after": max(r["objects"] / r["wall_s"] for r in mine),
            "after_cpu": max(r["objects"] / r["cpu_s"] for r in mine),
        }
        for unit, key in (("objects/s", "after"), ("per CPU s", "after_cpu")):
            label = f"{measure} {unit}"
            print(f"{label:18} {best[key]:>10,.0f}")
        summary.append({"measure": measure, **{k: round(v) for k, v in best.items()}})
    return summary
