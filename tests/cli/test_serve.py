"""``atlas-taxii serve`` as a person runs it: a real process, real HTTP, bounded waits.

The demo must start on an empty folder, print the URL and credentials, and let
taxii2-client page through the demo collection with them; a restart reuses the
database and issues new credentials.  With a configuration file the server creates
what the file declares and serves users made with ``atlas-taxii users``.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import requests
from taxii2client.v21 import Collection, Server, as_pages

from converters.tlp import object_rank
from converters.validation import SchemaError
from converters.validation import validator as validator_module
from taxii_server.cli import main
from taxii_server.cli.banner import PASTE_HEADER
from taxii_server.cli.errors import CommandError
from taxii_server.cli.serve import prepare_store
from taxii_server.demo import DEMO_COLLECTION_ID, fixture_bundles
from taxii_server.settings import Settings
from tests.live_server import ServerProcess, free_port

pytestmark = pytest.mark.slow  # real processes, a few seconds each

TAXII = "application/taxii+json;version=2.1"
ATLAS_TAXII = str(Path(sys.executable).with_name("atlas-taxii"))
FIXTURE_BUNDLES = Path(__file__).resolve().parents[2] / "fixtures" / "bundles"


def _banner_values(stdout: str) -> dict[str, str]:
    """The ``key: value`` lines of the banner."""
    values: dict[str, str] = {}
    for line in stdout.splitlines():
        key, sep, value = line.partition(": ")
        if sep and not line.startswith(" ") and key not in values:
            values[key] = value
    return values


def _users(stdout: str) -> dict[str, dict[str, str]]:
    users = {}
    for match in re.finditer(r"^user: (\S+) (.*)$", stdout, re.MULTILINE):
        users[match.group(1)] = dict(part.split("=", 1) for part in match.group(2).split())
    return users


def _stored_objects() -> list[dict[str, Any]]:
    """The fixture objects the demo stores: bundles load in name order, and a version
    (same id and ``modified``) already stored with other content is refused, so the
    first bundle to carry it wins."""
    stored: dict[tuple[str, str], dict[str, Any]] = {}
    for path in fixture_bundles():
        for obj in json.loads(path.read_text())["objects"]:
            version = obj.get("modified") or obj.get("created") or json.dumps(obj, sort_keys=True)
            stored.setdefault((obj["id"], version), obj)
    return list(stored.values())


def _demo(tmp_path: Path, port: int, name: str) -> ServerProcess:
    argv = [
        ATLAS_TAXII, "serve", "--demo", "--demo-dir", str(tmp_path / "demo"),
        "--port", str(port), "--workers", "2", "--no-access-log",
    ]  # fmt: skip
    return ServerProcess(argv, port, tmp_path, name).start(ready_marker="curl")


def test_demo_starts_prints_credentials_and_serves_the_fixtures(tmp_path: Path) -> None:
    port = free_port()
    server = _demo(tmp_path, port, "first")
    try:
        banner = _banner_values(server.stdout)
        assert banner["discovery"] == f"http://127.0.0.1:{port}/taxii2/"
        assert banner["collection id"] == DEMO_COLLECTION_ID
        users = _users(server.stdout)
        assert users["demo"]["clearance"] == "amber"
        assert users["demo-red"]["clearance"] == "red"
        password = users["demo"]["password"]

        discovery = Server(banner["discovery"], user="demo", password=password)
        (api_root,) = discovery.api_roots
        (collection,) = api_root.collections
        assert collection.id == DEMO_COLLECTION_ID and collection.alias == "demo"
        seen = [
            o["id"]
            for page in as_pages(collection.get_objects, per_request=7)
            for o in page.get("objects", [])
        ]
        expected = {o["id"] for o in _stored_objects() if object_rank(o) <= 2}
        assert len(seen) == len(set(seen)) and set(seen) == expected

        red = Collection(
            f"{banner['api root']}collections/{DEMO_COLLECTION_ID}/",
            user="demo-red",
            password=users["demo-red"]["password"],
        )
        red_ids = {o["id"] for p in as_pages(red.get_objects, per_request=50) for o in p["objects"]}
        assert red_ids == {o["id"] for o in _stored_objects()}
        # The example research package of the format spec is part of the demo.
        example = json.loads((FIXTURE_BUNDLES / "RP-2024-0007.json").read_text())["objects"]
        assert {o["id"] for o in example} <= red_ids

        key = requests.get(
            banner["objects url"],
            headers={"Accept": TAXII, "Authorization": f"Bearer {users['demo']['api_key']}"},
            timeout=30,
        )
        assert key.status_code == 200
    finally:
        assert server.stop() == 0, server.output

    # A restart reuses the database: nothing is loaded twice, the old secrets stop working.
    again = _demo(tmp_path, port, "second")
    try:
        banner = _banner_values(again.stdout)
        assert banner["loaded"].startswith("0 objects added")
        new_password = _users(again.stdout)["demo"]["password"]
        assert new_password != password
        old = requests.get(banner["objects url"], auth=("demo", password), timeout=30)
        assert old.status_code == 401
        new = requests.get(banner["objects url"], auth=("demo", new_password), timeout=30)
        assert new.status_code == 200
    finally:
        again.stop()


def test_the_banners_commands_run_when_pasted_into_a_shell(tmp_path: Path) -> None:
    """Everything below the banner's paste line, pasted into bash as it is printed,
    with a PATH that has neither the virtualenv nor a python with taxii2-client."""
    port = free_port()
    server = _demo(tmp_path, port, "paste")
    try:
        pasted = server.stdout.split(PASTE_HEADER + "\n", 1)[1]
        assert "EOF" in pasted.splitlines()  # a heredoc ends only on a line of its own
        shell = subprocess.run(
            ["bash"],  # reads commands from standard input, as a terminal feeds them
            input=pasted,
            capture_output=True,
            text=True,
            timeout=120,
            env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
            check=False,
        )
    finally:
        server.stop()
    assert shell.returncode == 0, shell.stderr
    assert shell.stderr == ""
    counts = [
        int(line.split()[0]) for line in shell.stdout.splitlines() if line.endswith(" objects")
    ]
    # A page holds each object once, in its latest version the caller may see: an SCO
    # that two bundles carry with different contents is two versions, one object.
    visible = {o["id"] for o in _stored_objects() if object_rank(o) <= 2}
    assert sum(counts) == len(visible) and len(counts) > 1  # taxii2-client paged through
    curl_page = json.loads(shell.stdout.splitlines()[-1])
    assert len(curl_page["objects"]) == 10 and curl_page["more"] is True


CONFIG = """
[server]
port = {port}
workers = 2

