"""Rules every backend applies identically inside its write transactions.

Kept here, once, so that SQL and MongoDB cannot drift: how version masks are
computed (TAXII 2.1 §3.4.1 ``match[version]`` first/last, per TLP clearance), how
object bodies are serialised, and which status list an add outcome lands in (§4.3.1).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson

from taxii_server.storage.base import AddOutcome, AddResult, StatusDetail
from taxii_server.timestamps import format_timestamp

__all__ = [
    "ALL_CLEARANCES",
    "CONFLICT_MESSAGE",
    "canonical_json",
    "clearance_bit",
    "status_entry",
    "version_masks",
]

#: Number of clearance levels (TLP ranks 0..4).
ALL_CLEARANCES = 5

CONFLICT_MESSAGE = (
    "an object with this id and modified timestamp is already stored with different "
    "content; STIX 2.1 §3.6 requires a new modified timestamp for a changed object"
)


def clearance_bit(clearance: int) -> int:
    """The mask bit a query at ``clearance`` tests."""
    return 1 << clearance


def canonical_json(obj: dict[str, Any]) -> bytes:
    """Compact JSON with sorted keys: the stored and served form of an object."""
    return orjson.dumps(obj, option=orjson.OPT_SORT_KEYS)


def _mask_from(tlp: int) -> int:
    """The clearance bits that see a version marked ``tlp``: every level from it up."""
    return sum(clearance_bit(c) for c in range(max(tlp, 0), ALL_CLEARANCES))


# Both masks of an object's only version, by its TLP rank: every reader cleared for it
# sees it as first and latest.  Most objects have one version, and a bulk add computes
# masks for every object it stores.
_ONLY_VERSION = tuple((_mask_from(tlp), _mask_from(tlp)) for tlp in range(ALL_CLEARANCES))


def version_masks(versions: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    """Compute ``(first_mask, latest_mask)`` for each ``(version, tlp)`` of one object.

    Bit *c* of ``latest_mask`` is set on the newest version whose ``tlp`` is at most
    *c*, so a reader cleared at *c* sees that version as the object's latest and never
    learns that a newer, more restricted one exists; ``first_mask`` likewise for the
    oldest.  Versions are unique per object id.  The result is in input order.
    """
    if len(versions) == 1 and 0 <= versions[0][1] < ALL_CLEARANCES:
        return [_ONLY_VERSION[versions[0][1]]]
    first = [0] * len(versions)
    latest = [0] * len(versions)
    order = sorted(range(len(versions)), key=lambda i: versions[i][0])
    for clearance in range(ALL_CLEARANCES):
        visible = [i for i in order if versions[i][1] <= clearance]
        if visible:
            first[visible[0]] |= clearance_bit(clearance)
            latest[visible[-1]] |= clearance_bit(clearance)
    return list(zip(first, latest, strict=True))


def status_entry(object_id: str, result: AddResult) -> tuple[str, StatusDetail]:
    """Which status list (``"successes"`` or ``"failures"``) an add result goes to,
    with the entry to record there.  Re-posting an identical object is a success
    (TAXII 2.1 §5.5: the server must not treat it as an error)."""
    version = format_timestamp(result.version)
    if result.outcome is AddOutcome.CONFLICT:
        return "failures", StatusDetail(object_id, version, CONFLICT_MESSAGE)
    return "successes", StatusDetail(object_id, version)
