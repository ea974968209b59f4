"""``python -m benchmarks fleet``: a fleet of SIEMs, each polling once with its own
credentials over a new connection, against atlas-taxii and OpenTAXII in one run.

    python -m benchmarks fleet                          # 200 users, SQLite and PostgreSQL
    python -m benchmarks fleet --objects 1000 --store sqlite
    python -m benchmarks fleet --users 1000 --store sqlite --peers none

A community server is polled by hundreds of partners' SIEMs, each with its own
credentials, each once a minute or once an hour: every poll arrives on a new
connection, from a client the server has not seen for a while.  What such a poll
costs is the cost of checking its credentials plus one ``added_after`` page, which a
benchmark with one client polling over one kept-alive connection never shows.

For each server the suite starts it (``atlas-taxii serve``: ``--workers`` gthread
workers of ``--threads`` threads, on an empty SQLite file or a database of a throwaway
PostgreSQL cluster with fsync on; OpenTAXII 0.9.3 with as many sync workers, on SQLite),
POSTs ``--objects`` generated objects, then the 10 news a poll will find, and creates
``--users`` users, each with its own password and API key (atlas-taxii: read grant on
the collection; OpenTAXII: admins, see :mod:`benchmarks.peers`).  Then, per path,
every user polls ``objects/?added_after=<newest of the bulk>`` exactly once, over a
new TCP connection, from ``--clients`` client processes (the users are dealt out to
them), and every answer is checked (200, the 10 news):

* atlas-taxii: an API key as ``Authorization: Bearer``; an API key as the password of
  HTTP Basic (what Microsoft Sentinel and QRadar send); a password over HTTP Basic
  (scrypt, each user's first poll: the verified-credential cache is per process and
  cold for a user it has not seen);
* OpenTAXII: its JWT as ``Authorization: Bearer`` (tokens obtained before, untimed);
  a password over HTTP Basic (it checks the password on every request).

First, the **floor** (:mod:`benchmarks.fleet_floor`): a minimal threaded server that
answers bytes made at start, polled the same way, shows what the machine itself
charges for a new connection and for waking idle threads.

Each path runs twice (:mod:`benchmarks.fleet_polls`): **paced**, the polls arriving
at ``--rate`` polls per second in all as a Poisson process, as independent SIEMs'
polls do (100 per second is 6,000 SIEMs polling once a minute; a poll's latency runs
from when it was due); and **flat out**, each client polling again as soon as it has
its answer, which gives the server's capacity in polls per second.  Figures: p50 and
p99 of a poll at the paced rate and flat out, the capacity, and the server's CPU per
poll (its processes, plus PostgreSQL's, flat out).  Nothing is cached between the
paths that would favour one: each user's credentials are used once per path, and the
paced and flat-out runs poll as different users (``2 * --users`` of them).  The
load average is printed at the start and end, with the machine: the machine may be
shared, and its load moves every figure.  Results go to ``benchmarks/results/fleet.json``.
"""

from __future__ import annotations

import argparse
import base64
import json
import multiprocessing
import secrets
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks import measures
from benchmarks.figures import Budget
from benchmarks.fleet_polls import FleetResult, fleet_poll
from benchmarks.machine import load_average, machine_info
from benchmarks.peers import (
    OPENTAXII,
    PeerUnavailable,
    add_opentaxii_accounts,
    launch_opentaxii,
    peer_venv,
)
from benchmarks.report import render_table
from benchmarks.runs import atlas_store, postgres_cluster
from benchmarks.servers import Server, Target, free_port, launch_atlas
from benchmarks.workload import Workload, generate
from taxii_server.credentials import hash_api_key, hash_secret, new_api_key
from taxii_server.storage import open_storage
from taxii_server.storage.base import ApiKey, Grant, User

__all__ = ["configure", "run"]

RESULTS = Path(__file__).resolve().parent / "results" / "fleet.json"
#: Targets of issue 10 (2 cores): API-key polls on SQLite with 2 workers.
TARGET_P50_MS, TARGET_P99_MS, TARGET_RATIO = 2.0, 5.0, 10.0


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the suite's options."""
    parser.add_argument("--users", type=int, default=200, help="users, one poll each per path")
    parser.add_argument(
        "--objects",
        type=int,
        default=100_000,
        help="objects in the collection (default 100,000: a few weeks of a community's packages)",
    )
    parser.add_argument(
        "--store",
        default="sqlite,postgresql",
        help="sqlite and/or postgresql, comma-separated (default both)",
    )
    parser.add_argument("--workers", type=int, default=2, help="server workers (default 2)")
    parser.add_argument("--threads", type=int, default=4, help="threads per gthread worker")
    parser.add_argument(
        "--clients", type=int, default=2, help="client processes polling at once (default 2)"
    )
    parser.add_argument(
        "--rate",
        type=float,
        default=100.0,
        help="polls per second of the paced runs, in all (default 100; 0: flat out only)",
    )
    parser.add_argument("--peers", default="opentaxii", help="opentaxii (default) or none")
    parser.add_argument(
        "--opentaxii-venv",
        type=Path,
        default=None,
        metavar="DIR",
        help="a virtualenv with OpenTAXII 0.9.3 (else one is made in the cache)",
    )
    parser.add_argument("--seed", type=int, default=1, help="seed of the generated objects")
    parser.add_argument("--output", type=Path, default=RESULTS, help="where the JSON goes")
    parser.set_defaults(run=run)


