"""``python -m benchmarks serve``: the server over real HTTP, gthread vs sync workers,
beside medallion (the OASIS reference server) on the same objects, in the same run.

What it measures, on a collection of ``--objects`` objects (default 100,000):

* ``first page``: one objects page (``limit=1000``) over a keep-alive connection;
* ``deep page``: the page a ``next`` token from the middle of the collection resumes at;
* ``walk``: following ``next`` from the first page to the last;
* ``8 clients``: requests per second with eight concurrent pollers;
* ``stalled``: how long a normal request waits while as many clients as there are
  workers have sent half a request and stopped (slow or hostile clients; a sync
  worker is held until its timeout).

medallion is run as it must be for paging: its ``next`` state lives in the memory of
one process, so one sync worker; it is measured for the first page and the walk only.
Its virtualenv is looked for at ``--medallion-venv``; without it that part is skipped.

Figures are wall-clock on whatever machine runs this, with the client in the same
machine: compare rows of one run, not runs of different machines.
"""

from __future__ import annotations

import argparse
import json
import socket
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests

from converters.tlp import MARKING_IDS
from tests.live_server import ServerProcess, free_port

TAXII = "application/taxii+json;version=2.1"
PAGE = 1000
COLLECTION_ID = "5d3c1b2a-9e8f-4a7b-8c6d-1e2f3a4b5c6d"
_LEVELS = ("clear", "green", "amber", "green", "clear")


def _objects(count: int) -> list[dict[str, Any]]:
    objects = []
    for i in range(count):
        stamp = f"2024-0{1 + i % 9}-{1 + i % 28:02d}T{i % 24:02d}:{i % 60:02d}:{i % 59:02d}.000Z"
        objects.append(
            {
                "type": "indicator",
                "spec_version": "2.1",
                "id": f"indicator--{uuid.UUID(int=i, version=4)}",
                "created": stamp,
                "modified": stamp,
                "name": f"Scam domain {i}",
                "pattern": f"[domain-name:value = 'scam-{i}.example.com']",
                "pattern_type": "stix",
                "valid_from": stamp,
                "object_marking_refs": [MARKING_IDS[_LEVELS[i % len(_LEVELS)]]],
            }
        )
    return objects


# --------------------------------------------------------------------------- servers


def _atlas_config(directory: Path, port: int, workers: int) -> Path:
    config = directory / "atlas-taxii.toml"
    database = directory / "atlas.db"
    config.write_text(
        f"""
[server]
port = {port}
workers = {workers}
[storage]
url = "sqlite:///{database}"
[paging]
default_limit = {PAGE}
[[api_roots]]
name = "bench"
title = "Benchmark"
[[collections]]
api_root = "bench"
title = "Indicators"
id = "{COLLECTION_ID}"
"""
    )
    return config


def _seed_atlas(config: Path, objects: list[dict[str, Any]]) -> float:
    """Store the objects through the POST path (validation included); return seconds."""
    from converters.validation import get_validator
    from taxii_server.bootstrap import ensure_declared
    from taxii_server.credentials import hash_secret
    from taxii_server.ingest import prepare_objects
    from taxii_server.settings import load_settings
    from taxii_server.storage import open_storage
    from taxii_server.storage.base import Grant, User

    settings = load_settings(config)
    storage = open_storage(settings.storage_url, migrate=True)
    try:
        ensure_declared(storage, settings)
        storage.put_user(User("bench", 2, hash_secret("bench-password")))
        storage.set_grant(Grant("bench", COLLECTION_ID, can_read=True, can_write=False))
        started = time.perf_counter()
        prepared = prepare_objects(objects, get_validator())
        if prepared.failures:
            raise SystemExit(f"generated objects failed validation: {prepared.failures[:3]}")
        for start in range(0, len(prepared.valid), 5000):
            storage.add_objects(COLLECTION_ID, prepared.valid[start : start + 5000])
        return time.perf_counter() - started
    finally:
        storage.close()


