"""Checks a JSON Schema cannot express, and normalisation of a package's items.

Refs that point nowhere or to the wrong kind of item, refs used twice, values that
are not what their type says (via :mod:`converters.normalize`), timestamps that are
not real moments or run backwards, wallet addresses and IBANs whose checksums fail
(:mod:`converters.checksums`; errors unless the :class:`Policy` is lenient), and data
points whose vetting status is ``unverified`` (refused unless the policy allows them;
then their confidence is lowered to :data:`UNVERIFIED_CONFIDENCE`).  Also applies the
format's defaults (TLP and confidence inherited from the package, ``first_published``
= ``published``, vetting status ``vetted``, motivation ``personal-gain``) so that
every mapping sees them.
Every check runs on every item: a package is refused with all its problems at once.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from .checksums import iban_problem, wallet_problem
from .csv_points import column_of
from .errors import Severity, SourceProblem
from .normalize import InvalidValue, is_iban, normalize_value
from .timestamps import InvalidTimestamp, stix_timestamp
from .tlp import LEVELS, rank_of_level

__all__ = [
    "REF_FIELDS",
    "SECTIONS",
    "UNVERIFIED_CONFIDENCE",
    "Entry",
    "Policy",
    "check_entries",
    "check_root",
    "json_path",
]

#: Item sections of a package, in the order the format lists them.
SECTIONS: Final = ("actors", "services", "data_points", "chokepoints", "sources")

#: Which sections each ref field may point into (research-package.md).
REF_FIELDS: Final[Mapping[str, Mapping[str, tuple[str, ...]]]] = {
    "actors": {"sources": ("sources",)},
    "services": {"operated_by": ("actors",), "used_by": ("actors",), "sources": ("sources",)},
    "data_points": {"linked_to": ("actors", "services"), "sources": ("sources",)},
    "chokepoints": {"targets": ("services", "actors", "data_points")},
}

#: Confidence of an unverified data point converted anyway (at most; a lower one is
#: kept): "Low" on the None/Low/Med/High scale of STIX 2.1 Appendix A.
UNVERIFIED_CONFIDENCE: Final = 15


@dataclass(frozen=True, slots=True)
class Policy:
    """What a check tolerates.

    ``strict``: warnings are errors.  ``lenient``: a wallet or IBAN checksum that fails
    is a warning instead of an error.  ``allow_unverified``: data points whose vetting
    status is ``unverified`` are accepted (with :data:`UNVERIFIED_CONFIDENCE`) instead
    of refused.
    """

    strict: bool = False
    lenient: bool = False
    allow_unverified: bool = False


_KIND: Final = {
    "actors": "an actor",
    "services": "a service",
    "data_points": "a data point",
    "chokepoints": "a chokepoint",
    "sources": "a source",
}


def json_path(base: str, elements: tuple[str | int, ...]) -> str:
    """``json_path("$.actors[0]", ("identity", "name"))`` -> ``$.actors[0].identity.name``."""
    parts = [base]
    for element in elements:
        parts.append(f"[{element}]" if isinstance(element, int) else f".{element}")
    return "".join(parts)


@dataclass(slots=True)
class Entry:
    """An item while it is checked: its section, where it is, and its fields."""

    section: str
    location: str  # "$.actors[0]" or "points.csv:17"
    fields: dict[str, Any]
    csv_file: str | None = None  # the side file's path, for rows read from it

    def key(self, elements: tuple[str | int, ...]) -> str:
        """Identity of a position, to skip values the schema already refused."""
        if self.csv_file is not None:
            return f"{self.location}#{column_of(elements)}"
        return json_path(self.location, elements)

    def problem(
        self, elements: tuple[str | int, ...], message: str, severity: Severity = "error"
    ) -> SourceProblem:
        """A problem at ``elements`` inside this item."""
        if self.csv_file is not None:
            column = column_of(elements)
            text = f"column {column}: {message}" if column else message
            return SourceProblem(self.location, text, self.csv_file, severity=severity)
        return SourceProblem(json_path(self.location, elements), message, severity=severity)


@dataclass(slots=True)
class _Report:
    skip: set[str]
    problems: list[SourceProblem] = field(default_factory=list)

    def add(self, entry: Entry, elements: tuple[str | int, ...], message: str) -> None:
        if entry.key(elements) not in self.skip:
            self.problems.append(entry.problem(elements, message))


def _later(a: str, b: str) -> bool:
    """Whether STIX timestamp ``a`` is after ``b`` (3 or 6 fractional digits)."""
    return a[:-1].ljust(26, "0") > b[:-1].ljust(26, "0")


def _timestamp(report: _Report, entry: Entry, holder: dict[str, Any], *path: str) -> None:
    value = holder.get(path[-1])
    if not isinstance(value, str):
        return
    try:
        holder[path[-1]] = stix_timestamp(value)
    except InvalidTimestamp as exc:
        report.add(entry, tuple(path), str(exc))
        holder.pop(path[-1])


def check_root(root: dict[str, Any], skip: set[str]) -> list[SourceProblem]:
    """Normalise the package's own timestamps in place; problems with them."""
    report = _Report(skip)
    entry = Entry("package", "$", root)
    for name in ("published", "first_published"):
        _timestamp(report, entry, root, name)
    published, first = root.get("published"), root.get("first_published")
    if isinstance(published, str):
        if first is None:
            root["first_published"] = published
        elif isinstance(first, str) and _later(first, published):
            report.add(entry, ("first_published",), f"{first} is after published ({published})")
    return report.problems


