"""The floor under the ``fleet`` suite's latencies: a minimal HTTP server, polled the
same way.

    python -m benchmarks.fleet_floor PORT OBJECTS     # serves until SIGTERM

It has the shape of gunicorn's gthread worker and nothing else: one thread accepts
connections and hands each to a pool of 4 threads, which reads the request's head and
answers with bytes made at start (an envelope of ``OBJECTS`` small objects, so the
``fleet`` client's check of the answer holds), then closes.  No HTTP parsing, no
credentials, no store, no logging.  Polled flat out and paced like the servers under
test, it shows what the machine itself charges for a new connection and for waking
threads that were idle: a paced poll's p50 above this row's is the server's own cost.
"""

from __future__ import annotations

import signal
import socket
import sys
from concurrent.futures import ThreadPoolExecutor
from types import FrameType

import orjson

__all__ = ["answer", "serve"]

_HEAD_END = b"\r\n\r\n"


def answer(objects: int) -> bytes:
    """A whole HTTP response: an envelope of ``objects`` objects, then the connection closes."""
    body = orjson.dumps(
        {
            "more": False,
            "objects": [
                {"type": "indicator", "id": f"indicator--{i:08d}-0000-4000-8000-000000000000"}
                for i in range(objects)
            ],
        }
    )
    head = (
        "HTTP/1.1 200 OK\r\nContent-Type: application/taxii+json;version=2.1\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    )
    return head.encode("ascii") + body


def _handle(connection: socket.socket, reply: bytes) -> None:
    with connection:
        received = b""
        while _HEAD_END not in received:
            chunk = connection.recv(65536)
            if not chunk:
                return
            received += chunk
        connection.sendall(reply)


def serve(port: int, objects: int) -> None:
    """Answer every request on ``127.0.0.1:port`` until SIGTERM."""
    reply = answer(objects)

    def stop(_signal: int, _frame: FrameType | None) -> None:
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    listener.bind(("127.0.0.1", port))
    listener.listen(1024)
    with ThreadPoolExecutor(4) as pool, listener:
        while True:
            connection, _ = listener.accept()
            pool.submit(_handle, connection, reply)


if __name__ == "__main__":
    serve(int(sys.argv[1]), int(sys.argv[2]))
