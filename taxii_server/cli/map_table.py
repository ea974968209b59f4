"""The terminal form of ``atlas-taxii map``: the ranked candidates, the clusters and
their evidence, the declared choke points and where they rank, a disruption.

Names come from other people's STIX objects: control characters (terminal escape
sequences included) are shown escaped, never written to the terminal.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from taxii_server.cli.table import format_table

if TYPE_CHECKING:
    from ecosystem import Candidate, Disruption, EcosystemMap

__all__ = ["map_table", "printable"]

_NAME_WIDTH = 48
_ACTORS_SHOWN = 6


def printable(text: str, width: int | None = None) -> str:
    """``text`` with control characters escaped, cut to ``width`` with an ellipsis."""
    shown = "".join(c if c.isprintable() else ascii(c)[1:-1] for c in text)
    if width is not None and len(shown) > width:
        return shown[: width - 1] + "…"
    return shown


def _names(emap: EcosystemMap, ids: Sequence[str]) -> str:
    names = sorted(printable(emap.entities[i].name, 24) for i in ids)[:_ACTORS_SHOWN]
    more = len(ids) - _ACTORS_SHOWN
    return ", ".join(names) + (f" and {more} more" if more > 0 else "")


def _candidates(emap: EcosystemMap, candidates: Sequence[Candidate], top: int) -> str:
    rows = [
        [
            str(c.rank),
            str(c.impact),
            printable(c.category, 28),
            printable(c.entity.name, _NAME_WIDTH)
            + (
                f" ({len(c.entity.members)} merged)"
                if c.entity.kind == "service" and len(c.entity.members) > 1
                else ""
            ),
            "yes" if c.declared else "",
            _names(emap, c.actors),
        ]
        for c in candidates[:top]
    ]
    headers = [
        "rank",
        "impact",
        "provides / type",
        "name",
        "declared",
        "actors losing a capability",
    ]
    shown = f"top {min(top, len(candidates))} of {len(candidates)} candidates"
    return f"Choke points ({shown})\n" + format_table(headers, rows)


def _more(hidden: int, what: str) -> list[str]:
    return [f"  … and {hidden} more {what} (--format json lists them all)"] if hidden > 0 else []


def _clusters(emap: EcosystemMap, candidates: Sequence[Candidate], top: int) -> str:
    """The clusters among the candidates shown, by rank, then the others by id, ``top``
    at most."""
    rank_of = {c.id: c.rank for c in candidates[:top]}
    ordered = sorted(emap.clusters, key=lambda c: (rank_of.get(c.entity, top + 1), c.entity))
    lines = ["Clusters (one entity, several objects)"]
    for cluster in ordered[:top]:
        entity = emap.entities[cluster.entity]
        lines.append(f"  {printable(entity.name)} [{entity.kind}] {cluster.entity}")
        for evidence in cluster.evidence:
            tied = ", ".join(f"{printable(cluster.name_of(m), 40)} ({m})" for m in evidence.members)
            lines.append(f"    {evidence.reason} {printable(evidence.value)} ties {tied}")
    return "\n".join(lines + _more(len(ordered) - top, "clusters"))


def _declared(emap: EcosystemMap, candidates: Sequence[Candidate], top: int) -> str:
    """The declared choke points by the best rank of their targets, ``top`` at most."""
    rank_of = {c.id: c.rank for c in candidates}
    ordered = sorted(
        emap.declarations,
        key=lambda d: (min(rank_of.get(t, len(rank_of) + 1) for t in d.targets), d.id),
    )
    lines = ["Declared choke points (courses of action) and where their targets rank"]
    for declaration in ordered[:top]:
        targets = ", ".join(
            f"{printable(emap.entities[t].name, 32)} "
            + (f"#{rank_of[t]}" if t in rank_of else f"({emap.entities[t].kind}, not ranked)")
            for t in declaration.targets
        )
        lines.append(f"  {printable(declaration.name, 60)}: {targets}")
    return "\n".join(lines + _more(len(ordered) - top, "declared choke points"))


def _disruption(emap: EcosystemMap, disruption: Disruption) -> str:
    lines = ["Removing " + ", ".join(printable(emap.entities[i].name) for i in disruption.removed)]
    for actor, lost in disruption.losses.items():
        lines.append(f"  {printable(emap.entities[actor].name)} loses {', '.join(lost)}")
    if not disruption.losses:
        lines.append("  no actor loses a capability")
    if disruption.orphaned:
        orphans = ", ".join(printable(emap.entities[i].name, 40) for i in disruption.orphaned)
        lines.append(f"  data points left without an owner: {orphans}")
    if disruption.packages:
        hit = ", ".join(printable(emap.packages[p]) for p in disruption.packages)
        lines.append(f"  packages affected: {hit}")
    return "\n".join(lines)


def map_table(
    emap: EcosystemMap,
    candidates: Sequence[Candidate],
    disruption: Disruption | None,
    top: int,
) -> str:
    """The whole terminal output, sections separated by blank lines."""
    stats = emap.stats
    sections = [
        f"{stats.kept} objects mapped of {stats.objects} read"
        + (f" ({stats.above_clearance} above the clearance)" if stats.above_clearance else "")
        + f": {emap.graph.number_of_nodes()} nodes, {emap.graph.number_of_edges()} edges",
        _candidates(emap, candidates, top),
    ]
    if emap.clusters:
        sections.append(_clusters(emap, candidates, top))
    if emap.declarations:
        sections.append(_declared(emap, candidates, top))
    if disruption is not None:
        sections.append(_disruption(emap, disruption))
    return "\n\n".join(sections) + "\n"
