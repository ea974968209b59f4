"""``build_map(objects) -> EcosystemMap``: STIX 2.1 objects from any producer in, the
ecosystem's entities and dependency graph out.

Relationships become dependency edges by the kinds of their two ends
(:data:`DEPENDS`), so a partner's bundle, an ATT&CK export and our own packages
build the same map: ``uses`` and ``owns`` from an actor to a service; a data point
tied to an actor (``indicates``, ``related-to``, any relationship) is the actor's, and
one tied to a service leads to that service; ``attributed-to`` makes the actor behind
an intrusion set or campaign depend on what it uses; between services ``uses``,
``consists-of``, ``communicates-with``, ``beacons-to``, ``exfiltrate-to`` point to the
service depended on, ``hosts`` and ``controls`` from it.  Indicators are merged into
the SCOs they are ``based-on``.  Clusters come from :mod:`ecosystem.clusters`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection, Iterable
from typing import Any, Final

import networkx as nx

from converters.tlp import ADMIN_ONLY

from .capabilities import capabilities_of
from .clusters import STRONG_TYPES, find_clusters
from .model import (
    ACTOR,
    DATA_POINT,
    SERVICE,
    Declaration,
    EcosystemMap,
    Entity,
    Kind,
    MapStats,
)
from .records import ACTOR_TYPES, PROVIDER_TYPES, Record, Selection

__all__ = ["DEPENDS", "Progress", "build_map"]

#: Told how the map advances: ``(stage, done, total)``, like the converter's progress.
Progress = Callable[[str, int, int], None]

_FORWARD: Final = 1
_BACKWARD: Final = -1

#: (kind of source, kind of target) -> relationship type -> direction of the
#: dependency (forward: the source depends on the target).  Pairs with a data point
#: are handled apart: any relationship ties it to its actor or service.
DEPENDS: Final[dict[tuple[str, str], dict[str, int]]] = {
    (ACTOR, SERVICE): {"uses": _FORWARD, "owns": _FORWARD},
    (ACTOR, ACTOR): {"attributed-to": _BACKWARD},
    (SERVICE, SERVICE): {
        "uses": _FORWARD,
        "consists-of": _FORWARD,
        "communicates-with": _FORWARD,
        "beacons-to": _FORWARD,
        "exfiltrate-to": _FORWARD,
        "hosts": _BACKWARD,
        "controls": _BACKWARD,
    },
}

_VICTIM_TYPES: Final = frozenset({"identity", "location"})


#: The entity kind of each STIX type the map reads; any other type is an SCO (a data
#: point, as indicators are); reports and relationships are no entity.
_KIND_OF: Final[dict[str, Kind | None]] = {
    **dict.fromkeys(ACTOR_TYPES, ACTOR),
    **dict.fromkeys(PROVIDER_TYPES, SERVICE),
    **dict.fromkeys(_VICTIM_TYPES, "victim"),
    "course-of-action": "course-of-action",
    "report": None,
    "relationship": None,
}


class _Builder:
    """One pass over the kept records (see :func:`build_map`)."""

    def __init__(self, records: dict[str, Record]) -> None:
        self.records = records
        kind_of = _KIND_OF
        self.kinds: dict[str, Kind] = {
            i: k for i, r in records.items() if (k := kind_of.get(r.type, DATA_POINT)) is not None
        }
        self.relationships = [r for r in records.values() if r.type == "relationship"]

    def data_points(self) -> dict[str, str]:
        """Member id -> data point entity id: an indicator joins the SCO it is
        ``based-on`` (the smallest id, if several), every other data point is its own."""
        entity_of = {m: m for m, k in self.kinds.items() if k == DATA_POINT}
        for rel in self.relationships:
            source, kind, target = rel.facts
            if kind != "based-on" or source not in entity_of or target not in entity_of:
                continue
            if self.records[source].type != "indicator" or self.records[target].type == (
                "indicator"
            ):
                continue
            current = entity_of[source]
            if current == source or target < current:
                entity_of[source] = target
        return entity_of

    def _dp(self, object_id: str) -> bool:
        return self.kinds.get(object_id) == DATA_POINT

    def links(
        self, dp_of: dict[str, str]
    ) -> tuple[list[tuple[str, str]], dict[str, set[str]], list[tuple[str, str, str]]]:
        """Dependency edges between member ids (data points as entity ids), the owners
        (actors and services) of each data point entity, and the other relationships
        (source, type, target) the map keeps: ``targets``, courses of action, duplicates."""
        edges: list[tuple[str, str]] = []
        owners: dict[str, set[str]] = defaultdict(set)
        kept: list[tuple[str, str, str]] = []
        for rel in self.relationships:
            source, kind, target = rel.facts
            ks, kt = self.kinds.get(source), self.kinds.get(target)
            if ks is None or kt is None or kind == "based-on":
                continue
            if ks == "course-of-action" or kt == "victim" or kind == "duplicate-of":
                kept.append((source, kind, target))
                continue
            if DATA_POINT in (ks, kt) and ks != kt:
                point, other, other_kind = (
                    (dp_of[source], target, kt) if ks == DATA_POINT else (dp_of[target], source, ks)
                )
                if other_kind == ACTOR:
                    edges.append((other, point))
                elif other_kind == SERVICE:
                    edges.append((point, other))
                else:
                    continue
                owners[point].add(other)
                continue
            direction = DEPENDS.get((ks, kt), {}).get(kind)
            if direction == _FORWARD:
                edges.append((source, target))
            elif direction == _BACKWARD:
                edges.append((target, source))
        return edges, owners, kept


def _name(members: Iterable[Record]) -> str:
    names = dict.fromkeys(r.name for r in members if r.name)
    return " / ".join(names) or next(iter(members)).id


def build_map(
    objects: Iterable[Any],
    *,
    clearance: int = ADMIN_ONLY,
    strong_types: Collection[str] = STRONG_TYPES,
    progress: Progress | None = None,
) -> EcosystemMap:
    """The ecosystem map of ``objects`` (parsed STIX 2.1 objects, any order, any
    number of versions) as a reader of TLP rank ``clearance`` sees it (by default
    everything, objects with markings that cannot be ranked included).

    ``strong_types`` are the SCO types that identify their owner: two actors, or two
    services, tied to the same one are merged (with the evidence shown).

    A large map is millions of small objects that live until it is dropped, and none
    is garbage; Python's cyclic collector would walk them all again and again.  A
    caller mapping a large collection pauses it around the whole work (the CLI uses
    ``taxii_server.gc_pause``, which several threads may share).
    """
    selection = Selection(clearance)
    for obj in objects:
        selection.add(obj)
    return _assemble(selection, selection.records(), strong_types, progress)


def _assemble(
    selection: Selection,
    records: dict[str, Record],
    strong_types: Collection[str],
    progress: Progress | None,
) -> EcosystemMap:
    builder = _Builder(records)
    dp_of = builder.data_points()
    edges, owners, kept = builder.links(dp_of)
    if progress is not None:
        progress("map: links", 1, 3)
    packages = {i: r.name or i for i, r in records.items() if r.type == "report"}
    reports: dict[str, set[str]] = defaultdict(set)
    for report_id in packages:
        for ref in records[report_id].facts:
            if ref in builder.kinds:
                reports[ref].add(report_id)
    merged, clusters = find_clusters(records, builder.kinds, owners, kept, strong_types, reports)
    entity_of: dict[str, str] = {**dp_of, **merged}
    groups: dict[str, list[str]] = defaultdict(list)
    for member in builder.kinds:
        groups[entity_of.setdefault(member, member)].append(member)

    declared: dict[str, list[str]] = defaultdict(list)
    declarations: dict[str, list[str]] = defaultdict(list)
    targets: set[tuple[str, str]] = set()
    for source, relationship_type, target in kept:
        if builder.kinds[source] == "course-of-action" and builder.kinds[target] != (
            "course-of-action"
        ):
            declared[entity_of[target]].append(source)
            declarations[source].append(entity_of[target])
        elif relationship_type == "targets" and builder.kinds[target] == "victim":
            targets.add((entity_of[source], entity_of[target]))

    held: dict[str, set[str]] = defaultdict(set)
    for member, in_reports in reports.items():
        held[entity_of[member]] |= in_reports
    if progress is not None:
        progress("map: clusters", 2, 3)

    victims = {victim for _, victim in targets}
    entities: dict[str, Entity] = {}
    for head, members in groups.items():
        kind = builder.kinds[members[0]]
        if kind == "victim" and head not in victims:
            continue  # an author, an issuing bank, an attributed identity: not harmed
        if len(members) == 1:  # most entities: one object
            record = records[head]
            entities[head] = Entity(
                id=head,
                kind=kind,
                name=record.name or head,
                members=(head,),
                types=(record.type,),
                capabilities=capabilities_of(record.type, record.facts)
                if kind == SERVICE
                else frozenset(),
                packages=tuple(sorted(held[head])) if head in held else (),
                declared_by=tuple(sorted(set(declared[head]))) if head in declared else (),
            )
            continue
        members.sort()
        rows = [records[m] for m in members]
        if kind == DATA_POINT:
            rows.sort(key=lambda r: r.type == "indicator")  # the SCO names it
        capabilities: frozenset[str] = frozenset()
        if kind == SERVICE:
            capabilities = frozenset().union(*(capabilities_of(r.type, r.facts) for r in rows))
        entities[head] = Entity(
            id=head,
            kind=kind,
            name=rows[0].name if kind == DATA_POINT else _name(rows),
            members=tuple(members),
            types=tuple(dict.fromkeys(r.type for r in rows)),
            capabilities=capabilities,
            packages=tuple(sorted(held.get(head, ()))),
            declared_by=tuple(sorted(set(declared.get(head, ())))),
        )

    graph: nx.DiGraph = nx.DiGraph()
    graph.add_nodes_from(e.id for e in entities.values() if e.kind in (ACTOR, SERVICE, DATA_POINT))
    graph.add_edges_from((a, b) for u, v in edges if (a := entity_of[u]) != (b := entity_of[v]))
    if progress is not None:
        progress("map: graph", 3, 3)
    return EcosystemMap(
        graph=graph,
        entities=entities,
        entity_of=entity_of,
        clusters=tuple(clusters),
        targets=tuple(sorted(targets)),
        declarations=tuple(
            Declaration(i, records[i].name, tuple(sorted(set(t))))
            for i, t in sorted(declarations.items())
        ),
        packages=packages,
        stats=MapStats(
            objects=selection.seen,
            above_clearance=selection.above_clearance,
            revoked=selection.revoked,
            kept=len(records),
        ),
    )
