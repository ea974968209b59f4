"""The map as GraphML (``atlas-taxii map --format graphml``), for Gephi, yEd,
Maltego-style tools and ``networkx.read_graphml``.

Nodes are entities (actors, services, data points, victims, courses of action) with
their kind, name, members, capabilities, packages, rank and impact; edges are the
dependencies (``kind="depends-on"``), ``targets`` toward victims and ``declared``
from a course of action to what it is aimed at.  Written by networkx's own GraphML
writer, which escapes every name.
"""

from __future__ import annotations

from collections.abc import Sequence

import networkx as nx

from .impact import Candidate
from .model import EcosystemMap

__all__ = ["graphml_bytes", "map_graph"]


def map_graph(emap: EcosystemMap, candidates: Sequence[Candidate]) -> nx.DiGraph:
    """Every entity and edge of the map as one attributed graph (plain strings and
    numbers only: GraphML has no lists or nulls)."""
    ranked = {c.id: c for c in candidates}
    graph: nx.DiGraph = nx.DiGraph()
    for entity in emap.entities.values():
        candidate = ranked.get(entity.id)
        graph.add_node(
            entity.id,
            kind=entity.kind,
            name=entity.name,
            types=" ".join(entity.types),
            members=" ".join(entity.members),
            capabilities=" ".join(sorted(entity.capabilities)),
            packages=" ".join(emap.packages[p] for p in entity.packages),
            declared=bool(entity.declared_by),
            rank=candidate.rank if candidate else 0,
            impact=candidate.impact if candidate else 0,
            actors=" ".join(candidate.actors) if candidate else "",
        )
    graph.add_edges_from(emap.graph.edges, kind="depends-on")
    graph.add_edges_from(emap.targets, kind="targets")
    for declaration in emap.declarations:
        graph.add_edges_from(((declaration.id, t) for t in declaration.targets), kind="declared")
    return graph


def graphml_bytes(emap: EcosystemMap, candidates: Sequence[Candidate]) -> bytes:
    """The GraphML document, UTF-8."""
    lines = nx.generate_graphml(map_graph(emap, candidates), encoding="utf-8")
    text = '<?xml version="1.0" encoding="utf-8"?>\n' + "\n".join(lines) + "\n"
    return text.encode("utf-8")
