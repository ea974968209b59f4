"""Measured figures and the accounting around them: what was measured, how, and what
it cost the client and the server.

A :class:`Figure` is one number with its unit and direction (higher or lower is
better), so the report can put it beside the peers' and compute the ratio.  A
:class:`Measure` is one measurement (e.g. "polling") with the figures it produced,
its wall time, and the CPU seconds the client (this process and its forked clients)
and the server (master and workers) used meanwhile: on a 2-core machine the client's
share tells whether it, rather than the server, limited a figure.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from benchmarks.client import percentile

__all__ = ["Budget", "Figure", "Measure", "latency_figures", "measured"]


@dataclass(frozen=True, slots=True)
class Figure:
    """One measured number.  ``key`` identifies it across servers and sizes;
    ``compared``: whether a ratio to the peers means anything (a rate or a latency
    does; the seconds or pages of reading collections of different sizes do not)."""

    key: str
    label: str
    value: float | None
    unit: str
    higher_is_better: bool
    note: str = ""
    compared: bool = True

    def as_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "label": self.label,
            "value": self.value,
            "unit": self.unit,
            "higher_is_better": self.higher_is_better,
            "note": self.note,
            "compared": self.compared,
        }


@dataclass(slots=True)
class Measure:
    """One measurement: its figures, how it was made, and what it cost."""

    name: str
    method: str
    figures: list[Figure] = field(default_factory=list)
    wall_s: float = 0.0
    client_cpu_s: float = 0.0
    server_cpu_s: float = 0.0
    problems: list[str] = field(default_factory=list)

    def cpu_shares(self, cores: int) -> tuple[float, float]:
        """(client, server) CPU use as a fraction of the machine during the measure."""
        capacity = max(self.wall_s, 1e-9) * cores
        return self.client_cpu_s / capacity, self.server_cpu_s / capacity

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "method": self.method,
            "wall_s": round(self.wall_s, 3),
            "client_cpu_s": round(self.client_cpu_s, 3),
            "server_cpu_s": round(self.server_cpu_s, 3),
            "problems": self.problems,
            "figures": [f.as_json() for f in self.figures],
        }


def _client_cpu() -> float:
    # This process and every forked client it has waited for.
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def measured(
    server_cpu: Callable[[], float], name: str, method: str, work: Callable[[Measure], None]
) -> Measure:
    """Run ``work(measure)``, which adds figures and problems, and account for it;
    ``server_cpu()`` reads the CPU seconds the server has used so far."""
    measure = Measure(name, method)
    server_before, client_before = server_cpu(), _client_cpu()
    started = time.perf_counter()
    work(measure)
    measure.wall_s = time.perf_counter() - started
    measure.client_cpu_s = _client_cpu() - client_before
    measure.server_cpu_s = server_cpu() - server_before
    return measure


class Budget:
    """How long a measure may run: ``None`` is unlimited (atlas-taxii), a number of
    seconds bounds a peer that cannot finish in reasonable time (it is then reported
    as stopped, with how much it did)."""

    def __init__(self, seconds: float | None) -> None:
        self.seconds = seconds
        self.deadline = None if seconds is None else time.perf_counter() + seconds

    def spent(self) -> bool:
        """Whether the time is up."""
        return self.deadline is not None and time.perf_counter() > self.deadline


def latency_figures(key: str, label: str, samples: Sequence[float], note: str = "") -> list[Figure]:
    """p50 and p99 (milliseconds) of request latencies in seconds."""
    return [
        Figure(f"{key}.p50", f"{label} p50", _ms(percentile(samples, 50)), "ms", False, note),
        Figure(f"{key}.p99", f"{label} p99", _ms(percentile(samples, 99)), "ms", False, note),
    ]


def _ms(seconds: float) -> float | None:
    return None if seconds != seconds else round(seconds * 1000, 3)  # NaN: no samples
