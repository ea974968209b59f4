"""The access log's escaping and atoms (the live server's log is tested in
tests/hardening/test_logs.py)."""

from __future__ import annotations

import datetime
from types import SimpleNamespace

import pytest

from taxii_server.app import AUTHENTICATED_USER
from taxii_server.cli.access_log import AccessLogger, escape


@pytest.mark.parametrize(
    ("raw", "logged"),
    [
        pytest.param("python-requests/2.32", "python-requests/2.32", id="plain"),
        pytest.param("a\nb\rc", "a\\x0ab\\x0dc", id="line-breaks"),
        pytest.param("nul\x00", "nul\\x00", id="nul"),
        pytest.param("esc\x1b[31m", "esc\\x1b[31m", id="terminal-escape"),
        pytest.param("back\\slash", "back\\\\slash", id="backslash"),
        pytest.param("nel\x85ls\u2028ps\u2029", "nel\\x85ls\\u2028ps\\u2029", id="unicode-breaks"),
        pytest.param("caf\u00e9 \u4e2d", "caf\u00e9 \u4e2d", id="printable-unicode"),
        pytest.param("tag\U000e0041", "tag\\U000e0041", id="astral-format"),
    ],
)
def test_escape(raw: str, logged: str) -> None:
    assert escape(raw) == logged
    assert len(escape(raw).splitlines()) <= 1


def test_atoms_hold_the_authenticated_user_and_no_credentials() -> None:
    logger = AccessLogger.__new__(AccessLogger)  # atoms() needs no configured handlers
    logger.cfg = SimpleNamespace(access_log_format="")
    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": "/taxii2/",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_AUTHORIZATION": "Basic YXRrX2tleTo=",
        AUTHENTICATED_USER: "sentinel\n",
    }
    request = SimpleNamespace(headers=[("AUTHORIZATION", "Basic YXRrX2tleTo="), ("COOKIE", "s=1")])
    response = SimpleNamespace(status="200 OK", headers=[], sent=10)
    atoms = logger.atoms(response, request, environ, datetime.timedelta(microseconds=5))
    assert atoms["u"] == "sentinel\\x0a"
    assert "{authorization}i" not in atoms and "{cookie}i" not in atoms
    assert not any("YXRrX2tleTo" in str(value) for value in atoms.values())
