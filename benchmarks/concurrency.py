"""The read and polling figures again, with several clients at once.

Each client is a forked process with its own keep-alive connection
(:func:`benchmarks.client.run_clients`); all start together after connecting and
making one untimed request.

* **concurrent read**: *C* clients each page from the start of the collection
  (``limit=1000``, following ``next``) through 1/*C* of its pages (at least 10), so
  together they read about as many objects as the collection holds; objects per
  second from the first client's start to the last one's end.  Pages are read
  without parsing every object (:mod:`benchmarks.envelope`, checked on a first page).
* **concurrent polling**: *C* clients each poll ``added_after=<the bulk's newest
  date_added>`` a fixed number of times; requests per second overall, p50 and p99 of
  every request's latency.
"""

from __future__ import annotations

import math

import orjson

from benchmarks import envelope
from benchmarks.client import Client, ClientReport, run_clients
from benchmarks.figures import Budget, Figure, Measure, latency_figures, measured
from benchmarks.measures import PAGE
from benchmarks.servers import Target

__all__ = ["concurrent_polling", "concurrent_read"]


def _summarise(
    measure: Measure, reports: list[ClientReport], budget: Budget, planned: int
) -> tuple[float, list[float], str]:
    """(wall seconds, every latency, a note when the budget stopped them)."""
    for index, report in enumerate(reports):
        for error in report.errors:
            measure.problems.append(f"client {index}: {error}")
    started = min(r.started for r in reports)
    finished = max(r.finished for r in reports)
    latencies = [s for r in reports for s in r.latencies]
    note = ""
    if budget.spent() and len(latencies) < planned:
        note = f"stopped at the {budget.seconds:.0f} s limit after {len(latencies)} requests"
    return max(finished - started, 1e-9), latencies, note


#: Pages each concurrent reader reads at least, so that a small collection or many
#: clients still give each client more than a start and an end to time.
MIN_PAGES = 10


def concurrent_read(target: Target, clients: int, objects: int, budget: Budget) -> Measure:
    """``clients`` readers that together page through ``objects`` objects (each at
    least :data:`MIN_PAGES` pages, or the whole collection when it has fewer)."""
    total = max(1, math.ceil(objects / PAGE))
    pages = min(total, max(math.ceil(total / clients), MIN_PAGES))

    def setup(_index: int) -> Client:
        client = Client(target.base_url, target.headers)
        misread = envelope.check(client.get(target.objects_path, [("limit", "2")]).body)
        if misread:
            raise RuntimeError(misread)
        return client

    def task(client: Client, report: ClientReport) -> None:
        token: str | None = None
        for _ in range(pages):
            params = [("limit", str(PAGE))] + ([("next", token)] if token else [])
            answer = client.get(target.objects_path, params)
            report.latencies.append(answer.seconds)
            if answer.status != 200:
                report.errors.append(f"a page answered {answer.status}")
                return
            page = envelope.summarize(answer.body)
            report.objects += page.objects
            token = page.next
            if not page.more or not token or budget.spent():
                return

    def work(measure: Measure) -> None:
        reports = run_clients(clients, setup, task)
        seconds, _latencies, note = _summarise(measure, reports, budget, clients * pages)
        read = sum(r.objects for r in reports)
        measure.figures.append(
            Figure(
                f"read.c{clients}.rate",
                f"{clients} clients reading",
                read / seconds,
                "objects/s",
                True,
                note,
            )
        )

    return measured(
        target.cpu_seconds,
        f"concurrent read x{clients}",
        f"{clients} clients, each paging from the start through {pages} pages of {PAGE}",
        work,
    )


def concurrent_polling(
    target: Target, clients: int, marker: str, expected: int, polls: int, budget: Budget
) -> Measure:
    """``clients`` pollers, ``polls`` requests each."""
    params = [("added_after", marker)]

    def setup(_index: int) -> Client:
        client = Client(target.base_url, target.headers)
        client.get(target.objects_path, params)
        return client

    def task(client: Client, report: ClientReport) -> None:
        for _ in range(polls):
            answer = client.get(target.objects_path, params)
            report.latencies.append(answer.seconds)
            body = orjson.loads(answer.body) if answer.body else {}
            if answer.status != 200 or len(body.get("objects", ())) != expected:
                report.wrong += 1
            if budget.spent():
                return

    def work(measure: Measure) -> None:
        reports = run_clients(clients, setup, task)
        seconds, latencies, note = _summarise(measure, reports, budget, clients * polls)
        wrong = sum(r.wrong for r in reports)
        if wrong:
            measure.problems.append(f"{wrong} of {len(latencies)} polls did not return {expected}")
        measure.figures.append(
            Figure(
                f"poll.c{clients}.rate",
                f"{clients} clients polling",
                len(latencies) / seconds,
                "requests/s",
                True,
                note,
            )
        )
        measure.figures += latency_figures(
            f"poll.c{clients}", f"{clients} clients polling", latencies, note
        )

    return measured(
        target.cpu_seconds,
        f"concurrent polling x{clients}",
        f"{clients} clients, {polls} polls each (added_after=<newest of the bulk>)",
        work,
    )