def _medallion_data(path: Path, objects: list[dict[str, Any]], base_url: str) -> None:
    added = [
        {
            "id": o["id"],
            "date_added": f"2025-01-01T00:{i // 60000 % 60:02d}:{i // 1000 % 60:02d}"
            f".{i % 1000:03d}Z",
            "version": o["modified"],
            "media_type": "application/stix+json;version=2.1",
        }
        for i, o in enumerate(objects)
    ]
    collection = {
        "id": COLLECTION_ID,
        "title": "Indicators",
        "can_read": True,
        "can_write": False,
        "media_types": ["application/stix+json;version=2.1"],
        "objects": objects,
        "manifest": added,
    }
    data = {
        "/discovery": {"title": "medallion", "api_roots": [f"{base_url}/bench/"]},
        "bench": {
            "information": {
                "title": "Benchmark",
                "versions": [TAXII],
                "max_content_length": 10_000_000,
            },
            "status": [],
            "collections": [collection],
        },
    }
    path.write_text(json.dumps(data))


def _medallion(directory: Path, venv: Path, objects: list[dict[str, Any]]) -> ServerProcess:
    port = free_port()
    data = directory / "medallion-data.json"
    _medallion_data(data, objects, f"http://127.0.0.1:{port}")
    config = directory / "medallion.json"
    config.write_text(
        json.dumps(
            {
                "backend": {
                    "module": "medallion.backends.memory_backend",
                    "module_class": "MemoryBackend",
                    "filename": str(data),
                    "session_timeout": 3600,
                },
                "users": {"bench": "bench-password"},
                "taxii": {"max_page_size": PAGE},
            }
        )
    )
    argv = [
        str(venv / "bin" / "gunicorn"), "--workers", "1", "--timeout", "600",
        "--bind", f"127.0.0.1:{port}", "--no-control-socket",
        f"medallion:load_app({str(config)!r})",
    ]  # fmt: skip
    return ServerProcess(argv, port, directory, "medallion")


# --------------------------------------------------------------------------- measures


