"""How many database commands one storage call costs on MongoDB.

Time measured on mongomock says nothing about a real server, but the number of
commands (round trips) a call sends does: a page must cost the same whatever its size,
and an add a number of commands that grows only with its insert batches, never one
per object.  Counted on mongomock as outermost collection-method calls; on a real
server (``ATLAS_TEST_MONGODB_URI``) as the driver's command events, without
``getMore`` (the page reads ask for all their documents in the first batch).
"""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Callable
from typing import Any

import mongomock.collection
import pymongo
import pymongo.monitoring
import pytest

from taxii_server.storage.base import Collection, Status, StatusDetail, Storage
from taxii_server.storage.mongo_connection import MongoConnection
from taxii_server.storage.mongo_objects import INSERT_BATCH
from taxii_server.timestamps import format_timestamp
from tests.storage.mongo_mock import MONGODB_URI_ENV
from tests.storage.stix import T0, query, sdo, ts

# Big enough to tell "per page" from "per object" apart, small enough for mongomock,
# whose every query scans every document.
_PAGE = 250
_COMMANDS = (
    "find",
    "find_one",
    "find_one_and_update",
    "insert_one",
    "insert_many",
    "update_one",
    "update_many",
    "replace_one",
    "delete_one",
    "delete_many",
    "bulk_write",
    "count_documents",
    "aggregate",
)


class Counter(pymongo.monitoring.CommandListener):
    """Commands sent since :meth:`reset`."""

    def __init__(self) -> None:
        self.count = 0
        self._depth = threading.local()

    def reset(self) -> None:
        self.count = 0

    def started(self, event: pymongo.monitoring.CommandStartedEvent) -> None:
        if event.command_name not in ("getMore", "endSessions"):
            self.count += 1

    def succeeded(self, event: pymongo.monitoring.CommandSucceededEvent) -> None:
        """Counted when started."""

    def failed(self, event: pymongo.monitoring.CommandFailedEvent) -> None:
        """Counted when started."""

    def counting(self, method: Callable[..., Any]) -> Callable[..., Any]:
        """``method`` counted once per outermost call (mongomock's own methods call
        one another)."""

        @functools.wraps(method)
        def counted(*args: Any, **kwargs: Any) -> Any:
            depth = getattr(self._depth, "value", 0)
            if depth == 0:
                self.count += 1
            self._depth.value = depth + 1
            try:
                return method(*args, **kwargs)
            finally:
                self._depth.value = depth

        return counted


@pytest.fixture
def backend() -> str:
    return "mongodb"


@pytest.fixture
def commands(monkeypatch: pytest.MonkeyPatch, store_url: str) -> Counter:
    counter = Counter()
    if os.environ.get(MONGODB_URI_ENV):
        create = pymongo.MongoClient

        def listened(*args: Any, **kwargs: Any) -> Any:
            return create(*args, event_listeners=[counter], **kwargs)

        monkeypatch.setattr(pymongo, "MongoClient", listened)
    else:
        for name in _COMMANDS:
            original = getattr(mongomock.collection.Collection, name)
            monkeypatch.setattr(mongomock.collection.Collection, name, counter.counting(original))
    return counter


@pytest.fixture
def transactions(store_url: str) -> bool:
    connection = MongoConnection(store_url)
    try:
        return connection.transactions
    finally:
        connection.close()


def _cost(counter: Counter, call: Callable[[], object]) -> int:
    counter.reset()
    call()
    return counter.count


def test_a_page_costs_two_commands_whatever_its_size(
    storage: Storage, collection: Collection, commands: Counter
) -> None:
    storage.add_objects(
        collection.id, [sdo(type_=("indicator", "malware")[n % 2]) for n in range(_PAGE + 50)]
    )
    page = query(limit=_PAGE)
    assert len(storage.query_objects(collection.id, page).items) == _PAGE
    # The collection's number, then the page.
    assert _cost(commands, lambda: storage.query_objects(collection.id, page)) == 2
    assert _cost(commands, lambda: storage.query_objects(collection.id, query(limit=1))) == 2
    assert _cost(commands, lambda: storage.query_manifest(collection.id, page)) == 2
    by_type = query(limit=_PAGE, types=("malware", "tool"))
    assert _cost(commands, lambda: storage.query_objects(collection.id, by_type)) == 2
    assert _cost(commands, lambda: storage.query_objects("no-such-collection", page)) == 1


def _status(collection: Collection, ids: list[str]) -> Status:
    pendings = tuple(StatusDetail(i, format_timestamp(ts(1))) for i in ids)
    return Status(
        f"s-{len(ids)}",
        collection.api_root,
        collection.id,
        "alice",
        T0,
        T0,
        len(ids),
        pendings=pendings,
    )


def test_an_add_costs_commands_per_batch_not_per_object(
    storage: Storage, collection: Collection, commands: Counter, transactions: bool
) -> None:
    costs = {}
    big = INSERT_BATCH + 1  # the store inserts in batches of INSERT_BATCH
    for size in (10, big):
        objects = [sdo(modified=ts(1)) for _ in range(size)]
        status = _status(collection, [o.id for o in objects])
        storage.create_status(status)
        costs[size] = _cost(
            commands,
            lambda objects=objects, status=status: storage.add_objects(
                collection.id, objects, status_id=status.id
            ),
        )
        # Posting the same objects again reads what is stored and writes nothing new.
        costs[-size] = _cost(
            commands, lambda objects=objects: storage.add_objects(collection.id, objects)
        )
    # Lock, status touch, pending entries, last entry, stored versions, date_added,
    # insert, status moves, release: one each.
    assert costs[10] <= 9
    # One more insert batch (and, under a lease, its renewal); nothing per object.
    assert costs[big] == costs[10] + (1 if transactions else 2)
    assert costs[-10] == costs[-big] <= 3


def test_reading_a_status_costs_two_commands(
    storage: Storage, collection: Collection, commands: Counter
) -> None:
    status = _status(collection, [f"indicator--{n}" for n in range(_PAGE)])
    storage.create_status(status)
    assert _cost(commands, lambda: storage.get_status(collection.api_root, status.id)) == 2
