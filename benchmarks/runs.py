"""Every figure of one server on one workload: atlas-taxii on a store, or a peer.

The order is what a collection lives through: loaded by POSTs (ingest), read whole
(full reads), then the objects posted after the load are polled for (polling), looked
up (``match[id]``, versions), and all of it again with concurrent clients; the
workers' memory is read before loading, after it and after the reads.

A peer's ingest runs on all the objects atlas-taxii gets (until the deadline), on a
server started for it alone; its reads on at most its share of them (``--medallion-
objects`` / ``--opentaxii-objects``), on a server loaded with just those.  A load the
deadline stopped is read as far as it got.
"""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import replace
from pathlib import Path
from typing import Any

from benchmarks import concurrency, measures
from benchmarks.figures import Budget, Measure
from benchmarks.machine import ProcessTree, load_average
from benchmarks.peers import (
    MEDALLION,
    OPENTAXII,
    PeerUnavailable,
    launch_medallion,
    launch_opentaxii,
    peer_venv,
)
from benchmarks.report import TargetRun
from benchmarks.servers import Target, launch_atlas
from benchmarks.workload import Workload

__all__ = ["atlas_run", "atlas_store", "peer_run", "postgres_cluster"]


def _load(
    target: Target, run: TargetRun, workload: Workload, envelope: int, seconds: float | None
) -> None:
    """Ingest ``workload``'s bulk, with the workers' memory before and after."""
    run.memory.append(measures.memory(target, "before", "before loading"))
    run.measures.append(measures.ingest(target, workload, envelope, Budget(seconds)))
    run.memory.append(measures.memory(target, "loaded", "after loading"))


def _measure(
    launch: AbstractContextManager[Target], run: TargetRun, workload: Workload,
    args: argparse.Namespace, seconds: float | None, *, database: ProcessTree | None = None,
    loaded_before: bool = False,
) -> None:  # fmt: skip
    """Every figure of one server on ``workload``, into ``run``.

    ``database`` is the database server's processes (their CPU counts as the
    server's).  ``loaded_before``: the ingest figures come from an earlier, larger
    load (:func:`_ingest_only`); this load only fills the collection the reads use.
    """
    start_load = load_average()
    with launch as target:
        run.notes += [note for note in target.notes if note not in run.notes]
        target.database = database
        if loaded_before:
            target_load = measures.ingest(target, workload, args.envelope, Budget(seconds))
            run.measures.append(_renamed_load(target_load, len(workload)))
        else:
            _load(target, run, workload, args.envelope, seconds)
        if target.objects_posted < workload.bulk_size:
            # The deadline stopped the load: read what it loaded.
            workload = workload.truncated(target.objects_posted)
            run.notes.append(f"reads on the {target.objects_posted:,} objects loaded in time")
        step = run.measures.append
        expected = workload.distinct_bulk()
        step(measures.full_read(target, expected, measures.PAGE, Budget(seconds)))
        step(measures.full_read(target, expected, None, Budget(seconds)))
        marker = measures.poll_marker(target, workload)
        measures.post_news(target, workload)
        news = workload.distinct_news()
        step(measures.polling(target, marker, news, args.polls, Budget(seconds)))
        step(measures.lookups(target, workload.probes(args.probes), Budget(seconds)))
        for clients in args.clients:
            step(concurrency.concurrent_read(target, clients, expected + news, Budget(seconds)))
            step(
                concurrency.concurrent_polling(
                    target, clients, marker, news, args.concurrent_polls, Budget(seconds)
                )
            )
        run.memory.append(measures.memory(target, "read", "after the reads"))
    run.load = (start_load, load_average())


def _renamed_load(measure: Measure, objects: int) -> Measure:
    """The ingest that only filled a peer's smaller collection: shown apart from the
    ingest figure, which was measured on the full size."""
    measure.name = "load for the reads"
    measure.figures = [
        replace(f, key=f"load.{f.key}", label=f"load of the {objects:,} objects read below")
        for f in measure.figures
        if f.key == "ingest.rate"
    ]
    return measure


def _ingest_only(
    launch: AbstractContextManager[Target], run: TargetRun, workload: Workload,
    args: argparse.Namespace,
) -> None:  # fmt: skip
    """A peer's ingest on the same number of objects as atlas-taxii (until the
    deadline), on a server started for it alone."""
    with launch as target:
        run.notes += target.notes
        _load(target, run, workload, args.envelope, args.peer_deadline)


