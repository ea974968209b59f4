"""Every error renders as a TAXII error message (TAXII 2.1 §3.6.1), in one place."""

from __future__ import annotations

import json

import pytest
from flask import Flask

from taxii_server import errors
from taxii_server.errors import TaxiiError, register_error_handlers
from taxii_server.media import MEDIA_TYPE_TAXII_V21
from taxii_server.storage.base import (
    SchemaTooNew,
    StorageConflict,
    StorageError,
    StorageNotFound,
    StorageUnavailable,
)


def _subclasses(cls: type[TaxiiError]) -> list[type[TaxiiError]]:
    found = []
    for sub in cls.__subclasses__():
        found.append(sub)
        found.extend(_subclasses(sub))
    return found


ALL_TAXII_ERRORS = _subclasses(TaxiiError)


def _app(error: Exception) -> Flask:
    app = Flask("test")
    register_error_handlers(app)

    @app.get("/boom")
    def boom() -> str:
        raise error

    return app


def _check_taxii_error(response, status: int) -> dict:  # type: ignore[no-untyped-def,type-arg]
    assert response.status_code == status
    assert response.headers["Content-Type"] == MEDIA_TYPE_TAXII_V21
    body = json.loads(response.data)
    assert isinstance(body["title"], str) and body["title"]
    assert isinstance(body["description"], str) and body["description"]
    assert body["http_status"] == str(status)
    return body  # type: ignore[no-any-return]


def test_every_taxii_error_is_exported() -> None:
    assert {cls.__name__ for cls in ALL_TAXII_ERRORS} <= set(errors.__all__)
    assert len(ALL_TAXII_ERRORS) >= 10


@pytest.mark.parametrize("cls", ALL_TAXII_ERRORS, ids=lambda c: c.__name__)
def test_every_taxii_error_renders(cls: type[TaxiiError]) -> None:
    assert 400 <= cls.status < 600 and cls.title
    error = cls("what was wrong, and where")
    body = _check_taxii_error(_app(error).test_client().get("/boom"), cls.status)
    assert body["description"] == "what was wrong, and where"


def test_unauthorized_challenges() -> None:
    response = _app(errors.Unauthorized("who are you")).test_client().get("/boom")
    _check_taxii_error(response, 401)
    assert response.headers["WWW-Authenticate"].startswith("Basic realm=")


def test_details_are_rendered() -> None:
    error = errors.BadRequest("bad limit", details={"parameter": "limit"})
    body = _check_taxii_error(_app(error).test_client().get("/boom"), 400)
    assert body["details"] == {"parameter": "limit"}


@pytest.mark.parametrize(
    ("error", "status"),
    [
        pytest.param(StorageNotFound("no such thing"), 404, id="not-found"),
        pytest.param(StorageUnavailable("db down"), 503, id="unavailable"),
        pytest.param(StorageConflict("duplicate"), 409, id="conflict"),
        pytest.param(SchemaTooNew("v9"), 503, id="schema-too-new"),
        pytest.param(StorageError("other"), 503, id="root"),
    ],
)
def test_store_errors_are_mapped_here(error: StorageError, status: int) -> None:
    _check_taxii_error(_app(error).test_client().get("/boom"), status)


def test_unexpected_errors_are_a_500_without_internals(caplog: pytest.LogCaptureFixture) -> None:
    response = _app(RuntimeError("secret internals")).test_client().get("/boom")
    body = _check_taxii_error(response, 500)
    assert "secret" not in body["description"]
    # The log says what failed and where, not what the exception said (it may quote
    # stored data or credentials).
    assert "RuntimeError" in caplog.text and "in boom" in caplog.text
    assert "secret internals" not in caplog.text


def test_store_errors_are_logged_without_the_rows_they_quote(
    caplog: pytest.LogCaptureFixture,
) -> None:
    cause = ValueError('CONTEXT:  COPY objects, line 1, column data: "{\\"name\\": \\"Op X\\"}"')
    error = StorageError("postgresql:///taxii: value too long\nCONTEXT:  COPY objects, line 1")
    error.__cause__ = cause
    _check_taxii_error(_app(error).test_client().get("/boom"), 503)
    assert "value too long" in caplog.text and "ValueError" in caplog.text
    assert "Op X" not in caplog.text and "COPY" not in caplog.text


def test_werkzeug_errors_are_taxii_errors_too() -> None:
    client = _app(RuntimeError()).test_client()
    _check_taxii_error(client.get("/nowhere"), 404)
    response = client.post("/boom")
    _check_taxii_error(response, 405)
    assert "GET" in response.headers["Allow"]
