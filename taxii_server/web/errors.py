"""Errors on workbench pages: a page saying what was wrong, with the status TAXII
would give (400, 403, 404, 413, 429, 503…), never a traceback."""

from __future__ import annotations

import logging

from flask import render_template
from werkzeug.exceptions import HTTPException

from taxii_server.errors import NotFound, TaxiiError
from taxii_server.storage.base import StorageError
from taxii_server.web import workbench

__all__: list[str] = []

_log = logging.getLogger(__name__)


def _page(title: str, message: str, status: int) -> tuple[str, int]:
    return render_template("error.html", title=title, message=message, status=status), status


@workbench.errorhandler(TaxiiError)
def _taxii_error(error: TaxiiError) -> tuple[str, int]:
    return _page(error.title, error.description, error.status)


@workbench.errorhandler(HTTPException)
def _http_error(error: HTTPException) -> tuple[str, int]:
    status = error.code or 500
    return _page(error.name, error.description or error.name, status)


@workbench.errorhandler(StorageError)
def _storage_error(error: StorageError) -> tuple[str, int]:
    _log.error("workbench: store failed: %s", str(error).splitlines()[0])
    return _page("Service unavailable", "The store did not answer; try again shortly.", 503)


@workbench.errorhandler(Exception)
def _unexpected(error: Exception) -> tuple[str, int]:
    _log.exception("workbench: unexpected error")
    return _page("Internal error", "Something went wrong on the server; it has been logged.", 500)


@workbench.route("/<path:rest>")
def _unknown(rest: str) -> tuple[str, int]:
    """Any other path under /ui/: a page, not a TAXII error message."""
    raise NotFound("there is no workbench page at this address")
