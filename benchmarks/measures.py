"""The figures of the ``taxii`` suite, each measured the same way on every server.

Every request goes over real HTTP through :class:`benchmarks.client.Client` (one
keep-alive connection), and every answer is checked: a page that is not a 200, a read
that returns the wrong number of objects, a status that is not complete are recorded
as problems and shown beside the figure, so a fast wrong answer never passes as fast.

* **ingest**: POST the bulk load as envelopes, one after the other, each followed
  until its status is complete (polling the status resource while it is pending);
  objects per second over the whole load.
* **full read**: page through the collection following ``next``, with ``limit=1000``
  and with no ``limit`` (the server's default page); objects per second and seconds.
  Pages are read without parsing every object (:mod:`benchmarks.envelope`; the first
  is checked against a full parse), so the client's JSON parsing is not what limits it.
* **polling**: ``GET objects/?added_after=<the bulk's newest date_added>`` repeated,
  each answering the few objects posted after the bulk (the SIEM pattern); requests
  per second, p50 and p99 latency.
* **lookups**: ``objects/?match[id]=<id>`` and ``objects/<id>/versions/`` for seeded
  ids, half of them objects with several versions; p50 and p99.
* **memory**: the resident memory of the server's workers.
"""

from __future__ import annotations

import time
from typing import Any

import orjson

from benchmarks import envelope
from benchmarks.client import Client, Response
from benchmarks.figures import Budget, Figure, Measure, latency_figures, measured
from benchmarks.servers import Target
from benchmarks.workload import Probe, Workload

__all__ = [
    "PAGE",
    "full_read",
    "ingest",
    "lookups",
    "memory",
    "poll_marker",
    "polling",
    "post_news",
]

PAGE = 1000
_STATUS_WAIT = 0.05


def _json(response: Response) -> Any:
    return orjson.loads(response.body) if response.body else {}


def _client(target: Target) -> Client:
    return Client(target.base_url, target.headers)


def _stopped(budget: Budget, done: str) -> str:
    return f"stopped at the {budget.seconds:.0f} s limit after {done}"


def _complete(client: Client, target: Target, posted: Response, budget: Budget) -> dict[str, Any]:
    """The status a POST answered, followed until it is complete."""
    if posted.status != 202:
        raise RuntimeError(f"POST answered {posted.status}: {posted.body[:300]!r}")
    status: dict[str, Any] = _json(posted)
    while status.get("status") != "complete" and not budget.spent():
        answer = client.get(target.status_path(status["id"]))
        if answer.status != 200:
            raise RuntimeError(f"status answered {answer.status}: {answer.body[:300]!r}")
        status = _json(answer)
        if status.get("status") != "complete":
            time.sleep(_STATUS_WAIT)
    return status


def ingest(target: Target, workload: Workload, envelope: int, budget: Budget) -> Measure:
    """POST the bulk load in envelopes of ``envelope`` objects until every status is
    complete."""

    def work(measure: Measure) -> None:
        client = _client(target)
        client.get("/taxii2/")  # connect (untimed)
        stored = failed = posted = 0
        envelopes = workload.envelopes(envelope)
        started = time.perf_counter()
        for body in envelopes:
            status = _complete(client, target, client.post(target.objects_path, body), budget)
            stored += int(status.get("success_count", 0))
            failed += int(status.get("failure_count", 0))
            posted += int(status.get("total_count", 0))
            if status.get("status") != "complete" or budget.spent():
                break
        seconds = time.perf_counter() - started
        client.close()
        note = ""
        if posted < workload.bulk_size:
            note = _stopped(budget, f"{posted:,} objects")
        if failed:
            measure.problems.append(f"{failed:,} objects refused")
        target.objects_loaded, target.objects_posted = stored, posted
        measure.figures += [
            Figure("ingest.rate", "ingest", posted / seconds, "objects/s", True, note),
            Figure("ingest.seconds", "ingest time", seconds, "s", False, note, compared=False),
        ]

    return measured(
        target.cpu_seconds,
        "ingest",
        f"POST {workload.bulk_size:,} objects in envelopes of {envelope:,}, one at a time, "
        "each until its status is complete",
        work,
    )


def full_read(target: Target, expected: int, limit: int | None, budget: Budget) -> Measure:
    """Page through the whole collection following ``next``."""
    name = f"limit={limit}" if limit else "server default"
    key = f"read.{'limit' if limit else 'default'}"

    def work(measure: Measure) -> None:
        client = _client(target)
        client.get("/taxii2/")
        base = [("limit", str(limit))] if limit else []
        token: str | None = None
        objects = pages = 0
        read = envelope.summarize
        started = time.perf_counter()
        while True:
            answer = client.get(target.objects_path, base + ([("next", token)] if token else []))
            if answer.status != 200:
                measure.problems.append(f"page {pages + 1} answered {answer.status}")
                break
            if pages == 0 and (misread := envelope.check(answer.body)):
                measure.problems.append(misread)
                read = envelope.parse
            page = read(answer.body)
            objects += page.objects
            pages += 1
            if not page.more:
                break
            token = page.next
            if not token:
                measure.problems.append("more=true without next: a client cannot go on")
                break
            if budget.spent():
                break
        seconds = time.perf_counter() - started
        client.close()
        note = _stopped(budget, f"{objects:,} objects") if budget.spent() else ""
        if not note and objects != expected:
            measure.problems.append(f"read {objects:,} objects, expected {expected:,}")
        measure.figures += [
            Figure(f"{key}.rate", f"full read, {name}", objects / seconds, "objects/s", True, note),
            Figure(f"{key}.seconds", f"full read, {name}, time", seconds, "s", False, note, False),
            Figure(f"{key}.pages", f"full read, {name}, pages", pages, "pages", False, note, False),
        ]

    return measured(
        target.cpu_seconds,
        f"full read ({name})",
        f"GET objects/ {'with limit=' + str(limit) if limit else 'without limit'}, "
        f"following next to the end; {expected:,} objects expected",
        work,
    )


