"""The demo set-up: its collection and users, fresh credentials at each start, and
bundles loaded through validation, idempotently, with bad ones reported."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from taxii_server.credentials import parse_api_key, verify_secret
from taxii_server.demo import (
    DEMO_COLLECTION_ALIAS,
    DEMO_COLLECTION_ID,
    demo_settings,
    fixture_bundles,
    set_up_demo,
)
from taxii_server.settings import Settings
from taxii_server.storage import open_storage
from taxii_server.storage.base import Storage
from tests.interop.dataset import build_objects, bundle


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return demo_settings(tmp_path / "demo", environ={"ATLAS_TAXII_CONFIG": "/nowhere.toml"})


@pytest.fixture
def storage(settings: Settings, tmp_path: Path) -> Iterator[Storage]:
    (tmp_path / "demo").mkdir()
    store = open_storage(settings.storage_url, migrate=True)
    yield store
    store.close()


def _write(path: Path, content: object) -> Path:
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    return path


def test_settings_ignore_the_configured_file_and_store(tmp_path: Path) -> None:
    settings = demo_settings(
        tmp_path,
        environ={
            "ATLAS_TAXII_CONFIG": "/etc/atlas-taxii.toml",
            "ATLAS_TAXII_STORAGE_URL": "postgresql://prod/atlas",
            "ATLAS_TAXII_SERVER_PORT": "9000",
        },
    )
    assert settings.storage_url == f"sqlite:///{tmp_path.resolve() / 'atlas.db'}"
    assert settings.port == 9000  # other environment overrides still apply
    assert settings.default_api_root == "demo"


def test_users_collection_and_fresh_credentials(storage: Storage, settings: Settings) -> None:
    first = set_up_demo(storage, settings, [])
    assert (first.collection.id, first.collection.alias) == (
        DEMO_COLLECTION_ID,
        DEMO_COLLECTION_ALIAS,
    )
    assert [(u.name, u.level) for u in first.users] == [("demo", "amber"), ("demo-red", "red")]
    for user in first.users:
        stored = storage.get_user(user.name)
        assert stored is not None and stored.clearance == user.clearance
        assert stored.password_hash and verify_secret(user.password, stored.password_hash)
        grant = storage.get_grant(user.name, DEMO_COLLECTION_ID)
        assert grant is not None and grant.can_read and grant.can_write

    second = set_up_demo(storage, settings, [])
    old, new = first.users[0], second.users[0]
    assert new.password != old.password and new.api_key != old.api_key
    stored = storage.get_user("demo")
    assert stored is not None and stored.password_hash is not None
    assert not verify_secret(old.password, stored.password_hash)
    old_key = parse_api_key(old.api_key)
    assert old_key is not None and storage.get_api_key(old_key.key_id) is None
    assert len(storage.list_api_keys("demo")) == 1


def test_bundles_load_once_and_bad_ones_are_reported(
    storage: Storage, settings: Settings, tmp_path: Path
) -> None:
    objects = build_objects(20)
    invalid = {"type": "indicator", "spec_version": "2.1", "id": "indicator--not-a-uuid"}
    good = _write(tmp_path / "good.json", bundle(objects))
    mixed = _write(tmp_path / "mixed.json", bundle([invalid]))
    broken = _write(tmp_path / "broken.json", "{not json")

    demo = set_up_demo(storage, settings, [good, mixed, broken])
    assert (demo.added, demo.unchanged) == (len(objects), 0)
    assert len(demo.rejected) == 2
    assert demo.rejected[0].startswith(f"{mixed}: indicator--not-a-uuid: ")
    assert demo.rejected[1].startswith(f"{broken}: ") and "line 1" in demo.rejected[1]

    again = set_up_demo(storage, settings, [good])
    assert (again.added, again.unchanged, again.rejected) == (0, len(objects), ())


def test_fixture_bundles_are_found_sorted(tmp_path: Path) -> None:
    assert fixture_bundles(tmp_path / "missing") == []
    for name in ("b.json", "a.json", "notes.txt"):
        (tmp_path / name).write_text("{}")
    assert [p.name for p in fixture_bundles(tmp_path)] == ["a.json", "b.json"]
