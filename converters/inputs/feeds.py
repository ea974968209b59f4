"""Feed exports (abuse.ch URLhaus, ThreatFox, …) -> research packages, by feed files.

A feed file (``mappings/inputs/feeds/*.yaml``, shape in ``mappings/inputs/feed.schema.json``) says
how one export format becomes a package: where the records are (CSV rows under a
header, or JSON lists), which record field gives each data-point field (with a table
or a small transform), and the package's own fields.  A new feed format is a new
file, not new code; files are checked completely when loaded.

Each record becomes one data point, cited by the feed as a source; a record whose
type the file's table does not know (a ThreatFox ``sha1_hash``) is counted as not
mapped, never dropped silently.  Problems are reported at the record: the CSV line
(``export.csv:17: column url: …``) or the JSON path (``$.2873157[0].url``).
"""

from __future__ import annotations

import copy
import csv
import functools
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from ..errors import PackageError, SourceProblem
from .imported import Imported, Origin, Tally
from .input_mapping import MAPPINGS_DIR, InputMappingChecker, read_input_mapping

__all__ = ["CsvText", "Feed", "detect_feed", "feed_names", "load_feeds", "read_feed"]

_FEEDS_DIR: Final = MAPPINGS_DIR / "feeds"


class CsvText:
    """A CSV export: the feed files that read CSV recognise it by its header."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.lines = path.read_text("utf-8-sig").splitlines()


# --- transforms: small pure functions a feed file may name --------------------------

_STAMP = re.compile(r"^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})(?:\.\d+)?(?: ?(?:UTC|Z))?\Z")
_IP_PORT = re.compile(r"^\[?([0-9A-Fa-f:.]+?)\]?:(\d{1,5})\Z")


def _utc(value: Any) -> Any:
    """``2024-06-11 09:12:03`` or ``… UTC`` (abuse.ch's form) -> ``2024-06-11T09:12:03Z``."""
    match = _STAMP.match(str(value).strip())
    return f"{match.group(1)}T{match.group(2)}Z" if match else value


def _host(value: Any) -> Any:
    """``203.0.113.7:443`` / ``[2001:db8::7]:443`` -> the address; anything else as is."""
    match = _IP_PORT.match(str(value).strip())
    return match.group(1) if match and ("." in match.group(1) or "[" in str(value)) else value


def _split(value: Any) -> Any:
    """``"elf,mozi"`` -> ``["elf", "mozi"]``; a list stays a list (of strings)."""
    parts = value if isinstance(value, list) else str(value).split(",")
    listed = [str(p).strip() for p in parts if str(p).strip()]
    return list(dict.fromkeys(listed)) or None


_TRANSFORMS: Final[dict[str, Callable[[Any], Any]]] = {
    "utc": _utc,
    "host": _host,
    "split": _split,
    "lower": lambda value: str(value).lower(),
}


class _Unknown(Exception):
    """A table has no entry for a record's value."""

    def __init__(self, table: str, key: str) -> None:
        self.table, self.key = table, key


@dataclass(frozen=True, slots=True)
class FeedValue:
    """One value of a record: a field (through a table or transform, with a prefix), or
    a constant."""

    field: str | None
    constant: Any = None
    transform: str | None = None
    table: Mapping[str, Any] | None = None
    table_name: str | None = None
    prefix: str = ""

    def get(self, record: Mapping[str, Any], key: str | None) -> Any:
        """The value for ``record`` (``key``: its key in a keyed export), or ``None``."""
        if self.field is None:
            return copy.deepcopy(self.constant)  # each data point its own (mutable) copy
        value = key if self.field == "@key" else record.get(self.field)
        if value is None or value == "" or value == []:
            return None
        if self.transform is not None:
            value = _TRANSFORMS[self.transform](value)
        if self.table is not None:
            text = str(value)
            if text not in self.table:
                raise _Unknown(self.table_name or "", text)
            value = self.table[text]
        return f"{self.prefix}{value}" if self.prefix else value


@dataclass(frozen=True, slots=True)
class Feed:
    """A checked feed file."""

    path: Path
    name: str
    title: str
    format: str
    header: tuple[str, ...]
    records: str | None  # "*" (every key) or a key, for JSON
    keys: tuple[str, ...]
    package: Mapping[str, Any]
    record: tuple[tuple[str, FeedValue], ...]
    service: tuple[tuple[str, FeedValue], ...]

    def matches(self, document: object) -> bool:
        """Whether a parsed input is this feed's export."""
        if self.format == "csv":
            return isinstance(document, CsvText) and _csv_header(self, document) is not None
        first = next(_json_records(self, document), None)
        return first is not None and all(k in first[2] for k in self.keys)


def feed_names() -> tuple[str, ...]:
    """The feed names ``--from`` takes (those of the feed files shipped)."""
    return tuple(dict.fromkeys(feed.name for feed in load_feeds()))


def load_feeds(path: str | Path | None = None) -> tuple[Feed, ...]:
    """The feed files shipped in ``mappings/inputs/feeds/``, or the one file at ``path``."""
    if path is None:
        return _shipped()
    return (_load(Path(path)),)


@functools.cache
def _shipped() -> tuple[Feed, ...]:
    return tuple(_load(path) for path in sorted(_FEEDS_DIR.glob("*.yaml")))


def detect_feed(document: object) -> Feed | None:
    """The shipped feed whose export ``document`` is, if any."""
    return next((feed for feed in load_feeds() if feed.matches(document)), None)


def _load(source: Path) -> Feed:
    document, checker = read_input_mapping(source, "feed.schema.json")
    tables = document.get("tables", {})
    record = _values(checker, "$.record", document["record"], tables)
    for name, _ in record:
        if name not in ("ref", "type", "value", "vetting"):
            checker.point_field(f"$.record.{name}", name)
    for name, value in record:
        if name == "type" and value.field is None:
            checker.point_type("$.record.type", str(value.constant))
        elif name == "type" and value.table is not None:
            for key, kind in value.table.items():
                checker.point_type(f"$.tables.{value.table_name}.{key}", str(kind))
    service = _values(checker, "$.service", document.get("service", {}), tables)
    fmt = document["format"]
    if fmt not in document:
        checker.add("$", f"a {fmt} feed needs a {fmt} section")
    checker.finish()
    json_spec = document.get("json", {})
    records = json_spec.get("records")
    return Feed(
        path=source,
        name=document["feed"],
        title=document["title"],
        format=fmt,
        header=tuple(document.get("csv", {}).get("header", ())),
        records=records.partition("[")[0] if records else None,
        keys=tuple(json_spec.get("keys", ())),
        package=dict(document["package"]),
        record=record,
        service=service,
    )


def _values(
    checker: InputMappingChecker, base: str, specs: Mapping[str, Any], tables: Mapping[str, Any]
) -> tuple[tuple[str, FeedValue], ...]:
    values = []
    for name, spec in specs.items():
        if "value" in spec:
            values.append((name, FeedValue(None, spec["value"])))
            continue
        table_name = spec.get("table")
        if table_name is not None and table_name not in tables:
            known = ", ".join(tables) or "none"
            checker.add(f"{base}.{name}.table", f"no table {table_name!r} (tables: {known})")
        value = FeedValue(
            spec["field"],
            transform=spec.get("transform"),
            table=tables.get(table_name) if table_name else None,
            table_name=table_name,
            prefix=spec.get("prefix", ""),
        )
        values.append((name, value))
    return tuple(values)


# --- reading an export --------------------------------------------------------------


def _csv_header(feed: Feed, text: CsvText) -> int | None:
    """Index of the line naming the feed's columns (a '#' comment or the first row)."""
    header = list(feed.header)
    for index, line in enumerate(text.lines):
        stripped = line.strip()
        if not stripped:
            continue
        if stripped.startswith("#"):
            names = next(csv.reader([stripped.lstrip("#").strip()]), [])
            if [n.strip() for n in names] == header:
                return index
            continue
        names = next(csv.reader([stripped]), [])
        return index if [n.strip() for n in names] == header else None
    return None


def _csv_records(feed: Feed, text: CsvText) -> Iterator[tuple[str, str | None, dict[str, Any]]]:
    start = _csv_header(feed, text)
    assert start is not None  # the feed matched
    rows = [(n, line) for n, line in enumerate(text.lines[start + 1 :], start + 2)]
    data = [(n, line) for n, line in rows if line.strip() and not line.lstrip().startswith("#")]
    reader = csv.reader(line for _, line in data)
    for (number, _), cells in zip(data, reader, strict=True):
        record = {c: v.strip() for c, v in zip(feed.header, cells, strict=False)}
        yield f"{text.path}:{number}", None, record


def _json_records(feed: Feed, document: object) -> Iterator[tuple[str, str | None, dict[str, Any]]]:
    if not isinstance(document, dict):
        return
    groups = (
        document.items() if feed.records == "*" else [(feed.records, document.get(feed.records))]
    )
    for key, entries in groups:
        if not isinstance(entries, list):
            continue
        base = f"$.{key}" if re.match(r"^[A-Za-z0-9_+-]+\Z", str(key)) else f"$[{key!r}]"
        for index, entry in enumerate(entries):
            if isinstance(entry, dict):
                yield f"{base}[{index}]", (str(key) if feed.records == "*" else None), entry


def read_feed(source: Path, document: object, feed: Feed) -> Imported:
    """The package a feed export makes (not yet checked)."""
    if isinstance(document, CsvText):
        records = _csv_records(feed, document)
    else:
        records = _json_records(feed, document)
    tally, origins = Tally(), {}
    points: list[dict[str, Any]] = []
    services: dict[str, dict[str, Any]] = {}
    sources = {name: value.field or "" for name, value in feed.record}
    moments = []
    for where, key, record in records:
        point = _point(feed, record, key, where, tally)
        if point is None:
            continue
        link = _service(feed, record, key, where, tally, services)
        if link is not None:
            point["linked_to"] = [link]
        if "source" in feed.package:
            point["sources"] = ["feed"]
        moments += [point[k] for k in ("first_seen", "last_seen") if isinstance(point.get(k), str)]
        origins[f"$.data_points[{len(points)}]"] = Origin(where, sources)
        points.append(point)
    if not points and not tally.seen:
        problem = SourceProblem("$", f"no records: expected a {feed.title}", str(source))
        raise PackageError(f"{source}: empty {feed.title}", [problem])
    return Imported(feed.name, source, _document(feed, points, services, moments), origins,
                    tally.report(source))  # fmt: skip


def _point(
    feed: Feed, record: Mapping[str, Any], key: str | None, where: str, tally: Tally
) -> dict[str, Any] | None:
    point: dict[str, Any] = {}
    for name, value in feed.record:
        try:
            given = value.get(record, key)
        except _Unknown as unknown:
            if name == "type":  # a kind of record the feed file does not map
                tally.add(f"{value.field} value", unknown.key, record.get("ioc_value", ""), where)
                return None
            tally.add(f"{value.field} value", unknown.key, unknown.key, where)
            continue
        if given is not None:
            point[name] = given
    if point.get("type") == "ip":
        point["type"] = "ipv6" if ":" in str(point.get("value", "")) else "ipv4"
    return point


def _service(
    feed: Feed,
    record: Mapping[str, Any],
    key: str | None,
    where: str,
    tally: Tally,
    services: dict[str, dict[str, Any]],
) -> str | None:
    if not feed.service:
        return None
    fields: dict[str, Any] = {}
    for name, value in feed.service:
        try:
            fields[name] = value.get(record, key)
        except _Unknown as unknown:
            tally.add(f"{value.field} value", unknown.key, unknown.key, where)
            fields[name] = "other" if name == "category" else None
    if not fields.get("ref") or not fields.get("name"):
        return None
    ref = re.sub(r"[^a-z0-9_-]+", "-", str(fields["ref"]).lower()).strip("-")
    services.setdefault(ref, {"ref": ref, "name": str(fields["name"]),
                              "category": fields.get("category") or "other"})  # fmt: skip
    return ref


def _document(
    feed: Feed, points: list[dict[str, Any]], services: Mapping[str, Any], moments: list[str]
) -> dict[str, Any]:
    package = feed.package
    first = str(package["first_published"])
    published = max([first, *moments])
    document: dict[str, Any] = {
        "format": "atlas-package/1",
        "id": package["id"],
        "revision": 1,
        "title": package["title"],
        "published": published,
        "first_published": first,
        "tlp": package["tlp"],
        "authors": [{"name": package["author"]}],
    }
    if services:
        document["services"] = list(services.values())
    if points:
        document["data_points"] = points
    if "source" in package:
        document["sources"] = [{"ref": "feed", **package["source"]}]
    return document
