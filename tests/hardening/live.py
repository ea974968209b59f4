"""A real ``atlas-taxii serve`` for the attacks that need one: gunicorn with several
workers on 127.0.0.1, over SQLite or a throwaway PostgreSQL database, seeded through
the store with two users and their API keys.

The server is the production command (``atlas-taxii serve --config``),
so what is attacked is what operators run.  It runs in its own process group, so a
test can SIGKILL the master and every worker at once, as a crash or the OOM killer
would, and start it again on the same store.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import requests

from taxii_server.bootstrap import ensure_declared
from taxii_server.credentials import hash_api_key, hash_secret, new_api_key
from taxii_server.settings import Settings, load_settings
from taxii_server.storage import open_storage
from taxii_server.storage.base import ApiKey, Grant, Storage, User
from tests.live_server import ServerProcess, free_port

TAXII = "application/taxii+json;version=2.1"
ROOT = "community"
INBOX = "0c3f4e5d-6a7b-4c8d-9e0f-1a2b3c4d5e6f"  # writer: read+write; reader: read
SECRET = "4d5e6f70-8192-4a3b-8c4d-5e6f708192a3"  # writer only: reader must learn nothing
PUBLIC = "6f708192-a3b4-4c5d-8e6f-708192a3b4c5"  # anyone reads at TLP:CLEAR; writer writes

#: The installed command, next to this interpreter.
ATLAS_TAXII = str(Path(sys.executable).with_name("atlas-taxii"))

_CONFIG = """
[server]
host = "127.0.0.1"
port = {port}
workers = {workers}
default_api_root = "{root}"
request_timeout = {request_timeout}
max_objects_per_request = {max_objects}

[storage]
url = "{storage_url}"

[paging]
default_limit = 100
max_limit = 1000

[security]
auth_failures_per_minute = {failures}

[[api_roots]]
name = "{root}"
title = "Community"
max_content_length = {max_content_length}

[[collections]]
api_root = "{root}"
title = "Inbox"
id = "{inbox}"
alias = "inbox"

[[collections]]
api_root = "{root}"
title = "Secret"
id = "{secret}"

[[collections]]
api_root = "{root}"
title = "Public"
id = "{public}"
public = true
"""


@dataclass(frozen=True, slots=True)
class Account:
    """A seeded user and the secrets a client presents."""

    name: str
    password: str
    api_key: str

    @property
    def auth(self) -> tuple[str, str]:
        """For ``requests``' ``auth=``: HTTP Basic with the password."""
        return (self.name, self.password)

    @property
    def bearer(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}"}


@dataclass
class LiveTaxii:
    """A seeded store and the server process serving it."""

    directory: Path
    settings: Settings
    config: Path
    process: ServerProcess
    writer: Account  # red; reads and writes every collection
    reader: Account  # green; reads Inbox
    access_log: bool = False

    @property
    def base_url(self) -> str:
        return self.process.base_url

    def url(self, collection_id: str, *parts: str) -> str:
        """``url(INBOX, "objects")`` -> ``http://…/community/collections/<INBOX>/objects/``."""
        return "/".join((self.base_url, ROOT, "collections", collection_id, *parts)) + "/"

    def open_store(self) -> Storage:
        return open_storage(self.settings.storage_url)

    def start(self) -> LiveTaxii:
        self.process.start()
        return self

    def stop(self) -> None:
        self.process.stop()

    def kill(self) -> None:
        """SIGKILL the master and every worker at once: nothing gets to clean up."""
        process = self.process._process
        assert process is not None, "the server is not running"
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(30)
        self.process._process = None

    def log_text(self) -> str:
        """Everything the server wrote to stdout and stderr so far."""
        return self.process.stdout_path.read_bytes().decode(
            "utf-8", "replace"
        ) + self.process.stderr_path.read_bytes().decode("utf-8", "replace")


def _account(storage: Storage, name: str, clearance: int) -> Account:
    password = f"{name}-pw-{new_api_key().secret[:12]}"
    key = new_api_key()
    storage.put_user(User(name, clearance, hash_secret(password), organization="Hardening Org"))
    storage.add_api_key(ApiKey(key.key_id, name, hash_api_key(key.secret), "hardening tests"))
    return Account(name, password, key.token)


def deploy(
    directory: Path,
    storage_url: str,
    *,
    workers: int = 2,
    request_timeout: int = 120,
    max_objects: int = 50_000,
    max_content_length: int = 10 * 1024 * 1024,
    failures_per_minute: int = 100_000,
    access_log: bool = False,
    **settings: Any,
) -> LiveTaxii:
    """Write a configuration, seed the store and prepare (not start) a server."""
    directory.mkdir(parents=True, exist_ok=True)
    port = free_port()
    config = directory / "atlas-taxii.toml"
    config.write_text(
        _CONFIG.format(
            port=port,
            workers=workers,
            root=ROOT,
            request_timeout=request_timeout,
            max_objects=max_objects,
            storage_url=storage_url,
            failures=failures_per_minute,
            max_content_length=max_content_length,
            inbox=INBOX,
            secret=SECRET,
            public=PUBLIC,
        )
    )
    loaded = load_settings(config, environ={}, **settings)
    storage = open_storage(loaded.storage_url, migrate=True)
    try:
        ensure_declared(storage, loaded)
        writer = _account(storage, "writer", 4)
        reader = _account(storage, "reader", 1)
        for collection_id in (INBOX, SECRET, PUBLIC):
            storage.set_grant(Grant("writer", collection_id, True, True))
        storage.set_grant(Grant("reader", INBOX, True, False))
    finally:
        storage.close()
    argv = [ATLAS_TAXII, "serve", "--config", str(config)]
    if not access_log:
        argv.append("--no-access-log")
    process = ServerProcess(argv, port, directory)
    return LiveTaxii(directory, loaded, config, process, writer, reader, access_log)


def post_envelope(
    server: LiveTaxii, collection_id: str, objects: list[dict[str, Any]], *, timeout: float = 120
) -> requests.Response:
    """POST an envelope as the writer."""
    return requests.post(
        server.url(collection_id, "objects"),
        data=orjson.dumps({"objects": objects}),
        headers={"Content-Type": TAXII, "Accept": TAXII, **server.writer.bearer},
        timeout=timeout,
    )
