"""Tables and JSON for the ``taxii`` suite.

One table per collection size: atlas-taxii on each store beside the peers, every
figure with its ratio to the better peer (``x12`` = twelve times better, whether the
figure is a rate or a latency), the peers' own collection size in their column
heading, and a footnote for every problem an answer check found.  When a run covers
several sizes or stores, a growth table follows: each atlas-taxii figure from the
smallest to the largest collection.  A CPU table says how much of the machine the
client and the server used during each measure.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from benchmarks.figures import Figure, Measure

__all__ = ["TargetRun", "cpu_table", "growth_table", "render_table", "size_table"]


@dataclass
class TargetRun:
    """Everything measured on one server for one collection size."""

    name: str
    kind: str  # "atlas", "medallion", "opentaxii"
    store: str  # "sqlite", "postgresql", or the peer's own backend
    size: int  # objects the run was given (bulk + news)
    ingest_size: int | None = None  # when a peer's ingest ran on more objects than its reads
    notes: list[str] = field(default_factory=list)
    measures: list[Measure] = field(default_factory=list)
    memory: list[Figure] = field(default_factory=list)
    load: tuple[tuple[float, float, float], tuple[float, float, float]] | None = None
    unavailable: str | None = None

    @property
    def column(self) -> str:
        return self.name if self.kind != "atlas" else f"atlas-taxii {self.store}"

    @property
    def heading(self) -> str:
        """The column heading: the server and the objects it was given."""
        if self.ingest_size is not None and self.ingest_size != self.size:
            return f"{self.column} (ingest {self.ingest_size:,}, reads {self.size:,})"
        return f"{self.column} ({self.size:,})"

    def figures(self) -> dict[str, Figure]:
        found = {f.key: f for m in self.measures for f in m.figures}
        found.update((f.key, f) for f in self.memory)
        return found

    def problems(self) -> list[str]:
        out = [f"{m.name}: {p}" for m in self.measures for p in m.problems]
        return out + ([f"unavailable: {self.unavailable}"] if self.unavailable else [])

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "store": self.store,
            "objects": self.size,
            "ingest_objects": self.ingest_size,
            "notes": self.notes,
            "unavailable": self.unavailable,
            "load_average": {"start": self.load[0], "end": self.load[1]} if self.load else None,
            "measures": [m.as_json() for m in self.measures],
            "memory": [f.as_json() for f in self.memory],
        }


def _format(figure: Figure | None) -> str:
    if figure is None or figure.value is None:
        return "—"
    value = figure.value
    if figure.unit in ("objects/s", "requests/s", "pages"):
        text = f"{value:,.0f}"
    elif figure.unit == "MiB":
        text = f"{value:,.0f} MiB"
    elif figure.unit == "ms":
        text = f"{value:.2f} ms" if value < 100 else f"{value:,.0f} ms"
    else:
        text = f"{value:.2f} {figure.unit}" if value < 100 else f"{value:,.0f} {figure.unit}"
    return text + ("*" if figure.note else "")


def _ratio(ours: Figure | None, peers: Sequence[Figure | None]) -> str:
    values = [p.value for p in peers if p is not None and p.value]
    if ours is None or not ours.value or not values or not ours.compared:
        return "—"
    ratio = ours.value / max(values) if ours.higher_is_better else min(values) / ours.value
    return f"x{ratio:,.0f}" if ratio >= 10 else f"x{ratio:.1f}"


def render_table(headings: list[str], rows: list[list[str]]) -> str:
    """A plain-text table: the first column left-aligned, the others right-aligned."""
    widths = [max(len(r[i]) for r in [headings, *rows]) for i in range(len(headings))]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headings, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    for row in rows:
        cells = [row[0].ljust(widths[0])] + [
            c.rjust(w) for c, w in zip(row[1:], widths[1:], strict=True)
        ]
        lines.append("  ".join(cells))
    return "\n".join(lines)


def _keys(runs: Sequence[TargetRun]) -> list[tuple[str, str]]:
    """(key, label) of every figure, in the order first measured."""
    seen: dict[str, str] = {}
    for run in runs:
        for key, figure in run.figures().items():
            seen.setdefault(key, figure.label)
    return list(seen.items())


def size_table(ours: Sequence[TargetRun], peers: Sequence[TargetRun]) -> str:
    """atlas-taxii (one column per store) beside the peers, with ratios."""
    columns = [*ours, *peers]
    headings = ["figure"]
    headings += [r.heading for r in columns]
    headings += [f"x better peer ({r.store})" for r in ours] if peers else []
    rows = []
    for key, label in _keys(columns):
        row = [label] + [_format(r.figures().get(key)) for r in columns]
        if peers:
            peer_figures = [p.figures().get(key) for p in peers]
            row += [_ratio(r.figures().get(key), peer_figures) for r in ours]
        rows.append(row)
    text = [render_table(headings, rows)]
    marks = []
    for run in columns:
        for figure in run.figures().values():
            if figure.note:
                marks.append(f"  * {run.column}, {figure.label}: {figure.note}")
        marks += [f"  ! {run.column}: {problem}" for problem in run.problems()]
        marks += [f"  - {run.column}: {note}" for note in run.notes]
    return "\n".join(text + sorted(set(marks), key=marks.index))


def growth_table(runs: Sequence[TargetRun]) -> str:
    """Each atlas-taxii figure per store and size."""
    headings = ["figure"] + [f"{r.store} {r.size:,}" for r in runs]
    rows = [[label] + [_format(r.figures().get(key)) for r in runs] for key, label in _keys(runs)]
    return render_table(headings, rows)


def cpu_table(runs: Sequence[TargetRun], cores: int) -> str:
    """Client and server CPU during each measure, as a share of the machine."""
    names = list(dict.fromkeys(m.name for r in runs for m in r.measures))
    headings = ["measure (client / server CPU, wall)"] + [r.heading for r in runs]
    rows = []
    for name in names:
        row = [name]
        for run in runs:
            measure = next((m for m in run.measures if m.name == name), None)
            if measure is None:
                row.append("—")
                continue
            client, server = measure.cpu_shares(cores)
            row.append(f"{client:4.0%} / {server:4.0%}  {measure.wall_s:6.1f} s")
        rows.append(row)
    return render_table(headings, rows)
