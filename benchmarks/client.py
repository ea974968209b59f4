"""The benchmark's HTTP client: one keep-alive connection per client, timed requests,
and concurrent clients as separate processes.

``http.client`` over a persistent connection costs the client some 50–100 µs per
request, well below any server's cost per request here, and it leaves the response
body as bytes (parsing it is the caller's choice and the caller's CPU).  Concurrent
clients run as forked processes, not threads, so the client is not limited to one
core by the GIL; each reports the CPU it used, and the suite prints the client's share
of the machine beside every concurrent figure.
"""

from __future__ import annotations

import http.client
import math
import multiprocessing
import os
import time
import urllib.parse
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

__all__ = [
    "Client",
    "ClientReport",
    "Response",
    "percentile",
    "run_clients",
]

TAXII_21 = "application/taxii+json;version=2.1"
# Errors of a kept-alive connection the server closed meanwhile (gunicorn closes idle
# connections after its keep-alive timeout; sync workers close after every response).
_STALE = (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError)


@dataclass(frozen=True, slots=True)
class Response:
    """A response, read whole: status, headers (lower-case names), body, and seconds
    from sending the request to the last byte of the body."""

    status: int
    headers: Mapping[str, str]
    body: bytes
    seconds: float


class Client:
    """One persistent HTTP connection to a server, with fixed headers (auth, Accept)."""

    def __init__(self, base_url: str, headers: Mapping[str, str], timeout: float = 900) -> None:
        parts = urllib.parse.urlsplit(base_url)
        self._host = parts.hostname or "127.0.0.1"
        self._port = parts.port or 80
        self._timeout = timeout
        self._headers = {"Accept": TAXII_21, **headers}
        self._connection = http.client.HTTPConnection(self._host, self._port, timeout=timeout)

    def close(self) -> None:
        """Close the connection."""
        self._connection.close()

    def get(self, path: str, params: Sequence[tuple[str, str]] = ()) -> Response:
        """``GET path?params``."""
        target = f"{path}?{urllib.parse.urlencode(params)}" if params else path
        return self._send("GET", target, None, {})

    def post(self, path: str, body: bytes) -> Response:
        """``POST`` a TAXII envelope."""
        return self._send("POST", path, body, {"Content-Type": TAXII_21})

    def _send(
        self, method: str, target: str, body: bytes | None, extra: Mapping[str, str]
    ) -> Response:
        headers = {**self._headers, **extra}
        for attempt in (1, 2):
            started = time.perf_counter()
            try:
                self._connection.request(method, target, body=body, headers=headers)
                response = self._connection.getresponse()
                data = response.read()
            except _STALE:
                # A reused connection the server had closed: reconnect once.  A fresh
                # connection failing is a real error.
                self._connection.close()
                if attempt == 2:
                    raise
                continue
            seconds = time.perf_counter() - started
            if response.will_close:
                self._connection.close()
            return Response(
                response.status,
                {name.lower(): value for name, value in response.getheaders()},
                data,
                seconds,
            )
        raise AssertionError("unreachable: the second attempt returns or raises")


def percentile(samples: Sequence[float], p: float) -> float:
    """The ``p``-th percentile by nearest rank (p99 of 500 samples is the 495th)."""
    if not samples:
        return math.nan
    ordered = sorted(samples)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


@dataclass(slots=True)
class ClientReport:
    """What one client process did: request latencies (s), objects received, answers
    that failed their check, errors, its own CPU seconds, and when it started and
    finished (``perf_counter``, the same monotonic clock in every process)."""

    latencies: list[float] = field(default_factory=list)
    objects: int = 0
    wrong: int = 0
    errors: list[str] = field(default_factory=list)
    cpu_seconds: float = 0.0
    started: float = 0.0
    finished: float = 0.0


S = TypeVar("S")


def _child(
    index: int,
    setup: Callable[[int], S],
    task: Callable[[S, ClientReport], None],
    barrier: Any,
    results: Any,
) -> None:
    report = ClientReport()
    before = os.times()
    try:
        state = setup(index)  # connect and warm up, untimed
        barrier.wait(timeout=300)
        before = os.times()
        report.started = time.perf_counter()
        task(state, report)
    except Exception as exc:  # reported to the parent, which prints it
        report.errors.append(f"{type(exc).__name__}: {exc}")
    finally:
        report.finished = time.perf_counter()
        after = os.times()
        report.cpu_seconds = (after.user - before.user) + (after.system - before.system)
        results.put((index, report))


def run_clients(
    count: int, setup: Callable[[int], S], task: Callable[[S, ClientReport], None]
) -> list[ClientReport]:
    """Run ``count`` forked client processes: each calls ``setup(index)`` (untimed:
    open a connection, warm it up), waits for the others, then ``task(state, report)``;
    return their reports in index order.

    A connection must not cross ``fork``: ``setup`` opens each client's own.
    """
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(count)
    results = context.Queue()
    processes = [
        context.Process(target=_child, args=(i, setup, task, barrier, results), daemon=True)
        for i in range(count)
    ]
    for process in processes:
        process.start()
    reports: dict[int, ClientReport] = {}
    for _ in range(count):
        index, report = results.get()
        reports[index] = report
    for process in processes:
        process.join()
    return [reports[i] for i in range(count)]
