"""A throwaway PostgreSQL cluster for tests: ``initdb`` + ``pg_ctl`` in a temporary
directory, reachable only through a Unix socket in that directory.

Used by the storage contract suite and reusable by any test that needs PostgreSQL::

    cluster = PgCluster.start_new()      # or None-check find_pg_bin() first
    url = cluster.create_database("t1")  # postgresql:///t1?host=…&user=postgres
    cluster.stop()

``initdb`` refuses to run as root, and tests here run as root, so the server binaries
run as the ``postgres`` system user (``runuser``) in a directory it owns.  The server
is tuned for throwaway data (no fsync) and listens on no TCP address at all.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import psycopg

__all__ = ["PgCluster", "PgUnavailable", "find_pg_bin"]

_SUPERUSER = "postgres"


class PgUnavailable(Exception):
    """No PostgreSQL server binaries on this machine (the message says what is missing)."""


def find_pg_bin() -> Path:
    """The directory holding ``initdb`` and ``pg_ctl``: from PATH, else the newest
    ``/usr/lib/postgresql/*/bin``."""
    found = shutil.which("initdb")
    if found:
        directory = Path(found).resolve().parent
        if (directory / "pg_ctl").exists():
            return directory

    def major(path: str) -> int:
        match = re.search(r"/postgresql/(\d+)/", path)
        return int(match.group(1)) if match else 0

    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=major, reverse=True)
    if candidates:
        return Path(candidates[0]).parent
    raise PgUnavailable(
        "PostgreSQL server binaries (initdb, pg_ctl) not found on PATH or in "
        "/usr/lib/postgresql/*/bin; install the 'postgresql' package to run these tests"
    )


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class PgCluster:
    """A running throwaway cluster; :meth:`stop` removes it and its files."""

    def __init__(self, bin_dir: Path, root: Path, port: int, prefix: list[str]) -> None:
        self.bin_dir = bin_dir
        self.root = root
        self.port = port
        self._prefix = prefix
        self._options = ""

    @property
    def socket_dir(self) -> Path:
        return self.root / "socket"

    @classmethod
    def start_new(cls, *, durable: bool = False) -> PgCluster:
        """initdb a cluster in a new temporary directory and start it; ``durable``
        keeps fsync on (benchmarks), otherwise data is thrown away on a crash."""
        bin_dir = find_pg_bin()
        root = Path(tempfile.mkdtemp(prefix="atlas-pg-"))
        prefix: list[str] = []
        if os.geteuid() == 0:
            try:
                account = pwd.getpwnam(_SUPERUSER)
            except KeyError:
                shutil.rmtree(root, ignore_errors=True)
                raise PgUnavailable(
                    "running as root and there is no 'postgres' system user to run the "
                    "PostgreSQL server as"
                ) from None
            os.chown(root, account.pw_uid, account.pw_gid)
            prefix = ["runuser", "-u", _SUPERUSER, "--"]
        cluster = cls(bin_dir, root, _free_port(), prefix)
        try:
            cluster._run(
                "initdb",
                "-D",
                str(root / "data"),
                "-U",
                _SUPERUSER,
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--no-sync",
                "--locale=C",
            )
            cluster._run("mkdir", str(cluster.socket_dir), tool=False)
            cluster._options = f"-k {cluster.socket_dir} -p {cluster.port} -c listen_addresses=''"
            if not durable:
                cluster._options += (
                    " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
                )
            cluster.start_server()
        except BaseException:
            cluster.stop()
            raise
        return cluster

    def start_server(self) -> None:
        """Start the server (again, after :meth:`stop_server`)."""
        data, log = str(self.root / "data"), str(self.root / "server.log")
        self._run("pg_ctl", "-D", data, "-l", log, "-o", self._options, "-w", "-t", "60", "start")

    def stop_server(self) -> None:
        """Stop the server, keeping its data (an outage, for tests)."""
        self._run("pg_ctl", "-D", str(self.root / "data"), "-m", "fast", "-w", "stop")

    def _run(self, name: str, *args: str, tool: bool = True) -> None:
        program = str(self.bin_dir / name) if tool else name
        result = subprocess.run(
            [*self._prefix, program, *args], capture_output=True, text=True, check=False
        )
        if result.returncode != 0:
            raise RuntimeError(
                f"{name} failed ({result.returncode}): {result.stderr.strip() or result.stdout}"
            )

    def url(self, database: str) -> str:
        """A libpq URL for ``database`` over the cluster's socket."""
        return f"postgresql:///{database}?host={self.socket_dir}&port={self.port}&user={_SUPERUSER}"

    def _admin(self, statement: str) -> None:
        with psycopg.connect(self.url("postgres"), autocommit=True) as connection:
            connection.execute(statement.encode())  # names are ours: no injection

    def create_database(self, name: str, *, template: str | None = None) -> str:
        """Create database ``name`` (a copy of ``template`` if given); return its URL."""
        copy = f" TEMPLATE {template}" if template else ""
        self._admin(f'CREATE DATABASE "{name}"{copy}')
        return self.url(name)

    def empty_database(self, name: str, *, keep: tuple[str, ...] = ()) -> None:
        """Delete every row of every table of ``name`` except the tables in ``keep``
        (far cheaper than creating a database per test)."""
        with psycopg.connect(self.url(name), autocommit=True) as connection:
            tables = [
                row[0]
                for row in connection.execute(
                    "SELECT tablename FROM pg_catalog.pg_tables WHERE schemaname = 'public'"
                )
                if row[0] not in keep
            ]
            if tables:
                names = ", ".join(f'"{table}"' for table in tables)
                connection.execute(f"TRUNCATE {names} RESTART IDENTITY CASCADE".encode())

    def drop_database(self, name: str) -> None:
        """Drop ``name``, disconnecting anyone still using it."""
        self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def stop(self) -> None:
        """Stop the server (fast, discarding everything) and delete its directory."""
        if (self.root / "data" / "postmaster.pid").exists():
            # A server already gone leaves only its directory to remove.
            with contextlib.suppress(RuntimeError):
                self._run("pg_ctl", "-D", str(self.root / "data"), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.root, ignore_errors=True)
