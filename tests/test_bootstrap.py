"""Ensuring the configured API roots and collections: create, update, never delete,
and harmless when several processes do it at once."""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from taxii_server.bootstrap import ensure_declared
from taxii_server.settings import ApiRootConfig, CollectionConfig, ConfigError, Settings
from taxii_server.storage import open_storage
from taxii_server.storage.base import Collection, Storage

FIXED_ID = "0b6a3f2e-1c4d-4e5f-8a9b-7c6d5e4f3a2b"


def _settings(url: str, *collections: CollectionConfig, **root: Any) -> Settings:
    return Settings(
        storage_url=url,
        api_roots=(ApiRootConfig(name="community", title=root.get("title", "Community")),),
        collections=collections,
    ).validate()


@pytest.fixture
def url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'atlas.db'}"


@pytest.fixture
def storage(url: str) -> Iterator[Storage]:
    store = open_storage(url, migrate=True)
    yield store
    store.close()


def test_creates_what_is_declared_then_changes_nothing(storage: Storage, url: str) -> None:
    settings = _settings(
        url,
        CollectionConfig(api_root="community", title="Indicators", id=FIXED_ID, alias="ind"),
        CollectionConfig(api_root="community", title="Wallets", public=True),
    )
    first = ensure_declared(storage, settings)
    assert first.created_api_roots == ("community",)
    assert first.created_collections == tuple(c.id for c in first.collections)
    indicators, wallets = first.collections
    assert (indicators.id, indicators.alias) == (FIXED_ID, "ind")
    assert wallets.public and wallets.alias is None
    root = storage.get_api_root("community")
    assert root is not None and root.max_content_length == settings.max_content_length

    second = ensure_declared(storage, settings)
    assert not second.changed
    assert second.collections == first.collections
    assert sorted(c.id for c in storage.list_collections("community")) == sorted(
        c.id for c in first.collections
    )


def test_applies_changed_declarations_and_never_deletes(storage: Storage, url: str) -> None:
    ensure_declared(
        storage,
        _settings(
            url,
            CollectionConfig(api_root="community", title="Indicators", id=FIXED_ID),
            CollectionConfig(api_root="community", title="Old"),
        ),
    )
    report = ensure_declared(
        storage,
        _settings(
            url,
            CollectionConfig(
                api_root="community", title="Renamed", id=FIXED_ID, alias="ind", public=True
            ),
            title="Community (renamed)",
        ),
    )
    assert report.updated_api_roots == ("community",)
    assert report.updated_collections == (FIXED_ID,)
    stored = storage.get_collection("community", FIXED_ID)
    assert stored is not None and (stored.title, stored.alias, stored.public) == (
        "Renamed",
        "ind",
        True,
    )
    # "Old" is no longer declared but keeps existing, with whatever it holds.
    assert "Old" in [c.title for c in storage.list_collections("community")]
    root = storage.get_api_root("community")
    assert root is not None and root.title == "Community (renamed)"


def test_a_declaration_that_collides_is_a_config_error(storage: Storage, url: str) -> None:
    ensure_declared(
        storage, _settings(url, CollectionConfig(api_root="community", title="A", alias="x"))
    )
    with pytest.raises(ConfigError, match=r"cannot create 'B' in API root 'community'"):
        ensure_declared(
            storage,
            _settings(url, CollectionConfig(api_root="community", title="B", alias="x")),
        )
    assert [c.title for c in storage.list_collections("community")] == ["A"]


class _LateView:
    """A store whose first listing misses a collection another process is creating:
    what a worker sees when it loses the race between its check and its insert."""

    def __init__(self, inner: Storage, rival: Collection) -> None:
        self._inner = inner
        self._rival = rival
        self._blind = True

    def list_collections(self, api_root: str) -> list[Collection]:
        if self._blind:
            self._blind = False
            self._inner.create_collection(self._rival)  # the rival commits first
            return []
        return self._inner.list_collections(api_root)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def test_losing_the_creation_race_reads_the_winner_back(storage: Storage, url: str) -> None:
    settings = _settings(url, CollectionConfig(api_root="community", title="Indicators"))
    ensure_declared(storage, _settings(url))  # the API root only
    rival = Collection(id=FIXED_ID, api_root="community", title="Indicators")
    report = ensure_declared(_LateView(storage, rival), settings)  # type: ignore[arg-type]
    assert report.collections == (rival,)
    assert report.created_collections == ()
    assert storage.list_collections("community") == [rival]


def _bootstrap_in_process(url: str, barrier: Any) -> list[str]:
    settings = _settings(
        url,
        CollectionConfig(api_root="community", title="Indicators"),
        CollectionConfig(api_root="community", title="Wallets", id=FIXED_ID),
    )
    store = open_storage(url, migrate=True)
    try:
        barrier.wait()
        return [c.id for c in ensure_declared(store, settings).collections]
    finally:
        store.close()


def test_workers_starting_together_end_with_one_of_each(url: str) -> None:
    context = multiprocessing.get_context("spawn")
    open_storage(url, migrate=True).close()
    with context.Manager() as manager:
        barrier = manager.Barrier(4)
        with context.Pool(4) as pool:
            results = pool.starmap(_bootstrap_in_process, [(url, barrier)] * 4)
    store = open_storage(url)
    try:
        stored = store.list_collections("community")
    finally:
        store.close()
    assert sorted(c.title for c in stored) == ["Indicators", "Wallets"]
    # Every process reports the same collections: the ones that are in the store.
    assert all(ids == results[0] for ids in results)
    assert sorted(results[0]) == sorted(c.id for c in stored)
