"""The marking-definition registry's rules, shared by every backend: what an existing
store's migration registers and how it re-ranks what it holds (issue 9, finding 1).

Before this registry, an object whose marking the server did not know was stored as
TLP:CLEAR.  The migration that adds it (SQL version 6, MongoDB version 4) registers the
marking definitions already stored, then gives every stored version the rank the
current rules give it (:func:`converters.tlp.object_rank`, with the registered
definitions) and recomputes the version masks for the added admin-only clearance.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping

import orjson

from converters.tlp import definition_rank, is_built_in, normalise_id, object_rank

__all__ = ["MARKING_REF", "registrations", "stored_rank"]

#: Every body that carries a marking holds this text (``object_marking_refs``, or a
#: granular marking's ``marking_ref``); a body without it is unmarked (rank 0).
MARKING_REF = b"marking_ref"


def registrations(bodies: Iterable[bytes]) -> dict[str, tuple[int, bytes]]:
    """``normalised id -> (rank, digest)`` for the stored marking definitions among
    ``bodies`` (canonical JSON, oldest first), built-in TLP ids left out.  Where a store
    holds several bodies under one id (posted before definitions were immutable), the
    one that restricts most is registered (the oldest of those): the others stay stored,
    and objects marked with the id rank as that one says, failing closed."""
    found: dict[str, tuple[int, bytes]] = {}
    for body in bodies:
        definition = orjson.loads(body)
        identifier = definition.get("id") if isinstance(definition, dict) else None
        if not isinstance(identifier, str) or is_built_in(identifier):
            continue
        key = normalise_id(identifier)
        rank = definition_rank(definition)
        if key not in found or rank > found[key][0]:
            found[key] = (rank, hashlib.sha256(body).digest())
    return found


def stored_rank(body: bytes, ranks: Mapping[str, int]) -> int:
    """The rank of a stored body under the current rules, ``ranks`` giving the
    registered definitions' (normalised id -> rank)."""
    if MARKING_REF not in body:
        return 0
    obj = orjson.loads(body)
    return object_rank(obj, ranks) if isinstance(obj, dict) else 0
