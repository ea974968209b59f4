"""The map as a picture (``atlas-taxii map --format svg``).

A dependency map reads left to right: actors, the data points that tie them to
services (a wallet both a crew and a desk are tied to), services ordered by rank
(the top choke points first, highlighted and labelled), and, beside each service,
its other data points as one group ("14 data points: 9 domain-name, 5 url") rather
than thousands of dots.  Actors are placed at the mean height of what they depend
on, so most edges run straight across.  Beyond :data:`MAX_SERVICES` services and
:data:`MAX_ACTORS` actors the picture shows the best ranked services and the actors
depending on most of them, and says how many it left out.

A small SVG writer of our own: networkx's layouts need NumPy and SciPy, graphviz a
system package, and a ranked columns picture needs neither.  Every name is
XML-escaped; the full name is in each node's tooltip.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final
from xml.sax.saxutils import escape

import networkx as nx

from .impact import Candidate
from .model import ACTOR, DATA_POINT, SERVICE, EcosystemMap

__all__ = ["MAX_ACTORS", "MAX_SERVICES", "draw_svg"]

MAX_SERVICES: Final = 60
MAX_ACTORS: Final = 150
_ROW: Final = 30
_COLUMNS: Final = (40, 330, 620, 1120)  # actors, shared data points, services, groups
_WIDTHS: Final = (240, 240, 330, 320)  # box width per column
_WIDTH: Final = 1480
_HEIGHT: Final = 22
_TOP: Final = 90
_LABEL: Final = 7.2  # pixels per character of a label, roughly

_STYLE: Final = """
text { font: 12px sans-serif; fill: #1b1b1b; }
.title { font: bold 18px sans-serif; }
.note, .legend { font: 12px sans-serif; fill: #555; }
.head { font: bold 13px sans-serif; fill: #333; }
.actor rect { fill: #e8eef9; stroke: #4a6fa5; }
.service rect { fill: #f2f2f2; stroke: #888; }
.service.top rect { fill: #fde2df; stroke: #c0392b; stroke-width: 2; }
.point rect { fill: #fff8e1; stroke: #c9a227; }
.group rect { fill: #fafafa; stroke: #bbb; stroke-dasharray: 3 2; }
.removed rect { fill: #eee; stroke: #999; stroke-dasharray: 4 3; }
.badge { font: bold 11px sans-serif; fill: #c0392b; }
.declared { font: bold 11px sans-serif; fill: #6c3483; }
path { fill: none; stroke: #9aa7b8; stroke-width: 1.2; opacity: 0.8; }
path.hot { stroke: #c0392b; stroke-width: 1.8; }
"""


@dataclass(slots=True)
class _Node:
    id: str
    css: str
    label: str
    tooltip: str
    column: int
    y: float = 0.0
    badge: str = ""


def _short(text: str, width: int) -> str:
    room = int((width - 16) / _LABEL)
    return text if len(text) <= room else text[: room - 1] + "…"


def _mean(values: Iterable[float], default: float) -> float:
    found = list(values)
    return sum(found) / len(found) if found else default


def _place(nodes: list[_Node], keys: dict[str, float]) -> None:
    """Stack a column's nodes in the order of ``keys``."""
    nodes.sort(key=lambda n: (keys.get(n.id, 0.0), n.label))
    for index, node in enumerate(nodes):
        node.y = _TOP + 40 + index * _ROW


def _box(node: _Node) -> str:
    x, y = _COLUMNS[node.column], node.y
    width, height = _WIDTHS[node.column], _HEIGHT
    badge = (
        f'<text class="badge" x="{x + width + 6}" y="{y + 15}">{escape(node.badge)}</text>'
        if node.badge
        else ""
    )
    return (
        f'<g class="{node.css}"><title>{escape(node.tooltip)}</title>'
        f'<rect x="{x}" y="{y}" width="{width}" height="{height}" rx="5"/>'
        f'<text x="{x + 8}" y="{y + 15}">{escape(_short(node.label, width))}</text>{badge}</g>'
    )


def _edge(a: _Node, b: _Node, hot: bool) -> str:
    height = _HEIGHT
    if a.column == b.column:  # a service running on another: an arc on the right
        x = _COLUMNS[a.column] + _WIDTHS[a.column]
        y1, y2 = a.y + height / 2, b.y + height / 2
        bend = x + 30 + abs(y2 - y1) / 8
        shape = f"M{x},{y1} C{bend},{y1} {bend},{y2} {x},{y2}"
    else:
        left, right = (a, b) if a.column < b.column else (b, a)
        x1, x2 = _COLUMNS[left.column] + _WIDTHS[left.column], _COLUMNS[right.column]
        if right.column == 3:  # a service's own group: start past its badge
            x1 = x2 - 24
        y1, y2 = left.y + height / 2, right.y + height / 2
        middle = (x1 + x2) / 2
        shape = f"M{x1},{y1} C{middle},{y1} {middle},{y2} {x2},{y2}"
    css = ' class="hot"' if hot else ""
    return f'<path{css} d="{shape}"/>'


@dataclass(slots=True)
class _Chosen:
    """What the picture shows: services by rank, the actors depending on them, the data
    points tying the two, and each service's other data points counted by type."""

    services: list[str]
    actors: set[str]
    between: set[str]
    groups: dict[str, Counter[str]]
    hidden_services: int
    hidden_actors: int


def _choose(emap: EcosystemMap, candidates: Sequence[Candidate], top: int) -> _Chosen:
    graph, entities = emap.graph, emap.entities
    ranked = {c.id: c for c in candidates}
    every = [c.id for c in candidates if c.entity.kind == SERVICE]
    services = every[:MAX_SERVICES]
    depends: Counter[str] = Counter()
    between: set[str] = set()
    groups: dict[str, Counter[str]] = defaultdict(Counter)
    for service in services:
        depends.update(a for a in graph.pred[service] if entities[a].kind == ACTOR)
        for point in graph.pred[service]:
            if entities[point].kind != DATA_POINT:
                continue
            owners = [o for o in graph.pred[point] if entities[o].kind == ACTOR]
            found = ranked.get(point)
            if owners or (found is not None and found.impact and found.rank <= top):
                between.add(point)  # on a path from an actor to the service
                depends.update(owners)
            else:
                groups[service][entities[point].types[0]] += 1
    # The actors that depend on the most drawn services, ties by id.
    actors = sorted(depends, key=lambda a: (-depends[a], a))
    return _Chosen(
        services,
        set(actors[:MAX_ACTORS]),
        between,
        groups,
        len(every) - len(services),
        max(len(actors) - MAX_ACTORS, 0),
    )


def _nodes(
    emap: EcosystemMap, candidates: Sequence[Candidate], chosen: _Chosen, top: int, gone: set[str]
) -> dict[str, _Node]:
    entities = emap.entities
    ranked = {c.id: c for c in candidates}
    nodes: dict[str, _Node] = {}
    for service in chosen.services:
        candidate = ranked[service]
        entity = candidate.entity
        css = "service top" if candidate.rank <= top and candidate.impact else "service"
        nodes[service] = _Node(
            service,
            css + (" removed" if service in gone else ""),
            entity.name,
            f"{entity.name}\n{candidate.category}\nmembers: {', '.join(entity.members)}",
            2,
            badge=(f"#{candidate.rank} impact {candidate.impact}" if candidate.impact else "")
            + (" ◆ declared" if entity.declared_by else ""),
        )
    for point in sorted(chosen.between):
        entity = entities[point]
        found = ranked.get(point)
        rank_label = f"#{found.rank} impact {found.impact}: " if found and found.impact else ""
        nodes[point] = _Node(
            point,
            "point" + (" removed" if point in gone else ""),
            rank_label + entity.name,
            f"{entity.types[0]} {entity.name}",
            1,
        )
    for actor in sorted(chosen.actors):
        entity = entities[actor]
        nodes[actor] = _Node(actor, "actor", entity.name, entity.name, 0)
    for service, counts in chosen.groups.items():
        total = sum(counts.values())
        kinds = ", ".join(f"{n} {t}" for t, n in counts.most_common(3))
        nodes[f"group:{service}"] = _Node(
            f"group:{service}",
            "group",
            f"{total} data point{'s' if total > 1 else ''}: {kinds}",
            f"{total} data points of {entities[service].name}: {kinds}",
            3,
        )
    return nodes


def _layout(graph: nx.DiGraph, chosen: _Chosen, nodes: dict[str, _Node]) -> None:
    """Services by rank; data points, then actors, at the mean height of what they
    lead to; each group beside its service."""
    _place(
        [nodes[s] for s in chosen.services], {s: float(i) for i, s in enumerate(chosen.services)}
    )
    height_of = {s: nodes[s].y for s in chosen.services}
    _place(
        [nodes[p] for p in chosen.between],
        {
            p: _mean((height_of[s] for s in graph.succ[p] if s in height_of), 0.0)
            for p in chosen.between
        },
    )
    height_of.update({p: nodes[p].y for p in chosen.between})
    _place(
        [nodes[a] for a in chosen.actors],
        {
            a: _mean((height_of[t] for t in graph.succ[a] if t in height_of), 1e9)
            for a in chosen.actors
        },
    )
    for service in chosen.groups:
        nodes[f"group:{service}"].y = nodes[service].y


def draw_svg(
    emap: EcosystemMap,
    candidates: Sequence[Candidate],
    *,
    top: int = 10,
    removed: Iterable[str] = (),
) -> bytes:
    """The picture described in the module documentation, as SVG bytes (UTF-8)."""
    graph = emap.graph
    chosen = _choose(emap, candidates, top)
    nodes = _nodes(emap, candidates, chosen, top, set(removed))
    _layout(graph, chosen, nodes)
    hot = {c.id for c in candidates[:top] if c.impact}
    edges = [
        _edge(nodes[u], nodes[v], v in hot) for u, v in graph.edges if u in nodes and v in nodes
    ]
    edges += [_edge(nodes[s], nodes[f"group:{s}"], False) for s in chosen.groups]
    height = max((n.y for n in nodes.values()), default=_TOP) + 80
    stats = emap.stats
    note = (
        f"{len(chosen.actors)} actors, {len(chosen.services)} services, "
        f"{len(chosen.between)} data points between; {stats.kept} objects mapped"
        + (
            f"; {chosen.hidden_services} lower-ranked services not drawn"
            if chosen.hidden_services
            else ""
        )
        + (
            f"; {chosen.hidden_actors} actors depending on fewer of them not drawn"
            if chosen.hidden_actors
            else ""
        )
    )
    heads = (
        "Actors",
        "Data points tying actors to services",
        "Services by rank",
        "Their data points",
    )
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_WIDTH}" height="{height:.0f}" '
        f'viewBox="0 0 {_WIDTH} {height:.0f}" font-family="sans-serif">',
        f"<style>{_STYLE}</style>",
        '<rect width="100%" height="100%" fill="white"/>',
        '<text class="title" x="40" y="34">Ecosystem map: choke points</text>',
        f'<text class="note" x="40" y="56">{escape(note)}</text>',
        '<text class="legend" x="40" y="74">red: top choke points (#rank, actors that would '
        "lose a capability); ◆ declared by a package; dashed: removed</text>",
        *(
            f'<text class="head" x="{x}" y="{_TOP + 24}">{head}</text>'
            for x, head in zip(_COLUMNS, heads, strict=True)
        ),
        *edges,
        *(_box(n) for n in nodes.values()),
        "</svg>",
    ]
    return ("\n".join(parts) + "\n").encode("utf-8")