@contextlib.contextmanager
def postgres_cluster(stores: list[str]) -> Iterator[Any]:
    """A throwaway PostgreSQL cluster (``tests/pg.py``) with fsync on, like SQLite's
    ``synchronous=FULL``, when ``stores`` name PostgreSQL; else ``None``."""
    if "postgresql" not in stores:
        yield None
        return
    from tests.pg import PgCluster

    cluster = PgCluster.start_new(durable=True)
    try:
        yield cluster
    finally:
        cluster.stop()


def atlas_store(where: Path, store: str, pg: Any, database: str) -> tuple[str, ProcessTree | None]:
    """The storage URL of an empty atlas-taxii store: a SQLite file in ``where``, or a
    new database ``database`` on ``pg`` (the cluster); and for PostgreSQL its server's
    processes, whose CPU counts as the server's."""
    if store == "sqlite":
        return f"sqlite:///{where / 'atlas.db'}", None
    url = pg.create_database(database)
    return url, ProcessTree(int((pg.root / "data" / "postmaster.pid").read_text().split()[0]))


def atlas_run(
    directory: Path, store: str, size: int, workload: Workload, args: argparse.Namespace,
    pg: Any,
) -> TargetRun:  # fmt: skip
    """atlas-taxii on ``store`` (``pg``: the PostgreSQL cluster) with ``workload``."""
    run = TargetRun(f"atlas-taxii {store}", "atlas", store, size)
    where = directory / f"atlas-{store}-{size}"
    where.mkdir()
    url, database = atlas_store(where, store, pg, f"bench_{size}")
    if database is not None:
        run.notes.append("RSS counts atlas-taxii's workers only, not PostgreSQL's processes")
    label = f"{store}-{size}"
    print(f"\n== atlas-taxii on {store}, {size:,} objects", flush=True)
    _measure(
        launch_atlas(where, url, workers=args.workers, threads=args.threads, label=label),
        run, workload, args, None, database=database,
    )  # fmt: skip
    if store == "postgresql":
        pg.drop_database(f"bench_{size}")
    return run


def peer_run(
    name: str, directory: Path, size: int, full: Workload, args: argparse.Namespace
) -> TargetRun:
    """One peer on the same objects: the ingest on all of them (until the deadline), the
    rest on at most ``--<peer>-objects`` of them when that is fewer."""
    cap = args.medallion_objects if name == "medallion" else args.opentaxii_objects
    given = min(size, cap)
    whole, small = full.prefix(size), full.prefix(given)
    title = "medallion 3.0.0" if name == "medallion" else "OpenTAXII 0.9.3"
    run = TargetRun(title, name, "memory" if name == "medallion" else "sqlite", given)
    if name == "opentaxii":
        whole, small = whole.dated_only(), small.dated_only()
        run.notes.append(
            "given only the objects that have 'modified' (it cannot store SCOs: KeyError, "
            "the whole envelope is lost)"
        )
    run.size, run.ingest_size = len(small), len(whole)
    if given < size:
        run.notes.append(
            f"reads measured on the first {given:,} objects (--{name}-objects): "
            "its reads cannot finish on more in reasonable time"
        )

    def launch(where: Path) -> AbstractContextManager[Target]:
        where.mkdir(exist_ok=True)
        if name == "medallion":
            return launch_medallion(where, peer_venv(MEDALLION, args.medallion_venv))
        venv = peer_venv(OPENTAXII, args.opentaxii_venv)
        return launch_opentaxii(where, venv, workers=args.workers)

    try:
        if given < size:
            print(f"\n== {title}: ingest of {len(whole):,} objects", flush=True)
            _ingest_only(launch(directory / f"{name}-ingest-{size}"), run, whole, args)
        print(f"\n== {title}, {len(small):,} objects", flush=True)
        _measure(
            launch(directory / f"{name}-{given}"), run, small, args, args.peer_deadline,
            loaded_before=given < size,
        )  # fmt: skip
    except (PeerUnavailable, RuntimeError, OSError) as exc:
        run.unavailable = str(exc).splitlines()[0][:300]
        print(f"peer unavailable: {title}: {run.unavailable}", flush=True)
    return run
