"""Limits: the table in docs/security.md states the defaults the code has; clients
that stall mid-request are dropped, so they cannot stop a live server; a stalled POST
body is a 408 that stores nothing."""

from __future__ import annotations

import re
import socket
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
import requests
from gunicorn.config import Config

from taxii_server.cli import heads, launcher, workers
from taxii_server.settings import Settings
from taxii_server.storage import sql_postgres, sql_sqlite
from taxii_server.storage.base import ObjectQuery
from tests.hardening.live import INBOX, LiveTaxii, deploy
from tests.live_server import ServerProcess

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "security.md"
CLIENT_TIMEOUT = 1.5  # seconds, for the live server below
WAIT = 60.0


def _limits_table() -> dict[str, str]:
    """The security guide's limits table: limit -> its "Default" cell."""
    text = GUIDE.read_text()
    section = text.split("## Limits", 1)[1].split("\n\n", 2)[1]
    rows = [line.strip("|").split("|") for line in section.splitlines()[2:]]
    return {cells[0].strip(): cells[1].strip() for cells in rows}


def _number(cell: str) -> float:
    match = re.match(r"[0-9.]+", cell)
    assert match, cell
    return float(match.group())


def _gunicorn(name: str) -> float:
    options = launcher.gunicorn_options(Settings(), launcher.ServerOptions())
    value = options.get(name, getattr(Config(), name))
    return float(value)


def test_the_readme_states_the_defaults_the_code_has() -> None:
    defaults = Settings()
    session = dict(
        re.findall(r"-c (\w+)=(\d+)s", sql_postgres.SESSION_OPTIONS)
    )  # statement_timeout, idle_in_transaction_session_timeout
    expected = {
        "Request body": defaults.max_content_length,
        "Objects per POST": defaults.max_objects_per_request,
        "Objects per page": defaults.default_limit,
        "`next` token lifetime": defaults.next_ttl,
        "Failed logins per client address": defaults.auth_failures_per_minute,
        "Requests without credentials per client address": (defaults.anonymous_requests_per_minute),
        "Audit records kept": defaults.audit_retain_days,
        "Status resources kept": defaults.status_ttl,
        "Verified credentials cached": defaults.auth_cache_ttl,
        "Worker timeout": defaults.request_timeout,
        "Silence from a client mid-request": workers.CLIENT_TIMEOUT,
        "A request's headers": heads.HEAD_TIMEOUT,
        "A POST body, in all": defaults.request_timeout,
        "Connections per worker": _gunicorn("worker_connections"),
        "Request line": _gunicorn("limit_request_line"),
        "Request headers": _gunicorn("limit_request_fields"),
        "Keep-alive between requests": _gunicorn("keepalive"),
        "PostgreSQL statement, or transaction left idle": float(session["statement_timeout"]),
        "Wait for a PostgreSQL connection": sql_postgres.POOL_TIMEOUT,
        "Wait for SQLite's write lock": sql_sqlite.BUSY_TIMEOUT,
    }
    table = _limits_table()
    for limit, value in expected.items():
        assert _number(table[limit]) == value, limit
    assert f"at most {defaults.max_limit}" in table["Objects per page"]
    assert f"of {int(_gunicorn('limit_request_field_size'))} bytes" in table["Request headers"]
    assert session["idle_in_transaction_session_timeout"] == session["statement_timeout"]


# -- stalled clients on a live server --------------------------------------------------------


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveTaxii]:
    tmp_path = tmp_path_factory.mktemp("limits")
    live = deploy(tmp_path, f"sqlite:///{tmp_path / 'taxii.db'}", workers=2)
    # The production launcher with a short client timeout (tests/hardening/timed_server).
    live.process = ServerProcess(
        [sys.executable, "-m", "tests.hardening.timed_server", str(live.config),
         str(CLIENT_TIMEOUT)],
        live.settings.port,
        tmp_path,
    )  # fmt: skip
    live.start()
    try:
        yield live
    finally:
        live.stop()


