"""mongomock as the tests' stand-in for a MongoDB server.

No MongoDB server can be installed from the package registries this project reaches,
so the contract suite runs the MongoDB store against mongomock, unless
``ATLAS_TEST_MONGODB_URI`` names a real server.  :func:`install` makes
``pymongo.MongoClient`` return mongomock clients that share one in-memory server for
the test, and closes the gaps between mongomock and a real server that the store
relies on, so that what is tested is the store, not mongomock's shortcuts:

* a real server applies each single-document write atomically; mongomock's
  ``find_one_and_update`` reads, then writes, and two threads can interleave between
  the two; and a real server reads each document whole, while mongomock copies a
  document key by key while another thread's update adds keys to it.  Writes and
  reads here run one at a time (each read computes its results whole).
* ``hello`` (which the store asks to learn whether the deployment has transactions) is
  answered as a standalone MongoDB 7.0 answers it.
* pymongo 4.9+ hands bulk updates a ``sort`` argument mongomock does not accept yet.

What mongomock cannot stand in for is listed in docs/storage.md (transactions, query
plans, processes other than the test's own).
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any

import mongomock
import mongomock.collection
import mongomock.database
import mongomock.store
import pymongo
import pytest

__all__ = ["MONGODB_URI_ENV", "MockMongoServer", "install"]

#: A real server to run the MongoDB tests against instead of mongomock.
MONGODB_URI_ENV = "ATLAS_TEST_MONGODB_URI"

# What a standalone MongoDB 7.0 answers to "hello" (the parts the store reads).
_STANDALONE_HELLO = {"isWritablePrimary": True, "maxWireVersion": 21, "ok": 1.0}
_WRITES = ("_insert", "_update", "_find_and_modify", "_delete")
_READS = (
    (mongomock.collection.Cursor, "_compute_results"),
    (mongomock.collection.Collection, "count_documents"),
    (mongomock.collection.Collection, "distinct"),
    (mongomock.collection.Collection, "aggregate"),
)


class MockMongoServer:
    """One in-memory server: every client created while installed shares its data."""

    def __init__(self) -> None:
        self.store = mongomock.store.ServerStore()
        self.clients = 0

    def client(self, host: Any = None, *args: Any, **kwargs: Any) -> mongomock.MongoClient:
        """What ``pymongo.MongoClient(...)`` returns while installed."""
        self.clients += 1
        return mongomock.MongoClient(host, *args, _store=self.store, **kwargs)


def _one_at_a_time(method: Callable[..., Any], lock: threading.RLock) -> Callable[..., Any]:
    @functools.wraps(method)
    def locked(*args: Any, **kwargs: Any) -> Any:
        with lock:
            return method(*args, **kwargs)

    return locked


def install(
    monkeypatch: pytest.MonkeyPatch, hello: dict[str, Any] | None = None
) -> MockMongoServer:
    """Route ``pymongo.MongoClient`` to a new mock server until the test ends;
    ``hello`` replaces the standalone server's answer to ``hello``."""
    server = MockMongoServer()
    monkeypatch.setattr(pymongo, "MongoClient", server.client)
    lock = threading.RLock()
    for name in _WRITES:
        original = getattr(mongomock.collection.Collection, name)
        monkeypatch.setattr(mongomock.collection.Collection, name, _one_at_a_time(original, lock))
    for owner, name in _READS:
        monkeypatch.setattr(owner, name, _one_at_a_time(getattr(owner, name), lock))

    command = mongomock.database.Database.command

    def answer(database: Any, spec: Any, **kwargs: Any) -> Any:
        name = spec if isinstance(spec, str) else next(iter(spec))
        if name == "hello":
            return dict(_STANDALONE_HELLO if hello is None else hello)
        return command(database, spec, **kwargs)

    monkeypatch.setattr(mongomock.database.Database, "command", answer)

    add_update = mongomock.collection.BulkOperationBuilder.add_update

    def add_update_sorted(builder: Any, *args: Any, sort: Any = None, **kwargs: Any) -> Any:
        if sort is not None:
            raise NotImplementedError("mongomock: bulk updates with a sort")
        return add_update(builder, *args, **kwargs)

    monkeypatch.setattr(mongomock.collection.BulkOperationBuilder, "add_update", add_update_sorted)
    return server
