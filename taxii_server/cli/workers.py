"""The gthread worker, whose threads never wait for a client's request head, nor longer
than a limit for anything else from a client.

gunicorn's gthread worker gives a new connection to one of its threads before the
client has sent anything; the thread then reads the request (headers, then body)
from a blocking socket.  Idle and slow clients therefore held threads: 48 idle
sockets stopped a default two-worker server (8 threads) for 25 to 75 s, a client
trickling its headers a byte every few seconds held a thread for as long as it liked.
This subclass:

* reads request heads in the worker's event loop (:mod:`.heads`), for new connections
  and kept-alive ones alike: a thread is given only once a request's headers have
  arrived.  A head must arrive within ``HEAD_TIMEOUT`` (10 s) of the connection's
  accept, or of its next request's first byte on a kept-alive connection, however it
  trickles in; then the connection is closed (with a 408 if part of a head came).
  Kept-alive connections stay gunicorn's: ``keepalive`` seconds for the next request
  to begin;
* gives a thread's every read from a client ``client_timeout`` seconds (30) and a
  request's body ``max(request_timeout, client_timeout)`` seconds in all: a POST body
  that stops or trickles gets 408 (a TAXII error message) and nothing is stored;
* when the worker holds ``worker_connections`` connections (1000), closes the one idle
  the longest (kept alive, else waiting for a head) to take the next, instead of
  leaving new clients in the listen queue behind idle ones.

Idle and slow clients then cost a socket and a buffer each, not a thread; a client
opening connections faster than they time out can still fill a worker's connections.
A server on the internet belongs behind a buffering reverse proxy (nginx) anyway.

The requests gunicorn refuses before the application sees them (a request line over
its limit, malformed headers) get gunicorn's error page; in this worker's processes
that page is a TAXII error message too, like every other error the server sends.
"""

from __future__ import annotations

import contextlib
import errno
import selectors
import socket
import time
from functools import partial
from typing import Any, ClassVar

import orjson
from gunicorn import http, util
from gunicorn.http.errors import NoMoreData
from gunicorn.sock import ssl_context
from gunicorn.workers.gthread import STOP_KEEPALIVE_LINGER, TConn, ThreadWorker

from taxii_server.cli.heads import HEAD_TIMEOUT, PendingHead, head_limit, read_more

__all__ = ["CLIENT_TIMEOUT", "ClientStalled", "thread_worker", "write_taxii_error"]

#: Seconds a client may leave a worker thread waiting for the next bytes of a request.
CLIENT_TIMEOUT = 30.0

_TAXII = "application/taxii+json;version=2.1"
_QUOTED = 200  # characters of gunicorn's message (it may quote the bad request line)
_AGAIN = (errno.EAGAIN, errno.ECONNABORTED, errno.EWOULDBLOCK)


