"""A scripted HTTP server on 127.0.0.1 for answers a real TAXII server never gives:
HTML instead of TAXII, broken JSON, ``more`` without ``next``…  Each route maps a path
to a function of the query string returning ``(status, content type, body, headers)``."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

TAXII = "application/taxii+json;version=2.1"

Answer = tuple[int, str, bytes, dict[str, str]]
Route = Callable[[dict[str, list[str]]], Answer]


def taxii(body: Any, status: int = 200, **headers: str) -> Answer:
    """A TAXII JSON answer."""
    return status, TAXII, json.dumps(body).encode(), dict(headers)


def api_root(collection_id: str, title: str = "Fake") -> dict[str, Route]:
    """The routes of a minimal API root at ``/api/`` with one readable collection."""
    collection = {
        "id": collection_id,
        "title": title,
        "can_read": True,
        "can_write": True,
        "media_types": ["application/stix+json;version=2.1"],
    }
    return {
        "/api/": lambda q: taxii(
            {"title": "Fake", "versions": [TAXII], "max_content_length": 100_000}
        ),
        "/api/collections/": lambda q: taxii({"collections": [collection]}),
    }


class FakeServer:
    """The running server: ``routes`` may be changed between requests."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.requests: list[str] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                parts = urlsplit(self.path)
                owner.requests.append(self.path)
                route = owner.routes.get(parts.path)
                if route is None:
                    status, kind, body, headers = taxii({"title": "not found"}, 404)
                else:
                    status, kind, body, headers = route(parse_qs(parts.query))
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @contextmanager
    def running(self) -> Iterator[FakeServer]:
        thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self._server.shutdown()
            self._server.server_close()
            thread.join()
