"""``pull`` and ``publish --url`` against a real medallion 3.0 under gunicorn, and the
same requests against atlas-taxii itself (issue 15, item 4).

medallion answers every page of one listing with the *same* ``next`` (the id of a
paging session it keeps in memory); gunicorn refuses request lines longer than its
limit with 414.  Here gunicorn runs with ``--limit-request-line 1500``, below the
2,000 bytes our lookups stay within, so the fallback to smaller lookups is exercised
too; every request line the client sends is recorded.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import requests.adapters

from converters import convert_package
from taxii_server.remote.push import REQUEST_LINE_BYTES
from tests.interop.dataset import build_objects, bundle

from .conftest import EXAMPLE, Runner, Server
from .medallion_live import PASSWORD, USER, Medallion, start_medallion

#: 147 generated objects, the five TLP marking definitions and three versions of one
#: indicator: 155 objects, 153 latest versions.
OBJECTS = build_objects(147)
LATEST = {o["id"]: o for o in OBJECTS}  # later versions come later


@pytest.fixture(scope="module")
def medallion(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Medallion]:
    running = start_medallion(
        tmp_path_factory.mktemp("medallion"),
        ["Seeded", "Inbox", "Inbox 2"],  # Inbox 2 ends up holding extension definitions
        "--limit-request-line",
        "1500",
    )
    try:
        running.post("Seeded", OBJECTS)
        yield running
    finally:
        running.process.stop()


@pytest.fixture
def request_lines(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    """The request line (method and target) of every request sent, with its status."""
    sent: list[tuple[str, int]] = []
    real_send = requests.adapters.HTTPAdapter.send

    def send(self: Any, request: requests.PreparedRequest, **kwargs: Any) -> Any:
        response = real_send(self, request, **kwargs)
        sent.append((f"{request.method} {request.path_url} HTTP/1.1", response.status_code))
        return response

    monkeypatch.setattr(requests.adapters.HTTPAdapter, "send", send)
    return sent


def _pull(cli: Runner, url: str, collection: str, output: Path, user: str, password: str) -> Any:
    return cli(
        "pull", url, "--collection", collection, "--limit", "50", "-o", str(output),
        "--user", user, "--password-stdin", stdin=password + "\n",
    )  # fmt: skip


def _publish(cli: Runner, source: Path, url: str, collection: str, user: str, pw: str) -> Any:
    return cli(
        "publish", str(source), "--url", url, "--collection", collection,
        "--user", user, "--password-stdin", stdin=pw + "\n",
    )  # fmt: skip


def test_pull_follows_medallions_repeated_next(
    cli: Runner, medallion: Medallion, tmp_path: Path, request_lines: list[tuple[str, int]]
) -> None:
    output = tmp_path / "pulled.json"
    result = _pull(cli, medallion.api_root_url, "Seeded", output, USER, PASSWORD)
    assert result.status == 0, result.err
    pulled = {o["id"]: o for o in json.loads(output.read_bytes())["objects"]}
    assert pulled == LATEST
    pages = [line for line, _ in request_lines if "/objects/" in line]
    assert len(pages) == 4  # 153 objects, 50 a page
    tokens = {line.partition("next=")[2].split("&")[0].split(" ")[0] for line in pages[1:]}
    assert len(tokens) == 1, "medallion names one paging session on every page"


def test_publish_stays_within_request_line_limits(
    cli: Runner,
    medallion: Medallion,
    tmp_path: Path,
    request_lines: list[tuple[str, int]],
) -> None:
    source = tmp_path / "bundle.json"
    source.write_text(json.dumps(bundle(list(LATEST.values()))))
    first = _publish(cli, source, medallion.api_root_url, "Inbox", USER, PASSWORD)
    assert first.status == 0, first.err
    assert first.out.strip().endswith(": 153 new, 0 changed, 0 unchanged, 0 failed")
    again = _publish(cli, source, medallion.api_root_url, "Inbox", USER, PASSWORD)
    assert again.status == 0, again.err
    assert again.out.strip().endswith(": 0 new, 0 changed, 153 unchanged, 0 failed")

    longest = max(len(line) for line, _ in request_lines)
    assert longest <= REQUEST_LINE_BYTES
    refused = [line for line, status in request_lines if status == 414]
    assert refused, "gunicorn's 1,500-byte limit should have refused the first lookups"
    lookups = [line for line, status in request_lines if "match%5Bid%5D" in line]
    assert all(len(line) <= 1500 for line, status in request_lines if status != 414)
    assert len(lookups) > len(refused)


def test_publish_and_pull_against_atlas_taxii_keep_lines_short(
    cli: Runner, server: Server, tmp_path: Path, request_lines: list[tuple[str, int]]
) -> None:
    """The same requests against the project's own server (gunicorn, 8,190 bytes)."""
    collection = server.new_collection()
    source = tmp_path / "bundle.json"
    source.write_text(json.dumps(bundle(list(LATEST.values()))))
    for expected in ("153 new, 0 changed, 0 unchanged", "0 new, 0 changed, 153 unchanged"):
        result = _publish(
            cli, source, server.api_root_url, collection, "analyst", server.analyst.password
        )
        assert result.status == 0, result.err
        assert expected in result.out
    output = tmp_path / "pulled.json"
    pulled = _pull(
        cli, server.discovery_url, collection, output, "analyst", server.analyst.password
    )
    assert pulled.status == 0, pulled.err
    assert {o["id"]: o for o in json.loads(output.read_bytes())["objects"]} == LATEST
    assert max(len(line) for line, _ in request_lines) <= REQUEST_LINE_BYTES
    assert all(status != 414 for _, status in request_lines)


def test_the_documented_way_round_medallions_version_property_bug(
    cli: Runner, medallion: Medallion, tmp_path: Path
) -> None:
    """docs/publishing.md: a converted package without its objects that have a
    `version` property (extension definitions) publishes to medallion and pulls back;
    with them, medallion answers 500 to reads (its memory backend parses that property
    as a timestamp), which publish reports in one line."""
    converted = convert_package(EXAMPLE)
    kept = [o for o in converted["objects"] if "version" not in o]
    assert len(kept) < len(converted["objects"])
    source = tmp_path / "for-medallion.json"
    source.write_text(json.dumps({**converted, "objects": kept}))
    published = _publish(cli, source, medallion.api_root_url, "Inbox 2", USER, PASSWORD)
    assert published.status == 0, published.err
    output = tmp_path / "pulled.json"
    pulled = _pull(cli, medallion.api_root_url, "Inbox 2", output, USER, PASSWORD)
    assert pulled.status == 0, pulled.err
    assert sorted(json.loads(output.read_bytes())["objects"], key=lambda o: o["id"]) == sorted(
        kept, key=lambda o: o["id"]
    )

    whole = tmp_path / "whole.json"
    whole.write_text(json.dumps(converted))
    assert _publish(cli, whole, medallion.api_root_url, "Inbox 2", USER, PASSWORD).status == 0
    again = _publish(cli, whole, medallion.api_root_url, "Inbox 2", USER, PASSWORD)
    assert again.status == 1
    (line,) = [e for e in again.err.splitlines() if e.startswith("atlas-taxii: error: ")]
    assert "answered 500" in line
