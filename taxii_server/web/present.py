"""STIX objects made readable for the workbench's templates.

Everything here returns plain data (strings, lists, mappings) for the templates to
render with Jinja's autoescaping: nothing is marked safe, and a URL becomes a link
only when it is ``http`` or ``https`` (:func:`link_url`): an external reference to
``javascript:…`` or ``data:…`` is shown as text.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from converters.tlp import RANK_BY_MARKING_ID, level_of_rank
from taxii_server.query import ID_PATTERN
from taxii_server.timestamps import format_timestamp

__all__ = [
    "COMMON_TYPES",
    "LEVELS",
    "dict_without",
    "is_stix_id",
    "marking_label",
    "tlp_level",
    "link_url",
    "property_rows",
    "stamp",
    "title_of",
    "tlp_of",
]

#: TLP 2.0 levels in rank order (0 … 4), as the filters offer them.
LEVELS = ("clear", "green", "amber", "amber+strict", "red")
#: Types offered in the type filter (any other can be typed).
COMMON_TYPES = (
    "attack-pattern",
    "bank-account",
    "campaign",
    "course-of-action",
    "cryptocurrency-wallet",
    "domain-name",
    "email-addr",
    "identity",
    "indicator",
    "infrastructure",
    "intrusion-set",
    "ipv4-addr",
    "location",
    "malware",
    "note",
    "phone-number",
    "relationship",
    "report",
    "sighting",
    "threat-actor",
    "tool",
    "url",
    "user-account",
)
#: Shown apart from the property table (header, markings, raw JSON).
_APART = frozenset(
    {
        "type",
        "id",
        "spec_version",
        "object_marking_refs",
        "granular_markings",
        "external_references",
    }
)
_TITLE_KEYS = ("name", "value", "display_name", "account_login", "iban", "address", "pattern")


_ID_RE = re.compile(rf"^{ID_PATTERN}\Z")


def is_stix_id(text: object) -> bool:
    """Whether ``text`` is a STIX identifier (``type--UUID``), which a link may name."""
    return isinstance(text, str) and bool(_ID_RE.match(text))


def tlp_level(rank: int) -> str:
    """The TLP 2.0 level of a rank (a user's clearance)."""
    return level_of_rank(rank)


def marking_label(marking_id: str) -> str | None:
    """The TLP level a marking definition id stands for, or ``None``."""
    rank = RANK_BY_MARKING_ID.get(marking_id)
    return None if rank is None else level_of_rank(rank)


def dict_without(mapping: Mapping[str, Any], *keys: str) -> dict[str, Any]:
    """A copy of ``mapping`` without ``keys`` (query arguments for a link)."""
    return {k: v for k, v in mapping.items() if k not in keys}


def title_of(body: Mapping[str, Any], names: Mapping[str, str] | None = None) -> str:
    """What a person calls the object: its name, value or pattern, else its id; a
    relationship by its ends (their ``names`` when known)."""
    known = names or {}
    if body.get("type") == "relationship":
        kind = body.get("relationship_type", "related-to")
        source, target = str(body.get("source_ref", "?")), str(body.get("target_ref", "?"))
        return f"{known.get(source, source)} {kind} {known.get(target, target)}"
    for key in _TITLE_KEYS:
        value = body.get(key)
        if isinstance(value, str) and value:
            return value
    if body.get("type") == "location":  # STIX 2.1 §4.11: no name needed
        parts = [body.get(k) for k in ("city", "administrative_area", "region", "country")]
        place = ", ".join(p for p in parts if isinstance(p, str) and p)
        if place:
            return place
    return str(body.get("id", ""))


def tlp_of(rank: int) -> str:
    """The TLP 2.0 level of an object's rank (``browsing.rank_of``): ``clear`` …
    ``red``, or ``admin-only``."""
    return level_of_rank(rank)


def stamp(micros: int) -> str:
    """A ``date_added`` in microseconds as a STIX timestamp."""
    return format_timestamp(micros)


def link_url(url: object) -> str | None:
    """``url`` when it may be a link (an absolute http or https URL), else ``None``."""
    if not isinstance(url, str):
        return None
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    return url.strip()


def property_rows(body: Mapping[str, Any]) -> list[tuple[str, Any]]:
    """The object's properties but those shown apart, in a stable reading order:
    common properties first (STIX 2.1 §3.2), then the rest by name."""
    first: tuple[str, ...] = ("name", "value", "description", "pattern", "pattern_type")
    first += ("relationship_type", "source_ref", "target_ref", "created", "modified")
    first += ("created_by_ref",)
    rows = [(key, body[key]) for key in first if key in body]
    rows += sorted((k, v) for k, v in body.items() if k not in _APART and k not in first)
    return rows
