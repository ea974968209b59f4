"""``atlas-taxii pull`` from a real server: whole, since a time, all versions, resumed
after an interruption, continued with --since-last, and as a CSV table."""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from converters import convert_package
from taxii_server.case_table import COLUMNS
from taxii_server.remote import pull as pull_module
from taxii_server.remote.errors import RemoteUnavailable
from taxii_server.storage.base import ObjectQuery
from taxii_server.timestamps import format_timestamp
from tests.interop.dataset import visible_ids

from .conftest import EXAMPLE, SEEDED_ID, Runner, Server
from .test_publish_local import revision, without_modified
from .test_publish_remote import publish

ROOT = Path(__file__).resolve().parent.parent.parent


def pull(cli: Runner, server: Server, output: Path, *extra: str, url: str | None = None) -> Any:
    return cli(
        "pull",
        url or server.api_root_url,
        "--collection",
        SEEDED_ID,
        "-o",
        str(output),
        "--user",
        "analyst",
        "--password-stdin",
        *extra,
        stdin=server.analyst.password + "\n",
    )


def latest(objects: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The latest version of each object."""
    found: dict[str, dict[str, Any]] = {}
    for obj in objects:
        if obj["id"] not in found or obj["modified"] > found[obj["id"]]["modified"]:
            found[obj["id"]] = obj
    return found


def pulled(output: Path) -> list[dict[str, Any]]:
    bundle = json.loads(output.read_bytes())
    assert bundle["type"] == "bundle" and bundle["id"].startswith("bundle--")
    objects: list[dict[str, Any]] = bundle["objects"]
    return objects


def test_a_whole_collection_from_the_discovery_url(
    cli: Runner, server: Server, tmp_path: Path
) -> None:
    output = tmp_path / "bundle.json"
    result = pull(cli, server, output, "--limit", "17", url=server.discovery_url)
    assert result.status == 0, result.err
    objects = pulled(output)
    expected = latest(server.seeded)
    assert set(expected) == visible_ids(server.seeded, 4)
    assert len(objects) == len(expected)  # each object once
    assert {o["id"]: o for o in objects} == expected
    pages = -(-len(expected) // 17)
    count = len(expected)
    assert (
        result.out
        == f"{output}: {count} objects from 'Seeded' ({count} fetched in {pages} page(s))\n"
    )


def test_every_version(cli: Runner, server: Server, tmp_path: Path) -> None:
    output = tmp_path / "bundle.json"
    assert pull(cli, server, output, "--all-versions", "--limit", "100").status == 0
    objects = pulled(output)
    key = lambda o: (o["id"], o.get("modified", o["created"]))  # noqa: E731
    assert sorted(map(key, objects)) == sorted(map(key, server.seeded))


def test_added_after(cli: Runner, server: Server, tmp_path: Path) -> None:
    storage = server.storage()
    try:
        everything = storage.query_manifest(SEEDED_ID, ObjectQuery(clearance=4, limit=1000)).items
        middle = everything[len(everything) // 2].date_added
        expected = {
            e.id
            for e in storage.query_manifest(
                SEEDED_ID, ObjectQuery(clearance=4, limit=1000, after=middle)
            ).items
        }
    finally:
        storage.close()
    output = tmp_path / "bundle.json"
    assert pull(cli, server, output, "--added-after", format_timestamp(middle)).status == 0
    assert sorted(o["id"] for o in pulled(output)) == sorted(expected)
    assert 0 < len(expected) < len(everything)


def test_resumes_after_a_network_failure(
    cli: Runner, server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    output = tmp_path / "bundle.json"
    real_page = pull_module._page
    calls = 0

    def failing_page(*args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == 4:
            raise RemoteUnavailable("reading …/objects/: cannot connect: Connection reset by peer")
        return real_page(*args, **kwargs)

    monkeypatch.setattr(pull_module, "_page", failing_page)
    first = pull(cli, server, output, "--limit", "20")
    assert first.status == 1
    assert first.err == (
        "atlas-taxii: error: reading …/objects/: cannot connect: Connection reset by peer; "
        f"the pages fetched so far are kept in {output}.pull: "
        "run the same command again to continue\n"
    )
    assert not output.exists()
    state = json.loads((tmp_path / "bundle.json.pull" / "state.json").read_bytes())
    assert (state["pages"], state["objects"], state["complete"]) == (3, 60, False)

    second = pull(cli, server, output, "--limit", "20")
    assert second.status == 0, second.err
    assert "resumed after 3 page(s) fetched earlier" in second.out
    objects = pulled(output)
    assert len(objects) == len({o["id"] for o in objects})
    assert {o["id"]: o for o in objects} == latest(server.seeded)


def _pull_process(server: Server, output: Path) -> subprocess.Popen[bytes]:
    # Python leaves SIGINT ignored when it starts with it ignored, as every child of a
    # job a non-interactive shell put in the background does: give the pull the handler
    # a terminal's Ctrl-C meets.
    code = (
        "import signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "
        "from taxii_server.cli import main; sys.exit(main())"
    )
    argv = [sys.executable, "-c", code, "pull", server.api_root_url, "--collection", SEEDED_ID]
    argv += ["-o", str(output), "--limit", "3", "--user", "analyst", "--password-stdin"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("ATLAS_TAXII_")}
    secret = output.parent / "password.txt"
    secret.write_text(server.analyst.password + "\n")
    with secret.open("rb") as stdin:
        return subprocess.Popen(
            argv, cwd=ROOT, env=env, stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )


def _wait_for_pages(output: Path, process: subprocess.Popen[bytes], pages: int) -> None:
    state = output.parent / f"{output.name}.pull" / "state.json"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if json.loads(state.read_bytes())["pages"] >= pages:
                return
        except (OSError, ValueError):
            pass
        time.sleep(0.01)
    raise AssertionError(f"the pull did not record {pages} pages: {process.communicate()}")


@pytest.mark.slow
@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGINT], ids=["killed", "ctrl-c"])
def test_resumes_after_the_process_is_stopped(
    cli: Runner, server: Server, tmp_path: Path, how: signal.Signals
) -> None:
    output = tmp_path / "bundle.json"
    process = _pull_process(server, output)
    _wait_for_pages(output, process, 5)
    process.send_signal(how)
    _, err = process.communicate(timeout=60)
    if how == signal.SIGINT:
        assert process.returncode == 130
        assert err.decode().startswith("interrupted; the pages fetched so far are kept in ")
    else:
        assert process.returncode == -signal.SIGKILL
    assert not output.exists()

    result = pull(cli, server, output, "--limit", "50")
    assert result.status == 0, result.err
    assert "resumed after" in result.out
    objects = pulled(output)
    assert len(objects) == len({o["id"] for o in objects})  # every object exactly once
    assert {o["id"]: o for o in objects} == latest(server.seeded)


def test_since_last_fetches_only_what_is_new(cli: Runner, server: Server, tmp_path: Path) -> None:
    collection = server.new_collection()
    assert publish(cli, server, collection, str(EXAMPLE)).status == 0
    output = tmp_path / "bundle.json"
    args = ["--collection", collection, "-o", str(output), "--user", "analyst", "--password-stdin"]
    password = server.analyst.password + "\n"
    assert cli("pull", server.api_root_url, *args, stdin=password).status == 0
    first = {o["id"]: o for o in convert_package(EXAMPLE)["objects"]}
    assert {o["id"]: o for o in pulled(output)} == first

    later = revision(
        tmp_path, published="2024-07-01T09:00:00Z", changes={"203.0.113[.]77": "203.0.113[.]78"}
    )
    assert publish(cli, server, collection, str(later)).status == 0
    second = {o["id"]: o for o in convert_package(later)["objects"]}
    posted = {
        i
        for i, o in second.items()
        if i not in first or without_modified(first[i]) != without_modified(o)
    }

    result = cli("pull", server.api_root_url, *args, "--since-last", stdin=password)
    assert result.status == 0, result.err
    merged = {**first, **{i: second[i] for i in posted}}
    assert {o["id"]: o for o in pulled(output)} == merged
    assert f"{len(merged)} objects" in result.out
    assert f"({len(posted)} fetched in 1 page(s))" in result.out

    again = cli("pull", server.api_root_url, *args, "--since-last", stdin=password)
    assert "(0 fetched in 1 page(s))" in again.out


def test_csv_lists_indicators_and_observables(cli: Runner, server: Server, tmp_path: Path) -> None:
    collection = server.new_collection()
    assert publish(cli, server, collection, str(EXAMPLE)).status == 0
    output = tmp_path / "cases.csv"
    args = ["--collection", collection, "-o", str(output), "--format", "csv"]
    result = cli(
        "pull", server.api_root_url, *args, "--api-key-stdin", stdin=server.analyst.api_key + "\n"
    )
    assert result.status == 0, result.err
    rows = list(csv.reader(io.StringIO(output.read_text("utf-8"), newline="")))
    assert tuple(rows[0]) == COLUMNS
    table = [dict(zip(COLUMNS, row, strict=True)) for row in rows[1:]]
    objects = convert_package(EXAMPLE)["objects"]
    wanted = [o for o in objects if o["type"] == "indicator" or "created" not in o]
    assert sorted(r["id"] for r in table) == sorted(o["id"] for o in wanted)
    by_value = {(r["type"], r["value"]): r for r in table}
    domain = by_value[("indicator", "secure-login-examplebank.top")]
    assert domain["pattern"] == "[domain-name:value = 'secure-login-examplebank.top']"
    assert domain["tlp"] == "TLP:AMBER"
    assert domain["confidence"] == "80"
    assert domain["created_by"] == "Example Bank FIU"
    assert domain["valid_from"] == "2024-04-30T00:00:00.000Z"
    assert domain["collection"] == f"Test {collection[:8]}"
    assert by_value[("bank-account", "NL74EXMP0123456789")]["tlp"] == "TLP:RED"
    assert by_value[("autonomous-system", "64511")]["type"] == "autonomous-system"
    assert ("phone-number", "31600000000") in by_value
    assert any(k[0] == "file" and k[1].startswith("0f3c8a7e") for k in by_value)


def test_a_different_unfinished_pull_is_not_mixed_in(
    cli: Runner, server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    output = tmp_path / "bundle.json"

    def failing_page(*args: Any, **kwargs: Any) -> Any:
        raise RemoteUnavailable("reading …: cannot connect: Connection refused")

    monkeypatch.setattr(pull_module, "_page", failing_page)
    assert pull(cli, server, output).status == 1
    monkeypatch.undo()
    result = pull(cli, server, output, "--all-versions")
    assert result.status == 2
    assert f"{output}.pull holds an unfinished pull of collection {SEEDED_ID}" in result.err
    assert "run that pull again to finish it, or delete the folder" in result.err


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        pytest.param(("--since-last",), "there is no completed pull in", id="since-last"),
        pytest.param(
            ("--added-after", "yesterday"), "--added-after: 'yesterday' is not", id="time"
        ),
        pytest.param(("--limit", "0"), "--limit must be at least 1", id="limit"),
    ],
)
def test_bad_options_are_bad_input(
    cli: Runner, server: Server, tmp_path: Path, extra: tuple[str, ...], message: str
) -> None:
    output = tmp_path / "bundle.json"
    result = pull(cli, server, output, *extra)
    assert result.status == 2
    assert result.err.startswith("atlas-taxii: error: ") and message in result.err
    assert not output.exists()
