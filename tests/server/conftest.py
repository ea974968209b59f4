"""Fixtures for the HTTP tests: a fresh app per test over a fresh store, once on SQLite
and once on PostgreSQL (a throwaway cluster, see :mod:`tests.pg`; skipped without its
server binaries).

The Flask tutorial's pattern: ``app`` (``create_app`` with seed data), ``client``, and
``taxii``, a helper that sends the TAXII Accept header and a caller's credentials.
Time that must pass (``next`` expiry, status abandonment) passes on ``clock``, never
by sleeping.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import orjson
import psycopg
import psycopg.sql
import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from converters.ids import organization_identity_id
from converters.validation import get_validator
from taxii_server import service as service_module
from taxii_server.app import create_app
from taxii_server.credentials import hash_api_key, new_api_key
from taxii_server.ingest import prepare_objects
from taxii_server.media import MEDIA_TYPE_TAXII_V21
from taxii_server.settings import ApiRootConfig, Settings, load_settings
from taxii_server.storage import open_storage
from taxii_server.storage.base import (
    Actor,
    ApiKey,
    ApiRoot,
    Collection,
    Grant,
    Storage,
    StorageUnavailable,
    User,
)
from taxii_server.timestamps import now_us
from tests.pg import PgCluster

from . import data

ROOT = "community"
SHARED = "5d4d7a4e-2c4b-4a3b-8c2e-1f9a5e6b7c8d"
OTHER = "7b0e2f1a-9c3d-4e5f-8a6b-2c1d0e9f8a7b"
PUBLIC = "3c2b1a09-8f7e-4d6c-9b5a-4e3d2c1b0a9f"
EMPTY = "e1d2c3b4-a5f6-4e7d-8c9b-0a1b2c3d4e5f"
SMALL_ROOT = "small"
SMALL = "0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0"
CLOSED_ROOT = "closed"
SMALL_MAX_CONTENT_LENGTH = 4096

#: name -> (clearance, admin, {collection: (read, write)})
USERS: Mapping[str, tuple[int, bool, Mapping[str, tuple[bool, bool]]]] = {
    "alice": (4, False, {SHARED: (True, True), EMPTY: (True, True), SMALL: (True, True)}),
    "amy": (2, False, {SHARED: (True, False)}),
    "bob": (1, False, {SHARED: (True, False)}),
    "carol": (2, False, {OTHER: (True, True)}),
    "walt": (1, False, {SHARED: (False, True)}),
    "root": (4, True, {}),
}
KEY_ONLY_USER = "kim"  # green, read on SHARED, no password: API keys only

#: The organization each user writes for (root, an admin, and kim have none).  The seed
#: objects are alice's organization's.
ORGANIZATIONS: Mapping[str, str] = {
    "alice": "Atlas Research",
    "amy": "Atlas Research",
    "bob": "Bank of Bob",
    "carol": "Carol Exchange",
    "walt": "Walt Payments",
}
SEED_OWNER = Actor(organization_identity_id(ORGANIZATIONS["alice"]))

#: The stores every HTTP test runs on.
STORES = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
]
_PG_DATABASE = "atlas_http"
_pg_migrated: set[Path] = set()


def _storage_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty store: a new SQLite file, or the cluster's HTTP-test database
    emptied (creating a database per test costs ten times more)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'taxii.db'}"
    cluster: PgCluster = request.getfixturevalue("pg_cluster")
    url = cluster.url(_PG_DATABASE)
    if cluster.root not in _pg_migrated:
        cluster.create_database(_PG_DATABASE)
        open_storage(url, migrate=True).close()
        _pg_migrated.add(cluster.root)
        return url
    # DELETE, not TRUNCATE: for a seed this small, ten times faster.
    with psycopg.connect(url, autocommit=True) as connection, connection.transaction():
        tables = connection.execute(
            "SELECT tablename FROM pg_catalog.pg_tables "
            "WHERE schemaname = 'public' AND tablename <> 'schema_version'"
        ).fetchall()
        for (table,) in tables:
            connection.execute(
                psycopg.sql.SQL("DELETE FROM {}").format(psycopg.sql.Identifier(table))
            )
    return url


def password_of(name: str) -> str:
    return f"{name}-correct-horse"


def cheap_hash(secret: str) -> str:
    """A hash in the production format at a tiny scrypt cost: tests check many
    credentials; the format, not the cost, is what they exercise."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(secret.encode(), salt=salt, n=16, r=1, p=1, dklen=32)
    return f"scrypt$16$1$1${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


