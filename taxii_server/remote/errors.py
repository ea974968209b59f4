"""What can go wrong when talking to another TAXII 2.1 server, in one exception tree.

Every lower-layer error (requests' connection errors and HTTP statuses, taxii2-client's
validation and JSON errors) is translated into a :class:`RemoteError` inside
:func:`translated`, raised ``from`` the original, with a one-line message that says
which URL answered what.  The command line prints that line, never a traceback.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager

import requests
from taxii2client.exceptions import AccessError, TAXIIServiceException

__all__ = [
    "RemoteError",
    "RemoteProtocolError",
    "RemoteRefused",
    "RemoteUnavailable",
    "translated",
]

# Longest server-supplied text quoted in a message (an HTML error page can be huge).
_MAX_QUOTED = 300


class RemoteError(Exception):
    """Root of the errors of :mod:`taxii_server.remote`."""


class RemoteUnavailable(RemoteError):
    """The server could not be reached, timed out, or failed (5xx, 429): try again later."""


class RemoteRefused(RemoteError):
    """The server refused the request (401, 403, 404, 400…): the URL, collection or
    credentials given are wrong, or the user lacks the right."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class RemoteProtocolError(RemoteError):
    """The server answered, but not as a TAXII 2.1 server does (content type, JSON,
    missing fields)."""


_HINTS = {
    401: "check the user and password or API key",
    403: "this user may not do that in this collection",
    404: "check the URL and the collection id (or this user may not see it)",
    413: "the request is larger than the server accepts",
}


def _quoted(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _MAX_QUOTED else f"{text[:_MAX_QUOTED]}…"


def _server_says(response: requests.Response) -> str:
    """The TAXII error message's title and description (§3.6.1), else a short excerpt
    of whatever the body is."""
    try:
        body = json.loads(response.content)
    except ValueError:
        body = None
    if isinstance(body, dict):
        parts = [str(body[k]) for k in ("title", "description") if body.get(k)]
        if parts:
            return _quoted(": ".join(parts))
    return _quoted(response.text) if response.text.strip() else ""


def http_error(response: requests.Response) -> RemoteError:
    """The error for a response with a 4xx or 5xx status."""
    status = response.status_code
    said = _server_says(response)
    message = f"{response.url} answered {status} {response.reason or ''}".rstrip()
    if said:
        message += f": {said}"
    hint = _HINTS.get(status)
    if hint:
        message += f" ({hint})"
    if status >= 500 or status == 429:
        return RemoteUnavailable(message)
    return RemoteRefused(message, status)


def _reason(exc: BaseException) -> str:
    """The innermost operating-system reason in an exception chain ("Connection
    refused"), else the exception's own text."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OSError) and current.strerror:
            return current.strerror
        for arg in getattr(current, "args", ()):
            if isinstance(arg, BaseException) and id(arg) not in seen:
                current = arg
                break
        else:
            current = current.__cause__ or current.__context__
    return _quoted(str(exc))


@contextmanager
def translated(what: str) -> Iterator[None]:
    """Run a request, turning any client or HTTP failure into a :class:`RemoteError`
    whose message starts with ``what`` (e.g. ``"reading http://…/collections/"``)."""
    try:
        yield
    except requests.HTTPError as exc:
        if exc.response is None:
            raise RemoteUnavailable(f"{what}: {_reason(exc)}") from exc
        raise http_error(exc.response) from exc
    except requests.Timeout as exc:
        raise RemoteUnavailable(f"{what}: no answer in time ({_reason(exc)})") from exc
    except requests.ConnectionError as exc:
        raise RemoteUnavailable(f"{what}: cannot connect: {_reason(exc)}") from exc
    except requests.RequestException as exc:
        raise RemoteUnavailable(f"{what}: {_reason(exc)}") from exc
    except AccessError as exc:
        raise RemoteRefused(f"{what}: {exc}") from exc
    except TAXIIServiceException as exc:
        # Wrong content type, JSON that does not parse, resources missing required
        # fields: the URL is not a TAXII 2.1 endpoint (or the server is broken).
        first_line = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise RemoteProtocolError(f"{what}: not a TAXII 2.1 answer: {_quoted(first_line)}") from exc