[storage]
url = "sqlite:///{db}"

[[api_roots]]
name = "community"
title = "Community"

[[collections]]
api_root = "community"
title = "Indicators"
alias = "indicators"
"""


def test_serve_with_a_config_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    port = free_port()
    config = tmp_path / "atlas-taxii.toml"
    config.write_text(CONFIG.format(port=port, db=tmp_path / "atlas.db"))
    monkeypatch.setattr(sys, "stdin", io.StringIO("a long enough password\n"))
    assert main(["users", "add", "alice", "--password-stdin", "--config", str(config)]) == 0
    assert main(["users", "grant", "alice", "indicators", "--config", str(config)]) == 0
    capsys.readouterr()

    argv = [ATLAS_TAXII, "serve", "--config", str(config), "--no-access-log"]
    server = ServerProcess(argv, port, tmp_path).start(ready_marker="collection")
    try:
        assert f"http://127.0.0.1:{port}/taxii2/" in server.stdout
        api_root = Server(
            f"{server.base_url}/taxii2/", user="alice", password="a long enough password"
        ).api_roots[0]
        (collection,) = api_root.collections
        assert (collection.title, collection.alias, collection.can_read) == (
            "Indicators",
            "indicators",
            True,
        )
        assert collection.get_objects().get("objects", []) == []
    finally:
        assert server.stop() == 0, server.output


def test_serve_refuses_a_database_from_a_newer_version(tmp_path: Path) -> None:
    port = free_port()
    config = tmp_path / "atlas-taxii.toml"
    database = tmp_path / "atlas.db"
    config.write_text(CONFIG.format(port=port, db=database))
    assert main(["collections", "list", "--config", str(config)]) == 0  # creates the schema
    with contextlib.closing(sqlite3.connect(database)) as connection, connection:
        connection.execute("UPDATE schema_version SET version = version + 100")
    before = _dump(database)

    result = subprocess.run(
        [ATLAS_TAXII, "serve", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "atlas-taxii: error:" in result.stderr and "newer" in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
    assert _dump(database) == before


def _dump(database: Path) -> list[str]:
    connection = sqlite3.connect(database)
    try:
        return list(connection.iterdump())
    finally:
        connection.close()


def test_a_port_in_use_is_refused_before_anything_is_printed(tmp_path: Path) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [ATLAS_TAXII, "serve", "--demo", "--demo-dir", str(tmp_path), "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert result.returncode == 2
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr and "--port" in result.stderr
    assert result.stdout == "" and "Traceback" not in result.stderr


def test_the_validator_is_compiled_once_before_the_workers_fork(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(validator_module, "_instance", None)
    prepare_store(Settings(storage_url=f"sqlite:///{tmp_path / 'atlas.db'}"))
    assert validator_module._instance is not None


def test_schemas_that_cannot_be_read_stop_the_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def missing() -> None:
        raise SchemaError("stix2-validator lacks the schema common/core.json")

    monkeypatch.setattr(validator_module, "_instance", None)
    monkeypatch.setattr(validator_module, "load_schemas", missing)
    with pytest.raises(CommandError, match="cannot validate STIX: stix2-validator lacks"):
        prepare_store(Settings(storage_url=f"sqlite:///{tmp_path / 'atlas.db'}"))


@pytest.mark.parametrize("present", [True, False], ids=["ram-fs", "no-ram-fs"])
def test_heartbeat_files_in_ram_when_there_is_a_ram_filesystem(
    present: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The workers' heartbeat files go to the RAM filesystem where there is one (each
    turn of a worker's loop touches its file), else where gunicorn puts them."""
    from taxii_server.cli import launcher
    from taxii_server.settings import Settings

    shared = tmp_path / "shm"
    if present:
        shared.mkdir()
    monkeypatch.setattr(launcher, "_SHARED_MEMORY", shared)
    options = launcher.gunicorn_options(Settings(), launcher.ServerOptions())
    assert options.get("worker_tmp_dir") == (str(shared) if present else None)
