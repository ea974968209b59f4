"""MISP events -> research packages, read with PyMISP's own model classes.

Accepts what MISP and PyMISP export: one event (``{"Event": {...}}`` or the bare
event), a list of them, or a REST search answer (``{"response": [...]}``); each
event becomes one package.  What becomes what is the input mapping's business
(``mappings/misp.yaml``, :mod:`converters.inputs.misp_mapping`):

* attributes by type, objects by name (several attributes, one data point), the
  attributes of objects without a rule by their own type;
* ``tlp:`` tags -> TLP 2.0, the event's for the package, an attribute's for its data
  point; threat-actor galaxy clusters -> actors, and an attribute carrying one is
  linked to it;
* ``to_ids`` and the comment travel as ``x_misp_to_ids`` / ``x_misp_comment`` (the
  property extension in STIX); the event's UUID as ``x_misp_event_uuid``.

Everything else — attribute types, object relations, galaxies and tags the mapping
does not name, event reports — is counted in :attr:`Imported.unmapped`.  Package ids
and refs derive from MISP UUIDs, so an event converts to the same STIX ids every time.
"""

from __future__ import annotations

import datetime
import re
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from ..errors import PackageError, SourceProblem
from ..tlp import rank_of_level
from .imported import Imported, Origin, Tally
from .misp_mapping import FieldRule, MispMapping, ObjectRule, PointRule, load_misp_mapping

__all__ = ["is_misp", "read_misp"]

_POINT_FIELDS: Final = {"value": "value", "first_seen": "first_seen", "last_seen": "last_seen"}
_ROOT_FIELDS: Final = {"title": "info", "published": "timestamp", "first_published": "date"}
_COUNTRY = re.compile(r"^[A-Z]{2}\Z")
_GALAXY_TAG = "misp-galaxy:"


def is_misp(document: object) -> bool:
    """Whether a parsed JSON document has the shape of MISP events."""
    return any(True for _ in _events(document))


def _events(document: object) -> Iterator[tuple[str, dict[str, Any]]]:
    """``(JSON path, event dict)`` of each event in a MISP export: one event, wrapped
    in ``{"Event": …}`` or bare, a list of them, or a REST search's ``{"response": […]}``."""
    if isinstance(document, dict) and isinstance(document.get("response"), list):
        document, base = document["response"], "$.response"
    else:
        base = "$"
    entries = enumerate(document) if isinstance(document, list) else [(None, document)]
    for index, entry in entries:
        where = base if index is None else f"{base}[{index}]"
        if not isinstance(entry, dict):
            continue
        if isinstance(entry.get("Event"), dict):
            yield f"{where}.Event", entry["Event"]
        elif "info" in entry and ("Attribute" in entry or "Object" in entry):
            yield where, entry


def read_misp(source: Path, document: object, mapping: MispMapping | None = None) -> list[Imported]:
    """One :class:`Imported` package per event of a parsed MISP export."""
    from pymisp import MISPEvent
    from pymisp.exceptions import PyMISPError

    rules = mapping if mapping is not None else load_misp_mapping()
    imported = []
    for base, data in _events(document):
        event = MISPEvent()
        try:
            event.from_dict(**data)
        except (PyMISPError, ValueError, TypeError, KeyError) as exc:
            problem = SourceProblem(base, f"not a MISP event PyMISP can read: {exc}", str(source))
            raise PackageError(f"{source}: cannot read the MISP event", [problem]) from None
        imported.append(_EventReader(source, base, event, rules).read())
    if not imported:
        problem = SourceProblem("$", 'expected a MISP event ({"Event": {...}}) or a list of them')
        raise PackageError(f"{source}: not a MISP export", [SourceProblem(
            problem.path, problem.message, str(source))])  # fmt: skip
    return imported


def _timestamp(moment: object) -> str | None:
    if isinstance(moment, datetime.datetime):
        utc = moment.astimezone(datetime.UTC) if moment.tzinfo else moment
        return utc.strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(moment, datetime.date):
        return moment.isoformat()
    return None


