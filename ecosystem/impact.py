"""Choke points: what each service, data point or cluster would cost the actors if it
were disrupted, and what a given disruption costs them.

An actor *has* a capability when some service providing it is reachable from the
actor in the dependency graph (directly, through its own data points, through a
data point it shares with the service, through an intrusion set it stands behind, or
through services that run on other services).  A node's **impact** is the number
of actors that would lose a capability if the node were removed: the node lies on
*every* path from the actor to *every* provider of that capability, i.e. it is the
actor's last remaining provider of it through any path.  In graph terms the node
dominates the capability (Lengauer-Tarjan / Cooper et al. dominators, computed by
networkx from each actor, with one sink node per capability fed by its providers).

Ties are broken by betweenness centrality restricted to actor-to-capability paths
(networkx ``betweenness_centrality_subset``): among equal impacts, the node more of
the ecosystem's dependency paths run through ranks first.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

import networkx as nx

from .model import ACTOR, DATA_POINT, SERVICE, EcosystemMap, Entity

__all__ = [
    "Candidate",
    "Disruption",
    "UnknownEntity",
    "actor_capabilities",
    "rank",
    "simulate_removal",
]

Progress = Callable[[str, int, int], None]
_CANDIDATE_KINDS: Final = (SERVICE, DATA_POINT)
_PROGRESS_EVERY: Final = 500


@dataclass(frozen=True, slots=True)
class Candidate:
    """A choke point candidate, ranked (1 = disrupt first)."""

    rank: int
    entity: Entity
    #: Actor entity id -> the capabilities it would lose (sorted).
    losses: Mapping[str, tuple[str, ...]]
    centrality: float

    @property
    def id(self) -> str:
        """The entity's id (one of its members)."""
        return self.entity.id

    @property
    def impact(self) -> int:
        """How many actors would lose a capability."""
        return len(self.losses)

    @property
    def actors(self) -> tuple[str, ...]:
        """The actors that would lose a capability, in id order."""
        return tuple(sorted(self.losses))

    @property
    def declared(self) -> bool:
        """Whether a package already declared it a choke point (a course of action)."""
        return bool(self.entity.declared_by)

    @property
    def category(self) -> str:
        """What it is: a service's capabilities, or a data point's SCO type."""
        if self.entity.kind == SERVICE:
            return ", ".join(sorted(self.entity.capabilities))
        return self.entity.types[0]


def _sink(capability: str) -> tuple[str, str]:
    return ("capability", capability)


def _reach(emap: EcosystemMap, start: str) -> nx.DiGraph:
    """The part of the dependency graph reachable from ``start``, as a graph of its
    own, plus one sink node per capability fed by the services providing it.  (The
    dominator computation reads every predecessor of a node: a sink fed by thousands
    of providers on the whole map would cost that for every actor.)"""
    nodes = nx.descendants(emap.graph, start) | {start}
    local: nx.DiGraph = emap.graph.subgraph(nodes).copy()
    entities = emap.entities
    local.add_edges_from((n, _sink(c)) for n in nodes for c in entities[n].capabilities)
    return local


def _losses(local: nx.DiGraph, actor: str, sinks: list[Any]) -> Iterable[tuple[str, str]]:
    """(node, capability) for every node whose removal costs ``actor`` a capability."""
    dominators = nx.immediate_dominators(local, actor)
    for sink in sinks:
        node = dominators[sink]
        while node != actor:
            yield node, sink[1]
            node = dominators[node]


