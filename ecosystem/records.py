"""What the map keeps of each STIX object, and which objects it keeps.

Objects arrive one by one from files, a store or a TAXII server and are reduced at
once to a :class:`Record` (a few strings), so a million-object collection is never
held as parsed JSON.  :class:`Selection` applies the rules a TAXII server applies
to a reader (TAXII 2.1 §3.4.1, STIX 2.1 §3.6, §7.2):

* an object marked above the reader's TLP clearance does not exist for them
  (:func:`converters.tlp.object_rank`, the server's own rule, granular markings
  included; a marking defined by a marking-definition object read before it ranks as
  that definition says, any other unknown marking is admin-only);
* of the versions left, the latest counts (``modified``, else ``created``; an SCO's
  later copy replaces an earlier one);
* an object whose latest visible version is ``revoked`` is dropped.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import Any, Final, NamedTuple

from converters.extensions import ATLAS_EXTENSION_ID
from converters.tlp import ADMIN_ONLY, definition_rank, normalise_id, object_rank

__all__ = ["ACTOR_TYPES", "PROVIDER_TYPES", "Record", "Selection", "sco_label"]

#: STIX types that are actors of the ecosystem (they lose capabilities).
ACTOR_TYPES: Final = frozenset({"threat-actor", "intrusion-set", "campaign"})
#: STIX types that provide capabilities (services and infrastructure).
PROVIDER_TYPES: Final = frozenset({"infrastructure", "tool", "malware"})
#: Other SDOs the map reads: victims, courses of action, indicators, reports.
_OTHER_TYPES: Final = frozenset(
    {"identity", "location", "course-of-action", "indicator", "report", "relationship"}
)
#: Objects that are no part of the ecosystem itself.
_IGNORED: Final = frozenset(
    {
        "marking-definition",
        "extension-definition",
        "language-content",
        "bundle",
        "attack-pattern",
        "vulnerability",
        "note",
        "opinion",
        "observed-data",
        "grouping",
        "malware-analysis",
        "sighting",
    }
)


class Record(NamedTuple):
    """The facts of one object version the map uses (a tuple: a million of them are
    made as fast and as small as Python allows)."""

    id: str
    type: str
    version: str  # modified, else created, else "" (SCOs)
    revoked: bool
    name: str
    #: What the type needs, as strings: capability words of a provider (its types,
    #: ``label:…``, ``category:…``), the source, type and target of a relationship,
    #: a report's object_refs, an identity's sectors.
    facts: tuple[str, ...] = ()
    #: The ``same_as`` ids of an actor or provider.
    same_as: tuple[str, ...] = ()


def _strings(value: Any) -> tuple[str, ...]:
    if isinstance(value, list):
        return tuple(v for v in value if isinstance(v, str))
    return ()


def _ids(value: Any) -> tuple[str, ...]:
    """Strings that are ids, interned: each id is then held once, however many
    relationships and reports refer to it."""
    if isinstance(value, list):
        return tuple(sys.intern(v) for v in value if isinstance(v, str))
    return ()


def sco_label(obj: Mapping[str, Any]) -> str:
    """A short readable value of an SCO (STIX 2.1 §6), e.g. a wallet address."""
    for key in ("value", "iban", "account_number", "user_id", "account_login", "name"):
        value = obj.get(key)
        if isinstance(value, str | int) and not isinstance(value, bool):
            return str(value)
    if isinstance(obj.get("number"), int):
        return f"AS{obj['number']}"
    hashes = obj.get("hashes")
    if isinstance(hashes, Mapping):
        for value in hashes.values():
            if isinstance(value, str):
                return value
    return str(obj.get("display_name") or obj.get("id", ""))


def _extension(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    extensions = obj.get("extensions")
    if isinstance(extensions, Mapping):
        found = extensions.get(ATLAS_EXTENSION_ID)
        if isinstance(found, Mapping):
            return found
    return {}


def _record(obj: Mapping[str, Any], object_id: str, stix_type: str) -> Record | None:
    """The record of one object, or ``None`` for objects the map does not use."""
    stamp = obj.get("modified") or obj.get("created")
    # Comparable as strings: RFC 3339 UTC with the fraction padded to microseconds.
    version = stamp[:-1].ljust(26, "0") if isinstance(stamp, str) else ""
    revoked = obj.get("revoked") is True
    if stix_type == "relationship":
        source, kind, target = (
            obj.get("source_ref"),
            obj.get("relationship_type"),
            obj.get("target_ref"),
        )
        if not (isinstance(source, str) and isinstance(kind, str) and isinstance(target, str)):
            return None
        ends = (sys.intern(source), kind, sys.intern(target))
        return Record(object_id, stix_type, version, revoked, "", ends)
    name = obj.get("name")
    label = name if isinstance(name, str) else ""
    if stix_type in ACTOR_TYPES or stix_type in PROVIDER_TYPES:
        extension = _extension(obj)
        words: tuple[str, ...] = ()
        if stix_type in PROVIDER_TYPES:
            category = extension.get("category")
            words = ((f"category:{category}",) if isinstance(category, str) else ()) + tuple(
                f"label:{w}" for w in _strings(obj.get("labels"))
            )
            words += _strings(obj.get(f"{stix_type}_types"))
        same_as = _ids(extension.get("same_as"))
        return Record(object_id, stix_type, version, revoked, label, words, same_as)
    if stix_type == "report":
        return Record(object_id, stix_type, version, revoked, label, _ids(obj.get("object_refs")))
    if stix_type == "indicator":
        pattern = obj.get("pattern")
        return Record(object_id, stix_type, version, revoked, label or str(pattern or ""))
    if stix_type == "location" and not label:
        label = str(obj.get("country") or obj.get("region") or obj.get("city") or "")
    if stix_type == "identity":
        return Record(object_id, stix_type, version, revoked, label, _strings(obj.get("sectors")))
    if stix_type in _OTHER_TYPES:
        return Record(object_id, stix_type, version, revoked, label)
    if stix_type in _IGNORED or stix_type.startswith("x-"):
        return None
    # Any other type is taken for an SCO (STIX 2.1 §6; community new-sco types too).
    return Record(object_id, stix_type, "", revoked, sco_label(obj))


class Selection:
    """The latest visible, unrevoked version of every object seen (see module doc)."""

    def __init__(self, clearance: int = ADMIN_ONLY) -> None:
        self.clearance = clearance
        self._filtered = clearance < ADMIN_ONLY  # admin-only reads everything
        self._defined: dict[str, int] = {}
        self.seen = 0
        self.above_clearance = 0
        self._latest: dict[str, Record] = {}

    def add(self, obj: Any) -> None:
        """Take one parsed STIX object (anything else is counted and ignored)."""
        self.seen += 1
        if not isinstance(obj, Mapping):
            return
        object_id, stix_type = obj.get("id"), obj.get("type")
        if not isinstance(object_id, str) or not isinstance(stix_type, str):
            return
        if stix_type == "marking-definition":
            self._defined.setdefault(normalise_id(object_id), definition_rank(obj))
        if self._filtered and object_rank(obj, self._defined) > self.clearance:
            self.above_clearance += 1
            return
        record = _record(obj, sys.intern(object_id), stix_type)
        if record is None:
            return
        kept = self._latest.get(object_id)
        if kept is None or record.version >= kept.version:
            self._latest[object_id] = record

    def records(self) -> dict[str, Record]:
        """Every kept object by id (revoked ones left out)."""
        return {i: r for i, r in self._latest.items() if not r.revoked}

    @property
    def revoked(self) -> int:
        """How many objects were dropped because their latest version is revoked."""
        return sum(1 for r in self._latest.values() if r.revoked)