def poll_marker(target: Target, workload: Workload) -> str:
    """The newest ``date_added`` of the bulk, as the server reports it.

    The bulk's last object was posted in its last envelope, but a server may stamp an
    envelope's objects in another order (atlas-taxii: least restricted TLP first), so
    the marker is the ``X-TAXII-Date-Added-Last`` of what came after that object (the
    lower bound itself when nothing did; an envelope holds at most 1,000 objects)."""
    client = _client(target)
    try:
        answer = client.get(target.manifest_path, [("match[id]", workload.last_bulk_id())])
        entries = _json(answer).get("objects", []) if answer.status == 200 else []
        if not entries:
            raise RuntimeError(f"the manifest has no entry for {workload.last_bulk_id()}")
        last = str(entries[-1]["date_added"])
        after = client.get(target.manifest_path, [("added_after", last), ("limit", "1000")])
    finally:
        client.close()
    marker = after.headers.get("x-taxii-date-added-last") if after.status == 200 else None
    more = after.status == 200 and bool(_json(after).get("more"))
    return last if marker is None or more else marker


def post_news(target: Target, workload: Workload) -> None:
    """POST the objects kept back from the bulk (untimed)."""
    client = _client(target)
    try:
        status = _complete(client, target, client.post(target.objects_path, workload.news()),
                           Budget(60))  # fmt: skip
    finally:
        client.close()
    if status.get("failure_count"):
        raise RuntimeError(f"the news were refused: {status}")


def polling(target: Target, marker: str, expected: int, polls: int, budget: Budget) -> Measure:
    """``polls`` polls with ``added_after=marker``, one after the other."""

    def work(measure: Measure) -> None:
        client = _client(target)
        params = [("added_after", marker)]
        client.get(target.objects_path, params)  # warm: connection, auth cache
        samples: list[float] = []
        wrong = 0
        started = time.perf_counter()
        for _ in range(polls):
            answer = client.get(target.objects_path, params)
            samples.append(answer.seconds)
            if answer.status != 200 or len(_json(answer).get("objects", ())) != expected:
                wrong += 1
            if budget.spent():
                break
        seconds = time.perf_counter() - started
        client.close()
        note = _stopped(budget, f"{len(samples)} polls") if len(samples) < polls else ""
        if wrong:
            measure.problems.append(f"{wrong} of {len(samples)} polls did not return {expected}")
        measure.figures.append(
            Figure("poll.rate", "polling", len(samples) / seconds, "requests/s", True, note)
        )
        measure.figures += latency_figures("poll", "polling", samples, note)

    return measured(
        target.cpu_seconds,
        "polling",
        f"{polls} x GET objects/?added_after=<newest date_added of the bulk>, one client; "
        f"each returns the {expected} objects posted after the bulk",
        work,
    )


def lookups(target: Target, probes: list[Probe], budget: Budget) -> Measure:
    """``match[id]`` and ``versions`` for each probe."""

    def work(measure: Measure) -> None:
        client = _client(target)
        client.get("/taxii2/")
        by_id: list[float] = []
        versions: list[float] = []
        wrong_id = wrong_versions = 0
        for probe in probes:
            answer = client.get(target.objects_path, [("match[id]", probe.id)])
            by_id.append(answer.seconds)
            if answer.status != 200 or len(_json(answer).get("objects", ())) != 1:
                wrong_id += 1
            answer = client.get(target.versions_path(probe.id))
            versions.append(answer.seconds)
            if answer.status != 200 or len(_json(answer).get("versions", ())) != probe.versions:
                wrong_versions += 1
            if budget.spent():
                break
        client.close()
        note = _stopped(budget, f"{len(by_id)} ids") if len(by_id) < len(probes) else ""
        if wrong_id:
            measure.problems.append(f"match[id]: {wrong_id} of {len(by_id)} answers wrong")
        if wrong_versions:
            measure.problems.append(f"versions: {wrong_versions} of {len(versions)} answers wrong")
        measure.figures += latency_figures("lookup.id", "match[id]", by_id, note)
        measure.figures += latency_figures("lookup.versions", "versions", versions, note)

    return measured(
        target.cpu_seconds,
        "lookups",
        f"GET objects/?match[id]=<id> and objects/<id>/versions/ for {len(probes)} seeded ids, "
        "half of them with several versions",
        work,
    )


def memory(target: Target, key: str, label: str) -> Figure:
    """The resident memory of the server's workers now (MiB)."""
    workers, _master = target.server.tree.rss()
    return Figure(f"rss.{key}", f"RSS of workers, {label}", workers / 2**20, "MiB", False)