def rank(emap: EcosystemMap, progress: Progress | None = None) -> list[Candidate]:
    """Every service, data point and cluster of them, by descending impact, then
    centrality, then id (see the module documentation)."""
    actors = [n for n in emap.graph if emap.entities[n].kind == ACTOR]
    lost: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    centrality: dict[str, float] = defaultdict(float)
    for done, actor in enumerate(actors, 1):
        # Both measures are computed on the part of the graph the actor reaches: the
        # paths from an actor never leave it, and networkx's betweenness prepares
        # every node of the graph it is given for each source (quadratic on the
        # whole map).  Betweenness from a set of sources is the sum over them.
        local = _reach(emap, actor)
        sinks = [n for n in local if isinstance(n, tuple)]
        if not sinks:
            continue
        for node, capability in _losses(local, actor, sinks):
            if emap.entities[node].kind in _CANDIDATE_KINDS:
                lost[node][actor].add(capability)
        flow = nx.betweenness_centrality_subset(local, [actor], sinks, normalized=False)
        for node, value in flow.items():
            if value:
                centrality[node] += value
        if progress is not None and (done % _PROGRESS_EVERY == 0 or done == len(actors)):
            progress("rank: impact", done, len(actors))
    entities = [e for e in emap.entities.values() if e.kind in _CANDIDATE_KINDS]
    entities.sort(key=lambda e: (-len(lost.get(e.id, ())), -centrality.get(e.id, 0.0), e.id))
    return [
        Candidate(
            rank=position,
            entity=entity,
            losses={a: tuple(sorted(c)) for a, c in sorted(lost.get(entity.id, {}).items())},
            centrality=centrality.get(entity.id, 0.0),
        )
        for position, entity in enumerate(entities, 1)
    ]


class UnknownEntity(LookupError):
    """``simulate_removal`` was given ids that are in no entity of the map."""

    def __init__(self, ids: Iterable[str]) -> None:
        self.ids = tuple(ids)
        super().__init__(f"not in the map: {', '.join(self.ids)}")


@dataclass(frozen=True, slots=True)
class Disruption:
    """What removing some entities costs: each actor's lost capabilities (a removed
    actor loses all it had), the data points left with no owner, the packages hit."""

    removed: tuple[str, ...]
    losses: Mapping[str, tuple[str, ...]]
    orphaned: tuple[str, ...]
    packages: tuple[str, ...]


def _capabilities(emap: EcosystemMap, graph: nx.DiGraph, actor: str) -> set[str]:
    found: set[str] = set()
    for node in nx.descendants(graph, actor) | {actor}:
        found |= emap.entities[node].capabilities
    return found


def actor_capabilities(emap: EcosystemMap) -> dict[str, set[str]]:
    """Every actor's capabilities (what the services it reaches provide)."""
    return {
        actor.id: _capabilities(emap, emap.graph, actor.id)
        for actor in emap.of_kind(ACTOR)
        if actor.id in emap.graph
    }


def simulate_removal(emap: EcosystemMap, ids: Iterable[str]) -> Disruption:
    """Remove the entities holding ``ids`` (any member's id) and say who loses what."""
    ids = list(ids)
    unknown = [i for i in ids if i not in emap.entity_of]
    if unknown:
        raise UnknownEntity(unknown)
    removed = {emap.entity_of[i] for i in ids}
    after = emap.graph.subgraph(n for n in emap.graph if n not in removed)
    hit = set().union(*(nx.ancestors(emap.graph, r) for r in removed if r in emap.graph))
    losses: dict[str, tuple[str, ...]] = {}
    for actor in sorted(hit | removed):
        if emap.entities[actor].kind != ACTOR:
            continue
        before = _capabilities(emap, emap.graph, actor)
        left = set() if actor in removed else _capabilities(emap, after, actor)
        if before - left:
            losses[actor] = tuple(sorted(before - left))
    orphaned = []
    for entity in emap.of_kind(DATA_POINT):
        if entity.id in removed or entity.id not in emap.graph:
            continue
        owners = {n for n in emap.graph.pred[entity.id] if emap.entities[n].kind == ACTOR} | {
            n for n in emap.graph.succ[entity.id] if emap.entities[n].kind == SERVICE
        }
        if owners and owners <= removed:
            orphaned.append(entity.id)
    touched = removed | set(losses) | set(orphaned)
    packages = sorted({p for e in touched for p in emap.entities[e].packages})
    return Disruption(tuple(sorted(removed)), losses, tuple(orphaned), tuple(packages))
