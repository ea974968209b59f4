"""TAXII errors and the one place they are rendered (TAXII 2.1 §3.6.1, error message).

Every response the server gives that is not a success is a TAXII error message with
``Content-Type: application/taxii+json;version=2.1``: our own :class:`TaxiiError`
subclasses, werkzeug's HTTP exceptions (no route → 404, wrong method → 405), store
failures (:class:`~taxii_server.storage.base.StorageError`, which never carries an HTTP
status itself: it is mapped here) and anything unexpected (500, logged, with no
internals in the body).
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Mapping
from typing import Any, ClassVar

import orjson
from flask import Flask, Response
from werkzeug.exceptions import HTTPException

from taxii_server.storage.base import (
    SchemaTooNew,
    StorageConflict,
    StorageError,
    StorageNotFound,
    StorageUnavailable,
)

__all__ = [
    "BadRequest",
    "Conflict",
    "Forbidden",
    "InternalError",
    "NotAcceptable",
    "NotFound",
    "PayloadTooLarge",
    "RequestTimeout",
    "ServiceUnavailable",
    "TaxiiError",
    "TooManyRequests",
    "Unauthorized",
    "UnsupportedMediaType",
    "error_response",
    "quoted",
    "register_error_handlers",
    "storage_error_as_taxii",
]

_log = logging.getLogger(__name__)

#: Characters of a client's bad value quoted back in an error message.
_QUOTED = 80

#: The media type of every response; repeated from ``media.py`` to keep this module
#: importable by it without a cycle.
_TAXII_V21 = "application/taxii+json;version=2.1"


def quoted(value: str) -> str:
    """``repr(value)`` for an error message, cut short: a message names the bad input,
    it does not echo megabytes of it back."""
    if len(value) <= _QUOTED:
        return repr(value)
    return f"{value[:_QUOTED]!r}… ({len(value)} characters)"


class TaxiiError(Exception):
    """Root of the errors the TAXII layer raises; each subclass names its HTTP status.

    ``description`` says what was wrong and where (parameter, field path, object id);
    ``details`` is an optional machine-readable mapping rendered as the error
    message's ``details``; ``headers`` are added to the response (``WWW-Authenticate``,
    ``Retry-After``).
    """

    status: ClassVar[int] = 500
    title: ClassVar[str] = "Internal server error"

    def __init__(
        self,
        description: str,
        *,
        details: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(description)
        self.description = description
        self.details = dict(details) if details else None
        self.headers = dict(headers) if headers else {}


class BadRequest(TaxiiError):
    """A malformed parameter, token or body (TAXII 2.1 §3.4: malformed → 400)."""

    status = 400
    title = "Bad request"


class Unauthorized(TaxiiError):
    """No usable credentials; the response carries ``WWW-Authenticate`` (RFC 7235)."""

    status = 401
    title = "Authentication required"

    def __init__(self, description: str, *, details: Mapping[str, Any] | None = None) -> None:
        super().__init__(
            description,
            details=details,
            headers={"WWW-Authenticate": 'Basic realm="atlas-taxii", charset="UTF-8"'},
        )


class Forbidden(TaxiiError):
    """The caller may see the resource but not do this with it (e.g. write)."""

    status = 403
    title = "Forbidden"


class NotFound(TaxiiError):
    """The resource does not exist, or does not exist for this caller."""

    status = 404
    title = "Not found"


class NotAcceptable(TaxiiError):
    """The Accept header names nothing we can produce (TAXII 2.1 §3.1)."""

    status = 406
    title = "Not acceptable"


class RequestTimeout(TaxiiError):
    """The client stopped sending its request (no bytes for the server's client timeout)."""

    status = 408
    title = "Request timeout"


class Conflict(TaxiiError):
    """The request contradicts stored data (a uniqueness rule of the store)."""

    status = 409
    title = "Conflict"


class PayloadTooLarge(TaxiiError):
    """The body exceeds the API root's ``max_content_length`` or the object limit."""

    status = 413
    title = "Payload too large"


class UnsupportedMediaType(TaxiiError):
    """A POST body of a media type other than TAXII 2.1 (TAXII 2.1 §3.1)."""

    status = 415
    title = "Unsupported media type"


class TooManyRequests(TaxiiError):
    """Too many failed logins from one client address."""

    status = 429
    title = "Too many requests"


class InternalError(TaxiiError):
    """Something the server did not expect; details go to the log, not the client."""

    status = 500
    title = "Internal server error"


class ServiceUnavailable(TaxiiError):
    """The store cannot be reached or refused the operation; try again later."""

    status = 503
    title = "Service unavailable"


def error_response(
    status: int,
    title: str,
    description: str,
    *,
    details: Mapping[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """A TAXII error message (§3.6.1); ``http_status`` is a string, as the spec types it."""
    body: dict[str, Any] = {
        "title": title,
        "description": description,
        "http_status": str(status),
    }
    if details:
        body["details"] = dict(details)
    response = Response(orjson.dumps(body), status=status, content_type=_TAXII_V21)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def _render_taxii_error(error: TaxiiError) -> Response:
    if error.status >= 500:
        _log.error("%s: %s", type(error).__name__, error.description)
    return error_response(
        error.status,
        error.title,
        error.description,
        details=error.details,
        headers=error.headers,
    )


def _render_http_exception(error: HTTPException) -> Response:
    status = error.code or 500
    # Keep headers werkzeug computed (``Allow`` on 405) but not its HTML content type.
    headers = {
        name: value
        for name, value in error.get_headers()
        if name.lower() not in ("content-type", "content-length")
    }
    description = {
        404: "no TAXII resource at this URL",
        405: "this TAXII resource does not support the request method",
        413: "the request body is too large",
    }.get(status, error.description or error.name)
    return error_response(status, error.name, description, headers=headers)


def storage_error_as_taxii(error: StorageError) -> TaxiiError:
    """The TAXII error a store failure means for the client."""
    if isinstance(error, StorageNotFound):
        return NotFound(str(error) or "the resource does not exist")
    if isinstance(error, StorageConflict):
        return Conflict(str(error) or "the request conflicts with stored data")
    if isinstance(error, SchemaTooNew):
        return ServiceUnavailable("the database was written by a newer atlas-taxii")
    if isinstance(error, StorageUnavailable):
        return ServiceUnavailable("the store is temporarily unavailable; try again later")
    return ServiceUnavailable("the store could not complete the request; try again later")


def _first_line(error: BaseException) -> str:
    return str(error).partition("\n")[0]


def _stack(error: BaseException) -> str:
    """The stack of ``error`` and the exceptions it chains, with their types but not
    their messages: a database driver's message may quote the row it refused (an
    object's contents, a status message), and logs must not hold object contents."""
    parts: list[str] = []
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        frames = traceback.StackSummary.extract(traceback.walk_tb(current.__traceback__))
        parts.append(f"{type(current).__module__}.{type(current).__qualname__}\n")
        parts.extend(frames.format())
        current = current.__cause__ or current.__context__
    return "".join(parts).rstrip("\n")


def _render_storage_error(error: StorageError) -> Response:
    # The first line names the store and what failed; the driver's DETAIL and CONTEXT
    # lines, which may quote stored values, stay out of the log.
    _log.warning("store error: %s: %s", type(error).__name__, _first_line(error))
    if not isinstance(error, StorageUnavailable):
        _log.warning("store error stack:\n%s", _stack(error))
    taxii = storage_error_as_taxii(error)
    if isinstance(taxii, ServiceUnavailable):
        taxii.headers["Retry-After"] = "5"
    return _render_taxii_error(taxii)


def _render_unexpected(error: Exception) -> Response:
    # Where it failed, not what the exception said: its message may quote a request
    # or stored data (see _stack).
    _log.error("unhandled %s while serving a request:\n%s", type(error).__name__, _stack(error))
    return error_response(
        500,
        InternalError.title,
        "the server failed to process the request; the incident has been logged",
    )


def register_error_handlers(app: Flask) -> None:
    """Render every error the app can meet as a TAXII error message, in one place."""
    app.register_error_handler(TaxiiError, _render_taxii_error)
    app.register_error_handler(HTTPException, _render_http_exception)
    app.register_error_handler(StorageError, _render_storage_error)
    app.register_error_handler(Exception, _render_unexpected)