@dataclass(frozen=True, slots=True)
class FleetUser:
    """One SIEM: its user name, password (and its scrypt hash) and API key."""

    name: str
    password: str
    password_hash: str
    api_key: str


def _fleet(count: int) -> list[FleetUser]:
    """``count`` users; their passwords hashed at the production cost, once for every
    atlas-taxii store (on every core: it takes a while)."""
    passwords = [secrets.token_urlsafe(18) for _ in range(count)]
    print(f"hashing {count} passwords (scrypt) ...", flush=True)
    with multiprocessing.get_context("fork").Pool() as pool:
        hashes = pool.map(hash_secret, passwords)
    return [
        FleetUser(f"siem-{i:04d}", password, password_hash, new_api_key().token)
        for i, (password, password_hash) in enumerate(zip(passwords, hashes, strict=True))
    ]


def _seed_atlas(storage_url: str, collection_id: str, users: list[FleetUser]) -> None:
    """The users in atlas-taxii's store, as ``atlas-taxii users add/key create/grant``
    make them (scrypt passwords at the production cost, SHA-256 key hashes)."""
    storage = open_storage(storage_url)
    try:
        for user in users:
            storage.put_user(User(user.name, 4, user.password_hash))
            key_id, secret = user.api_key[4:16], user.api_key[17:]
            storage.add_api_key(ApiKey(key_id, user.name, hash_api_key(secret), "fleet"))
            storage.set_grant(Grant(user.name, collection_id, can_read=True, can_write=False))
    finally:
        storage.close()


def _prepare(target: Target, workload: Workload) -> str:
    """Load the collection and post the news; the ``added_after`` a fleet polls with."""
    loaded = measures.ingest(target, workload, 1000, Budget(None))
    if loaded.problems:
        raise RuntimeError(f"{target.name}: loading failed: {loaded.problems}")
    marker = measures.poll_marker(target, workload)
    measures.post_news(target, workload)
    return marker


@dataclass
class ServerRun:
    """The fleet results of one server."""

    server: str
    results: list[FleetResult]
    load: tuple[float, float]
    notes: list[str]
    unavailable: str | None = None


def _atlas(
    directory: Path, store: str, pg: Any, workload: Workload, users: list[FleetUser],
    args: argparse.Namespace,
) -> ServerRun:  # fmt: skip
    where = directory / f"atlas-{store}"
    where.mkdir()
    url, database = atlas_store(where, store, pg, "fleet")
    name = f"atlas-taxii {'SQLite' if store == 'sqlite' else 'PostgreSQL'}"
    print(f"\n== {name}: {args.objects:,} objects, {len(users)} users", flush=True)
    started = load_average()[0]
    launch = launch_atlas(where, url, workers=args.workers, threads=args.threads, label=store)
    with launch as target:
        target.database = database
        marker = _prepare(target, workload)
        _seed_atlas(url, target.collection_id, users)
        news = workload.distinct_news()
        paths: list[tuple[str, Callable[[FleetUser], str]]] = [
            ("API key, Bearer", lambda u: f"Bearer {u.api_key}"),
            ("API key as Basic password", lambda u: _basic(u.name, u.api_key)),
            ("password, Basic (scrypt, cold)", lambda u: _basic(u.name, u.password)),
        ]
        results = [
            result
            for path, header in paths
            for result in _both(target, path, [header(u) for u in users], marker, news, args)
        ]
    notes = [f"{args.workers} gthread workers x {args.threads} threads"]
    if store == "postgresql":
        notes.append("server CPU includes PostgreSQL's processes")
    return ServerRun(name, results, (started, load_average()[0]), notes)