def _timed(call: Callable[[], requests.Response], repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        response = call()
        times.append(time.perf_counter() - started)
        response.raise_for_status()
    return times


def _ms(times: list[float]) -> str:
    ordered = sorted(times)
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    return f"median {statistics.median(ordered) * 1000:7.1f} ms  p95 {p95 * 1000:7.1f} ms"


def _walk(session: requests.Session, url: str) -> tuple[float, int, int, str | None]:
    """Follow ``next`` to the end; return (seconds, pages, objects, a middle token)."""
    started = time.perf_counter()
    params: dict[str, str] = {"limit": str(PAGE)}
    pages = count = 0
    tokens: list[str] = []
    while True:
        body = session.get(url, params=params, timeout=600).json()
        pages += 1
        count += len(body.get("objects", []))
        if not body.get("more"):
            break
        tokens.append(body["next"])
        params = {"limit": str(PAGE), "next": body["next"]}
    middle = tokens[len(tokens) // 2] if tokens else None
    return time.perf_counter() - started, pages, count, middle


def _concurrent(url: str, auth: tuple[str, str], clients: int, each: int) -> float:
    """Requests per second of ``clients`` pollers, each on its own keep-alive connection,
    timed after every client has made one (untimed) request: the first request of a
    connection pays for the password check (scrypt), which the auth cache then spares."""
    ready = threading.Barrier(clients + 1)
    done = threading.Barrier(clients + 1)

    def poll() -> None:
        with requests.Session() as session:
            session.auth = auth
            session.headers["Accept"] = TAXII
            session.get(url, params={"limit": "100"}, timeout=600).raise_for_status()
            ready.wait()
            for _ in range(each):
                session.get(url, params={"limit": "100"}, timeout=600).raise_for_status()
            done.wait()

    threads = [threading.Thread(target=poll) for _ in range(clients)]
    for thread in threads:
        thread.start()
    ready.wait()
    started = time.perf_counter()
    done.wait()
    elapsed = time.perf_counter() - started
    for thread in threads:
        thread.join()
    return clients * each / elapsed


def _stalled(port: int, url: str, auth: tuple[str, str], stallers: int, cap: float) -> str:
    sockets = []
    for _ in range(stallers):
        sock = socket.create_connection(("127.0.0.1", port))
        sock.sendall(b"GET /taxii2/ HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # and never finish
        sockets.append(sock)
    time.sleep(0.5)
    started = time.perf_counter()
    try:
        requests.get(url, params={"limit": "10"}, auth=auth, headers={"Accept": TAXII}, timeout=cap)
        return f"{(time.perf_counter() - started) * 1000:.1f} ms"
    except requests.Timeout:
        return f"no answer within {cap:.0f} s"
    finally:
        for sock in sockets:
            sock.close()


def _measure(name: str, server: ServerProcess, url: str, args: argparse.Namespace) -> None:
    auth = ("bench", "bench-password")
    with requests.Session() as session:
        session.auth = auth
        session.headers["Accept"] = TAXII
        repeat = args.repeat if not name.startswith("medallion") else args.medallion_repeat
        session.get(url, params={"limit": "1"}, timeout=600)  # the password check, once
        first = _timed(lambda: session.get(url, params={"limit": str(PAGE)}, timeout=600), repeat)
        print(f"{name:24s} first page ({PAGE})  {_ms(first)}")
        seconds, pages, count, middle = _walk(session, url)
        print(f"{name:24s} walk: {count} objects in {pages} pages, {seconds:.2f} s "
              f"({seconds / pages * 1000:.1f} ms/page)")  # fmt: skip
        if middle is not None and not name.startswith("medallion"):
            deep = _timed(
                lambda: session.get(url, params={"limit": str(PAGE), "next": middle}, timeout=600),
                args.repeat,
            )
            print(f"{name:24s} deep page ({PAGE})   {_ms(deep)}")
    if name.startswith("medallion"):
        return
    rate = _concurrent(url, auth, clients=8, each=args.repeat * 5)
    print(f"{name:24s} 8 clients, limit=100: {rate:.0f} requests/s")
    stalled = _stalled(server.port, url, auth, args.workers, 10)
    print(f"{name:24s} stalled x{args.workers}: {stalled}")


def run(args: argparse.Namespace) -> int:
    objects = _objects(args.objects)
    with tempfile.TemporaryDirectory(prefix="atlas-bench-") as tmp:
        directory = Path(tmp)
        port = free_port()
        config = _atlas_config(directory, port, args.workers)
        print(f"{len(objects)} objects; seeding atlas-taxii (validation included) ...", flush=True)
        print(f"seeded in {_seed_atlas(config, objects):.1f} s")
        url = f"http://127.0.0.1:{port}/bench/collections/{COLLECTION_ID}/objects/"
        atlas = str(Path(sys.executable).with_name("atlas-taxii"))
        variants = [("gthread", threads) for threads in args.threads] + [("sync", 1)]
        for worker_class, threads in variants:
            argv = [atlas, "serve", "--config", str(config), "--worker-class", worker_class,
                    "--threads", str(threads), "--no-access-log"]  # fmt: skip
            name = f"{worker_class}{'/' + str(threads) if worker_class == 'gthread' else ''}"
            server = ServerProcess(argv, port, directory, f"atlas-{name.replace('/', '-')}")
            server.start()
            try:
                _measure(f"atlas-taxii {name} x{args.workers}", server, url, args)
            finally:
                server.stop()
        venv = Path(args.medallion_venv)
        if not (venv / "bin" / "gunicorn").exists():
            print(f"medallion: skipped (no virtualenv at {venv})")
            return 0
        print("starting medallion (loads the whole collection into memory) ...", flush=True)
        small = objects[: args.medallion_objects]
        print(f"medallion: {len(small)} objects (its memory backend's cost grows faster "
              "than the collection: 100,000 are out of reach)")  # fmt: skip
        server = _medallion(directory, venv, small).start()
        try:
            murl = f"{server.base_url}/bench/collections/{COLLECTION_ID}/objects/"
            _measure("medallion 3.0 sync x1", server, murl, args)
        finally:
            server.stop()
    return 0


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the suite's options."""
    parser.add_argument("--objects", type=int, default=100_000, help="collection size")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers for atlas")
    parser.add_argument("--repeat", type=int, default=20, help="requests per timed figure")
    parser.add_argument(
        "--threads",
        type=int,
        nargs="+",
        default=[4],
        metavar="N",
        help="threads per gthread worker; several values are measured one after another",
    )
    parser.add_argument(
        "--medallion-objects", type=int, default=1000, help="collection size for medallion"
    )
    parser.add_argument(
        "--medallion-repeat", type=int, default=3, help="requests per medallion figure"
    )
    parser.add_argument(
        "--medallion-venv",
        default="/work/peers/medallion-venv",
        help="virtualenv with medallion installed (skipped when absent)",
    )
    parser.set_defaults(run=run)
