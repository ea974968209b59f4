"""Fixtures for publish / pull / import-medallion: a real server on SQLite with a small
``max_content_length`` (so publishing must split envelopes), seeded users, and helpers
to run ``atlas-taxii`` in-process and make fresh collections."""

from __future__ import annotations

import io
import json
import sys
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from taxii_server.bootstrap import ensure_declared
from taxii_server.cli import main
from taxii_server.credentials import hash_api_key, hash_secret, new_api_key
from taxii_server.demo import load_bundle
from taxii_server.settings import Settings, load_settings
from taxii_server.storage import open_storage
from taxii_server.storage.base import (
    ApiKey,
    Collection,
    Grant,
    ObjectQuery,
    Storage,
    User,
    VersionSelector,
)
from tests.cli.conftest import Result, result_of
from tests.interop.dataset import build_objects, bundle
from tests.live_server import ServerProcess, free_port, python_module

ROOT = Path(__file__).resolve().parent.parent.parent
EXAMPLE = ROOT / "fixtures" / "packages" / "RP-2024-0007.yaml"
#: Its first author: the organization whose identity its objects name as creator.
EXAMPLE_AUTHOR = "Example Bank FIU"
SEEDED_ID = "5b7e3c1a-9d2f-4e8b-a6c4-1f3e5d7b9a2c"
SEEDED_COUNT = 240
#: Small enough that the example package (about 60 KB of objects) needs several POSTs.
MAX_CONTENT_LENGTH = 12_000

CONFIG = """
[server]
host = "127.0.0.1"
port = {port}
workers = 2
default_api_root = "community"

[storage]
url = "sqlite:///{db}"

[paging]
default_limit = 50
max_limit = 100

[[api_roots]]
name = "community"
title = "Community"
max_content_length = {max_content_length}

[[collections]]
api_root = "community"
title = "Seeded"
id = "{seeded}"
alias = "seeded"
"""


@dataclass(frozen=True, slots=True)
class Account:
    """A user and the secrets a client presents."""

    name: str
    password: str
    api_key: str


@dataclass(frozen=True, slots=True)
class Server:
    """The running server, its store and its users."""

    process: ServerProcess
    settings: Settings
    config: Path
    seeded: list[dict[str, Any]]
    analyst: Account  # red; reads the seeded collection; reads and writes new ones
    writer: Account  # green; write-only on collections made for it

    @property
    def api_root_url(self) -> str:
        return f"{self.process.base_url}/community/"

    @property
    def discovery_url(self) -> str:
        return f"{self.process.base_url}/taxii2/"

    def storage(self) -> Storage:
        return open_storage(self.settings.storage_url)

    def new_collection(self, *, writer_only: bool = False) -> str:
        """A fresh, empty collection: the analyst may read and write it (or the writer
        may only write it)."""
        collection_id = str(uuid.uuid4())
        storage = self.storage()
        try:
            storage.create_collection(
                Collection(collection_id, "community", f"Test {collection_id[:8]}")
            )
            if writer_only:
                storage.set_grant(Grant("writer", collection_id, can_read=False, can_write=True))
            else:
                storage.set_grant(Grant("analyst", collection_id, can_read=True, can_write=True))
        finally:
            storage.close()
        return collection_id

    def versions(self, collection_id: str) -> dict[str, list[bytes]]:
        """Every stored version of every object, by id (bodies in date_added order)."""
        storage = self.storage()
        found: dict[str, list[bytes]] = {}
        after = None
        try:
            while True:
                page = storage.query_objects(
                    collection_id,
                    ObjectQuery(
                        clearance=4, limit=1000, after=after, versions=VersionSelector(all=True)
                    ),
                )
                for item in page.items:
                    found.setdefault(item.id, []).append(item.data)
                if not page.more:
                    return found
                after = page.items[-1].date_added
        finally:
            storage.close()


def _account(storage: Storage, name: str, clearance: int) -> Account:
    password = f"{name}-{new_api_key().secret[:12]}"
    token = new_api_key()
    # The organization of the example package's author (fixtures/packages/RP-2024-0007).
    storage.put_user(User(name, clearance, hash_secret(password), organization=EXAMPLE_AUTHOR))
    storage.add_api_key(ApiKey(token.key_id, name, hash_api_key(token.secret), "tests"))
    return Account(name, password, token.token)


def start_server(directory: Path, seeded: list[dict[str, Any]], extra_config: str = "") -> Server:
    """Seed a SQLite store in ``directory`` and start a server on it (``extra_config``
    is appended to the configuration file)."""
    port = free_port()
    config = directory / "atlas-taxii.toml"
    config.write_text(
        CONFIG.format(
            port=port,
            db=directory / "atlas.db",
            max_content_length=MAX_CONTENT_LENGTH,
            seeded=SEEDED_ID,
        )
        + extra_config
    )
    settings = load_settings(config)
    storage = open_storage(settings.storage_url, migrate=True)
    try:
        collection = ensure_declared(storage, settings).collections[0]
        analyst = _account(storage, "analyst", 4)
        writer = _account(storage, "writer", 1)
        storage.set_grant(Grant("analyst", SEEDED_ID, can_read=True, can_write=False))
        path = directory / "seed.json"
        path.write_text(json.dumps(bundle(seeded)))
        assert load_bundle(storage, collection, path).rejected == ()
    finally:
        storage.close()
    process = ServerProcess(python_module("tests.interop.server", str(config)), port, directory)
    process.start()
    return Server(process, settings, config, seeded, analyst, writer)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    running = start_server(tmp_path_factory.mktemp("publish"), build_objects(SEEDED_COUNT))
    try:
        yield running
    finally:
        running.process.stop()


Runner = Callable[..., Result]


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Runner:
    """``cli("publish", …, stdin="…")``: run atlas-taxii in-process."""
    monkeypatch.delenv("ATLAS_TAXII_CONFIG", raising=False)

    def run(*argv: str, stdin: str = "") -> Result:
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        capsys.readouterr()
        status = main(list(argv))
        captured = capsys.readouterr()
        return result_of(status, captured.out, captured.err)

    return run