@dataclass(slots=True)
class _EventReader:
    source: Path
    base: str
    event: Any
    rules: MispMapping
    tally: Tally = field(default_factory=Tally)
    points: list[dict[str, Any]] = field(default_factory=list)
    actors: dict[str, dict[str, Any]] = field(default_factory=dict)  # cluster uuid -> actor
    origins: dict[str, Origin] = field(default_factory=dict)

    def read(self) -> Imported:
        event = self.event
        tlp = self._tlp(getattr(event, "tags", []), f"{self.base}.Tag") or self.rules.default_tlp
        self._galaxies(getattr(event, "galaxies", []), f"{self.base}.Galaxy")
        for index, attribute in enumerate(event.attributes):
            self._attribute(attribute, f"{self.base}.Attribute[{index}]")
        for index, obj in enumerate(event.objects):
            self._object(obj, f"{self.base}.Object[{index}]")
        for index, report in enumerate(getattr(event, "event_reports", [])):
            where = f"{self.base}.EventReport[{index}]"
            self.tally.add("event report", "event report", getattr(report, "name", ""), where)
        document = self._root(tlp)
        actors = list(self.actors.values())
        for index, actor in enumerate(actors):
            self.origins[f"$.actors[{index}]"] = actor.pop("_origin")
        if actors:
            document["actors"] = actors
        if self.points:
            document["data_points"] = self.points
        self.origins["$"] = Origin(self.base, _ROOT_FIELDS)
        return Imported("misp", self.source, document, self.origins, self.tally.report(self.source))

    def _root(self, tlp: str) -> dict[str, Any]:
        event = self.event
        event_uuid = str(getattr(event, "uuid", "") or uuid.uuid5(uuid.NAMESPACE_URL, self.base))
        date = getattr(event, "date", None)
        published = _timestamp(getattr(event, "timestamp", None)) or _timestamp(date)
        first = _timestamp(date)
        year = date.year if isinstance(date, datetime.date) else 2000
        authors = [
            {"name": name}
            for name in dict.fromkeys(
                getattr(getattr(event, key, None), "name", None) for key in ("Orgc", "Org")
            )
            if isinstance(name, str) and name.strip()
        ]
        document: dict[str, Any] = {
            "format": "atlas-package/1",
            "id": _package_id(self.rules.id_prefix, year, event_uuid),
            "revision": 1,
            "title": " ".join(str(getattr(event, "info", "") or "MISP event").split()),
            "published": published,
            "tlp": tlp,
            "authors": authors or [{"name": "unknown MISP organisation"}],
            "x_misp_event_uuid": event_uuid,
        }
        if first is not None and published is not None and first[:10] <= published[:10]:
            document["first_published"] = first
        return document

    # --- tags and galaxies -------------------------------------------------------------

    def _tlp(self, tags: list[Any], where: str) -> str | None:
        """The most restrictive TLP among ``tags``; other tags are counted as unmapped."""
        levels = []
        for index, tag in enumerate(tags):
            name = str(getattr(tag, "name", ""))
            level = self.rules.tlp_tags.get(name.lower())
            if level is not None:
                levels.append(level)
            elif not name.startswith(_GALAXY_TAG):  # galaxy tags are read as galaxies
                self.tally.add("tag", name, name, f"{where}[{index}]")
        return max(levels, key=rank_of_level) if levels else None

    def _galaxies(self, galaxies: list[Any], where: str) -> list[str]:
        """Actors made of mapped galaxies' clusters (their refs); others counted."""
        refs = []
        for g_index, galaxy in enumerate(galaxies):
            kind = self.rules.galaxies.get(str(getattr(galaxy, "type", "")))
            for c_index, cluster in enumerate(getattr(galaxy, "clusters", [])):
                path = f"{where}[{g_index}].GalaxyCluster[{c_index}]"
                if kind is None:
                    name = str(getattr(galaxy, "type", "") or getattr(galaxy, "name", ""))
                    self.tally.add("galaxy", name, getattr(cluster, "value", ""), path)
                    continue
                refs.append(self._actor(cluster, kind, path))
        return refs

    def _actor(self, cluster: Any, kind: str, path: str) -> str:
        key = str(getattr(cluster, "uuid", "") or getattr(cluster, "value", ""))
        actor = self.actors.get(key)
        if actor is None:
            meta = getattr(cluster, "meta", None) or {}
            actor = {"ref": _ref("actor", key), "name": str(cluster.value).strip(), "kind": kind}
            names = [s for s in meta.get("synonyms", []) if isinstance(s, str) and s.strip()]
            if names:
                actor["aliases"] = list(dict.fromkeys(n.strip() for n in names))
            countries = meta.get("country", [])
            codes = [countries] if isinstance(countries, str) else list(countries)
            valid = [c.upper() for c in codes if isinstance(c, str) and _COUNTRY.match(c.upper())]
            for code in codes:
                if not (isinstance(code, str) and _COUNTRY.match(code.upper())):
                    self.tally.add("galaxy country", str(code), cluster.value, path)
            if valid:
                actor["countries"] = list(dict.fromkeys(valid))
            actor["_origin"] = Origin(path, {"name": "value", "aliases": "meta.synonyms",
                                             "countries": "meta.country"})  # fmt: skip
            self.actors[key] = actor
        ref: str = actor["ref"]
        return ref

    # --- attributes and objects --------------------------------------------------------

    def _attribute(self, attribute: Any, path: str, *, within: str = "") -> None:
        kind = str(attribute.type)
        rules = self.rules.attributes.get(kind)
        if rules is None:
            self.tally.add("attribute type", kind + within, attribute.value, path)
            return
        for index, rule in enumerate(rules):
            value = _part(attribute.value, rule.part)
            if value is None:
                self.tally.add("attribute type", kind + within, attribute.value, path)
                continue
            suffix = f"-{index}" if len(rules) > 1 else ""
            point = {"ref": _ref("misp", str(attribute.uuid)) + suffix, "type": rule.type}
            self._point(point, rule, attribute, value, {}, None)
            fields = dict(_POINT_FIELDS)
            self._finish(point, attribute, attribute, path, fields)

    def _object(self, obj: Any, path: str) -> None:
        rule = self.rules.objects.get(str(obj.name))
        if rule is None:
            for index, attribute in enumerate(obj.attributes):
                self._attribute(attribute, f"{path}.Attribute[{index}]", within=" (in objects)")
            return
        relations: dict[str, tuple[int, Any]] = {}
        for index, attribute in enumerate(obj.attributes):
            relations.setdefault(str(attribute.object_relation), (index, attribute))
        found = next((r for r in rule.value if r in relations), None)
        if found is None:
            wanted = " or ".join(rule.value)
            self.tally.add("object", f"{obj.name} without {wanted}", obj.name, path)
            return
        used = rule.relations()
        for name, (index, attribute) in relations.items():
            if name not in used:
                where = f"{path}.Attribute[{index}]"
                self.tally.add("object relation", f"{obj.name}.{name}", attribute.value, where)
        index, attribute = relations[found]
        point = {"ref": _ref("misp", str(obj.uuid)), "type": rule.type}
        self._point(point, rule, attribute, str(attribute.value), relations, found)
        fields = {"value": f"Attribute[{index}].value", "first_seen": "first_seen",
                  "last_seen": "last_seen"}  # fmt: skip
        self._finish(point, obj, attribute, path, fields)

    def _point(
        self,
        point: dict[str, Any],
        rule: PointRule | ObjectRule,
        attribute: Any,
        value: str,
        relations: Mapping[str, tuple[int, Any]],
        value_relation: str | None,
    ) -> None:
        if point["type"] == "ip":
            point["type"] = "ipv6" if ":" in value else "ipv4"
        point["value"] = value.strip()
        for name, field_rule in rule.fields:
            given = _field(field_rule, relations, value_relation)
            if given is not None:
                head, _, tail = name.partition(".")
                if tail:
                    point.setdefault(head, {})[tail] = given
                else:
                    point[name] = given

    def _finish(
        self, point: dict[str, Any], dated: Any, attribute: Any, path: str, fields: dict[str, str]
    ) -> None:
        """Dates, TLP, links, to_ids and comment; then the point joins the package."""
        for name in ("first_seen", "last_seen"):
            moment = _timestamp(getattr(dated, name, None))
            if moment is not None:
                point[name] = moment
        tags = getattr(attribute, "tags", [])
        tlp = self._tlp(tags, f"{path}.Tag") if tags else None
        if tlp is not None:
            point["tlp"] = tlp
        galaxies = getattr(attribute, "galaxies", [])
        linked = self._galaxies(galaxies, f"{path}.Galaxy") if galaxies else None
        if linked:
            point["linked_to"] = list(dict.fromkeys(linked))
        to_ids = getattr(attribute, "to_ids", None)
        if isinstance(to_ids, bool):
            point["x_misp_to_ids"] = to_ids
        comment = getattr(attribute, "comment", None)
        if isinstance(comment, str) and comment.strip():
            point["x_misp_comment"] = comment.strip()
        self.origins[f"$.data_points[{len(self.points)}]"] = Origin(path, fields)
        self.points.append(point)