def check_entries(
    root: Mapping[str, Any], entries: list[Entry], skip: set[str], policy: Policy = Policy()
) -> list[SourceProblem]:
    """Check and normalise every item in place; return problems (errors and warnings)."""
    report = _Report(skip)
    by_ref: dict[str, Entry] = {}
    for entry in entries:
        ref = entry.fields.get("ref")
        if isinstance(ref, str):
            if ref in by_ref:
                message = f"ref {ref!r} is already used by {by_ref[ref].location}"
                report.add(entry, ("ref",), message)
            else:
                by_ref[ref] = entry
    for entry in entries:
        fields = entry.fields
        _inherit(root, fields)
        for name in ("first_seen", "last_seen", "retrieved"):
            if name in fields:  # most items have none of them
                _timestamp(report, entry, fields, name)
        first, last = fields.get("first_seen"), fields.get("last_seen")
        if isinstance(first, str) and isinstance(last, str) and _later(first, last):
            report.add(entry, ("last_seen",), f"{last} is before first_seen ({first})")
        for ref_field, sections in REF_FIELDS.get(entry.section, {}).items():
            _check_refs(report, entry, ref_field, sections, by_ref)
        if entry.section == "data_points":
            _data_point(report, entry, policy)
        elif entry.section == "actors":
            fields.setdefault("motivation", "personal-gain")
    for entry in entries:
        _withhold_restricted_sources(report, entry, by_ref)
    return report.problems


def _withhold_restricted_sources(
    report: _Report, entry: Entry, by_ref: Mapping[str, Entry]
) -> None:
    """Drop cited sources whose TLP is more restrictive than the citing item's.

    A source becomes an external reference on the objects of every item that cites
    it; a TLP:RED liaison note cited by a TLP:AMBER service would reach every amber
    reader.  Such a citation is withheld, with a warning saying how to keep it
    (mark the item at least as restrictively as the source).
    """
    refs = entry.fields.get("sources")
    if not isinstance(refs, list) or entry.fields.get("tlp") not in LEVELS:
        return  # an invalid tlp has been reported already
    level = rank_of_level(entry.fields["tlp"])
    kept = []
    for index, ref in enumerate(refs):
        source = by_ref.get(ref) if isinstance(ref, str) else None
        source_tlp = source.fields.get("tlp") if source is not None else None
        if source_tlp not in LEVELS or rank_of_level(source_tlp) <= level:
            kept.append(ref)
            continue
        message = (
            f"source {ref!r} is tlp {source_tlp}, more restrictive than this item's "
            f"{entry.fields['tlp']}: it is not cited on the item's STIX objects"
        )
        report.problems.append(entry.problem(("sources", index), message, "warning"))
    if len(kept) != len(refs):
        if kept:
            entry.fields["sources"] = kept
        else:
            del entry.fields["sources"]


