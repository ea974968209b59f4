"""The ecosystem map (:mod:`ecosystem`) as elements cytoscape.js draws.

Nodes are the map's entities (actors, services, data points), sized by their impact
as choke points; edges its dependencies.  Each node carries the facts its detail
panel shows, as text: the page's script sets them with ``textContent``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ecosystem import Candidate, EcosystemMap

__all__ = ["MAX_NODES", "Drawing", "drawing"]

#: Nodes drawn at most; beyond, those with the most connections (all are ranked).
MAX_NODES = 1500
#: Choke-point candidates highlighted and listed.
TOP_CANDIDATES = 15
#: Beyond this many nodes, data points are drawn without a label (click for it).
_LABELLED_DATA_POINTS = 60


@dataclass(frozen=True, slots=True)
class Drawing:
    """The elements to draw, the candidates to list, and what was left out."""

    elements: list[dict[str, Any]]
    candidates: list[Candidate]
    nodes: int
    omitted: int

    def json(self) -> dict[str, Any]:
        return {"elements": self.elements}


def _short(name: str) -> str:
    return name if len(name) <= 28 else name[:26] + "…"


def drawing(
    emap: EcosystemMap,
    candidates: list[Candidate],
    href: Callable[[str], str] | None = None,
) -> Drawing:
    """Elements for the map ``emap`` with ``candidates`` (from :func:`ecosystem.rank`)
    highlighted; ``href`` gives the page of an object id, when there is one."""
    graph = emap.graph
    top = [c for c in candidates if c.impact > 0][:TOP_CANDIDATES]
    ranked: Mapping[str, Candidate] = {c.id: c for c in top}
    nodes = [n for n in graph.nodes if isinstance(n, str) and n in emap.entities]
    omitted = 0
    if len(nodes) > MAX_NODES:
        nodes.sort(key=lambda n: (n not in ranked, -graph.degree(n), n))
        omitted = len(nodes) - MAX_NODES
        nodes = nodes[:MAX_NODES]
    kept = set(nodes)
    quiet = len(nodes) > _LABELLED_DATA_POINTS
    elements: list[dict[str, Any]] = []
    for node in nodes:
        entity = emap.entities[node]
        candidate = ranked.get(node)
        facts = [
            ("Kind", entity.kind),
            ("Types", ", ".join(entity.types)),
            ("Objects", str(len(entity.members))),
        ]
        if entity.capabilities:
            facts.append(("Provides", ", ".join(sorted(entity.capabilities))))
        if candidate is not None:
            facts.append(("Choke-point rank", str(candidate.rank)))
            facts.append(("Actors that would lose a capability", str(candidate.impact)))
        if entity.declared_by:
            facts.append(("Declared choke point", "yes"))
        data: dict[str, Any] = {
            "id": node,
            "label": entity.name or node,
            "short": ""
            if quiet and entity.kind == "data-point" and candidate is None
            else _short(entity.name or node),
            "kind": entity.kind,
            "size": min(10, candidate.impact * 2 + 2) if candidate is not None else 1,
            "facts": facts,
            "choke": candidate is not None,
        }
        if href is not None:
            data["href"] = href(node)
        element: dict[str, Any] = {"group": "nodes", "data": data}
        if candidate is not None:
            element["classes"] = "choke"
        elements.append(element)
    for number, (source, target) in enumerate(graph.edges):
        if source in kept and target in kept:
            elements.append(
                {"group": "edges", "data": {"id": f"e{number}", "source": source, "target": target}}
            )
    return Drawing(elements, top, len(nodes), omitted)
