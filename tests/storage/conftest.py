"""Fixtures of the storage contract suite: one ``storage`` per backend.

Every contract test takes ``storage`` (or ``store_url``) and runs once per backend:
SQLite always; PostgreSQL when its server binaries are on the machine (the suite
starts a throwaway cluster, see :mod:`tests.pg`); MongoDB on the server named by
``ATLAS_TEST_MONGODB_URI``, else on mongomock (see :mod:`tests.storage.mongo_mock`).
A backend is added by giving ``BACKENDS`` a parameter and :func:`_make_url` a branch
that returns the URL of a fresh, empty database; nothing else in the suite may depend
on the backend.
"""

from __future__ import annotations

import itertools
import os
import urllib.parse
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from taxii_server.storage import open_storage
from taxii_server.storage.base import ApiRoot, Collection, Storage
from tests.pg import PgCluster
from tests.storage import mongo_mock

BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
    pytest.param("mongodb", id="mongodb"),
]
_SHARED = "atlas_shared"
_numbers = itertools.count()


@pytest.fixture(scope="session")
def pg_shared(pg_cluster: PgCluster) -> str:
    """A migrated database that tests share, emptied before each (creating a database
    per test costs ten times more)."""
    open_storage(pg_cluster.create_database(_SHARED), migrate=True).close()
    return _SHARED


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """The backend a parametrised test runs against."""
    name: str = request.param
    return name


def _make_url(request: pytest.FixtureRequest, tmp_path: Path, *, migrated: bool) -> str:
    backend: str = request.getfixturevalue("backend")
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / f'store-{next(_numbers)}.db'}"
        if migrated:
            open_storage(url, migrate=True).close()
        return url
    if backend == "postgresql":
        cluster: PgCluster = request.getfixturevalue("pg_cluster")
        if migrated:
            shared: str = request.getfixturevalue("pg_shared")
            cluster.empty_database(shared, keep=("schema_version",))
            return cluster.url(shared)
        return cluster.create_database(f"t{next(_numbers)}_{uuid.uuid4().hex[:8]}")
    if backend == "mongodb":
        url = _mongodb_url(request, f"atlas_t{next(_numbers)}_{uuid.uuid4().hex[:8]}")
        if migrated:
            open_storage(url, migrate=True).close()
        return url
    raise AssertionError(f"no URL factory for backend {backend!r}")


def _mongodb_url(request: pytest.FixtureRequest, database: str) -> str:
    """A new database on the real server, dropped after the test, or on mongomock."""
    real = os.environ.get(mongo_mock.MONGODB_URI_ENV)
    if not real:
        request.getfixturevalue("mock_mongodb")
        return f"mongodb://mongomock.invalid/{database}"
    parts = urllib.parse.urlsplit(real)
    url = urllib.parse.urlunsplit(parts._replace(path=f"/{database}"))

    def drop() -> None:
        import pymongo

        with pymongo.MongoClient(real) as client:
            client.drop_database(database)

    request.addfinalizer(drop)
    return url


@pytest.fixture
def mock_mongodb(monkeypatch: pytest.MonkeyPatch) -> mongo_mock.MockMongoServer:
    """mongomock in place of pymongo's client for this test (one server per test)."""
    return mongo_mock.install(monkeypatch)


@pytest.fixture
def across_processes(backend: str) -> None:
    """Skip unless other processes can open the test's store (mongomock's data lives
    in the test's own process)."""
    if backend == "mongodb" and not os.environ.get(mongo_mock.MONGODB_URI_ENV):
        pytest.skip(f"mongomock lives in this process; set {mongo_mock.MONGODB_URI_ENV}")


@pytest.fixture
def store_url(request: pytest.FixtureRequest, backend: str, tmp_path: Path) -> str:
    """The URL of a fresh database holding the current schema and no data."""
    return _make_url(request, tmp_path, migrated=True)


@pytest.fixture
def blank_url(request: pytest.FixtureRequest, backend: str, tmp_path: Path) -> str:
    """The URL of a fresh database without any schema (SQLite: a file not yet there)."""
    return _make_url(request, tmp_path, migrated=False)


@pytest.fixture
def storage(store_url: str) -> Iterator[Storage]:
    """An open store on a fresh database."""
    store = open_storage(store_url)
    try:
        yield store
    finally:
        store.close()


@pytest.fixture
def collection(storage: Storage) -> Collection:
    """An empty collection in API root ``community``."""
    storage.put_api_root(ApiRoot("community", "Community"))
    created = Collection(str(uuid.uuid4()), "community", "Indicators", alias="indicators")
    storage.create_collection(created)
    return created
