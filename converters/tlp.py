"""TLP 2.0 marking definitions and clearance ranks.

The five marking-definition objects below are the ones OASIS publishes for TLP 2.0
in cti-stix-common-objects (``objects/marking-definition/`` and the ``tlp-2.0``
extension-definition specification), property for property, with their well-known
ids.  They use the TLP 2.0 property extension
``extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d``.

Ranks order the levels for clearance checks (FIRST TLP 2.0):
clear (0) < green (1) < amber (2) < amber+strict (3) < red (4).
The STIX 2.1 spec's TLP 1.0 definitions (white/green/amber/red) are ranked too, so
objects marked by older tools are filtered as their authors meant.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Final

__all__ = [
    "EXTENSION_DEFINITION",
    "LEVELS",
    "MARKING_DEFINITIONS",
    "MARKING_IDS",
    "RANK_BY_MARKING_ID",
    "TLP_EXTENSION_ID",
    "level_of_rank",
    "marking_rank",
    "object_rank",
    "rank_of_level",
]

TLP_EXTENSION_ID: Final = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"

#: TLP 2.0 level names in rank order (the package format's spelling).
LEVELS: Final[tuple[str, ...]] = ("clear", "green", "amber", "amber+strict", "red")

#: Well-known ids of the TLP 2.0 marking definitions, by level.
MARKING_IDS: Final[Mapping[str, str]] = {
    "clear": "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
    "green": "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
    "amber": "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
    "amber+strict": "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
    "red": "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
}

# STIX 2.1 §7.2.1.4: the TLP 1.0 marking definitions defined by the spec itself.
_TLP_1_0_IDS: Final[Mapping[str, int]] = {
    "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9": 0,  # TLP:WHITE
    "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da": 1,  # TLP:GREEN
    "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82": 2,  # TLP:AMBER
    "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed": 4,  # TLP:RED
}

#: Clearance rank of every TLP marking-definition id we recognise (2.0 and 1.0).
RANK_BY_MARKING_ID: Final[Mapping[str, int]] = {
    **{mid: LEVELS.index(level) for level, mid in MARKING_IDS.items()},
    **_TLP_1_0_IDS,
}


def _definition(level: str) -> dict[str, Any]:
    return {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": MARKING_IDS[level],
        "created": "2022-10-01T00:00:00.000Z",
        "name": f"TLP:{level.upper()}",
        "extensions": {
            TLP_EXTENSION_ID: {"extension_type": "property-extension", "tlp_2_0": level},
        },
    }


#: The five TLP 2.0 marking-definition objects as OASIS publishes them, by level.
MARKING_DEFINITIONS: Final[Mapping[str, Mapping[str, Any]]] = {
    level: _definition(level) for level in LEVELS
}


#: The TLP 2.0 ``extension-definition`` object the marking definitions' ``extensions``
#: refer to, as OASIS publishes it in cti-stix-common-objects
#: (``objects/extension-definition/extension-definition--60a3c5c5-…json``).  The
#: converter puts it in a bundle next to the TLP markings it uses, like every other
#: extension definition its output relies on, so a consumer can resolve it offline.
EXTENSION_DEFINITION: Final[Mapping[str, Any]] = {
    "id": TLP_EXTENSION_ID,
    "type": "extension-definition",
    "spec_version": "2.1",
    "name": "TLP 2.0",
    "description": "This defines TLP 2.0 as a STIX extension",
    "created": "2022-10-01T00:00:00.000Z",
    "modified": "2022-10-01T00:00:00.000Z",
    "created_by_ref": "identity--b3bca3c2-1f3d-4b54-b44f-dac42c3a8f01",
    "schema": (
        "https://github.com/oasis-open/cti-stix-common-objects/tree/master/"
        "extension-definition-specifications/tlp-2.0"
    ),
    "version": "1.0.0",
    "extension_types": ["property-extension"],
}


_RANK_OF_LEVEL: Final[Mapping[str, int]] = {level: rank for rank, level in enumerate(LEVELS)}


def rank_of_level(level: str) -> int:
    """Rank of a TLP 2.0 level name (``clear`` … ``red``); raises ``KeyError`` if unknown."""
    try:
        return _RANK_OF_LEVEL[level]
    except (KeyError, TypeError):
        expected = ", ".join(LEVELS)
        raise KeyError(f"unknown TLP level {level!r}; expected one of {expected}") from None


def level_of_rank(rank: int) -> str:
    """Level name of a rank (0–4)."""
    return LEVELS[rank]


def marking_rank(marking_ids: Iterable[str]) -> int:
    """Highest TLP rank among ``marking_ids``; 0 when none of them is a TLP marking."""
    return max((RANK_BY_MARKING_ID.get(mid, 0) for mid in marking_ids), default=0)


def object_rank(obj: Mapping[str, Any]) -> int:
    """Highest TLP rank an object carries, in ``object_marking_refs`` or in any
    ``granular_markings`` entry (STIX 2.1 §7.2.3): a reader cleared below it must not
    receive the object, since granular markings cover parts of the same bytes."""
    refs: list[str] = list(obj.get("object_marking_refs") or ())
    for granular in obj.get("granular_markings") or ():
        if isinstance(granular, Mapping) and isinstance(granular.get("marking_ref"), str):
            refs.append(granular["marking_ref"])
    return marking_rank(r for r in refs if isinstance(r, str))