def _opentaxii(
    directory: Path, workload: Workload, users: list[FleetUser], args: argparse.Namespace
) -> ServerRun:
    name = "OpenTAXII 0.9.3 SQLite"
    where = directory / "opentaxii"
    where.mkdir()
    started = load_average()[0]
    dated = workload.dated_only()
    print(f"\n== {name}: {len(dated):,} objects, {len(users)} users", flush=True)
    try:
        venv = peer_venv(OPENTAXII, args.opentaxii_venv)
        with launch_opentaxii(where, venv, workers=args.workers) as target:
            marker = _prepare(target, dated)
            print(f"creating {len(users)} OpenTAXII accounts ...", flush=True)
            tokens = add_opentaxii_accounts(where, venv, [(u.name, u.password) for u in users])
            news = dated.distinct_news()
            results = [
                *_both(target, "JWT, Bearer", [f"Bearer {tokens[u.name]}" for u in users],
                       marker, news, args),
                *_both(target, "password, Basic", [_basic(u.name, u.password) for u in users],
                       marker, news, args),
            ]  # fmt: skip
    except (PeerUnavailable, RuntimeError, OSError) as exc:
        reason = str(exc).splitlines()[0][:300]
        print(f"peer unavailable: {name}: {reason}", flush=True)
        return ServerRun(name, [], (started, load_average()[0]), [], unavailable=reason)
    notes = [
        f"{args.workers} sync workers; accounts are admins (it cannot grant a non-admin "
        "read on a TAXII 2 collection); given the objects that have 'modified'"
    ]
    return ServerRun(name, results, (started, load_average()[0]), notes)


def _both(
    target: Target, path: str, authorizations: list[str], marker: str, news: int,
    args: argparse.Namespace,
) -> list[FleetResult]:  # fmt: skip
    """One path paced at ``--rate`` (unless 0), then flat out, each with its own half
    of the users when paced (``authorizations`` holds ``2 * --users`` then)."""
    if args.rate <= 0:
        return [fleet_poll(target, path, authorizations, marker, news, args.clients)]
    half = len(authorizations) // 2
    return [
        fleet_poll(target, path, authorizations[:half], marker, news, args.clients, args.rate,
                   args.seed),
        fleet_poll(target, path, authorizations[half:], marker, news, args.clients),
    ]  # fmt: skip


def _floor(directory: Path, news: int, args: argparse.Namespace) -> ServerRun:
    """The machine's own cost of a poll: :mod:`benchmarks.fleet_floor`, polled alike."""
    name = "floor: a minimal threaded HTTP server"
    where = directory / "floor"
    where.mkdir()
    print(f"\n== {name}", flush=True)
    started = load_average()[0]
    port = free_port()
    argv = [sys.executable, "-m", "benchmarks.fleet_floor", str(port), str(news)]
    server = Server("floor", argv, port, where)
    target = Target(name="floor", server=server, api_root="/floor/", collection_id="-", headers={})
    server.start()
    try:
        polls = args.users * (2 if args.rate > 0 else 1)
        results = _both(target, "no credentials", ["Bearer -"] * polls, "-", news, args)
    finally:
        server.stop()
    notes = ["one accepting thread, 4 threads answering bytes made at start: no parsing, "
             "no credentials, no store"]  # fmt: skip
    return ServerRun(name, results, (started, load_average()[0]), notes)