class FakeClock:
    """An injectable clock (microseconds) that only moves when told."""

    def __init__(self) -> None:
        self.now = now_us()

    def __call__(self) -> int:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += int(seconds * 1_000_000)


@dataclass
class World:
    """What a test app was seeded with."""

    storage: Storage
    api_keys: dict[str, str] = field(default_factory=dict)


def _seed(storage: Storage) -> World:
    world = World(storage)
    storage.put_api_root(ApiRoot(ROOT, "Community", "Shared intelligence"))
    storage.put_api_root(ApiRoot(SMALL_ROOT, "Small", max_content_length=SMALL_MAX_CONTENT_LENGTH))
    storage.put_api_root(ApiRoot(CLOSED_ROOT, "Closed"))
    for collection in (
        Collection(SHARED, ROOT, "Shared", "Mixed TLP levels", alias="shared"),
        Collection(OTHER, ROOT, "Other"),
        Collection(PUBLIC, ROOT, "Public", public=True, alias="public"),
        Collection(EMPTY, ROOT, "Empty"),
        Collection(SMALL, SMALL_ROOT, "Small"),
        Collection("2a3b4c5d-6e7f-4a8b-9c0d-1e2f3a4b5c6d", CLOSED_ROOT, "Closed"),
    ):
        storage.create_collection(collection)
    for name, (clearance, admin, grants) in USERS.items():
        storage.put_user(
            User(
                name,
                clearance,
                cheap_hash(password_of(name)),
                admin=admin,
                organization=ORGANIZATIONS.get(name),
            )
        )
        for collection_id, (read, write) in grants.items():
            storage.set_grant(Grant(name, collection_id, read, write))
    storage.put_user(User(KEY_ONLY_USER, 1, None))
    storage.set_grant(Grant(KEY_ONLY_USER, SHARED, True, False))
    for name in ("alice", "bob", KEY_ONLY_USER):
        key = new_api_key()
        storage.add_api_key(ApiKey(key.key_id, name, hash_api_key(key.secret), created=now_us()))
        world.api_keys[name] = key.token
    store(storage, SHARED, data.SEED)
    store(storage, PUBLIC, (data.IND_CLEAR, data.IND_GREEN, data.IDENTITY))
    store(storage, OTHER, (data.indicator("other", "clear"),))
    return world


def store(storage: Storage, collection_id: str, objects: Sequence[dict[str, Any]]) -> None:
    """Add objects straight to the store, one transaction each (one date_added each),
    as alice's organization's."""
    prepared = prepare_objects(list(objects), get_validator())
    assert not prepared.failures, prepared.failures
    for record in prepared.valid:
        storage.add_objects(collection_id, [record], actor=SEED_OWNER)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(params=STORES)
def make_app(
    request: pytest.FixtureRequest, tmp_path: Path, clock: FakeClock
) -> Iterator[Callable[..., Flask]]:
    """Build an app over a fresh seeded store; keyword arguments override settings."""
    opened: list[Storage] = []
    worlds: list[World] = []
    storage_url = _storage_url(request, tmp_path)

    def make(**overrides: Any) -> Flask:
        values: dict[str, Any] = {
            "storage_url": storage_url,
            "default_limit": 4,
            "max_limit": 6,
            "next_ttl": 600,
            "default_api_root": ROOT,
            "api_roots": (ApiRootConfig(ROOT, "Community"),),
            "contact": "desk@example.org",
        }
        values.update(overrides)
        settings: Settings = load_settings(environ={}, **values)
        storage = open_storage(settings.storage_url, migrate=True)
        opened.append(storage)
        # A second app in one test shares the first one's database and seed.
        world = _seed(storage) if not worlds else World(storage, worlds[0].api_keys)
        worlds.append(world)
        app = create_app(settings, storage=storage, clock=clock)
        app.config["TESTING"] = True
        app.extensions["test_world"] = world
        return app

    yield make
    for storage in opened:
        storage.close()


@pytest.fixture
def app(make_app: Callable[..., Flask]) -> Flask:
    return make_app()


@pytest.fixture
def world(app: Flask) -> World:
    found: World = app.extensions["test_world"]
    return found


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def basic(user: str, password: str, scheme: str = "Basic") -> str:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return f"{scheme} {token}"


