"""A connection to another TAXII 2.1 server, and the collection a command works on.

Built on taxii2-client (the OASIS client most of our partners' scripts use), with
what a long unattended transfer needs and the library leaves out: a timeout on every
request (requests has none by default, so a stalled server would hang a pull for
ever), a bound on the size of an answer (:data:`MAX_RESPONSE_BYTES`), the headers of
the last response (``X-TAXII-Date-Added-Last``, TAXII 2.1 §3.4.2, which taxii2-client
does not expose), our own User-Agent, and errors translated into
:mod:`taxii_server.remote.errors`.

The URL a user gives may be an API root (TAXII 2.1 §4.2) or a discovery endpoint
(§4.1); for a discovery URL the server's ``default`` API root is used.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin

import requests
from requests.adapters import HTTPAdapter
from taxii2client.common import _HTTPConnection
from taxii2client.v21 import Collection as ClientCollection

from taxii_server import __version__
from taxii_server.remote.errors import (
    RemoteProtocolError,
    RemoteRefused,
    RemoteUnavailable,
    translated,
)

__all__ = ["Connection", "Credentials", "RemoteCollection", "open_collection"]

#: Seconds to wait for a connection or for the next bytes of an answer.
DEFAULT_TIMEOUT = 60.0
#: Largest answer read (after decompression): a page of 1,000 large objects is a
#: few tens of MB; an answer without end would otherwise fill the memory.
MAX_RESPONSE_BYTES = 256 * 2**20
_READ_CHUNK = 64 * 1024


@dataclass(frozen=True, slots=True)
class Credentials:
    """How to authenticate: HTTP Basic (``user`` and ``password``, where the password
    may be an API key), or a bearer ``api_key``, or nothing (public collections)."""

    user: str | None = None
    password: str | None = None
    api_key: str | None = None


class _BearerAuth(requests.auth.AuthBase):
    """``Authorization: Bearer <key>`` (RFC 6750), which most TAXII servers accept
    for API keys, atlas-taxii included."""

    def __init__(self, key: str) -> None:
        self._key = key

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self._key}"
        return request


class _TimeoutAdapter(HTTPAdapter):
    """Gives every request a timeout unless the caller set one."""

    def __init__(self, timeout: float) -> None:
        super().__init__()
        self._timeout = timeout

    def send(  # type: ignore[override]  # requests' signature takes loose keywords
        self, request: requests.PreparedRequest, **kwargs: Any
    ) -> requests.Response:
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self._timeout
        return super().send(request, **kwargs)


class Connection:
    """One HTTP session to one server: taxii2-client's connection plus timeouts and
    the last response's headers."""

    def __init__(self, credentials: Credentials, *, timeout: float = DEFAULT_TIMEOUT) -> None:
        auth = _BearerAuth(credentials.api_key) if credentials.api_key else None
        self.client: Any = _HTTPConnection(
            user=credentials.user,
            password=credentials.password,
            auth=auth,
            version="2.1",
            user_agent=f"atlas-taxii/{__version__} (taxii2-client)",
        )
        session: requests.Session = self.client.session
        adapter = _TimeoutAdapter(timeout)
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        session.hooks["response"].append(self._remember)
        self.last_headers: Mapping[str, str] = {}
        self.max_response_bytes = MAX_RESPONSE_BYTES

    def _remember(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        self.last_headers = response.headers
        _read_bounded(response, self.max_response_bytes)

    def get_json(self, url: str) -> dict[str, Any]:
        """GET a TAXII resource (checked to be ``application/taxii+json;version=2.1``)
        and return its JSON object."""
        with translated(f"reading {url}"):
            body = self.client.get(url)
        if not isinstance(body, dict):
            raise RemoteProtocolError(f"reading {url}: not a TAXII 2.1 answer: not a JSON object")
        return body

    def close(self) -> None:
        """Close the session's connections."""
        self.client.close()


def _read_bounded(response: requests.Response, limit: int) -> None:
    """Read the body of ``response`` now (requests' response hooks run before it is
    read), refusing past ``limit`` bytes."""
    declared = response.headers.get("Content-Length", "")
    too_large = RemoteUnavailable(
        f"{response.url} answered with more than {limit} bytes; not read further "
        "(ask for smaller pages with a lower --limit)"
    )
    if declared.isdigit() and int(declared) > limit:
        response.close()
        raise too_large
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_content(_READ_CHUNK):
        size += len(chunk)
        if size > limit:
            response.close()
            raise too_large
        chunks.append(chunk)
    # What requests itself does with a body read whole (Response.content).
    response._content = b"".join(chunks)


@dataclass(frozen=True, slots=True)
class RemoteCollection:
    """A collection on another server, ready for taxii2-client calls."""

    api_root_url: str
    id: str
    title: str
    can_read: bool
    can_write: bool
    max_content_length: int
    endpoint: Any  # taxii2client.v21.Collection sharing ``connection``
    connection: Connection

    @property
    def url(self) -> str:
        """The collection's URL (TAXII 2.1 §5.2)."""
        return f"{self.api_root_url}collections/{self.id}/"


def _slash(url: str) -> str:
    return url if url.endswith("/") else url + "/"


def _api_root_url(connection: Connection, url: str) -> tuple[str, dict[str, Any]]:
    """The API root at ``url``, or the default API root of the discovery resource there."""
    url = _slash(url)
    info = connection.get_json(url)
    # A discovery resource (§4.1.1) has a title and no API root properties; its
    # api_roots are left out when there are none (§2: no empty lists).
    if "api_roots" in info or ("title" in info and "versions" not in info):
        roots = [r for r in info.get("api_roots") or [] if isinstance(r, str)]
        default = info.get("default")
        chosen = default if isinstance(default, str) and default else None
        if chosen is None and len(roots) == 1:
            chosen = roots[0]
        if chosen is None and not roots:
            raise RemoteRefused(f"{url} is a discovery endpoint that lists no API root")
        if chosen is None:
            listed = ", ".join(urljoin(url, r) for r in roots)
            raise RemoteRefused(
                f"{url} is a discovery endpoint without a default API root; "
                f"give one of its API roots instead: {listed}"
            )
        url = _slash(urljoin(url, chosen))
        info = connection.get_json(url)
    if not isinstance(info.get("max_content_length"), int) or "versions" not in info:
        raise RemoteProtocolError(
            f"{url} is neither a TAXII 2.1 API root nor a discovery endpoint "
            "(no max_content_length and versions)"
        )
    return url, info


def _find(collections: list[Any], name: str) -> dict[str, Any] | None:
    entries = [c for c in collections if isinstance(c, dict) and isinstance(c.get("id"), str)]
    for key in ("id", "alias", "title"):
        found = [c for c in entries if c.get(key) == name]
        if len(found) == 1:
            return found[0]
        if len(found) > 1:
            ids = ", ".join(c["id"] for c in found)
            raise RemoteRefused(f"{name!r} names several collections ({ids}); give the id")
    return None


def open_collection(
    url: str, collection: str, credentials: Credentials, *, timeout: float = DEFAULT_TIMEOUT
) -> RemoteCollection:
    """Connect to the collection named ``collection`` (id, alias or title) under the
    API root (or discovery endpoint) at ``url``."""
    connection = Connection(credentials, timeout=timeout)
    try:
        root_url, root_info = _api_root_url(connection, url)
        listing = connection.get_json(f"{root_url}collections/")
        collections = listing.get("collections") or []
        info = _find(collections if isinstance(collections, list) else [], collection)
        if info is None:
            known = ", ".join(
                f"{c.get('id')} {c.get('title')!r}" for c in collections if isinstance(c, dict)
            )
            raise RemoteRefused(
                f"{root_url} has no collection with id, alias or title {collection!r} "
                f"that this user can see (collections: {known or 'none'})"
            )
        with translated(f"reading {root_url}collections/"):
            endpoint = ClientCollection(
                f"{root_url}collections/{info['id']}/",
                conn=connection.client,
                collection_info=info,
            )
        return RemoteCollection(
            api_root_url=root_url,
            id=info["id"],
            title=str(info.get("title", "")),
            can_read=bool(info.get("can_read")),
            can_write=bool(info.get("can_write")),
            max_content_length=root_info["max_content_length"],
            endpoint=endpoint,
            connection=connection,
        )
    except BaseException:
        connection.close()
        raise
