"""The relationships STIX 2.1 defines between object types (STIX 2.1 §4, Appendix B).

A mapping's relationship rule may name a fallback type (``otherwise``) used when the
spec defines no such relationship between the two objects actually linked — this is
how ``mitigates`` is emitted only where STIX allows it (toward an indicator, tool,
malware, attack pattern or vulnerability) and ``related-to`` otherwise.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from .ids import SCO_ID_PROPERTIES

__all__ = ["COMMON_RELATIONSHIPS", "SPEC_RELATIONSHIPS", "defined_by_stix"]

#: Relationships defined between any two objects (§4: common relationships).
COMMON_RELATIONSHIPS: Final = frozenset({"related-to", "derived-from", "duplicate-of"})

_SCO: Final = "<any SCO>"
_F = frozenset

#: (source type, relationship type) -> target types, from the "Relationships" table of
#: each SDO (STIX 2.1 §4) and SCO (§6) that defines some.
SPEC_RELATIONSHIPS: Final[Mapping[tuple[str, str], frozenset[str]]] = {
    ("attack-pattern", "delivers"): _F({"malware"}),
    ("attack-pattern", "targets"): _F({"identity", "location", "vulnerability"}),
    ("attack-pattern", "uses"): _F({"malware", "tool"}),
    ("campaign", "attributed-to"): _F({"intrusion-set", "threat-actor"}),
    ("campaign", "compromises"): _F({"infrastructure"}),
    ("campaign", "originates-from"): _F({"location"}),
    ("campaign", "targets"): _F({"identity", "location", "vulnerability"}),
    ("campaign", "uses"): _F({"attack-pattern", "infrastructure", "malware", "tool"}),
    ("course-of-action", "investigates"): _F({"indicator"}),
    ("course-of-action", "mitigates"): _F(
        {"attack-pattern", "indicator", "malware", "tool", "vulnerability"}
    ),
    ("course-of-action", "remediates"): _F({"malware", "vulnerability"}),
    ("domain-name", "resolves-to"): _F({"domain-name", "ipv4-addr", "ipv6-addr"}),
    ("identity", "located-at"): _F({"location"}),
    ("indicator", "based-on"): _F({"observed-data"}),
    ("indicator", "indicates"): _F(
        {"attack-pattern", "campaign", "infrastructure", "intrusion-set", "malware"}
        | {"threat-actor", "tool"}
    ),
    ("infrastructure", "communicates-with"): _F(
        {"infrastructure", "ipv4-addr", "ipv6-addr", "domain-name", "url"}
    ),
    ("infrastructure", "consists-of"): _F({"infrastructure", "observed-data", _SCO}),
    ("infrastructure", "controls"): _F({"infrastructure", "malware"}),
    ("infrastructure", "delivers"): _F({"malware"}),
    ("infrastructure", "has"): _F({"vulnerability"}),
    ("infrastructure", "hosts"): _F({"tool", "malware"}),
    ("infrastructure", "located-at"): _F({"location"}),
    ("infrastructure", "uses"): _F({"infrastructure"}),
    ("intrusion-set", "attributed-to"): _F({"threat-actor"}),
    ("intrusion-set", "compromises"): _F({"infrastructure"}),
    ("intrusion-set", "hosts"): _F({"infrastructure"}),
    ("intrusion-set", "owns"): _F({"infrastructure"}),
    ("intrusion-set", "originates-from"): _F({"location"}),
    ("intrusion-set", "targets"): _F({"identity", "location", "vulnerability"}),
    ("intrusion-set", "uses"): _F({"attack-pattern", "infrastructure", "malware", "tool"}),
    ("ipv4-addr", "belongs-to"): _F({"autonomous-system"}),
    ("ipv4-addr", "resolves-to"): _F({"mac-addr"}),
    ("ipv6-addr", "belongs-to"): _F({"autonomous-system"}),
    ("ipv6-addr", "resolves-to"): _F({"mac-addr"}),
    ("malware", "authored-by"): _F({"threat-actor", "intrusion-set"}),
    ("malware", "beacons-to"): _F({"infrastructure"}),
    ("malware", "exfiltrates-to"): _F({"infrastructure"}),
    ("malware", "communicates-with"): _F({"ipv4-addr", "ipv6-addr", "domain-name", "url"}),
    ("malware", "controls"): _F({"malware"}),
    ("malware", "downloads"): _F({"malware", "tool", "file"}),
    ("malware", "drops"): _F({"malware", "tool", "file"}),
    ("malware", "exploits"): _F({"vulnerability"}),
    ("malware", "originates-from"): _F({"location"}),
    ("malware", "targets"): _F({"identity", "infrastructure", "location", "vulnerability"}),
    ("malware", "uses"): _F({"attack-pattern", "infrastructure", "malware", "tool"}),
    ("malware", "variant-of"): _F({"malware"}),
    ("malware-analysis", "analysis-of"): _F({"malware"}),
    ("malware-analysis", "characterizes"): _F({"malware"}),
    ("malware-analysis", "dynamic-analysis-of"): _F({"malware"}),
    ("malware-analysis", "static-analysis-of"): _F({"malware"}),
    ("threat-actor", "attributed-to"): _F({"identity"}),
    ("threat-actor", "compromises"): _F({"infrastructure"}),
    ("threat-actor", "hosts"): _F({"infrastructure"}),
    ("threat-actor", "impersonates"): _F({"identity"}),
    ("threat-actor", "located-at"): _F({"location"}),
    ("threat-actor", "owns"): _F({"infrastructure"}),
    ("threat-actor", "targets"): _F({"identity", "location", "vulnerability"}),
    ("threat-actor", "uses"): _F({"attack-pattern", "infrastructure", "malware", "tool"}),
    ("tool", "delivers"): _F({"malware"}),
    ("tool", "drops"): _F({"malware"}),
    ("tool", "has"): _F({"vulnerability"}),
    ("tool", "targets"): _F({"identity", "infrastructure", "location", "vulnerability"}),
    ("tool", "uses"): _F({"infrastructure"}),
}


def defined_by_stix(source_type: str, relationship_type: str, target_type: str) -> bool:
    """Whether STIX 2.1 defines ``relationship_type`` from ``source_type`` to ``target_type``."""
    if relationship_type in COMMON_RELATIONSHIPS:
        return relationship_type == "related-to" or source_type == target_type
    targets = SPEC_RELATIONSHIPS.get((source_type, relationship_type), frozenset())
    return target_type in targets or (_SCO in targets and target_type in SCO_ID_PROPERTIES)