def _inherit(root: Mapping[str, Any], fields: dict[str, Any]) -> None:
    if "tlp" in root:
        fields.setdefault("tlp", root["tlp"])
    if "confidence" in root:
        fields.setdefault("confidence", root["confidence"])


def _check_refs(
    report: _Report,
    entry: Entry,
    name: str,
    sections: tuple[str, ...],
    by_ref: Mapping[str, Entry],
) -> None:
    refs = entry.fields.get(name)
    if not isinstance(refs, list):
        return
    own = entry.fields.get("ref", "?")
    for index, ref in enumerate(refs):
        if not isinstance(ref, str):
            continue
        target = by_ref.get(ref)
        if target is None:
            close = difflib.get_close_matches(ref, list(by_ref), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            message = f"{_KIND[entry.section]} {own!r} refers to {ref!r}, which no item has{hint}"
            report.add(entry, (name, index), message)
        elif target.section not in sections:
            expected = " or ".join(s.replace("_", " ") for s in sections)
            message = f"{ref!r} is {_KIND[target.section]}; {name} takes refs of {expected}"
            report.add(entry, (name, index), message)


def _data_point(report: _Report, entry: Entry, policy: Policy) -> None:
    fields = entry.fields
    vetting = fields.get("vetting")
    if vetting is None:
        fields["vetting"] = {"status": "vetted"}
    elif isinstance(vetting, dict):
        vetting.setdefault("status", "vetted")
        _timestamp(report, entry, vetting, "vetting", "at")
        if vetting["status"] == "unverified":
            _unverified(report, entry, policy)
    kind, value = fields.get("type"), fields.get("value")
    if not isinstance(kind, str) or isinstance(value, bool) or not isinstance(value, str | int):
        return
    skip = report.skip  # positions the schema refused (usually none)
    if skip and (entry.key(("value",)) in skip or entry.key(("type",)) in skip):
        return
    try:
        fields["value"] = normalized = normalize_value(kind, value)
    except InvalidValue as exc:
        report.add(entry, ("value",), str(exc))
        return
    except KeyError:
        return  # unknown type: the schema has reported it
    severity: Severity = "warning" if policy.lenient else "error"
    problem = None
    if kind == "crypto-wallet" and isinstance(value, str):
        # Before normalisation: EIP-55 lives in the case that hex addresses lose.
        currency = fields.get("currency")
        problem = wallet_problem(value.strip(), currency if isinstance(currency, str) else None)
        if problem is not None:
            problem = f"{currency} address {value.strip()} {problem}"
    elif kind == "bank-account" and isinstance(normalized, str) and is_iban(normalized):
        problem = iban_problem(normalized)
    if problem is not None:
        hint = " (--lenient makes this a warning)" if severity == "error" else ""
        report.problems.append(entry.problem(("value",), problem + hint, severity))


def _unverified(report: _Report, entry: Entry, policy: Policy) -> None:
    """Refuse an unverified data point, or lower its confidence when they are allowed."""
    fields = entry.fields
    if policy.allow_unverified:
        confidence = fields.get("confidence")
        if not isinstance(confidence, int) or confidence > UNVERIFIED_CONFIDENCE:
            fields["confidence"] = UNVERIFIED_CONFIDENCE
        return
    message = (
        f"data point {fields.get('ref', '?')!r} is unverified: vet it (vetting.status: "
        "vetted) or convert with --allow-unverified"
    )
    report.add(entry, ("vetting", "status"), message)
