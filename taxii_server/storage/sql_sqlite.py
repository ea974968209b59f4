"""SQLite connections for :class:`~taxii_server.storage.sql.SqlStorage` (stdlib sqlite3).

One connection per thread and process: gunicorn's gthread workers run requests on
several threads, and its workers are forked processes, none of which may share a
connection (SQLite forbids carrying one across ``fork``).  The database runs in WAL
mode so readers never wait for the writer and the writer never waits for readers;
writers queue on the database lock for up to :data:`BUSY_TIMEOUT` seconds.  Every
write transaction starts with ``BEGIN IMMEDIATE``: taking the write lock up front is
what makes ``date_added`` assignment race-free across processes, and it avoids the
deadlock of two deferred readers both trying to become the writer.

``sqlite:///:memory:`` keeps one private database in the process, shared by its
threads through a single connection and a lock (tests and demos).
"""

from __future__ import annotations

import os
import sqlite3
import threading
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from taxii_server.storage.base import (
    StorageConflict,
    StorageError,
    StorageUnavailable,
)
from taxii_server.storage.sql_dialect import Dialect, Mode, Transaction

__all__ = ["BUSY_TIMEOUT", "SQLITE", "SqliteDatabase"]

#: Seconds a writer waits for another process's write transaction to finish.  An add
#: of a large envelope holds the lock for a second or two; the gunicorn request
#: timeout (120 s by default) bounds the wait from above.
BUSY_TIMEOUT = 30.0

# FULL: an add the client was told succeeded survives a power cut (Mode.RECORD
# transactions relax it for themselves).
_SYNCHRONOUS = "FULL"

# Page cache of a connection (negative: KiB).  A write transaction gets a larger one:
# an add of 1,000 objects dirties about a thousand pages (mostly of the id index, where
# new ids land at random), which SQLite's default 2 MiB cache would write out to the
# WAL in the middle of the transaction and read back; between writes it is shrunk
# again, so a worker's reading threads do not each keep 16 MiB.
_WRITE_CACHE = -16384
_READ_CACHE = -2000

# Pages in the WAL before a commit copies them back into the database file.
_CHECKPOINT_PAGES = 10_000

SQLITE = Dialect(
    name="sqlite",
    types={
        "serial_pk": "INTEGER PRIMARY KEY AUTOINCREMENT",  # never reuse a deleted key
        "bool": "INTEGER",
        "bytes": "BLOB",
        "body_function": "",
        "body_doc": "",
        # A table stored as its primary key's B-tree alone: one B-tree per row written.
        "without_rowid": " WITHOUT ROWID",
        "continue_audit_seq": "",  # AUTOINCREMENT continues after the largest seq
    },
    table_exists="SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
    # Without statistics SQLite answers "match[id] ORDER BY date_added" by walking the
    # whole collection in date_added order to skip a sort of a few rows.
    index_hint=" INDEXED BY {index}",
)

# Primary result codes that mean "the database is there but not usable right now".
_UNAVAILABLE_CODES = frozenset(
    {
        sqlite3.SQLITE_BUSY,
        sqlite3.SQLITE_LOCKED,
        sqlite3.SQLITE_NOMEM,
        sqlite3.SQLITE_READONLY,
        sqlite3.SQLITE_IOERR,
        sqlite3.SQLITE_FULL,
        sqlite3.SQLITE_CANTOPEN,
        sqlite3.SQLITE_PROTOCOL,
    }
)


@contextmanager
def _translated(location: str) -> Iterator[None]:
    """Raise sqlite3's exceptions as :class:`StorageError` subclasses."""
    try:
        yield
    except sqlite3.IntegrityError as exc:
        # No location here: a conflict's message may reach an HTTP client (409).
        raise StorageConflict(f"the store refused a duplicate: {str(exc).splitlines()[0]}") from exc
    except sqlite3.Error as exc:
        code = getattr(exc, "sqlite_errorcode", None)
        if code is not None and code & 0xFF in _UNAVAILABLE_CODES:
            raise StorageUnavailable(f"{location}: {exc}") from exc
        raise StorageError(f"{location}: {exc}") from exc


