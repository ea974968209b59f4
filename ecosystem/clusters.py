"""Entity resolution: the same actor or service described in several packages.

SCOs already merge by id (two partners who see the same wallet produce the same
object).  Actors and services get one id per package, so they are merged here, each
kind only with its own kind, on three kinds of evidence:

* ``same_as`` in the project's property extension (a partner says so);
* a ``duplicate-of`` relationship (STIX 2.1 §4.1, how other producers say so);
* a shared strongly identifying data point: two actors, or two services, tied to the
  same cryptocurrency wallet, bank account or phone number (:data:`STRONG_TYPES`,
  configurable).  A domain or IP address is weak evidence (shared hosting, sinkholes)
  and merges nothing by default.  When every entity tied to the data point is in one
  report (package), its author knew them all and kept them apart: nothing is merged.

An actor and a service tied to the same wallet are not merged: the actor pays into or
cashes out through the service, and the wallet lies on the path between them.
Every merge keeps its evidence, so an analyst can see why and disagree.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Mapping
from typing import Final

from networkx.utils import UnionFind

from .model import ACTOR, SERVICE, Cluster, Evidence
from .records import Record

__all__ = ["STRONG_TYPES", "find_clusters"]

#: SCO types that identify whoever they belong to (``map --cluster-by`` changes it).
STRONG_TYPES: Final = ("cryptocurrency-wallet", "bank-account", "phone-number")

_MERGED_KINDS: Final = (ACTOR, SERVICE)


def find_clusters(
    records: Mapping[str, Record],
    kinds: Mapping[str, str],
    owners: Mapping[str, set[str]],
    relationships: Collection[tuple[str, str, str]],
    strong_types: Collection[str],
    reports: Mapping[str, set[str]],
) -> tuple[dict[str, str], list[Cluster]]:
    """Member id -> cluster entity id for every merged actor and service, and the
    clusters with their evidence (sorted by entity id)."""
    joined = UnionFind()
    evidence: list[Evidence] = []

    def merge(reason: str, via: str, value: str, members: Collection[str]) -> None:
        ordered = tuple(sorted(members))
        for other in ordered[1:]:
            joined.union(ordered[0], other)
        evidence.append(Evidence(reason, via, value, ordered))

    for object_id, kind in kinds.items():
        if kind not in _MERGED_KINDS:
            continue
        for other in records[object_id].same_as:
            if other != object_id and kinds.get(other) == kind:
                merge("same_as", object_id, other, (object_id, other))
    for source, relationship_type, target in relationships:
        if relationship_type == "duplicate-of" and source != target:
            same = kinds.get(source)
            if same in _MERGED_KINDS and kinds.get(target) == same:
                merge("duplicate-of", source, target, (source, target))
    strong = frozenset(strong_types)
    for point, tied in sorted(owners.items()):
        record = records[point]
        if record.type not in strong:
            continue
        by_kind: dict[str, list[str]] = defaultdict(list)
        for member in tied:
            by_kind[kinds[member]].append(member)
        for members in by_kind.values():
            if len(members) > 1 and not _one_package(members, reports):
                merge(record.type, point, record.name, members)

    by_root: dict[str, list[Evidence]] = defaultdict(list)
    for item in evidence:
        by_root[joined[item.members[0]]].append(item)
    entity_of: dict[str, str] = {}
    clusters: list[Cluster] = []
    for group in joined.to_sets():
        merged = tuple(sorted(group))
        head = merged[0]
        entity_of.update(dict.fromkeys(merged, head))
        names = tuple(records[m].name for m in merged)
        clusters.append(Cluster(head, merged, names, tuple(by_root[joined[head]])))
    clusters.sort(key=lambda c: c.entity)
    return entity_of, clusters


def _one_package(members: Collection[str], reports: Mapping[str, set[str]]) -> bool:
    """Whether some report holds every one of ``members``."""
    common: set[str] | None = None
    for member in members:
        held = reports.get(member, set())
        common = set(held) if common is None else common & held
        if not common:
            return False
    return True
