"""One real server for the interop tests: gunicorn with three gthread workers on
127.0.0.1, a temporary SQLite store seeded through the store (not over HTTP), started
once per session and stopped at the end."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from taxii_server.bootstrap import ensure_declared
from taxii_server.credentials import hash_api_key, hash_secret, new_api_key
from taxii_server.demo import load_bundle
from taxii_server.settings import Settings, load_settings
from taxii_server.storage import open_storage
from taxii_server.storage.base import ApiKey, Grant, User
from tests.live_server import ServerProcess, free_port, python_module

from .dataset import build_objects, bundle

INDICATORS_ID = "9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a"
INBOX_ID = "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d"
OBJECT_COUNT = 1200
WORKERS = 3

CONFIG = """
[server]
host = "127.0.0.1"
port = {port}
workers = {workers}
default_api_root = "community"

[storage]
url = "{storage_url}"

[paging]
default_limit = 100
max_limit = 500

[[api_roots]]
name = "community"
title = "Community"

[[collections]]
api_root = "community"
title = "Indicators"
id = "{indicators}"
alias = "indicators"

[[collections]]
api_root = "community"
title = "Inbox"
id = "{inbox}"
alias = "inbox"

[[collections]]
api_root = "community"
title = "Public"
alias = "public"
public = true
"""


@dataclass(frozen=True, slots=True)
class Account:
    """A seeded user with the secrets a client would present."""

    name: str
    clearance: int
    password: str
    api_key: str


@dataclass(frozen=True, slots=True)
class LiveServer:
    """The running server and what it was seeded with."""

    process: ServerProcess
    settings: Settings
    config: Path
    objects: list[dict[str, Any]]
    alice: Account  # amber; reads Indicators, reads and writes Inbox
    root: Account  # red; reads Indicators
    bob: Account  # green; no grants

    @property
    def base_url(self) -> str:
        return self.process.base_url

    @property
    def discovery_url(self) -> str:
        return f"{self.base_url}/taxii2/"

    def collection_url(self, collection_id: str) -> str:
        return f"{self.base_url}/community/collections/{collection_id}/"


def write_config(directory: Path, port: int, storage_url: str | None = None) -> Path:
    path = directory / "atlas-taxii.toml"
    path.write_text(
        CONFIG.format(
            port=port,
            workers=WORKERS,
            storage_url=storage_url or f"sqlite:///{directory / 'atlas.db'}",
            indicators=INDICATORS_ID,
            inbox=INBOX_ID,
        )
    )
    return path


def _account(name: str, clearance: int) -> tuple[Account, User, ApiKey]:
    password = f"{name}-password-{new_api_key().secret[:8]}"
    token = new_api_key()
    account = Account(name, clearance, password, token.token)
    user = User(name, clearance, hash_secret(password), organization="Interop Org")
    key = ApiKey(token.key_id, name, hash_api_key(token.secret), "interop tests")
    return account, user, key


def seed(settings: Settings, objects: list[dict[str, Any]], directory: Path) -> list[Account]:
    """Create the configured collections, users and objects through the store."""
    storage = open_storage(settings.storage_url, migrate=True)
    try:
        report = ensure_declared(storage, settings)
        indicators = next(c for c in report.collections if c.id == INDICATORS_ID)
        accounts = []
        for name, clearance, grants in (
            ("alice", 2, [(INDICATORS_ID, False), (INBOX_ID, True)]),
            ("root", 4, [(INDICATORS_ID, False)]),
            ("bob", 1, []),
        ):
            account, user, key = _account(name, clearance)
            storage.put_user(user)
            storage.add_api_key(key)
            for collection_id, write in grants:
                storage.set_grant(Grant(name, collection_id, can_read=True, can_write=write))
            accounts.append(account)
        path = directory / "seed-bundle.json"
        path.write_text(json.dumps(bundle(objects)))
        outcome = load_bundle(storage, indicators, path)
        assert outcome.rejected == (), outcome.rejected
    finally:
        storage.close()
    return accounts


def start_server(
    directory: Path, objects: list[dict[str, Any]], storage_url: str | None = None
) -> LiveServer:
    """Seed a store (SQLite in ``directory`` unless ``storage_url`` names another) and
    start a server on it."""
    config = write_config(directory, free_port(), storage_url)
    settings = load_settings(config)
    alice, root, bob = seed(settings, objects, directory)
    process = ServerProcess(
        python_module("tests.interop.server", str(config)), settings.port, directory
    )
    process.start()
    return LiveServer(process, settings, config, objects, alice, root, bob)


@pytest.fixture(scope="session")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    server = start_server(tmp_path_factory.mktemp("interop"), build_objects(OBJECT_COUNT))
    try:
        yield server
    finally:
        server.process.stop()
