"""The gthread worker, with a time limit on every wait for a client's next bytes.

gunicorn's gthread worker reads a request (headers, then body) on one of the worker's
threads, from a blocking socket with no time limit.  A client that sends half a
request and stops therefore holds a thread for as long as it keeps the connection
open: a dozen such connections stop a two-worker server (a "slowloris"), and
``request_timeout`` does not help, because the worker's main loop keeps reporting
that it is alive.  Here every read from a client gives up after ``client_timeout``
seconds without a byte:

* silent in the middle of its headers: the connection is treated as one the client
  dropped (gunicorn's debug-level "premature client disconnection") and closed at
  once, without the two-second linger a graceful close spends on the worker's main
  loop waiting for a client that will not answer;
* silent in the middle of a POST body: the application answers 408 (a TAXII error
  message) and nothing is stored.

A slow but steady client is unaffected: the limit is per read, not per request.  This
bounds how long a stalled connection holds a thread; it does not stop a client that
keeps opening them.  A server on the internet belongs behind a buffering reverse proxy
(nginx), which reads whole requests before passing them on.

The requests gunicorn refuses before the application sees them (a request line over
its limit, malformed headers) get gunicorn's error page; in this worker's processes
that page is a TAXII error message too, like every other error the server sends.
"""

from __future__ import annotations

import socket
from typing import Any, ClassVar

import orjson
from gunicorn import util
from gunicorn.http.errors import NoMoreData
from gunicorn.workers.gthread import TConn, ThreadWorker

__all__ = ["CLIENT_TIMEOUT", "ClientStalled", "thread_worker", "write_taxii_error"]

#: Seconds a client may leave a worker thread waiting for the next bytes of a request.
CLIENT_TIMEOUT = 30.0

_TAXII = "application/taxii+json;version=2.1"
_QUOTED = 200  # characters of gunicorn's message (it may quote the bad request line)


def write_taxii_error(sock: socket.socket, status: int, reason: str, message: str) -> None:
    """gunicorn's ``util.write_error``, writing a TAXII error message (TAXII 2.1 §3.6.1)
    instead of an HTML page."""
    description = message if len(message) <= _QUOTED else f"{message[:_QUOTED]}…"
    body = orjson.dumps({"title": reason, "description": description, "http_status": str(status)})
    head = (
        f"HTTP/1.1 {status} {reason}\r\nConnection: close\r\nContent-Type: {_TAXII}\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    util.write_nonblock(sock, head.encode("latin-1") + body)


class ClientStalled(NoMoreData, TimeoutError):  # type: ignore[misc]  # gunicorn ships no types
    """No bytes from the client for ``client_timeout`` seconds.  A ``NoMoreData`` to
    gunicorn (a client gone), a ``TimeoutError`` to the application (a 408)."""

    def __str__(self) -> str:
        return "the client sent nothing for the client timeout"


class _TimedConn(TConn):  # type: ignore[misc]  # gunicorn ships no types
    """A connection whose reads time out; its socket's limit is set again before
    every request (gunicorn makes the socket blocking, without a limit, each time)."""

    client_timeout: float = CLIENT_TIMEOUT
    stalled = False
    answered = False

    def init(self) -> None:
        super().init()
        self.sock.settimeout(self.client_timeout)
        unreader = getattr(self.parser, "unreader", None)
        if unreader is not None and not getattr(unreader, "timed", False):
            read = unreader.chunk

            def chunk(*args: Any) -> bytes:
                try:
                    data: bytes = read(*args)
                except TimeoutError:
                    self.stalled = True
                    raise ClientStalled() from None
                return data

            unreader.chunk, unreader.timed = chunk, True

    def close(self, graceful: bool = False) -> None:
        # Lingering is for a client still reading our answer; one that stalled before
        # we answered it is not reading anything.
        super().close(graceful=graceful and (self.answered or not self.stalled))


class _TimedThreadWorker(ThreadWorker):  # type: ignore[misc]  # gunicorn ships no types
    client_timeout: ClassVar[float] = CLIENT_TIMEOUT

    def init_process(self) -> None:
        # gunicorn's workers call util.write_error for the requests they refuse; in
        # this (forked, ours alone) process it writes TAXII error messages.  Set before
        # the base class starts the run loop, which never returns.
        util.write_error = write_taxii_error
        super().init_process()

    def enqueue_req(self, conn: Any) -> None:
        # gunicorn builds plain TConn objects in accept(); make each one ours before
        # its first request runs (the subclass adds behaviour, not state).
        if type(conn) is TConn:
            conn.__class__ = _TimedConn
            conn.client_timeout = self.client_timeout
        super().enqueue_req(conn)

    def handle(self, conn: Any) -> Any:
        conn.stalled = conn.answered = False
        return super().handle(conn)

    def handle_request(self, req: Any, conn: Any) -> Any:
        conn.answered = True  # the headers are in: whatever happens now, we answer
        return super().handle_request(req, conn)


def thread_worker(client_timeout: float = CLIENT_TIMEOUT) -> type[Any]:
    """A gthread worker class whose client reads time out after ``client_timeout``."""
    return type("TaxiiThreadWorker", (_TimedThreadWorker,), {"client_timeout": client_timeout})
