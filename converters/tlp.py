"""TLP 2.0 marking definitions and clearance ranks.

The five marking-definition objects below are the ones OASIS publishes for TLP 2.0
in cti-stix-common-objects (``objects/marking-definition/`` and the ``tlp-2.0``
extension-definition specification), property for property, with their well-known
ids.  They use the TLP 2.0 property extension
``extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d``.

Ranks order the levels for clearance checks (FIRST TLP 2.0):
clear (0) < green (1) < amber (2) < amber+strict (3) < red (4), and one more,
:data:`ADMIN_ONLY` (5), for an object carrying a marking that cannot be ranked: an
unknown marking may restrict more than RED does, so nobody below an administrator
may receive it (it fails closed, never open as TLP:CLEAR).

What ranks (docs/security.md, "Markings", has the table with sources):

* the built-in ids (:data:`RANK_BY_MARKING_ID`): the five TLP 2.0 definitions, the
  STIX 2.1 spec's four TLP 1.0 ones (§7.2.1.4), and OpenCTI's TLP:AMBER+STRICT;
* a marking-definition object (posted in the same envelope, or stored) that carries
  the TLP 2.0 extension's ``tlp_2_0`` level, or ``definition_type: "tlp"`` with a
  ``definition.tlp`` level (STIX 2.1 §7.2.1.3); a ``statement`` one restricts
  nothing (rank 0): :func:`definition_rank`;
* anything else, an unknown id included: :data:`ADMIN_ONLY`.

Identifiers are compared as STIX 2.1 §2.9 defines them: the type part is lower case
and the UUID part is an RFC 4122 UUID, whose hex digits are case-insensitive, so
:func:`normalise_id` lowers the whole id before any comparison (the official TLP:RED
id in upper case is TLP:RED).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Final

__all__ = [
    "ADMIN_ONLY",
    "BUILT_IN_DEFINITIONS",
    "EXTENSION_DEFINITION",
    "LEVELS",
    "MARKING_DEFINITIONS",
    "MARKING_IDS",
    "RANK_BY_MARKING_ID",
    "STATEMENT_IDS",
    "OPENCTI_IDS",
    "TLP_EXTENSION_ID",
    "definition_rank",
    "defined_ranks",
    "is_built_in",
    "is_genuine",
    "label_of_rank",
    "level_of_rank",
    "marking_refs",
    "marking_rank",
    "normalise_id",
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

#: OpenCTI's own TLP:AMBER+STRICT id, which its platform and connectors emit (OpenCTI
#: marks TLP:CLEAR/GREEN/AMBER/RED with the TLP 1.0 ids above).  Source:
#: OpenCTI-Platform/opencti, opencti-platform/opencti-graphql/src/schema/identifier.js,
#: ``MARKING_TLP_AMBER_STRICT_ID`` (``STATIC_MARKING_IDS``).
OPENCTI_IDS: Final[Mapping[str, int]] = {
    "marking-definition--826578e1-40ad-459f-bc73-ede076f81f37": 3,  # TLP:AMBER+STRICT
}

#: Statement marking definitions (they restrict nobody) that tools we rely on attach
#: without shipping the definition.  Source: the stix2extensions package (dogesec),
#: ``stix2extensions/automodel/constants.py`` ``S2E_MARKING_REFS``: its ``new-sco``
#: extension definitions carry this id, a ``statement`` "This object was created using:
#: https://github.com/muchdogesec/stix2extensions".
STATEMENT_IDS: Final[Mapping[str, int]] = {
    "marking-definition--60c0f466-511a-5419-9f7e-4814e696da40": 0,  # stix2extensions
}

#: The rank of an object carrying a marking this module cannot rank: above RED, for
#: administrators only.
ADMIN_ONLY: Final = 5

#: Clearance rank of every marking-definition id known without its object: TLP 2.0,
#: TLP 1.0, OpenCTI's and the well-known statements.
RANK_BY_MARKING_ID: Final[Mapping[str, int]] = {
    **{mid: LEVELS.index(level) for level, mid in MARKING_IDS.items()},
    **_TLP_1_0_IDS,
    **OPENCTI_IDS,
    **STATEMENT_IDS,
}

# TLP level names a definition may carry: TLP 2.0's, and TLP 1.0's "white".
_LEVEL_RANKS: Final[Mapping[str, int]] = {**{lv: i for i, lv in enumerate(LEVELS)}, "white": 0}


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


def _tlp_1_0(mid: str, level: str) -> dict[str, Any]:
    # STIX 2.1 §7.2.1.4, as the stix2 library's TLP_WHITE … TLP_RED serialise them.
    return {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": mid,
        "created": "2017-01-20T00:00:00.000Z",
        "definition_type": "tlp",
        "name": f"TLP:{level.upper()}",
        "definition": {"tlp": level},
    }


#: Every official TLP marking definition (five TLP 2.0, four TLP 1.0) by id: the server
#: knows them without any post, and refuses other content under their ids.
BUILT_IN_DEFINITIONS: Final[Mapping[str, Mapping[str, Any]]] = {
    **{d["id"]: d for d in MARKING_DEFINITIONS.values()},
    **{
        mid: _tlp_1_0(mid, ("white", "green", "amber", "red")[i])
        for i, mid in enumerate(_TLP_1_0_IDS)
    },
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
    """Level name of a rank (0–4), or ``admin-only`` for :data:`ADMIN_ONLY`."""
    return "admin-only" if rank == ADMIN_ONLY else LEVELS[rank]


def label_of_rank(rank: int) -> str:
    """``TLP:CLEAR`` … ``TLP:RED``, or ``ADMIN-ONLY`` for an unrankable marking."""
    return "ADMIN-ONLY" if rank == ADMIN_ONLY else f"TLP:{LEVELS[rank].upper()}"


def normalise_id(identifier: str) -> str:
    """A STIX identifier as compared (STIX 2.1 §2.9): the type part is lower case by
    definition and the UUID part's hex digits are case-insensitive (RFC 4122 §3), so
    the whole id is lowered."""
    return identifier.lower()


def is_built_in(identifier: str) -> bool:
    """Whether ``identifier`` names one of :data:`BUILT_IN_DEFINITIONS`."""
    return normalise_id(identifier) in BUILT_IN_DEFINITIONS


def _same(a: Any, b: Any) -> bool:
    """JSON equality, booleans never equal to numbers."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return type(a) is type(b) and a == b


