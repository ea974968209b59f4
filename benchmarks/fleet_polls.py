"""One measure of the ``fleet`` suite: every user of a fleet polls once, each over a
new TCP connection, from several client processes at once.

Each poll is a fresh :class:`http.client.HTTPConnection`: connect, ``GET`` with the
user's ``Authorization`` header, read the whole answer, close.  The users are dealt
out to ``clients`` forked processes (:func:`benchmarks.client.run_clients`), which
start together; each answer is checked (200, and the expected number of objects).

Two ways to send the polls:

* **flat out** (``rate=None``): each client polls again as soon as its last answer is
  in.  Polls per second is then the server's capacity; a poll's latency runs from the
  connect to the last byte, and includes waiting for a core the other clients hold.
* **paced** (``rate`` polls per second in all): polls arrive as a Poisson process, as
  independent SIEMs' polls do (each client at ``rate / clients``, seeded).  A poll's
  latency runs from the moment it was due, not the moment the client got round to it:
  a poll the client could not send on time counts the wait (no coordinated omission).
"""

from __future__ import annotations

import http.client
import random
import time
import urllib.parse
from dataclasses import dataclass, field
from typing import Any

import orjson

from benchmarks.client import TAXII_21, ClientReport, percentile, run_clients
from benchmarks.servers import Target

__all__ = ["FleetResult", "fleet_poll"]

_SHOWN = 3  # wrong answers described per client


@dataclass
class FleetResult:
    """One path (a way of sending credentials) measured on one server."""

    path: str
    latencies: list[float]
    rate: float  # polls per second, first client's start to last one's end
    offered: float | None  # polls per second sent on schedule; None: flat out
    server_cpu_ms: float  # the server's CPU per poll
    problems: list[str] = field(default_factory=list)

    @property
    def p50_ms(self) -> float:
        return percentile(self.latencies, 50) * 1000

    @property
    def p99_ms(self) -> float:
        return percentile(self.latencies, 99) * 1000

    def as_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "polls": len(self.latencies),
            "p50_ms": round(self.p50_ms, 3),
            "p99_ms": round(self.p99_ms, 3),
            "polls_per_s": round(self.rate, 1),
            "offered_per_s": self.offered,
            "server_cpu_ms_per_poll": round(self.server_cpu_ms, 3),
            "problems": self.problems,
        }


def _poll(host: str, port: int, target: str, authorization: str) -> tuple[float, int, bytes]:
    """One poll over a new connection: (seconds, status, body)."""
    connection = http.client.HTTPConnection(host, port, timeout=120)
    started = time.perf_counter()
    try:
        connection.request(
            "GET", target, headers={"Accept": TAXII_21, "Authorization": authorization}
        )
        response = connection.getresponse()
        body = response.read()
    finally:
        connection.close()
    return time.perf_counter() - started, response.status, body


def fleet_poll(
    target: Target,
    path: str,
    authorizations: list[str],
    marker: str,
    expected: int,
    clients: int,
    rate: float | None = None,
    seed: int = 1,
) -> FleetResult:
    """Each of ``authorizations`` (one user's header) polls ``added_after=marker``
    once, flat out or paced at ``rate`` polls per second; ``expected`` objects are
    the right answer."""
    pace = f"at {rate:g} polls/s" if rate else "flat out"
    print(f"{target.name}: {len(authorizations)} polls, {path}, {pace} ...", flush=True)
    query = urllib.parse.urlencode([("added_after", marker)])
    request_target = f"{target.objects_path}?{query}"
    port = target.server.port

    def setup(index: int) -> list[tuple[float, str]]:
        mine = authorizations[index::clients]
        if not rate:
            return [(0.0, authorization) for authorization in mine]
        arrivals, due = random.Random(seed * 1000 + index), 0.0
        schedule = []
        for authorization in mine:
            due += arrivals.expovariate(rate / clients)
            schedule.append((due, authorization))
        return schedule

    def task(mine: list[tuple[float, str]], report: ClientReport) -> None:
        began = time.perf_counter()
        for offset, authorization in mine:
            late = time.perf_counter() - (began + offset)
            if late < 0:
                time.sleep(-late)
                late = 0.0
            seconds, status, body = _poll("127.0.0.1", port, request_target, authorization)
            report.latencies.append(seconds + (late if rate else 0.0))
            count = len(orjson.loads(body).get("objects", ())) if status == 200 else -1
            if count != expected:
                report.wrong += 1
                if report.wrong <= _SHOWN:
                    report.errors.append(f"answer {status} with {count} objects: {body[:160]!r}")

    server_before = target.cpu_seconds()
    reports = run_clients(min(clients, len(authorizations)), setup, task)
    server_cpu = target.cpu_seconds() - server_before
    latencies = [s for r in reports for s in r.latencies]
    seconds = max(r.finished for r in reports) - min(r.started for r in reports)
    problems = [error for r in reports for error in r.errors]
    wrong = sum(r.wrong for r in reports)
    if wrong:
        problems.insert(0, f"{wrong} of {len(latencies)} polls did not return {expected} objects")
    if len(latencies) != len(authorizations):
        problems.append(f"{len(authorizations) - len(latencies)} polls were not made")
    return FleetResult(
        path=path,
        latencies=latencies,
        rate=len(latencies) / max(seconds, 1e-9),
        offered=rate,
        server_cpu_ms=server_cpu / max(len(latencies), 1) * 1000,
        problems=problems,
    )
