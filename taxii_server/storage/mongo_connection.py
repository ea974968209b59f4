"""MongoDB connections for :class:`~taxii_server.storage.mongo.MongoStorage` (pymongo).

One :class:`pymongo.MongoClient` per process, created on first use: gunicorn forks its
workers after the master has opened the store (to check the schema and ensure the
configured collections), and a client's sockets and monitor threads must not cross a
``fork``.  The client keeps its own connection pool (``maxPoolSize`` in the URL,
default 100 per process).

When the client is created it asks the server what it is (``hello``): a replica set
member or a ``mongos`` supports multi-document transactions, a standalone server does
not.  :mod:`.mongo_writes` decides from that how a write is made atomic.

Driver exceptions are translated into :class:`~taxii_server.storage.base.StorageError`
subclasses by :meth:`MongoConnection.translated`, once per storage call, around any
transaction (a translation inside a transaction would hide from pymongo the error
labels that tell it to retry).
"""

from __future__ import annotations

import os
import re
import threading
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Final

import pymongo
import pymongo.database
import pymongo.errors

from taxii_server.storage.base import StorageConflict, StorageError, StorageUnavailable

__all__ = [
    "DEFAULT_DATABASE",
    "SERVER_SELECTION_TIMEOUT_MS",
    "MongoConnection",
    "redacted",
]

#: The database used when the URL names none (``mongodb://host/`` or ``mongodb://host``).
DEFAULT_DATABASE: Final = "atlas_taxii"

#: How long a request waits for a usable server before the store reports itself
#: unavailable (pymongo's own default, 30 s, would hold a request far longer than a
#: client waits); ``serverSelectionTimeoutMS`` in the URL overrides it.
SERVER_SELECTION_TIMEOUT_MS: Final = 5000

# Options we set unless the URL sets them (keyword arguments would win over the URL).
# Writes are acknowledged once a majority of the replica set has them in its journal:
# a status that says "success", or an audit record, must survive a failover.
_DEFAULT_OPTIONS: Final[dict[str, Any]] = {
    "serverSelectionTimeoutMS": SERVER_SELECTION_TIMEOUT_MS,
    "w": "majority",
    "journal": True,
    "appname": "atlas-taxii",
}

# The first wire version of MongoDB 4.2, the first with transactions on both replica
# sets and sharded clusters.
_TRANSACTIONS_WIRE_VERSION: Final = 8

# Server error codes that mean "try again": hosts unreachable or shutting down, write
# conflicts between transactions, a primary stepping down, exceeded time limits.
_TRANSIENT_CODES: Final = frozenset(
    {6, 7, 50, 89, 91, 112, 189, 262, 9001, 10107, 11600, 11602, 13435, 13436}
)


_TIMEOUTS: Final = re.compile(r" \(configured timeouts: [^)]*\)")


# This process's client, its handle on the store's database, and whether the
# deployment runs transactions.
_Opened = tuple[
    "pymongo.MongoClient[dict[str, Any]]", "pymongo.database.Database[dict[str, Any]]", bool
]


def redacted(url: str) -> str:
    """``url`` without its password, for messages."""
    parts = urllib.parse.urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rpartition("@")[2]
    user = parts.username or ""
    return urllib.parse.urlunsplit(
        (parts.scheme, f"{user}:***@{netloc}", parts.path, parts.query, parts.fragment)
    )


def _first_line(exc: BaseException, limit: int = 300) -> str:
    # pymongo's server-selection errors append its timeouts and the whole topology
    # description to the reason.
    text = str(exc).split(", Timeout: ")[0].splitlines()[0] if str(exc) else ""
    text = _TIMEOUTS.sub("", text) or type(exc).__name__
    return text if len(text) <= limit else text[: limit - 1] + "…"