def _instant(value: Any) -> Any:
    """A STIX timestamp as its instant (``…00Z`` and ``…00.000Z`` are one time)."""
    if isinstance(value, str) and value.endswith("Z"):
        whole, _, fraction = value[:-1].partition(".")
        return (whole, fraction.rstrip("0"))
    return value


def is_genuine(definition: Mapping[str, Any]) -> bool:
    """Whether ``definition`` is the official definition its id names (one of
    :data:`BUILT_IN_DEFINITIONS`): the same properties with the same values, its id
    compared as :func:`normalise_id` does and ``created`` as an instant."""
    identifier = definition.get("id")
    official = (
        BUILT_IN_DEFINITIONS.get(normalise_id(identifier)) if isinstance(identifier, str) else None
    )
    if official is None:
        return False
    posted = dict(definition)
    posted["id"] = official["id"]
    posted.setdefault("spec_version", "2.1")
    if posted.keys() != official.keys():
        return False
    return all(
        _instant(posted[k]) == _instant(official[k])
        if k == "created"
        else _same(posted[k], official[k])
        for k in official
    )


def definition_rank(definition: Mapping[str, Any]) -> int:
    """The rank a marking-definition object gives what it marks (STIX 2.1 §7.2.1):

    * the level of its TLP 2.0 extension (``extensions[TLP_EXTENSION_ID].tlp_2_0``) or of
      a ``definition_type: "tlp"`` definition (``definition.tlp``; TLP 1.0's ``white``
      is ``clear``), the higher when it has both;
    * 0 for a ``definition_type: "statement"`` one without a TLP level (a copyright or
      terms-of-use statement restricts nobody's reading);
    * :data:`ADMIN_ONLY` otherwise: a marking whose meaning is unknown here (PAP, a
      custom ``definition_type``, an extension other than TLP 2.0's, a level name that
      is not one) may restrict more than RED does.

    A built-in id (:data:`RANK_BY_MARKING_ID`) ranks by its id, whatever the object says.
    """
    identifier = definition.get("id")
    if isinstance(identifier, str):
        known = RANK_BY_MARKING_ID.get(normalise_id(identifier))
        if known is not None:
            return known
    levels: list[int] = []
    extensions = definition.get("extensions")
    if isinstance(extensions, Mapping):
        for key, extension in extensions.items():
            if isinstance(key, str) and normalise_id(key) == TLP_EXTENSION_ID:
                level = extension.get("tlp_2_0") if isinstance(extension, Mapping) else None
                levels.append(
                    _LEVEL_RANKS.get(level, ADMIN_ONLY) if isinstance(level, str) else ADMIN_ONLY
                )
    kind = definition.get("definition_type")
    body = definition.get("definition")
    if kind == "tlp":
        level = body.get("tlp") if isinstance(body, Mapping) else None
        levels.append(_LEVEL_RANKS.get(level, ADMIN_ONLY) if isinstance(level, str) else ADMIN_ONLY)
    if levels:
        return max(levels)
    return 0 if kind == "statement" else ADMIN_ONLY