class SqliteDatabase:
    """SQLite connections for one database file (or one in-memory database)."""

    dialect = SQLITE

    def __init__(self, path: str, *, create: bool) -> None:
        """Open nothing yet; ``create`` allows creating a missing database file."""
        self._memory = path == ":memory:"
        self._path = path if self._memory else str(Path(path).absolute())
        self._create = create
        self._local = threading.local()
        self._lock = threading.Lock()
        # (pid, thread, connection) of every connection opened.  A forked child must
        # neither use nor close its parent's (SQLite forbids carrying a connection
        # across fork), so they stay referenced here; a connection whose thread has
        # ended in this process is closed when the next one is opened (servers that
        # start a thread per request would otherwise leak one per request).
        self._connections: list[tuple[int, threading.Thread, sqlite3.Connection]] = []
        self._shared_lock = threading.RLock()

    @property
    def location(self) -> str:
        return f"sqlite:///{self._path}" if not self._memory else "sqlite:///:memory:"

    def _open(self) -> sqlite3.Connection:
        if self._memory:
            target, uri = ":memory:", False
        elif self._create:
            target, uri = self._path, False
        else:
            target, uri = f"file:{urllib.parse.quote(self._path)}?mode=rw", True
            if not Path(self._path).exists():
                raise StorageError(
                    f"{self.location}: no such database file; create it with "
                    "`atlas-taxii db upgrade`"
                )
        connection = sqlite3.connect(
            target,
            timeout=BUSY_TIMEOUT,
            isolation_level=None,  # we issue BEGIN/COMMIT ourselves
            check_same_thread=False,  # one thread uses it; close() may run elsewhere
            cached_statements=256,
            uri=uri,
        )
        try:
            if not self._memory:
                connection.execute("PRAGMA journal_mode = WAL")
                connection.execute(f"PRAGMA synchronous = {_SYNCHRONOUS}")
                # Copy the WAL back into the database every 40 MB rather than 4 MB (the
                # default): a bulk load rewrites the same index pages in chunk after
                # chunk, and each checkpoint copies a page once however often it was
                # rewritten (100,000 objects stored in 15% less time).
                connection.execute(f"PRAGMA wal_autocheckpoint = {_CHECKPOINT_PAGES}")
            connection.execute("PRAGMA foreign_keys = ON")
        except BaseException:
            connection.close()
            raise
        return connection

    def _connection(self) -> sqlite3.Connection:
        pid = os.getpid()
        if self._memory:
            with self._lock:
                if not self._connections:
                    self._connections.append((pid, threading.current_thread(), self._open()))
                return self._connections[0][2]
        mine: tuple[int, sqlite3.Connection] | None = getattr(self._local, "connection", None)
        if mine is not None and mine[0] == pid:
            return mine[1]
        connection = self._open()
        self._local.connection = (pid, connection)
        with self._lock:
            ended = [
                entry for entry in self._connections if entry[0] == pid and not entry[1].is_alive()
            ]
            self._connections = [e for e in self._connections if e not in ended]
            self._connections.append((pid, threading.current_thread(), connection))
        for _, _, stale in ended:
            stale.close()
        return connection

    @contextmanager
    def transaction(self, mode: Mode) -> Iterator[Transaction]:
        """Run one transaction on this thread's connection (see :class:`Mode`)."""
        with _translated(self.location):
            if self._memory:
                with self._shared_lock:
                    yield from self._run(self._connection(), mode)
            else:
                yield from self._run(self._connection(), mode)

    def _run(self, connection: sqlite3.Connection, mode: Mode) -> Iterator[Transaction]:
        cursor = connection.cursor()
        relaxed = mode is Mode.RECORD and not self._memory
        try:
            if relaxed:
                cursor.execute("PRAGMA synchronous = NORMAL")  # see Mode.RECORD
            if mode is Mode.WRITE and not self._memory:
                cursor.execute(f"PRAGMA cache_size = {_WRITE_CACHE}")
            if mode is Mode.WRITE or mode is Mode.RECORD:
                cursor.execute("BEGIN IMMEDIATE")
            elif mode is Mode.SNAPSHOT:
                cursor.execute("BEGIN")
            try:
                yield Transaction(cursor, SQLITE)
            except BaseException:
                if connection.in_transaction:
                    connection.rollback()
                raise
            if connection.in_transaction:
                cursor.execute("COMMIT")
        finally:
            try:
                if relaxed:
                    cursor.execute(f"PRAGMA synchronous = {_SYNCHRONOUS}")
                if mode is Mode.WRITE and not self._memory:
                    cursor.execute(f"PRAGMA cache_size = {_READ_CACHE}")
            finally:
                cursor.close()

    def close(self) -> None:
        """Close the connections this process opened.

        A later transaction opens a fresh connection (an in-memory database is then a
        new, empty one).
        """
        pid = os.getpid()
        with self._lock:
            self._local = threading.local()
            connections, self._connections = self._connections, []
        for owner, _, connection in connections:
            if owner == pid:
                connection.close()
