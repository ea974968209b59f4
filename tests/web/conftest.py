"""Browser tests of the workbench: Playwright driving Debian's Chromium against a live
``atlas-taxii serve``.

Chromium is ``/usr/bin/chromium`` (``apt-get install chromium``; ``.ci/run`` installs
it), launched headless by pytest-playwright with that executable: Playwright's own
browser downloads are never used.  Without it the tests are skipped, except in CI
(``CI`` set), where a missing browser is a failure.

One server per test module, over a SQLite store seeded before it starts: the fixture
packages' bundles published as ``atlas-taxii publish`` would, plus hand-made objects
(a hostile one, an amber one).  Screenshots of every page go to ``$WORKBENCH_SCREENSHOTS`` or,
without it, ``screenshots/`` in the session's temporary folder (the path is printed).
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pytest

from converters.validation import get_validator
from taxii_server.bootstrap import ensure_declared
from taxii_server.ingest import prepare_objects
from taxii_server.publishing import LocalTarget, publish_objects
from taxii_server.settings import load_settings
from taxii_server.storage import open_storage
from taxii_server.storage.base import Grant, User
from tests.live_server import ServerProcess, free_port
from tests.server.conftest import cheap_hash

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "fixtures" / "packages"
BUNDLES = ROOT / "fixtures" / "bundles"
ATLAS_TAXII = str(Path(sys.executable).parent / "atlas-taxii")

COLLECTION_ID = "6f1c2d3e-4a5b-4c6d-8e7f-9a0b1c2d3e4f"
#: A collection the analyst may write, empty at start (publish tests go there).
DROP_ID = "0a9b8c7d-6e5f-4a3b-9c2d-1e0f9a8b7c6d"
ANALYST, GREEN_USER = "analyst", "greenie"
PASSWORD = "a long enough password"
AUTHOR = "Example Bank FIU"
HOSTILE_NAME = '<img src=x onerror="window.__pwned=1">'
HOSTILE_URL = "javascript:window.__pwned=2"
HOSTILE_ID = "threat-actor--5b1c0e52-1d8f-4c43-9a83-3e0b8f6c2a11"
AMBER_NAME = "Amber-only harbour broker"
AMBER_ID = "threat-actor--9d2e7c41-6b0a-4f35-8c12-7a4e5b3d1f60"
_TLP_AMBER = "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"

CONFIG = """
[server]
port = {port}
workers = 1

[storage]
url = "sqlite:///{db}"

[security]
auth_failures_per_minute = 1000

[[api_roots]]
name = "community"
title = "Community"
description = "Shared by every member"

[[collections]]
api_root = "community"
title = "Community research"
id = "{collection}"
alias = "research"
description = "Vetted research packages, TLP:CLEAR to TLP:RED"

[[collections]]
api_root = "community"
title = "Drafts"
id = "{drop}"
alias = "drafts"
description = "Packages published from the workbench"
"""


def _in_ci() -> bool:
    return bool(os.environ.get("CI"))


@pytest.fixture(scope="session")
def browser_type_launch_args() -> dict[str, Any]:
    """pytest-playwright launches Debian's Chromium, never a downloaded browser."""
    if not CHROMIUM.exists():
        if _in_ci():
            pytest.fail(f"{CHROMIUM} is missing: .ci/run installs it (apt-get install chromium)")
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    return {"executable_path": str(CHROMIUM), "headless": True, "args": ["--no-sandbox"]}


@pytest.fixture(scope="session")
def browser_context_args() -> dict[str, Any]:
    """A laptop screen."""
    return {"viewport": {"width": 1366, "height": 860}}


@pytest.fixture(scope="session")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = Path(
        os.environ.get("WORKBENCH_SCREENSHOTS") or tmp_path_factory.getbasetemp() / "screenshots"
    )
    folder.mkdir(parents=True, exist_ok=True)
    print(f"\nworkbench screenshots: {folder}")
    return folder


def _hand_made() -> list[dict[str, Any]]:
    stamp = "2025-01-10T09:00:00.000Z"
    return [
        {
            "type": "threat-actor",
            "spec_version": "2.1",
            "id": HOSTILE_ID,
            "created": stamp,
            "modified": stamp,
            "name": HOSTILE_NAME,
            "description": "<script>window.__pwned=3</script> a description with markup",
            "threat_actor_types": ["criminal"],
            "external_references": [{"source_name": "hostile link", "url": HOSTILE_URL}],
        },
        {
            "type": "threat-actor",
            "spec_version": "2.1",
            "id": AMBER_ID,
            "created": stamp,
            "modified": stamp,
            "name": AMBER_NAME,
            "threat_actor_types": ["criminal"],
            "object_marking_refs": [_TLP_AMBER],
        },
    ]


@dataclass(frozen=True)
class LiveWorkbench:
    """A running server and what it was seeded with."""

    base_url: str
    server: ServerProcess

    def url(self, path: str) -> str:
        return f"{self.base_url}{path}"


def _seed(db: Path, config: Path) -> None:
    settings = load_settings(config, environ={})
    storage = open_storage(settings.storage_url, migrate=True)
    try:
        ensure_declared(storage, settings)
        collection = storage.get_collection("community", COLLECTION_ID)
        assert collection is not None
        # Every fixture package, as the demo loads them: a map worth looking at.
        for path in sorted(BUNDLES.glob("*.json")):
            objects = orjson.loads(path.read_bytes())["objects"]
            target = LocalTarget(storage, collection)
            report = publish_objects(objects, target, get_validator())
            assert not report.failed, (path, report.failures)
        prepared = prepare_objects(_hand_made(), get_validator())
        assert not prepared.failures, prepared.failures
        storage.add_objects(COLLECTION_ID, prepared.valid)
        for name, clearance, write in ((ANALYST, 2, True), (GREEN_USER, 1, False)):
            # The fixture packages' author: what they publish is their organization's.
            user = User(name, clearance, cheap_hash(PASSWORD), organization=AUTHOR)
            storage.put_user(user)
            storage.set_grant(Grant(name, COLLECTION_ID, True, write))
            storage.set_grant(Grant(name, DROP_ID, True, write))
    finally:
        storage.close()


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveWorkbench]:
    """``atlas-taxii serve`` over a freshly seeded store, for one test module."""
    folder = tmp_path_factory.mktemp("workbench")
    port = free_port()
    db = folder / "atlas.db"
    config = folder / "atlas-taxii.toml"
    config.write_text(CONFIG.format(port=port, db=db, collection=COLLECTION_ID, drop=DROP_ID))
    _seed(db, config)
    argv = [ATLAS_TAXII, "serve", "--config", str(config), "--no-access-log"]
    server = ServerProcess(argv, port, folder).start(ready_marker="collection")
    try:
        yield LiveWorkbench(server.base_url, server)
    finally:
        assert server.stop() == 0, server.output
    shutil.rmtree(folder, ignore_errors=True)