def defined_ranks(objects: Iterable[Any]) -> dict[str, int]:
    """The rank each marking-definition object among ``objects`` defines
    (:func:`definition_rank`), by normalised id; the first of an id counts (a later
    one with other content is a redefinition, which a store refuses)."""
    found: dict[str, int] = {}
    for obj in objects:
        if isinstance(obj, Mapping) and obj.get("type") == "marking-definition":
            identifier = obj.get("id")
            if isinstance(identifier, str):
                found.setdefault(normalise_id(identifier), definition_rank(obj))
    return found


#: What a marking reference that is not a string is compared as: no id at all.
_NOT_AN_ID: Final = ""


def marking_refs(obj: Mapping[str, Any]) -> list[str]:
    """Every marking an object carries, normalised: its ``object_marking_refs`` and the
    ``marking_ref`` of each ``granular_markings`` entry (STIX 2.1 §7.2.2, §7.2.3;
    granular markings cover parts of the same bytes a reader receives).  A reference
    that is not a string is kept as ``""``, which ranks as unknown."""
    # Run for every object a server stores: a list built at once, and no granular
    # markings (most objects) is one look-up.
    listed = obj.get("object_marking_refs")
    if isinstance(listed, list):
        refs = [normalise_id(r) if isinstance(r, str) else _NOT_AN_ID for r in listed]
    else:
        refs = [] if listed is None else [_NOT_AN_ID]
    granular = obj.get("granular_markings")
    if granular is None:
        return refs
    if isinstance(granular, list):
        for entry in granular:
            ref = entry.get("marking_ref") if isinstance(entry, Mapping) else None
            if isinstance(entry, Mapping) and ref is None and "lang" in entry:
                continue  # a language marking (§7.2.3) restricts nothing
            refs.append(normalise_id(ref) if isinstance(ref, str) else _NOT_AN_ID)
    else:
        refs.append(_NOT_AN_ID)
    return refs


_NOTHING_DEFINED: Final[Mapping[str, int]] = {}


def marking_rank(marking_ids: Iterable[str], defined: Mapping[str, int] = _NOTHING_DEFINED) -> int:
    """Highest rank among ``marking_ids`` (0 when there are none): a built-in id's, else
    the rank ``defined`` gives (normalised id -> :func:`definition_rank`), else
    :data:`ADMIN_ONLY`."""
    rank = 0
    for mid in marking_ids:
        key = normalise_id(mid)
        found = RANK_BY_MARKING_ID.get(key)
        if found is None:
            found = defined.get(key, ADMIN_ONLY)
        if found > rank:
            rank = found
    return rank


def object_rank(obj: Mapping[str, Any], defined: Mapping[str, int] = _NOTHING_DEFINED) -> int:
    """Highest rank an object carries, in ``object_marking_refs`` or in any
    ``granular_markings`` entry (STIX 2.1 §7.2.3): a reader cleared below it must not
    receive the object, since granular markings cover parts of the same bytes.
    ``defined`` ranks markings that are not built in (:func:`marking_rank`)."""
    return marking_rank(marking_refs(obj), defined)