def _field(
    rule: FieldRule, relations: Mapping[str, tuple[int, Any]], value_relation: str | None
) -> str | int | None:
    for name in rule.relations:
        if name in relations:
            text = str(relations[name][1].value).strip()
            if text:
                return text
    if value_relation is not None and value_relation in rule.by_value:
        return rule.by_value[value_relation]
    return rule.constant


def _part(value: object, part: int | None) -> str | None:
    text = str(value)
    if part is None:
        return text
    parts = text.split("|")
    return parts[part] if len(parts) > part and parts[part].strip() else None


_REF_CHARS = re.compile(r"[^a-z0-9_-]+")


def _ref(prefix: str, key: str) -> str:
    """A package ref from a MISP UUID (or another key): ``misp-5f0c…``."""
    return f"{prefix}-{_REF_CHARS.sub('-', key.lower()).strip('-')}"


def _package_id(prefix: str, year: int, event_uuid: str) -> str:
    """``PREFIX`` + 4 letters + year + 6 digits, all from the event UUID: 26⁴ × 10⁶
    values per prefix and year, so distinct events practically never share one."""
    try:
        number = uuid.UUID(event_uuid).int
    except ValueError:
        number = uuid.uuid5(uuid.NAMESPACE_URL, event_uuid).int
    letters = ""
    for _ in range(4):
        number, digit = divmod(number, 26)
        letters += chr(ord("A") + digit)
    return f"{prefix}{letters}-{year:04d}-{number % 1_000_000:06d}"
