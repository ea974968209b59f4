"""Indicators and observables as one flat CSV table, for case systems that cannot read STIX.

One row per indicator (STIX 2.1 §4.7) and per observable (SCO, §6): the rows an
analyst imports into a case, with the context that decides what may be done with
them (TLP, confidence, who said so).  Other objects (reports, actors,
relationships…) are left out; they only give context, which the columns carry.

Columns (:data:`COLUMNS`):

``type``
    STIX type: ``indicator``, or the observable's type (``domain-name``, ``url``,
    ``ipv4-addr``, ``file``, ``cryptocurrency-wallet``, ``bank-account``…).
``value``
    The observable: its ``value`` (domain, URL, IP, e-mail, wallet, phone), an
    account's ``user_id``, a file's SHA-256 (else MD5, SHA-1, name), an AS number,
    an IBAN…  For an indicator whose pattern compares one property with one value
    (``[domain-name:value = 'x.example']``), that value.
``pattern``
    The indicator's STIX pattern (empty for observables).
``name``, ``description``
    As given (indicators; empty for most observables).
``indicator_types``, ``labels``
    Lists, joined with ``;``.
``tlp``
    ``TLP:CLEAR`` … ``TLP:RED`` from the object's markings as the server ranks them
    (TLP 2.0, 1.0 mapped to 2.0, OpenCTI's, marking definitions in the pulled data),
    ``ADMIN-ONLY`` when one cannot be ranked, empty when it has none.
``confidence``
    0–100, empty when not given.
``valid_from``, ``valid_until``
    The indicator's validity (empty for observables).
``created``, ``modified``
    The object's own timestamps (observables have none).
``created_by``
    The producer's name when its identity is in the pulled data, else its id.
``id``
    The STIX id, to find the object again.
``collection``
    The title of the collection it was pulled from.

Cells a spreadsheet would run as a formula (starting with ``=``, tab or carriage
return, or with ``+``, ``-`` or ``@`` followed by an operator, a call or a DDE ``|``)
are prefixed with ``'``: observables are chosen by criminals, and a case file is
opened by investigators (OWASP, "CSV injection").
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping, Sequence
from typing import Any

from converters.tlp import defined_ranks, label_of_rank, marking_rank, marking_refs

__all__ = ["COLUMNS", "case_table"]

COLUMNS: tuple[str, ...] = (
    "type",
    "value",
    "pattern",
    "name",
    "description",
    "indicator_types",
    "labels",
    "tlp",
    "confidence",
    "valid_from",
    "valid_until",
    "created",
    "modified",
    "created_by",
    "id",
    "collection",
)

# One comparison of one property with one quoted string: [type:path = 'value'].
_SIMPLE_PATTERN = re.compile(r"\[\s*[a-z0-9-]+:[^\s=]+\s*=\s*'((?:[^'\\]|\\.)*)'\s*\]")
# A cell starting with "=" is a formula; one starting with "+", "-" or "@" is one only
# with an operator, call or DDE reference after it.  A Telegram handle ("@name"), a
# phone number ("+31 6 …") or a negative number stays as it is.
_ALWAYS_FORMULA = ("=", "\t", "\r")
_MAYBE_FORMULA = ("+", "-", "@")
_FORMULA_SIGNS = frozenset("=+()|!;\"'*/&^%<>")
# Where an observable's value is, per type; the first present wins.
_VALUE_PROPERTIES: Mapping[str, tuple[str, ...]] = {
    "autonomous-system": ("number",),
    "bank-account": ("iban", "account_number"),
    "directory": ("path",),
    "email-message": ("subject",),
    "mutex": ("name",),
    "process": ("command_line", "pid"),
    "software": ("name",),
    "user-account": ("user_id", "account_login", "display_name"),
    "windows-registry-key": ("key",),
    "x509-certificate": ("serial_number", "subject"),
}
_HASH_ORDER = ("SHA-256", "SHA-512", "SHA-1", "MD5")
# Types that are neither observables nor indicators though they lack `created`.
_NOT_OBSERVABLES = frozenset({"bundle"})


def _is_observable(obj: Mapping[str, Any]) -> bool:
    # STIX 2.1 requires `created` on every SDO, SRO and meta object, and defines it on
    # none of the SCOs: its absence is what marks an observable, custom types included.
    return "created" not in obj and obj.get("type") not in _NOT_OBSERVABLES


def _unescape(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text)


def _hash(hashes: object) -> str:
    if not isinstance(hashes, dict):
        return ""
    for algorithm in _HASH_ORDER:
        if isinstance(hashes.get(algorithm), str):
            return str(hashes[algorithm])
    return next((str(v) for v in hashes.values() if isinstance(v, str)), "")


def _value(obj: Mapping[str, Any]) -> str:
    if obj.get("type") == "indicator":
        pattern = obj.get("pattern")
        match = _SIMPLE_PATTERN.fullmatch(pattern) if isinstance(pattern, str) else None
        return _unescape(match.group(1)) if match else ""
    if obj.get("type") in ("file", "artifact"):
        return _hash(obj.get("hashes")) or str(obj.get("name", ""))
    for prop in (*_VALUE_PROPERTIES.get(str(obj.get("type")), ()), "value", "name"):
        if obj.get(prop) not in (None, ""):
            return str(obj[prop])
    return ""


def _tlp(obj: Mapping[str, Any], defined: Mapping[str, int]) -> str:
    refs = marking_refs(obj)
    return label_of_rank(marking_rank(refs, defined)) if refs else ""


def _listed(value: object) -> str:
    return ";".join(str(v) for v in value) if isinstance(value, list) else ""


def _text(value: object) -> str:
    return "" if value is None or isinstance(value, (dict, list)) else str(value)


def _safe(cell: str) -> str:
    if cell.startswith(_ALWAYS_FORMULA) or (
        cell.startswith(_MAYBE_FORMULA) and any(c in _FORMULA_SIGNS for c in cell[1:])
    ):
        return f"'{cell}"
    return cell


def _row(
    obj: Mapping[str, Any],
    producers: Mapping[str, str],
    collection: str,
    defined: Mapping[str, int],
) -> list[str]:
    creator = obj.get("created_by_ref")
    creator_text = producers.get(creator, creator) if isinstance(creator, str) else ""
    cells = {
        "type": _text(obj.get("type")),
        "value": _value(obj),
        "pattern": _text(obj.get("pattern")) if obj.get("type") == "indicator" else "",
        "name": _text(obj.get("name")) if not _is_observable(obj) else "",
        "description": _text(obj.get("description")),
        "indicator_types": _listed(obj.get("indicator_types")),
        "labels": _listed(obj.get("labels")),
        "tlp": _tlp(obj, defined),
        "confidence": _text(obj.get("confidence")),
        "valid_from": _text(obj.get("valid_from")),
        "valid_until": _text(obj.get("valid_until")),
        "created": _text(obj.get("created")),
        "modified": _text(obj.get("modified")),
        "created_by": creator_text or "",
        "id": _text(obj.get("id")),
        "collection": collection,
    }
    return [_safe(cells[column]) for column in COLUMNS]


def case_table(objects: Sequence[Mapping[str, Any]], collection: str) -> bytes:
    """The CSV (UTF-8, header row, ``\\r\\n`` line ends as RFC 4180 says) of the
    indicators and observables among ``objects``, pulled from ``collection``."""
    producers = {
        str(o["id"]): str(o["name"])
        for o in objects
        if o.get("type") == "identity" and isinstance(o.get("name"), str) and "id" in o
    }
    defined = defined_ranks(objects)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for obj in objects:
        if obj.get("type") == "indicator" or _is_observable(obj):
            writer.writerow(_row(obj, producers, collection, defined))
    return out.getvalue().encode("utf-8")