def _stall(server: LiveTaxii, request: bytes) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", server.settings.port), timeout=WAIT)
    sock.sendall(request)
    return sock


def _answers(server: LiveTaxii) -> bool:
    try:
        return requests.get(f"{server.base_url}/taxii2/", timeout=1).status_code == 200
    except requests.RequestException:
        return False


@pytest.mark.slow
def test_clients_that_stall_mid_request_cannot_stop_the_server(server: LiveTaxii) -> None:
    threads = 2 * launcher.DEFAULT_THREADS
    stalled = [
        _stall(server, b"GET /taxii2/ HTTP/1.1\r\nHost: x\r\nAccept: */*\r\n")
        for _ in range(3 * threads)
    ]
    try:
        # Every worker thread is now held by a stalled client; the server answers again
        # once they are dropped.
        deadline = time.monotonic() + WAIT
        while not _answers(server):
            assert time.monotonic() < deadline, "the server stopped answering"
        for sock in stalled:  # and each of them was closed by the server
            sock.settimeout(WAIT)
            while sock.recv(4096):
                pass
        assert _answers(server)
    finally:
        for sock in stalled:
            sock.close()


@pytest.mark.slow
def test_a_stalled_body_is_a_408_that_stores_nothing(server: LiveTaxii) -> None:
    head = (
        f"POST /community/collections/{INBOX}/objects/ HTTP/1.1\r\nHost: x\r\n"
        "Accept: application/taxii+json;version=2.1\r\n"
        "Content-Type: application/taxii+json;version=2.1\r\n"
        f"Authorization: Bearer {server.writer.api_key}\r\n"
        "Content-Length: 100000\r\n\r\n"
    ).encode()
    sock = _stall(server, head + b'{"objects": [')
    try:
        answer = b""
        while b"\r\n\r\n" not in answer or not answer.rstrip().endswith(b"}"):
            chunk = sock.recv(4096)
            if not chunk:
                break
            answer += chunk
    finally:
        sock.close()
    status_line, _, rest = answer.partition(b"\r\n")
    headers, _, body = rest.partition(b"\r\n\r\n")
    assert status_line.startswith(b"HTTP/1.1 408"), answer[:300]
    assert b"content-type: application/taxii+json;version=2.1" in headers.lower()
    assert orjson.loads(body)["http_status"] == "408"
    storage = server.open_store()
    try:
        assert storage.query_manifest(INBOX, ObjectQuery(clearance=4, limit=1)).items == []
    finally:
        storage.close()


def _raw(server: LiveTaxii, request: bytes) -> tuple[int, bytes, dict[str, object]]:
    sock = _stall(server, request)
    try:
        answer = b""
        while chunk := sock.recv(4096):
            answer += chunk
    finally:
        sock.close()
    status_line, _, rest = answer.partition(b"\r\n")
    headers, _, body = rest.partition(b"\r\n\r\n")
    return int(status_line.split()[1]), headers.lower(), orjson.loads(body)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("request_bytes", "status"),
    [
        (b"GET /taxii2/?" + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414),
        (b"GET /taxii2/ HTTP/1.1\r\n" + b"X-A: b\r\n" * 150 + b"\r\n", 431),
        (b"NOT AN HTTP REQUEST\r\n\r\n", 400),
        (b"GET /taxii2/ HTTP/1.1\r\nHost x\r\n\r\n", 400),
    ],
    ids=["request-line-too-long", "too-many-headers", "garbage", "header-without-colon"],
)
def test_requests_gunicorn_refuses_get_taxii_errors_too(
    server: LiveTaxii, request_bytes: bytes, status: int
) -> None:
    answered, headers, body = _raw(server, request_bytes)
    assert answered == status
    assert b"content-type: application/taxii+json;version=2.1" in headers
    assert body["http_status"] == str(status) and body["title"] and body["description"]
    assert len(str(body["description"])) <= 201
