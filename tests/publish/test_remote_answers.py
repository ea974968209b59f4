"""Bad or unusual server answers: one clear line and exit 1 or 2, never a traceback;
and paging by X-TAXII-Date-Added-Last when a server gives no ``next``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.live_server import free_port

from .conftest import Runner
from .fake_server import TAXII, FakeServer, api_root, taxii

COLLECTION = "2f4e6a8c-0b1d-4f3e-9a5c-7e9b1d3f5a7c"


@pytest.fixture
def fake() -> Iterator[FakeServer]:
    with FakeServer().running() as server:
        yield server


def pull(cli: Runner, url: str, output: Path) -> Any:
    return cli("pull", url, "--collection", COLLECTION, "-o", str(output))


def objects(count: int) -> list[dict[str, Any]]:
    return [
        {
            "type": "indicator",
            "spec_version": "2.1",
            "id": f"indicator--{i:08d}-0000-4000-8000-000000000000",
            "created": "2024-01-01T00:00:00.000Z",
            "modified": "2024-01-01T00:00:00.000Z",
            "pattern": f"[domain-name:value = 'x{i}.example']",
            "pattern_type": "stix",
            "valid_from": "2024-01-01T00:00:00Z",
        }
        for i in range(count)
    ]


def stamp(index: int) -> str:
    return f"2024-01-01T00:00:{index:02d}.000000Z"


@pytest.mark.parametrize(
    ("status", "kind", "body", "exit_status", "message"),
    [
        pytest.param(
            200, "text/html", b"<html>login</html>", 1, "not a TAXII 2.1 answer", id="html"
        ),
        pytest.param(200, TAXII, b"{broken", 1, "not a TAXII 2.1 answer", id="bad-json"),
        pytest.param(200, TAXII, b"[1, 2]", 1, "not a JSON object", id="not-object"),
        pytest.param(200, TAXII, b'{"name": "x"}', 1, "neither a TAXII 2.1 API root", id="no-root"),
        pytest.param(
            200,
            TAXII,
            b'{"title": "x"}',
            2,
            "a discovery endpoint that lists no API root",
            id="discovery-without-api-roots",
        ),
        pytest.param(401, TAXII, b'{"title": "Unauthorized"}', 2, "answered 401", id="401"),
        pytest.param(403, TAXII, b'{"title": "Forbidden"}', 2, "answered 403", id="403"),
        pytest.param(404, "text/plain", b"nothing here", 2, "answered 404", id="404"),
        pytest.param(
            500, "text/plain", b"boom", 1, "answered 500 Internal Server Error: boom", id="500"
        ),
    ],
)
def test_bad_answers_are_one_line(
    cli: Runner,
    fake: FakeServer,
    tmp_path: Path,
    status: int,
    kind: str,
    body: bytes,
    exit_status: int,
    message: str,
) -> None:
    fake.routes["/api/"] = lambda q: (status, kind, body, {})
    result = pull(cli, f"{fake.base_url}/api/", tmp_path / "out.json")
    assert result.status == exit_status
    (line,) = result.err.splitlines()
    assert line.startswith("atlas-taxii: error: ") and message in line
    assert not (tmp_path / "out.json").exists()


def test_an_unreachable_server(cli: Runner, tmp_path: Path) -> None:
    result = pull(cli, f"http://127.0.0.1:{free_port()}/api/", tmp_path / "out.json")
    assert result.status == 1
    assert result.err.startswith("atlas-taxii: error: reading http://127.0.0.1:")
    assert "cannot connect: Connection refused" in result.err


def test_a_discovery_url_without_a_default_lists_the_api_roots(
    cli: Runner, fake: FakeServer, tmp_path: Path
) -> None:
    fake.routes["/taxii2/"] = lambda q: taxii({"title": "x", "api_roots": ["/a/", "/b/"]})
    result = pull(cli, f"{fake.base_url}/taxii2/", tmp_path / "out.json")
    assert result.status == 2
    assert (
        f"give one of its API roots instead: {fake.base_url}/a/, {fake.base_url}/b/" in result.err
    )


def test_pages_by_date_added_when_the_server_gives_no_next(
    cli: Runner, fake: FakeServer, tmp_path: Path
) -> None:
    data = objects(25)
    fake.routes.update(api_root(COLLECTION))

    def page(query: dict[str, list[str]]) -> Any:
        after = query.get("added_after", [""])[0]
        start = next((i + 1 for i in range(len(data)) if stamp(i) == after), 0)
        chunk = data[start : start + 10]
        last = stamp(start + len(chunk) - 1) if chunk else after
        more = start + len(chunk) < len(data)
        return taxii({"more": more, "objects": chunk}, **{"X-TAXII-Date-Added-Last": last})

    fake.routes[f"/api/collections/{COLLECTION}/objects/"] = page
    output = tmp_path / "out.json"
    result = pull(cli, f"{fake.base_url}/api/", output)
    assert result.status == 0, result.err
    assert json.loads(output.read_bytes())["objects"] == data
    asked = [r for r in fake.requests if "/objects/" in r]
    assert len(asked) == 3
    assert "added_after=2024-01-01T00%3A00%3A09.000000Z" in asked[1]


def test_more_without_a_way_to_continue_is_an_error(
    cli: Runner, fake: FakeServer, tmp_path: Path
) -> None:
    fake.routes.update(api_root(COLLECTION))
    fake.routes[f"/api/collections/{COLLECTION}/objects/"] = lambda q: taxii(
        {"more": True, "objects": objects(2)}
    )
    result = pull(cli, f"{fake.base_url}/api/", tmp_path / "out.json")
    assert result.status == 1
    assert "says more objects follow but gives neither a next token" in result.err
    assert "run the same command again to continue" in result.err


def _medallion_style(data: list[dict[str, Any]], size: int) -> Any:
    """Pages of ``size`` objects under one `next` value that never changes, as medallion
    3.0 serves them (its token names a paging session kept in the server)."""
    position = {"at": 0}

    def page(query: dict[str, list[str]]) -> Any:
        if "next" not in query:
            position["at"] = 0
        elif query["next"] != ["session-1"]:
            return taxii({"title": "bad next"}, 400)
        start = position["at"]
        chunk = data[start : start + size]
        position["at"] = start + len(chunk)
        more = position["at"] < len(data)
        body: dict[str, Any] = {"more": more, "objects": chunk}
        if more:
            body["next"] = "session-1"
        return taxii(body, **{"X-TAXII-Date-Added-Last": stamp(position["at"] - 1)})

    return page


def test_a_next_token_that_stays_the_same_is_followed_while_pages_bring_objects(
    cli: Runner, fake: FakeServer, tmp_path: Path
) -> None:
    data = objects(25)
    fake.routes.update(api_root(COLLECTION))
    fake.routes[f"/api/collections/{COLLECTION}/objects/"] = _medallion_style(data, 10)
    output = tmp_path / "out.json"
    result = cli(
        "pull", f"{fake.base_url}/api/", "--collection", COLLECTION, "--limit", "10",
        "-o", str(output),
    )  # fmt: skip
    assert result.status == 0, result.err
    assert json.loads(output.read_bytes())["objects"] == data
    assert "(25 fetched in 3 page(s))" in result.out


@pytest.mark.parametrize(
    ("next_token", "says"),
    [
        pytest.param("same", "the server repeats itself", id="same-next"),
        pytest.param(None, "the server repeats itself", id="same-date-added-last"),
        pytest.param("fresh", "the server repeats itself", id="new-next-same-objects"),
    ],
)
def test_a_server_that_always_says_more_with_nothing_new_is_left(
    cli: Runner, fake: FakeServer, tmp_path: Path, next_token: str | None, says: str
) -> None:
    """Issue 9: a server answering `more: true` for ever with the same objects stops
    the pull at the first page that brings nothing new, whatever its `next`."""
    fake.routes.update(api_root(COLLECTION))
    tokens = iter(range(1000))

    def always_more(query: dict[str, list[str]]) -> Any:
        body: dict[str, Any] = {"more": True, "objects": objects(3)}
        if next_token:
            body["next"] = next_token if next_token == "same" else f"t{next(tokens)}"
        return taxii(body, **{"X-TAXII-Date-Added-Last": stamp(2)})

    fake.routes[f"/api/collections/{COLLECTION}/objects/"] = always_more
    output = tmp_path / "out.json"
    result = pull(cli, f"{fake.base_url}/api/", output)
    assert result.status == 1
    assert says in result.err and "page 2 brought none" in result.err
    assert len([r for r in fake.requests if "/objects/" in r]) == 2
    assert not output.exists()


def test_a_server_inventing_objects_for_ever_is_left_at_the_page_limit(
    cli: Runner, fake: FakeServer, tmp_path: Path
) -> None:
    """New objects and new tokens on every page: nothing repeats, so the page limit of
    one run ends it; the next run continues from the last page recorded."""
    fake.routes.update(api_root(COLLECTION))
    served = {"pages": 0}

    def endless(query: dict[str, list[str]]) -> Any:
        served["pages"] += 1
        n = served["pages"]
        chunk = [dict(o, id=o["id"][:-4] + f"{n:04d}") for o in objects(2)]
        return taxii(
            {"more": True, "next": f"token-{n}", "objects": chunk},
            **{"X-TAXII-Date-Added-Last": stamp(n % 60)},
        )

    fake.routes[f"/api/collections/{COLLECTION}/objects/"] = endless
    output = tmp_path / "out.json"
    result = cli(
        "pull", f"{fake.base_url}/api/", "--collection", COLLECTION, "--max-pages", "7",
        "-o", str(output),
    )  # fmt: skip
    assert result.status == 1
    assert "still says more objects follow after 7 pages" in result.err
    assert "run the same command again to continue" in result.err
    assert served["pages"] == 7 and not output.exists()


def test_an_answer_larger_than_the_limit_is_not_read(
    cli: Runner, fake: FakeServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from taxii_server.remote import connection

    monkeypatch.setattr(connection, "MAX_RESPONSE_BYTES", 50_000)
    fake.routes.update(api_root(COLLECTION))
    fake.routes[f"/api/collections/{COLLECTION}/objects/"] = lambda q: taxii(
        {"more": False, "objects": objects(400)}
    )
    result = pull(cli, f"{fake.base_url}/api/", tmp_path / "out.json")
    assert result.status == 1
    assert "answered with more than 50000 bytes; not read further" in result.err
