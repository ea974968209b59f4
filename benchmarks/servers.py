"""The servers a run measures: a process that is started, waited for and stopped, and
what the harness needs to know to talk TAXII 2.1 to it.

:func:`launch_atlas` starts atlas-taxii exactly as an operator does: a TOML
configuration, a user created with ``atlas-taxii users``, then ``atlas-taxii serve``
(gunicorn, gthread workers).  The peers are started in :mod:`benchmarks.peers`.
Servers listen on 127.0.0.1 only; their output goes to files in the run's directory
and is shown when a server fails to start.
"""

from __future__ import annotations

import base64
import contextlib
import http.client
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.machine import ProcessTree

__all__ = ["Server", "Target", "free_port", "launch_atlas"]

ROOT = Path(__file__).resolve().parent.parent
#: Seconds a server may take to answer after it is started.
START_TIMEOUT = 120.0
PASSWORD = "bench-password-not-secret"  # noqa: S105 - a throwaway user of a throwaway store


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """A server process (a gunicorn master) whose output goes to files in ``log_dir``."""

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        port: int,
        log_dir: Path,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.name = name
        self.argv = list(argv)
        self.port = port
        self.env = dict(env or {})
        self.log = log_dir / f"{name}.log"
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def tree(self) -> ProcessTree:
        """The master and its workers, for memory and CPU readings."""
        if self._process is None:
            raise RuntimeError(f"{self.name} is not running")
        return ProcessTree(self._process.pid)

    def start(self) -> None:
        """Start the process; return once ``GET /taxii2/`` gets any HTTP answer."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("ATLAS_TAXII_")}
        env.update(self.env, PYTHONUNBUFFERED="1")
        with self.log.open("wb") as out:
            self._process = subprocess.Popen(
                self.argv, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
        deadline = time.monotonic() + START_TIMEOUT
        while not self._answers():
            if self._process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                tail = self.log.read_text(errors="replace")[-4000:]
                raise RuntimeError(f"{self.name} did not start; its output ends with:\n{tail}")
            time.sleep(0.2)

    def _answers(self) -> bool:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
        try:
            connection.request("GET", "/taxii2/")
            connection.getresponse().read()
        except OSError:
            return False
        finally:
            connection.close()
        return True

    def stop(self) -> None:
        """SIGTERM the master (gunicorn stops its workers), kill the group if it hangs."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)  # only our own process group
            process.wait(30)


@dataclass
class Target:
    """A running server under test and how to address its one collection."""

    name: str
    server: Server
    api_root: str  # a path, "/bench/"
    collection_id: str
    headers: dict[str, str]
    objects_loaded: int = 0  # stored by the ingest (its successes)
    objects_posted: int = 0  # sent by the ingest (fewer when a deadline stopped it)
    notes: list[str] = field(default_factory=list)
    #: The database server's processes (PostgreSQL), counted in the server's CPU.
    database: ProcessTree | None = None

    def cpu_seconds(self) -> float:
        """CPU seconds the server (and its database server) has used so far."""
        used = self.server.tree.cpu_seconds()
        return used if self.database is None else used + self.database.cpu_seconds()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.port}"

    @property
    def collection_path(self) -> str:
        return f"{self.api_root}collections/{self.collection_id}/"

    @property
    def objects_path(self) -> str:
        return f"{self.collection_path}objects/"

    @property
    def manifest_path(self) -> str:
        return f"{self.collection_path}manifest/"

    def versions_path(self, object_id: str) -> str:
        return f"{self.objects_path}{object_id}/versions/"

    def status_path(self, status_id: str) -> str:
        return f"{self.api_root}status/{status_id}/"


def _atlas_command() -> list[str]:
    script = Path(sys.executable).with_name("atlas-taxii")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "import sys; from taxii_server.cli import main; sys.exit(main())"]


def _atlas_config(path: Path, port: int, workers: int, storage_url: str, collection: str) -> None:
    path.write_text(
        f"""\
[server]
host = "127.0.0.1"
port = {port}
workers = {workers}
default_api_root = "bench"

[storage]
url = "{storage_url}"

[[api_roots]]
name = "bench"
title = "Benchmark"
# Envelopes of up to 50,000 objects (the server's max_objects_per_request).
max_content_length = 52428800

[[collections]]
api_root = "bench"
id = "{collection}"
title = "Bench"
""",
        encoding="utf-8",
    )


@contextlib.contextmanager
def launch_atlas(
    directory: Path,
    storage_url: str,
    *,
    workers: int,
    threads: int,
    label: str,
    command: Sequence[str] | None = None,
) -> Iterator[Target]:
    """Start atlas-taxii on ``storage_url`` (an empty store) with one read-write user;
    ``command`` runs another installation's ``atlas-taxii`` (default: this tree's)."""
    port = free_port()
    collection = str(uuid.uuid4())
    config = directory / "atlas-taxii.toml"
    _atlas_config(config, port, workers, storage_url, collection)
    command = list(command) if command is not None else _atlas_command()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ATLAS_TAXII_")}
    for argv, stdin in (
        (
            [
                "users",
                "add",
                "bench",
                "--clearance",
                "red",
                # The generated objects name many creators (created_by_ref): the
                # loading account acts for all of them, as an admin does (STIX 2.1 §3.6).
                "--admin",
                "--password-stdin",
            ],
            PASSWORD + "\n",
        ),
        (["users", "grant", "bench", collection, "--read", "--write"], None),
    ):
        done = subprocess.run(
            [*command, *argv, "--config", str(config)],
            input=stdin, text=True, cwd=ROOT, env=env, capture_output=True, check=False,
        )  # fmt: skip
        if done.returncode != 0:
            raise RuntimeError(f"atlas-taxii {' '.join(argv[:2])} failed:\n{done.stderr}")
    server = Server(
        f"atlas-{label}",
        [*command, "serve", "--config", str(config), "--no-access-log",
         "--workers", str(workers), "--threads", str(threads)],
        port,
        directory,
    )  # fmt: skip
    token = base64.b64encode(f"bench:{PASSWORD}".encode()).decode()
    target = Target(
        name=f"atlas-taxii {label}",
        server=server,
        api_root="/bench/",
        collection_id=collection,
        headers={"Authorization": f"Basic {token}"},
        notes=[f"gunicorn gthread, {workers} worker(s) x {threads} threads"],
    )
    server.start()
    try:
        yield target
    finally:
        server.stop()
