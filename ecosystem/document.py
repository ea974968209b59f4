"""The map as one JSON-ready document (``atlas-taxii map --format json``).

Plain dicts and lists in a fixed order, so the same input gives the same bytes.
Fields (docs/map.md):

* ``candidates``: every service, data point and cluster by descending impact, each
  ``{rank, id, members, name, kind, category, impact, actors, losses, centrality,
  declared, declared_by, packages}``; ``actors`` are the STIX ids (entity ids) of
  the actors that lose a capability, ``losses`` what each loses;
* ``actors``: ``{id, name, members, capabilities, packages}``;
* ``clusters``: ``{id, name, kind, members, evidence: [{reason, via, value, members}]}``;
* ``declared``: each course of action with its targets and where they rank;
* ``packages``: the reports read, ``{id, name}``;
* ``removal`` (with ``--remove``): ``{removed, losses, orphaned, packages}``;
* ``stats``: objects read, left out above the clearance, revoked, kept; nodes, edges.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .impact import Candidate, Disruption, actor_capabilities
from .model import EcosystemMap

__all__ = ["map_document"]


def _candidate(candidate: Candidate) -> dict[str, Any]:
    entity = candidate.entity
    return {
        "rank": candidate.rank,
        "id": entity.id,
        "members": list(entity.members),
        "name": entity.name,
        "kind": entity.kind,
        "category": candidate.category,
        "impact": candidate.impact,
        "actors": list(candidate.actors),
        "losses": {a: list(c) for a, c in candidate.losses.items()},
        "centrality": round(candidate.centrality, 6),
        "declared": candidate.declared,
        "declared_by": list(entity.declared_by),
        "packages": list(entity.packages),
    }


def _removal(emap: EcosystemMap, disruption: Disruption) -> dict[str, Any]:
    return {
        "removed": [
            {"id": i, "name": emap.entities[i].name, "members": list(emap.entities[i].members)}
            for i in disruption.removed
        ],
        "losses": [
            {"actor": a, "name": emap.entities[a].name, "capabilities": list(c)}
            for a, c in disruption.losses.items()
        ],
        "orphaned": [{"id": i, "name": emap.entities[i].name} for i in disruption.orphaned],
        "packages": [{"id": p, "name": emap.packages[p]} for p in disruption.packages],
    }


def map_document(
    emap: EcosystemMap,
    candidates: Sequence[Candidate],
    disruption: Disruption | None = None,
) -> dict[str, Any]:
    """The document described in the module documentation."""
    rank_of: Mapping[str, int] = {c.id: c.rank for c in candidates}
    capabilities = actor_capabilities(emap)
    document: dict[str, Any] = {
        "candidates": [_candidate(c) for c in candidates],
        "actors": [
            {
                "id": actor.id,
                "name": actor.name,
                "members": list(actor.members),
                "capabilities": sorted(capabilities.get(actor.id, ())),
                "packages": list(actor.packages),
            }
            for actor in emap.of_kind("actor")
        ],
        "clusters": [
            {
                "id": cluster.entity,
                "name": emap.entities[cluster.entity].name,
                "kind": emap.entities[cluster.entity].kind,
                "members": [
                    {"id": m, "name": n}
                    for m, n in zip(cluster.members, cluster.names, strict=True)
                ],
                "evidence": [
                    {
                        "reason": e.reason,
                        "via": e.via,
                        "value": e.value,
                        "members": list(e.members),
                    }
                    for e in cluster.evidence
                ],
            }
            for cluster in emap.clusters
        ],
        "declared": [
            {
                "id": d.id,
                "name": d.name,
                "targets": [
                    {"id": t, "name": emap.entities[t].name, "rank": rank_of.get(t)}
                    for t in d.targets
                ],
            }
            for d in emap.declarations
        ],
        "packages": [{"id": i, "name": n} for i, n in sorted(emap.packages.items())],
    }
    if disruption is not None:
        document["removal"] = _removal(emap, disruption)
    stats = emap.stats
    document["stats"] = {
        "objects": stats.objects,
        "above_clearance": stats.above_clearance,
        "revoked": stats.revoked,
        "kept": stats.kept,
        "nodes": emap.graph.number_of_nodes(),
        "edges": emap.graph.number_of_edges(),
    }
    return document
