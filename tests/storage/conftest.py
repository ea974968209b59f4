"""Fixtures of the storage contract suite: one ``storage`` per backend.

Every contract test takes ``storage`` (or ``store_url``) and runs once per backend:
SQLite always; PostgreSQL when its server binaries are on the machine (the suite
starts a throwaway cluster, see :mod:`tests.pg`).  A backend is added by giving
``BACKENDS`` a parameter and :func:`_make_url` a branch that returns the URL of a fresh,
empty database; nothing else in the suite may depend on the backend.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from taxii_server.storage import open_storage
from taxii_server.storage.base import ApiRoot, Collection, Storage
from tests.pg import PgCluster, PgUnavailable

BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
]
_SHARED = "atlas_shared"
_numbers = itertools.count()


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PgCluster]:
    """A throwaway PostgreSQL cluster for the whole session (skips when unavailable)."""
    try:
        cluster = PgCluster.start_new()
    except PgUnavailable as exc:
        pytest.skip(str(exc))
    try:
        yield cluster
    finally:
        cluster.stop()


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
    raise AssertionError(f"no URL factory for backend {backend!r}")


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
