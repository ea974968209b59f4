"""The ecosystem map as plain data: entities, the dependency graph between them, the
clusters that merged them and why.

An *entity* is one thing of the ecosystem, whatever the number of STIX objects that
describe it: an actor (threat actors, intrusion sets, campaigns), a service
(infrastructure, tools, malware), a data point (an SCO with the indicators based on
it), a victim (an identity or location someone ``targets``) or a course of action.
Its ``members`` are those objects' ids; its ``id`` is one of them (the smallest, so
it is stable).

The graph's edges point from what depends to what it depends on: an actor to the
services it uses or owns and to its own data points, a data point to the services
it belongs to, a service to the services it runs on, the actor behind an intrusion
set or campaign to it.  Victims and courses of action are kept beside the graph.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final, Literal

import networkx as nx

__all__ = [
    "ACTOR",
    "DATA_POINT",
    "SERVICE",
    "Cluster",
    "Declaration",
    "EcosystemMap",
    "Entity",
    "Evidence",
    "Kind",
    "MapStats",
]

Kind = Literal["actor", "service", "data-point", "victim", "course-of-action"]
ACTOR: Final = "actor"
SERVICE: Final = "service"
DATA_POINT: Final = "data-point"


@dataclass(frozen=True, slots=True)
class Entity:
    """One thing of the ecosystem and the STIX objects merged into it."""

    id: str
    kind: Kind
    name: str
    members: tuple[str, ...]
    #: STIX types of the members (a data point: its SCO type first).
    types: tuple[str, ...]
    #: What a service provides (:mod:`ecosystem.capabilities`); empty for others.
    capabilities: frozenset[str] = frozenset()
    #: Ids of the reports (packages) that hold a member.
    packages: tuple[str, ...] = ()
    #: Ids of the courses of action aimed at a member (declared choke points).
    declared_by: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Evidence:
    """Why members were merged: ``reason`` is ``same_as``, ``duplicate-of`` or the
    type of a shared strongly identifying data point (``cryptocurrency-wallet`` …);
    ``via`` the id of the object that says so (the data point, the relationship, or
    the object carrying ``same_as``); ``value`` what an analyst reads (the wallet
    address, the other id); ``members`` the ids it ties together."""

    reason: str
    via: str
    value: str
    members: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Cluster:
    """An entity merged from several objects, with every piece of evidence."""

    entity: str
    members: tuple[str, ...]
    #: The name of each member, in the order of ``members``.
    names: tuple[str, ...]
    evidence: tuple[Evidence, ...]

    def name_of(self, member: str) -> str:
        """The name of one member (its id when it has none)."""
        return self.names[self.members.index(member)] or member


@dataclass(frozen=True, slots=True)
class Declaration:
    """A course of action (a declared choke point) and the entities it is aimed at."""

    id: str
    name: str
    targets: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class MapStats:
    """What was read: objects seen, left out above the clearance, revoked, kept."""

    objects: int
    above_clearance: int
    revoked: int
    kept: int


@dataclass(frozen=True, slots=True)
class EcosystemMap:
    """Everything the analysis and the drawings need (see the module documentation)."""

    graph: nx.DiGraph  # nodes: entity ids of actors, services and data points
    entities: Mapping[str, Entity]
    #: Entity id of every member id.
    entity_of: Mapping[str, str]
    clusters: tuple[Cluster, ...]
    #: (actor or service entity, victim entity) for each ``targets`` relationship.
    targets: tuple[tuple[str, str], ...]
    declarations: tuple[Declaration, ...]
    #: Report id -> report name: the packages (or other producers' reports) read.
    packages: Mapping[str, str]
    stats: MapStats

    def of_kind(self, kind: Kind) -> list[Entity]:
        """Entities of one kind, in id order."""
        return sorted((e for e in self.entities.values() if e.kind == kind), key=lambda e: e.id)