def _basic(name: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{name}:{secret}".encode()).decode()


def _table(runs: list[ServerRun], rate: float) -> str:
    paced = f"p50 / p99 at {rate:g}/s (ms)"
    headings = ["server: credentials", paced, "capacity (polls/s)", "p50 / p99 flat out (ms)",
                "server CPU/poll", "load"]  # fmt: skip
    rows = []
    for run in runs:
        if run.unavailable:
            rows.append([f"{run.server}: unavailable", "—", "—", "—", "—", "—"])
        for path in dict.fromkeys(result.path for result in run.results):
            flat = next(r for r in run.results if r.path == path and r.offered is None)
            at = next((r for r in run.results if r.path == path and r.offered), None)
            rows.append(
                [
                    f"{run.server}: {path}",
                    f"{at.p50_ms:,.2f} / {at.p99_ms:,.2f}" if at else "—",
                    f"{flat.rate:,.0f}",
                    f"{flat.p50_ms:,.2f} / {flat.p99_ms:,.2f}",
                    f"{flat.server_cpu_ms:.2f} ms",
                    f"{run.load[0]:.1f}->{run.load[1]:.1f}",
                ]
            )
    return render_table(headings, rows)


def _verdict(runs: list[ServerRun]) -> list[str]:
    """The issue's targets, checked on this run's figures: the latencies flat out (as the
    issue measured them: polls back to back) and paced, beside the floor's; the ratio
    of capacities."""
    ours = [r for run in runs if run.server == "atlas-taxii SQLite" for r in run.results]
    peer = [r for run in runs if run.server.startswith("OpenTAXII") for r in run.results]
    floor = {r.offered: r for run in runs if run.server.startswith("floor") for r in run.results}
    keys = {r.offered: r for r in ours if r.path == "API key, Bearer"}
    if None not in keys:
        return []
    lines = []
    for label, limit, figure in (
        ("p50", TARGET_P50_MS, lambda r: r.p50_ms),
        ("p99", TARGET_P99_MS, lambda r: r.p99_ms),
    ):
        parts = []
        for offered, result in sorted(keys.items(), key=lambda item: item[0] or 0.0):
            how = f"at {offered:g} polls/s" if offered else "flat out"
            verdict = "met" if figure(result) <= limit else "MISSED"
            base = floor.get(offered)
            beside = f", floor {figure(base):.2f} ms" if base else ""
            parts.append(f"{how} {figure(result):.2f} ms {verdict}{beside}")
        lines.append(f"target {label} <= {limit} ms (API key, SQLite): " + "; ".join(parts))
    capacities = [r for r in peer if r.offered is None]
    if capacities:
        best = max(capacities, key=lambda r: r.rate)
        flat = keys[None]
        ratio = flat.rate / best.rate
        lines.append(
            f"target >= {TARGET_RATIO:.0f}x OpenTAXII's best path ({best.path}, "
            f"{best.rate:,.0f} polls/s flat out): x{ratio:,.1f} polls/s, "
            f"x{best.server_cpu_ms / flat.server_cpu_ms:,.1f} CPU per poll, "
            f"{'met' if ratio >= TARGET_RATIO else 'MISSED'}"
        )
    return lines


def run(args: argparse.Namespace) -> int:
    """Measure every server, print the table and the targets, write the JSON."""
    stores = [s.strip() for s in args.store.split(",") if s.strip()]
    unknown = set(stores) - {"sqlite", "postgresql"}
    if unknown or args.users < 1 or args.clients < 1:
        print(f"bad options: stores {sorted(unknown)}, users {args.users}, clients {args.clients}")
        return 2
    info = machine_info()
    began = time.perf_counter()
    start_load = load_average()
    print(f"machine: {info.describe()}; load average {start_load[0]:.2f}", flush=True)
    workload = generate(args.objects, args.seed)
    # The paced and the flat-out runs poll as different users: no cache warmed by one
    # (a worker's verified passwords) serves the other.
    users = _fleet(args.users * (2 if args.rate > 0 else 1))
    runs: list[ServerRun] = []
    with (
        tempfile.TemporaryDirectory(prefix="atlas-taxii-fleet-") as tmp,
        postgres_cluster(stores) as pg,
    ):
        directory = Path(tmp)
        runs.append(_floor(directory, workload.distinct_news(), args))
        runs += [_atlas(directory, store, pg, workload, users, args) for store in stores]
        if args.peers == "opentaxii":
            runs.append(_opentaxii(directory, workload, users, args))
    end_load = load_average()
    took = time.perf_counter() - began
    heading = (
        f"\nfleet: {args.users} users per run, each polling once per path (added_after, "
        f"{workload.distinct_news()} new objects) over a new connection, from {args.clients} "
        f"client processes, paced at {args.rate:g} polls/s and flat out; {args.workers} "
        f"workers; {args.objects:,} objects\n"
        f"machine: {info.describe()}\n"
        f"load average (1 min) {start_load[0]:.2f} at the start, {end_load[0]:.2f} at the end; "
        f"the 'load' column is each server's start -> end; run took {took:.0f} s"
    )
    table = _table(runs, args.rate)
    notes = [f"  - {run.server}: {note}" for run in runs for note in run.notes]
    verdict = _verdict(runs)
    text = "\n".join([heading, table, *notes, *verdict])
    print(text)
    problems = [
        f"{run.server}, {r.path}: {p}" for run in runs for r in run.results for p in r.problems
    ]
    for problem in problems:
        print(f"  ! {problem}")
    result = {
        "suite": "fleet",
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "command": " ".join(["python -m benchmarks", *sys.argv[1:]]),
        "machine": info.describe(),
        "load_average": {"start": start_load, "end": end_load},
        "seconds": round(took, 1),
        "options": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()
                    if k != "run"},
        "runs": [
            {"server": r.server, "notes": r.notes, "load": r.load, "unavailable": r.unavailable,
             "results": [x.as_json() for x in r.results]}
            for r in runs
        ],
        "table": text,
    }  # fmt: skip
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"results: {args.output}")
    return 1 if problems else 0
