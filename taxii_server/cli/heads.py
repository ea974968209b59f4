"""A request's head, read in a gthread worker's event loop before a thread is given.

gunicorn's gthread worker hands a new connection to one of its threads at once; the
thread then waits up to five seconds for the first bytes and, after that, as long as
the client keeps sending something.  48 idle sockets stopped a default two-worker
server (8 threads) for 25 to 75 s; a client sending one byte of its headers every few
seconds held a thread for as long as it liked.

Here the worker's main loop, which already watches every kept-alive connection with
a selector, also reads the heads of requests, without blocking, into a buffer per
connection: a thread is given only once the blank line that ends the headers has
arrived.  A head has :data:`HEAD_TIMEOUT` seconds to arrive, counted from when the
connection was accepted (or, on a kept-alive connection, from its next request's first
byte), however it trickles in; then the connection is closed, with a 408 if part of a
head came.  On an HTTPS connection the TLS handshake is done in the loop too.

:class:`PendingHead` is one connection's state; the worker (:mod:`.workers`) owns
the selector and decides what happens on each event.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass, field
from typing import Any

__all__ = ["HEAD_TIMEOUT", "PendingHead", "head_limit", "read_more"]

#: Seconds a client has to send a whole request head.
HEAD_TIMEOUT = 10.0
_END = b"\r\n\r\n"
_RECV = 65536


@dataclass(eq=False, slots=True)
class PendingHead:
    """One connection whose request head is still arriving."""

    conn: Any  # gunicorn's TConn (untyped)
    deadline: float  # time.monotonic() by which the head must be complete
    data: bytearray = field(default_factory=bytearray)
    handshaking: bool = False  # TLS: the handshake comes first
    write_wanted: bool = False  # TLS may need the socket writable to go on
    watching_writes: bool = False  # what the selector watches for now

    def complete(self, limit: int, before: int) -> bool:
        """Whether the head has ended, or grown past ``limit`` bytes (then gunicorn's
        parser refuses it in a thread: 414, 431 or 400, as it always has).
        ``before`` is how many bytes were already searched."""
        return self.data.find(_END, max(0, before - 3)) >= 0 or len(self.data) > limit


def head_limit(cfg: Any) -> int:
    """The longest head gunicorn's configuration accepts: request line and headers."""
    fields = cfg.limit_request_fields * (cfg.limit_request_field_size + 2)
    return int(cfg.limit_request_line + 2 + fields + 2)


def read_more(head: PendingHead) -> bool | None:
    """Advance the handshake and read what has arrived, without blocking.

    Returns ``None`` when the client closed the connection (or broke TLS), else
    whether anything was read; ``head.write_wanted`` says which readiness to wait for
    next.
    """
    sock = head.conn.sock
    head.write_wanted = False
    try:
        if head.handshaking:
            sock.do_handshake()
            head.handshaking = False
        read = False
        while True:
            chunk = sock.recv(_RECV)
            if not chunk:
                return None
            head.data += chunk
            read = True
            if not isinstance(sock, ssl.SSLSocket) or not sock.pending():
                return read
    except ssl.SSLWantReadError:
        return False
    except ssl.SSLWantWriteError:
        head.write_wanted = True
        return False
    except (BlockingIOError, InterruptedError):
        return False
    except (OSError, ssl.SSLError):
        return None
