"""The ecosystem map: STIX 2.1 objects in, entities, dependency graph and choke-point
ranking out (issue 11; docs/map.md).

Layered like networkx: :func:`build_map` reads objects into an :class:`EcosystemMap`
(plain data around a ``networkx.DiGraph``); :func:`rank` and
:func:`simulate_removal` take a map and return plain data; drawing and writing
(:mod:`ecosystem.document`, :mod:`ecosystem.graphml`, :mod:`ecosystem.svg`) are
separate modules that nothing here imports.  Depends on the converter's STIX
knowledge only (``converters.tlp``, ``converters.extensions``), never on the server.
"""

from __future__ import annotations

from .build import build_map
from .capabilities import capabilities_of
from .clusters import STRONG_TYPES
from .impact import Candidate, Disruption, UnknownEntity, rank, simulate_removal
from .model import Cluster, Declaration, EcosystemMap, Entity, Evidence, MapStats

__all__ = [
    "STRONG_TYPES",
    "Candidate",
    "Cluster",
    "Declaration",
    "Disruption",
    "EcosystemMap",
    "Entity",
    "Evidence",
    "MapStats",
    "UnknownEntity",
    "build_map",
    "capabilities_of",
    "rank",
    "simulate_removal",
]
