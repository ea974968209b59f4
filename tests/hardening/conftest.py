"""Fixtures of the hardening tests: the HTTP tests' seeded app (``tests/server``) and a
snapshot of everything stored, to prove a refused request changed nothing.

The app fixtures are the HTTP tests' own (a fresh ``create_app`` over a temporary,
seeded SQLite store per test), imported so both suites attack the same world.
"""

from __future__ import annotations

from dataclasses import dataclass

from taxii_server.storage.base import ObjectQuery, Storage, VersionSelector
from tests.server.conftest import app, client, clock, make_app, taxii, world

__all__ = [
    "StoreSnapshot",
    "app",
    "client",
    "clock",
    "make_app",
    "snapshot",
    "taxii",
    "world",
]

_EVERY_VERSION = VersionSelector(last=False, all=True)
_PAGE = 10_000


@dataclass(frozen=True, slots=True)
class StoreSnapshot:
    """Every API root, collection and stored version (with its body), and every
    user, key and grant, as plain values that compare with ``==``."""

    api_roots: tuple[object, ...]
    collections: tuple[object, ...]
    objects: tuple[tuple[str, str, int, int, str, bytes], ...]
    accounts: tuple[object, ...]


def snapshot(storage: Storage) -> StoreSnapshot:
    """Read everything a request could change, at the highest clearance."""
    roots = tuple(storage.list_api_roots())
    collections = tuple(c for root in roots for c in storage.list_collections(root.name))
    objects: list[tuple[str, str, int, int, str, bytes]] = []
    for collection in collections:
        after: int | None = None
        while True:
            query = ObjectQuery(clearance=4, limit=_PAGE, after=after, versions=_EVERY_VERSION)
            page = storage.query_objects(collection.id, query)
            objects.extend(
                (collection.id, o.id, o.version, o.date_added, o.spec_version, o.data)
                for o in page.items
            )
            if not page.more:
                break
            after = page.items[-1].date_added
    accounts: list[object] = []
    for user in storage.list_users():
        accounts.append(user)
        accounts.extend(storage.list_api_keys(user.name))
        accounts.extend(storage.list_grants(user.name))
    return StoreSnapshot(roots, collections, tuple(objects), tuple(accounts))
