"""No credentials, API keys or object contents in logs: every log line of a whole
scenario is captured (in-process at DEBUG level, and a live server's stdout and stderr
with its access log on) and searched for each secret the scenario used.

The scenario logs in every way (Basic with a password and with a key, Bearer, Token),
fails to log in with distinctive wrong secrets, posts objects whose contents are
distinctive (valid ones, and invalid ones whose failure messages quote them), reads
them back, and meets a store failure whose driver message quotes a row and an
unexpected exception whose message quotes a secret.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Callable
from pathlib import Path

import pytest
import requests
from flask import Flask

from taxii_server.app import get_service
from taxii_server.credentials import parse_api_key
from taxii_server.storage.base import StorageError
from tests.hardening.live import INBOX, TAXII, LiveTaxii, deploy, post_envelope
from tests.server import data
from tests.server.conftest import SHARED, Caller, World, basic, password_of, url

CONTENT = "Operation Nightjar mule ledger"  # in a valid object's name and pattern
INVALID_CONTENT = "Kestrel safehouse 41"  # in an invalid object (quoted in its failure)
WRONG_PASSWORD = "Wr0ng-but-distinctive-passphrase"
OBJECTS = url(SHARED, "objects")


def _secret_object() -> dict[str, object]:
    return data.indicator(CONTENT, "amber", pattern=f"[x-mule:ledger = '{CONTENT}']") | {
        "description": CONTENT
    }


def _invalid_object() -> dict[str, object]:
    return data.indicator("invalid") | {"modified": INVALID_CONTENT}


def _secret_of(api_key: str) -> str:
    """The secret part of an API key (which may itself contain ``_``)."""
    token = parse_api_key(api_key)
    assert token is not None
    return token.secret


def _assert_clean(text: str, secrets: list[str]) -> None:
    assert text, "the scenario logged nothing: the test would prove nothing"
    for secret in secrets:
        assert secret not in text, f"{secret!r} is in the log"


def test_in_process_logs_hold_no_secrets(
    make_app: Callable[..., Flask],
    world: World,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    caplog.set_level(logging.DEBUG)
    app = make_app(auth_failures_per_minute=2)
    client = app.test_client()
    key = world.api_keys["alice"]
    alice = Caller(client, basic("alice", password_of("alice")))
    for caller in (
        alice,
        Caller(client, f"Bearer {key}"),
        Caller(client, f"Token {key}"),
        Caller(client, basic("", key)),
        Caller(client, basic(key, "")),
    ):
        assert caller.get(OBJECTS).status_code == 200
    for wrong in (
        basic("alice", WRONG_PASSWORD),
        f"Bearer {key[:-4]}XXXX",
        basic("mallory", WRONG_PASSWORD),
    ):
        assert Caller(client, wrong).get(OBJECTS).status_code in (401, 429)
    # The address is now at the limit: passwords get 429, a valid key still works.
    alice = Caller(client, f"Bearer {key}")
    posted = alice.post(OBJECTS, {"objects": [_secret_object(), _invalid_object()]})
    assert posted.status_code == 202 and INVALID_CONTENT.encode() in posted.data
    assert CONTENT.encode() in alice.get(OBJECTS, {"match[id]": _secret_object()["id"]}).data

    # A store failure whose driver quotes the row, and an unexpected exception.
    service = app.extensions["taxii"].service
    quoted_row = f"DETAIL:  Failing row contains ({CONTENT}, {password_of('alice')})."
    monkeypatch.setattr(
        service.storage,
        "query_objects",
        lambda *a, **k: (_ for _ in ()).throw(StorageError(f"sqlite:///x: failed\n{quoted_row}")),
    )
    assert alice.get(OBJECTS).status_code == 503
    monkeypatch.setattr(
        service, "manifest", lambda *a, **k: (_ for _ in ()).throw(KeyError(f"{CONTENT} {key}"))
    )
    assert alice.get(url(SHARED, "manifest")).status_code == 500
    with app.app_context():
        assert get_service() is service

    text = caplog.text + "".join(repr(r.args) for r in caplog.records)
    assert "failed" in text and "KeyError" in text  # the failures were logged
    _assert_clean(
        text,
        [
            password_of("alice"),
            key,
            _secret_of(key),
            WRONG_PASSWORD,
            CONTENT,
            INVALID_CONTENT,
        ],
    )


@pytest.mark.slow
def test_a_live_servers_output_holds_no_secrets(tmp_path: Path) -> None:
    server = deploy(
        tmp_path, f"sqlite:///{tmp_path / 'taxii.db'}", access_log=True, failures_per_minute=3
    ).start()
    try:
        objects_url = server.url(INBOX, "objects")
        headers = {"Accept": TAXII}
        writer, reader = server.writer, server.reader
        assert post_envelope(server, INBOX, [_secret_object(), _invalid_object()]).ok
        for auth, extra in (
            (writer.auth, {}),
            (None, writer.bearer),
            (None, {"Authorization": f"Token {reader.api_key}"}),
            ((reader.name, reader.password), {}),
        ):
            response = requests.get(
                objects_url, auth=auth, headers={**headers, **extra}, timeout=30
            )
            assert response.status_code == 200
        for auth in ((writer.name, WRONG_PASSWORD), ("nobody", WRONG_PASSWORD)) * 3:
            requests.get(objects_url, auth=auth, headers=headers, timeout=30)
        requests.get(
            objects_url, headers={**headers, "Authorization": f"Bearer {reader.api_key}x"},
            timeout=30,
        )  # fmt: skip
    finally:
        server.stop()
    output = server.log_text()
    assert "GET /community/collections/" in output  # the access log was on
    _assert_clean(
        output,
        [
            writer.password,
            reader.password,
            writer.api_key,
            reader.api_key,
            _secret_of(writer.api_key),
            WRONG_PASSWORD,
            CONTENT,
            INVALID_CONTENT,
        ],
    )


def _raw_request(server: LiveTaxii, head: bytes) -> bytes:
    """Send request bytes no client library would send (NUL, escape characters in a
    header); return the response."""
    with socket.create_connection(("127.0.0.1", server.process.port), timeout=30) as sock:
        sock.sendall(head)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def _line_with(lines: list[str], marker: str) -> str:
    (line,) = [line for line in lines if marker in line]
    return line


@pytest.mark.slow
def test_the_access_log_names_the_authenticated_user_and_escapes_every_field(
    tmp_path: Path,
) -> None:
    """The user of an access-log line is the user the server authenticated, whatever
    the client sent as a Basic user name (an API key there stays out of the log; a
    name with a newline or NUL forges nothing), also for Bearer and Token; and a field
    with quotes, backslashes or a character that ends lines (NEL, which gunicorn lets
    through in a header; it refuses C0 controls there) stays on its line, escaped."""
    server = deploy(tmp_path, f"sqlite:///{tmp_path / 'taxii.db'}", access_log=True).start()
    writer, reader = server.writer, server.reader
    forged = '127.0.0.1 - admin [01/Jan/2024:00:00:00 +0000] "GET /forged HTTP/1.1" 200 1'
    try:
        objects_url = server.url(INBOX, "objects")
        for agent, auth, extra, status in (
            ("ua-key-as-user", (reader.api_key, ""), {}, 200),
            ("ua-key-as-password", ("", writer.api_key), {}, 200),
            ("ua-bearer", None, writer.bearer, 200),
            ("ua-token", None, {"Authorization": f"Token {reader.api_key}"}, 200),
            ("ua-key-under-another-name", (writer.name, reader.api_key), {}, 401),
            ("ua-forged-name", (f"mallory\x00\n{forged}", WRONG_PASSWORD), {}, 401),
            ("ua-anonymous", None, {}, 401),
        ):
            response = requests.get(
                objects_url,
                auth=auth,
                headers={"Accept": TAXII, "User-Agent": agent, **extra},
                timeout=30,
            )
            assert response.status_code == status, (agent, response.text)
        answer = _raw_request(
            server,
            b"GET /taxii2/ HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: " + TAXII.encode() + b"\r\n"
            b'User-Agent: ua-raw "quote\\back\x85next line\xa0end\r\n'
            b"Connection: close\r\n\r\n",
        )
    finally:
        server.stop()
    output = server.log_text()
    lines = output.splitlines()
    assert answer.startswith(b"HTTP/1.1 200 "), answer[:200]
    assert _line_with(lines, '"ua-key-as-user"').split()[2] == reader.name
    assert _line_with(lines, '"ua-key-as-password"').split()[2] == writer.name
    assert _line_with(lines, '"ua-bearer"').split()[2] == writer.name
    assert _line_with(lines, '"ua-token"').split()[2] == reader.name
    for refused in ("ua-key-under-another-name", "ua-forged-name", "ua-anonymous"):
        assert _line_with(lines, f'"{refused}"').split()[2] == "-"
    assert "mallory" not in output and "/forged" not in output
    raw = _line_with(lines, "ua-raw")
    assert raw.endswith('"ua-raw \\"quote\\\\back\\x85next line\\xa0end"'), raw
    assert "\x00" not in output and "\x85" not in output
    _assert_clean(
        output,
        [
            writer.api_key,
            reader.api_key,
            _secret_of(writer.api_key),
            _secret_of(reader.api_key),
            WRONG_PASSWORD,
        ],
    )
