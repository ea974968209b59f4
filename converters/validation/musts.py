"""STIX 2.1 MUST rules the JSON schemas cannot express.

Which of ``stix2-validator``'s MUST checks (``stix2validator/v21/musts.py``) live here,
and why, is in :data:`RULES_KEPT` and :data:`RULES_LEFT_OUT`; the real-date check on
timestamps is a schema refinement (:mod:`.timestamps`).  Each rule appends
:class:`~.problems.Failure` s and never raises, whatever shape the object has: it runs
on objects that may also have failed the schema.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any, Final

from .pattern_grammar import PROPERTY_NAME
from .patterns import pattern_problems
from .problems import Failure, show
from .timestamps import TIMESTAMP_SHAPE, date_problem, order_key

__all__ = ["RULES_KEPT", "RULES_LEFT_OUT", "Must", "musts_for"]

#: A rule: inspects an object, appends failures.
Must = Callable[[dict[str, Any], list[Failure]], None]

RULES_KEPT: Final[Mapping[str, str]] = {
    "timestamp": "timestamps are real dates: consumers parse them (schema refinement)",
    "timestamp_compare": "modified >= created and the type-specific orderings: versioning "
    "and time windows break otherwise",
    "observable_timestamp_compare": "network-traffic end >= start, as above",
    "object_marking_circular_refs": "a marking definition marking itself loops consumers",
    "granular_markings_circular_refs": "as above, for granular markings",
    "marking_selector_syntax": "a selector must point into the object, or the marking "
    "applies to nothing (STIX 2.1 §7.2.3, granular markings)",
    "patterns": "detection tools compile indicator patterns; one that does not parse is "
    "useless and may break the import",
    "language_contents": "the keys of contents are language tags and property names",
    "language": "lang is an RFC 5646 tag; we check its form, not a fixed list",
    "uuid_version_check": "SCOs without ID contributing properties use UUIDv4 ids "
    "(STIX 2.1, Identifier)",
    "process": "process ids are UUIDv4 (STIX 2.1, Identifier)",
    "id prefix": "the id starts with the object's type (STIX 2.1, Identifier); the schemas "
    "only check this for the types they define, we check it for custom types too",
}

RULES_LEFT_OUT: Final[Mapping[str, str]] = {
    "artifact_mime_type": "membership in a snapshot of the IANA media type registry: "
    "registries grow, a consumer does not choke on a new type",
    "character_set": "same, for the IANA character set registry",
    "software_language": "same, for a fixed list of language codes",
    "cpe_check": "CPE 2.3 well-formedness of software.cpe is informational to consumers",
    "observable_object_references": "the deprecated observed-data.objects references; "
    "the reference resolves them as dictionary keys (STIX 2.0 style), which 2.1 "
    "objects, whose refs are identifiers, cannot satisfy",
    "language (list)": "stix2-validator accepts 232 listed tags and rejects valid "
    "RFC 5646 ones such as zh-Hans or es-419; we check the tag's form instead",
}

_IDENTIFIER: Final = re.compile(
    r"[a-z][a-z0-9-]+[a-z0-9]--[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[1-5][0-9a-fA-F]{3}-"
    r"[89abAB][0-9a-fA-F]{3}-[0-9a-fA-F]{12}\Z"
)
_INDEX: Final = re.compile(r"\[(\d+)\]\Z")

# RFC 5646 §2.1 Language-Tag, case-insensitive (langtag / privateuse / grandfathered).
_ALNUM = "[a-z0-9]"
_LANGTAG = (
    rf"(?:[a-z]{{2,3}}(?:-[a-z]{{3}}){{0,3}}|[a-z]{{4}}|[a-z]{{5,8}})"
    rf"(?:-[a-z]{{4}})?(?:-(?:[a-z]{{2}}|[0-9]{{3}}))?"
    rf"(?:-(?:{_ALNUM}{{5,8}}|[0-9]{_ALNUM}{{3}}))*"
    rf"(?:-[0-9a-wyz](?:-{_ALNUM}{{2,8}})+)*"
    rf"(?:-x(?:-{_ALNUM}{{1,8}})+)?"
)
_GRANDFATHERED = (
    "en-gb-oed|i-ami|i-bnn|i-default|i-enochian|i-hak|i-klingon|i-lux|i-mingo|i-navajo|"
    "i-pwn|i-tao|i-tay|i-tsu|sgn-be-fr|sgn-be-nl|sgn-ch-de|art-lojban|cel-gaulish|no-bok|"
    "no-nyn|zh-guoyu|zh-hakka|zh-min|zh-min-nan|zh-xiang"
)
_LANGUAGE_TAG: Final = re.compile(
    rf"(?:{_LANGTAG}|x(?:-{_ALNUM}{{1,8}})+|{_GRANDFATHERED})\Z", re.IGNORECASE | re.ASCII
)

# STIX 2.1 property descriptions: "<later> MUST be greater than (or equal to) <earlier>".
_ORDERINGS: Final[Mapping[str, tuple[tuple[str, str, bool], ...]]] = {
    "campaign": (("last_seen", "first_seen", False),),
    "indicator": (("valid_until", "valid_from", True),),
    "infrastructure": (("last_seen", "first_seen", False),),
    "intrusion-set": (("last_seen", "first_seen", False),),
    "malware": (("last_seen", "first_seen", False),),
    "observed-data": (("last_observed", "first_observed", False),),
    "relationship": (("stop_time", "start_time", True),),
    "sighting": (("last_seen", "first_seen", False),),
    "threat-actor": (("last_seen", "first_seen", False),),
    "network-traffic": (("end", "start", False),),
}

# STIX 2.1 §6 (each SCO's ID contributing properties): SCOs whose ID contributing
# properties are all optional; without any of them the id MUST be a UUIDv4.  A process
# has none at all.
_CONTRIBUTING: Final[Mapping[str, tuple[str, ...]]] = {
    "artifact": ("hashes", "payload_bin"),
    "email-message": ("from_ref", "subject", "body"),
    "user-account": ("account_type", "user_id", "account_login"),
    "windows-registry-key": ("key", "values"),
    "x509-certificate": ("hashes", "serial_number"),
    "process": (),
}


def _ordering(later: str, earlier: str, strict: bool) -> Must:
    relation = "later than" if strict else "later than or equal to"

    def check(obj: dict[str, Any], out: list[Failure]) -> None:
        late, early = obj.get(later), obj.get(earlier)
        if late == early and not strict:
            return  # the common case: modified == created
        if not (isinstance(late, str) and isinstance(early, str)):
            return
        late_key, early_key = order_key(late), order_key(early)
        if late_key > early_key or (not strict and late_key == early_key):
            return
        # A malformed or impossible timestamp is reported by the schema, once.
        if all(TIMESTAMP_SHAPE.match(v) and date_problem(v) is None for v in (late, early)):
            message = f"{show(late)} must be {relation} {earlier} ({show(early)})"
            out.append(Failure((later,), message))

    return check


def _real_dates(obj: dict[str, Any], out: list[Failure]) -> None:
    # SCO schemas do not define created/modified, so these are custom properties
    # there; the reference still holds them to be real dates, as SDOs'.
    for name in ("created", "modified"):
        value = obj.get(name)
        problem = date_problem(value) if isinstance(value, str) else None
        if problem and TIMESTAMP_SHAPE.match(str(value)):
            out.append(Failure((name,), problem))


def _id_matches_type(obj: dict[str, Any], out: list[Failure]) -> None:
    object_id, object_type = obj.get("id"), obj.get("type")
    if (
        isinstance(object_id, str)
        and isinstance(object_type, str)
        and not object_id.startswith(object_type + "--")
    ):
        message = f"{show(object_id)} must start with the object's type, {object_type}--"
        out.append(Failure(("id",), message))


def _uuid_v4(contributing: tuple[str, ...]) -> Must:
    def check(obj: dict[str, Any], out: list[Failure]) -> None:
        object_id = obj.get("id")
        if not isinstance(object_id, str) or not _IDENTIFIER.match(object_id):
            return
        if any(name in obj for name in contributing):
            return
        if object_id[-22] != "4":  # the version digit of the UUID
            if contributing:
                names = ", ".join(contributing)
                reason = f"without any of its ID contributing properties ({names})"
            else:
                reason = "as it has no ID contributing properties"
            message = f"{show(object_id)} must use a UUIDv4 {reason} (STIX 2.1, Identifier)"
            out.append(Failure(("id",), message))

    return check


def _marks_itself(obj: dict[str, Any], out: list[Failure]) -> None:
    own = obj.get("id")
    refs = obj.get("object_marking_refs")
    if isinstance(refs, list):
        for index, ref in enumerate(refs):
            if ref == own:
                message = "a marking definition must not mark itself"
                out.append(Failure(("object_marking_refs", index), message))
    markings = obj.get("granular_markings")
    if isinstance(markings, list):
        for index, marking in enumerate(markings):
            if isinstance(marking, dict) and marking.get("marking_ref") == own:
                message = "a marking definition must not mark itself"
                out.append(Failure(("granular_markings", index, "marking_ref"), message))


def _selectors(obj: dict[str, Any], out: list[Failure]) -> None:
    markings = obj.get("granular_markings")
    if not isinstance(markings, list):
        return
    for index, marking in enumerate(markings):
        selectors = marking.get("selectors") if isinstance(marking, dict) else None
        if not isinstance(selectors, list):
            continue
        for position, selector in enumerate(selectors):
            if isinstance(selector, str):
                reason = _unresolved(obj, selector)
                if reason:
                    steps = ("granular_markings", index, "selectors", position)
                    message = f"selector {show(selector)} does not point into this object: {reason}"
                    out.append(Failure(steps, message))


def _unresolved(obj: dict[str, Any], selector: str) -> str | None:
    """Why a granular-marking selector (STIX 2.1 §7.2.3.1) does not resolve, if it does not."""
    target: Any = obj
    for segment in selector.split("."):
        index = _INDEX.match(segment)
        if index is not None:
            if not isinstance(target, list):
                return f"{segment} indexes something that is not a list"
            if int(index.group(1)) >= len(target):
                return f"{segment} is past the end of a list of {len(target)}"
            target = target[int(index.group(1))]
        elif isinstance(target, dict) and segment in target:
            target = target[segment]
        else:
            return f"{show(segment)} is not a property there"
    return None


def _pattern(obj: dict[str, Any], out: list[Failure]) -> None:
    pattern = obj.get("pattern")
    if obj.get("pattern_type") != "stix" or not isinstance(pattern, str):
        return
    version = obj.get("pattern_version", obj.get("spec_version", "2.1"))
    if not isinstance(version, str):
        return  # the schema reports it
    for problem in pattern_problems(pattern, version):
        out.append(Failure(("pattern",), f"is not a valid STIX pattern: {problem}"))


def _language(obj: dict[str, Any], out: list[Failure]) -> None:
    lang = obj.get("lang")
    if isinstance(lang, str) and not _LANGUAGE_TAG.match(lang):
        out.append(Failure(("lang",), f"{show(lang)} is not an RFC 5646 language tag"))


def _contents(obj: dict[str, Any], out: list[Failure]) -> None:
    contents = obj.get("contents")
    if not isinstance(contents, dict):
        return
    for tag, translated in contents.items():
        if not _LANGUAGE_TAG.match(tag):
            message = f"{show(tag)} is not an RFC 5646 language tag"
            out.append(Failure(("contents", tag), message))
        if isinstance(translated, dict):
            for name in translated:
                if not PROPERTY_NAME.match(name):
                    message = f"{show(name)} is not a property name (3 to 250 of a-z, 0-9, _)"
                    out.append(Failure(("contents", tag, name), message))


def musts_for(stix_type: str, *, has_schema: bool, observable: bool) -> tuple[Must, ...]:
    """The rules for objects of one type.

    ``has_schema``: the OASIS schemas define the type; ``observable``: it is an SCO.
    """
    rules: list[Must] = [_ordering("modified", "created", False)]
    if observable and has_schema:
        rules.append(_real_dates)
    rules += [_ordering(*rule) for rule in _ORDERINGS.get(stix_type, ())]
    if not has_schema:
        rules.append(_id_matches_type)
    if stix_type in _CONTRIBUTING:
        rules.append(_uuid_v4(_CONTRIBUTING[stix_type]))
    if stix_type == "marking-definition":
        rules.append(_marks_itself)
    if stix_type == "indicator":
        rules.append(_pattern)
    if stix_type == "language-content":
        rules.append(_contents)
    return tuple(rules)


#: Rules on properties any object may have; run when the property is present.
BY_PROPERTY: Final[Mapping[str, Must]] = {
    "granular_markings": _selectors,
    "lang": _language,
}