class MongoConnection:
    """A per-process :class:`pymongo.MongoClient` for one database, and the
    translation of its errors."""

    def __init__(self, url: str) -> None:
        """Open nothing yet: the client is created by the first operation."""
        self._url = url
        self._location = redacted(url)
        given = {key.lower() for key, _ in urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query)}
        self._options = {k: v for k, v in _DEFAULT_OPTIONS.items() if k.lower() not in given}
        self._lock = threading.Lock()
        self._opened: _Opened | None = None
        self._pid = 0

    @property
    def location(self) -> str:
        """Where the database is, for messages (never includes a password)."""
        return self._location

    @property
    def client(self) -> pymongo.MongoClient[dict[str, Any]]:
        """This process's client (created on first use)."""
        return self._open()[0]

    @property
    def database(self) -> pymongo.database.Database[dict[str, Any]]:
        """This process's handle on the store's database."""
        return self._open()[1]

    @property
    def transactions(self) -> bool:
        """Whether the deployment runs multi-document transactions (a replica set or a
        sharded cluster), as its ``hello`` answered when this process connected."""
        return self._open()[2]

    def _open(self) -> _Opened:
        pid = os.getpid()
        opened = self._opened
        if opened is not None and self._pid == pid:
            return opened
        with self._lock:
            if self._opened is not None and self._pid == pid:
                return self._opened
            # A client inherited across fork() is abandoned, not closed: closing it
            # would talk on sockets that belong to the parent.
            try:
                client: pymongo.MongoClient[dict[str, Any]] = pymongo.MongoClient(
                    self._url, **self._options
                )
            except (ValueError, TypeError) as exc:  # pymongo's word on some URL mistakes
                raise StorageError(f"{self._location} is not a usable MongoDB URL: {exc}") from exc
            try:
                database = client.get_default_database(DEFAULT_DATABASE)
                # One round trip now: an unreachable server or a refused login is
                # reported at once, with the driver's reason, by the call that opened.
                hello = client.admin.command("hello")
            except BaseException:
                client.close()
                raise
            transactions = int(hello.get("maxWireVersion", 0)) >= (_TRANSACTIONS_WIRE_VERSION) and (
                "setName" in hello or hello.get("msg") == "isdbgrid"
            )
            self._opened, self._pid = (client, database, transactions), pid
            return self._opened

    def close(self) -> None:
        """Close this process's client; a later operation opens a new one."""
        with self._lock:
            opened, self._opened = self._opened, None
            owned = self._pid == os.getpid()
        if opened is not None and owned:
            opened[0].close()

    @contextmanager
    def translated(self) -> Iterator[None]:
        """Raise pymongo's exceptions as :class:`StorageError` subclasses."""
        location = self._location
        try:
            yield
        except pymongo.errors.DuplicateKeyError as exc:
            # No location here: a conflict's message may reach an HTTP client (409).
            raise StorageConflict(_duplicate_message(exc.details)) from exc
        except pymongo.errors.BulkWriteError as exc:
            errors = exc.details.get("writeErrors", [])
            if errors and all(error.get("code") == 11000 for error in errors):
                raise StorageConflict(_duplicate_message(errors[0])) from exc
            raise StorageError(f"{location}: {_first_line(exc)}") from exc
        except pymongo.errors.ConnectionFailure as exc:
            # Unreachable, connection lost, no primary, pool exhausted: the next
            # request may well succeed.
            raise StorageUnavailable(f"{location}: {_first_line(exc)}") from exc
        except pymongo.errors.OperationFailure as exc:
            transient = exc.code in _TRANSIENT_CODES or exc.has_error_label(
                "TransientTransactionError"
            )
            if transient or isinstance(exc, pymongo.errors.WTimeoutError):
                raise StorageUnavailable(f"{location}: {_first_line(exc)}") from exc
            raise StorageError(f"{location}: {_first_line(exc)}") from exc
        except pymongo.errors.PyMongoError as exc:
            # ConfigurationError (a malformed URL, an unknown option), InvalidDocument…
            raise StorageError(f"{location}: {_first_line(exc)}") from exc


def _duplicate_message(details: Any) -> str:
    """Name the uniqueness rule a duplicate broke (the index and the key, no more)."""
    if isinstance(details, dict):
        pattern = details.get("keyPattern")
        if isinstance(pattern, dict) and pattern:
            return f"the store refused a duplicate of ({', '.join(pattern)})"
        message = details.get("errmsg")
        if isinstance(message, str) and message:
            return f"the store refused a duplicate: {message.splitlines()[0][:200]}"
    return "the store refused a duplicate"