def _taxii_error(status: int, reason: str, message: str) -> bytes:
    description = message if len(message) <= _QUOTED else f"{message[:_QUOTED]}…"
    body = orjson.dumps({"title": reason, "description": description, "http_status": str(status)})
    head = (
        f"HTTP/1.1 {status} {reason}\r\nConnection: close\r\nContent-Type: {_TAXII}\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode("latin-1") + body


def write_taxii_error(sock: socket.socket, status: int, reason: str, message: str) -> None:
    """gunicorn's ``util.write_error``, writing a TAXII error message (TAXII 2.1 §3.6.1)
    instead of an HTML page."""
    util.write_nonblock(sock, _taxii_error(status, reason, message))


_HEAD_TIMED_OUT = _taxii_error(
    408, "Request timeout", f"the request's headers did not arrive within {HEAD_TIMEOUT:g} s"
)


class ClientStalled(NoMoreData, TimeoutError):  # type: ignore[misc]  # gunicorn ships no types
    """No bytes from the client for ``client_timeout`` seconds, or a body not in by
    its deadline.  A ``NoMoreData`` to gunicorn (a client gone), a ``TimeoutError`` to
    the application (a 408)."""

    def __str__(self) -> str:
        return "the client sent nothing for the client timeout, or too slowly"


class _TimedConn(TConn):  # type: ignore[misc]  # gunicorn ships no types
    """A connection whose reads time out; its socket's limit is set again before
    every read (gunicorn makes the socket blocking, without a limit, each request)."""

    client_timeout: float = CLIENT_TIMEOUT
    body_deadline: float = float("inf")  # time.monotonic() by which the body is in
    stalled = False
    answered = False
    head_read = False  # the event loop read this request's head: give it a thread

    def init(self) -> None:
        super().init()
        self.sock.settimeout(self.client_timeout)
        unreader = getattr(self.parser, "unreader", None)
        if unreader is not None and not getattr(unreader, "timed", False):
            read = unreader.chunk

            def chunk(*args: Any) -> bytes:
                left = self.body_deadline - time.monotonic()
                if left <= 0:
                    self.stalled = True
                    raise ClientStalled()
                self.sock.settimeout(min(self.client_timeout, left))
                try:
                    data: bytes = read(*args)
                except TimeoutError:
                    self.stalled = True
                    raise ClientStalled() from None
                finally:
                    self.sock.settimeout(self.client_timeout)  # answers are written too
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
        self._heads: dict[Any, PendingHead] = {}  # by connection, oldest first
        self._head_limit = head_limit(self.cfg)
        self._tls = ssl_context(self.cfg) if self.cfg.is_ssl else None
        super().init_process()

    # -- connections reach a thread only with a request's head in hand ---------------
    def accept(self, listener: Any) -> None:
        try:
            client, address = listener.accept()
        except OSError as exc:
            if exc.errno not in _AGAIN:
                raise
            return
        self.nr_conns += 1
        conn = _TimedConn(self.cfg, client, address, listener.getsockname())
        conn.client_timeout = self.client_timeout
        head = PendingHead(conn, time.monotonic() + HEAD_TIMEOUT)
        if self._tls is not None:
            conn.sock = self._tls.wrap_socket(
                client,
                server_side=True,
                do_handshake_on_connect=False,
                suppress_ragged_eofs=self.cfg.suppress_ragged_eofs,
            )
            head.handshaking = True
        self._await(head)

    def enqueue_req(self, conn: Any) -> None:
        """Every path to a thread: a head read in the loop goes on; a kept-alive
        connection whose next request began, or that holds bytes read ahead with the
        last one, waits for the rest of its head first."""
        if conn.head_read:
            conn.head_read = False
            super().enqueue_req(conn)
            return
        head = PendingHead(conn, time.monotonic() + HEAD_TIMEOUT)
        head.data += conn.parser.unreader.take_buffered()
        self._await(head)

    def _await(self, head: PendingHead) -> None:
        head.conn.sock.setblocking(False)
        self._heads[head.conn] = head
        # Usually the whole head is there already (a kept-alive connection that became
        # readable): then it goes to a thread without being watched at all.
        if self._on_event(head, watched=False):
            self.poller.register(
                head.conn.sock, selectors.EVENT_READ, partial(self._on_event, head)
            )

    def _on_event(self, head: PendingHead, _fileobj: Any = None, *, watched: bool = True) -> bool:
        """Read what came; return whether the head is still awaited."""
        before = len(head.data)
        read = read_more(head)
        if read is None:
            self._drop(head, watched=watched)  # the client went away
            return False
        if len(head.data) > before and head.complete(self._head_limit, before):
            self._dispatch(head, watched=watched)
            return False
        if head.write_wanted != head.watching_writes:  # TLS turns the direction round
            head.watching_writes = head.write_wanted
            events = selectors.EVENT_WRITE if head.write_wanted else selectors.EVENT_READ
            if watched:
                self.poller.modify(head.conn.sock, events, partial(self._on_event, head))
            else:
                self.poller.register(head.conn.sock, events, partial(self._on_event, head))
                return False  # watched now, for writes
        return True

    def _dispatch(self, head: PendingHead, *, watched: bool = True) -> None:
        conn = head.conn
        self._forget(head, watched=watched)
        if conn.parser is None:
            conn.parser = http.get_parser(self.cfg, conn.sock, conn.client)
        conn.parser.unreader.unread(bytes(head.data))
        conn.data_ready = conn.head_read = True
        self.enqueue_req(conn)

    def _forget(self, head: PendingHead, *, watched: bool = True) -> None:
        del self._heads[head.conn]
        if watched:
            self._unwatch(head.conn)

    def _unwatch(self, conn: Any) -> None:
        with contextlib.suppress(KeyError, ValueError, OSError):  # closed or not watched
            self.poller.unregister(conn.sock)

    def _drop(self, head: PendingHead, *, answer: bool = False, watched: bool = True) -> None:
        """Close a connection whose head did not come; 408 if part of one did."""
        self._forget(head, watched=watched)
        if answer and head.data:
            with contextlib.suppress(OSError):  # a best effort: the socket will not block
                head.conn.sock.send(_HEAD_TIMED_OUT)
        self.nr_conns -= 1
        head.conn.close()

    # -- limits ---------------------------------------------------------------------------
    def murder_pending(self) -> None:
        """Called by the run loop about once a second: also drop heads past their
        deadline (while stopping, after at most a short linger)."""
        super().murder_pending()
        now = time.monotonic()
        cutoff = now if self.alive else now + HEAD_TIMEOUT - STOP_KEEPALIVE_LINGER
        for head in [h for h in self._heads.values() if h.deadline <= cutoff]:
            self._drop(head, answer=True)

    def set_accept_enabled(self, enabled: bool) -> None:
        # At worker_connections, gunicorn stops accepting; rather, close the
        # connection idle the longest and take the next.
        if not enabled and self.alive and self._make_room():
            return
        super().set_accept_enabled(enabled)

    def _make_room(self) -> bool:
        if self.keepalived_conns:
            conn = self.keepalived_conns.popleft()
            self._unwatch(conn)
            self.nr_conns -= 1
            conn.close()
            return True
        if self._heads:
            self._drop(next(iter(self._heads.values())), answer=True)
            return True
        return False

    # -- in a thread -------------------------------------------------------------------------
    def handle(self, conn: Any) -> Any:
        conn.stalled = conn.answered = False
        conn.body_deadline = time.monotonic() + max(self.cfg.timeout, self.client_timeout)
        return super().handle(conn)

    def handle_request(self, req: Any, conn: Any) -> Any:
        conn.answered = True  # the headers are in: whatever happens now, we answer
        return super().handle_request(req, conn)


def thread_worker(client_timeout: float = CLIENT_TIMEOUT) -> type[Any]:
    """A gthread worker class whose client reads time out after ``client_timeout``."""
    return type("TaxiiThreadWorker", (_TimedThreadWorker,), {"client_timeout": client_timeout})