@dataclass
class Caller:
    """Sends TAXII requests as one caller (``authorization`` None: anonymous)."""

    client: FlaskClient
    authorization: str | None = None
    accept: str | None = MEDIA_TYPE_TAXII_V21

    def _headers(self, extra: Mapping[str, str] | None) -> dict[str, str]:
        headers: dict[str, str] = {}
        if self.accept is not None:
            headers["Accept"] = self.accept
        if self.authorization is not None:
            headers["Authorization"] = self.authorization
        headers.update(extra or {})
        return headers

    def get(
        self,
        path: str,
        query: Mapping[str, Any] | Sequence[tuple[str, str]] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> TestResponse:
        return self.client.get(
            path, query_string=urlencode(query or {}, doseq=True), headers=self._headers(headers)
        )

    def delete(
        self, path: str, query: Mapping[str, Any] | Sequence[tuple[str, str]] | None = None
    ) -> TestResponse:
        return self.client.delete(
            path, query_string=urlencode(query or {}, doseq=True), headers=self._headers(None)
        )

    def post(
        self,
        path: str,
        body: bytes | Mapping[str, Any],
        content_type: str | None = MEDIA_TYPE_TAXII_V21,
        headers: Mapping[str, str] | None = None,
    ) -> TestResponse:
        raw = body if isinstance(body, bytes) else orjson.dumps(body)
        extra = dict(headers or {})
        if content_type is not None:
            extra["Content-Type"] = content_type
        return self.client.post(path, data=raw, headers=self._headers(extra))


@pytest.fixture
def taxii(client: FlaskClient) -> Callable[..., Caller]:
    """``taxii("alice")``: Basic with alice's password; ``taxii(None)``: anonymous;
    ``taxii(authorization="Bearer …")``: any header."""

    def caller(
        user: str | None = None, *, authorization: str | None = None, **kwargs: Any
    ) -> Caller:
        if user is not None:
            authorization = basic(user, password_of(user))
        return Caller(client, authorization, **kwargs)

    return caller


def url(*parts: str, root: str = ROOT) -> str:
    """``url(SHARED, "objects")`` -> ``/community/collections/<SHARED>/objects/``."""
    return "/" + "/".join((root, "collections", *parts)) + "/"


def objects_of(response: TestResponse) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.data
    body = orjson.loads(response.data)
    objects: list[dict[str, Any]] = body.get("objects", [])
    return objects


def ids_of(response: TestResponse) -> list[str]:
    return [o["id"] for o in objects_of(response)]


def follow(
    caller: Caller, path: str, query: Mapping[str, Any] | None = None, *, keep_filters: bool = True
) -> list[TestResponse]:
    """Every page of a paged endpoint, following ``next`` while ``more`` is true.
    ``keep_filters=False`` drops the original filters on follow-ups (Elastic, OpenCTI)."""
    responses = [caller.get(path, query)]
    for _ in range(1000):
        body = orjson.loads(responses[-1].data)
        assert responses[-1].status_code == 200, body
        if not body.get("more"):
            return responses
        assert body.get("next"), "more without next"
        follow_up = (
            {**(query or {}), "next": body["next"]} if keep_filters else {"next": body["next"]}
        )
        responses.append(caller.get(path, follow_up))
    raise AssertionError("paging did not end")


def all_ids(caller: Caller, path: str, query: Mapping[str, Any] | None = None) -> list[str]:
    """The ids of every object across all pages, in order."""
    return [i for response in follow(caller, path, query) for i in ids_of(response)]


def post_while_the_store_fails(
    caller: Caller,
    world: World,
    monkeypatch: pytest.MonkeyPatch,
    objects: Sequence[dict[str, Any]],
    chunk: int,
) -> tuple[TestResponse, str]:
    """POST ``objects`` (to ``SHARED``) stored in chunks of ``chunk`` while the store
    fails on the second chunk, as when a worker dies half-way: the response, and the
    id of the status the request left behind."""
    monkeypatch.setattr(service_module, "ADD_CHUNK", chunk)
    real_add = world.storage.add_objects
    real_create = world.storage.create_status
    created: list[str] = []
    calls: list[int] = []

    def dies_on_second_chunk(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        if len(calls) == 2:
            raise StorageUnavailable("database went away")
        return real_add(*args, **kwargs)

    monkeypatch.setattr(world.storage, "add_objects", dies_on_second_chunk)
    monkeypatch.setattr(
        world.storage,
        "create_status",
        lambda status: created.append(status.id) or real_create(status),
    )
    response = caller.post(url(SHARED, "objects"), {"objects": list(objects)})
    monkeypatch.setattr(world.storage, "add_objects", real_add)
    monkeypatch.setattr(world.storage, "create_status", real_create)
    (status_id,) = created  # a 503 carries no status; its id is in the store
    return response, status_id
