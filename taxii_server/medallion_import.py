"""Moving from medallion: load a medallion memory-backend data file into our store.

medallion (the OASIS reference TAXII 2.1 server) keeps everything in one JSON file,
the one its ``MemoryBackend`` loads and ``save_data_to_file`` writes::

    {"/discovery": {"title": …, "default": …, "api_roots": [urls]},
     "<api root name>": {
         "information": {"title": …, "description": …, "max_content_length": …},
         "status": [status resources],
         "collections": [
             {"id": …, "title": …, "description": …, "can_read": …, "can_write": …,
              "media_types": […],
              "objects": [STIX objects; SCOs carry a hidden "_date_added"],
              "manifest": [{"id", "date_added", "version", "media_type"}]}]}}

What is imported, and how:

* **API roots** by name, with title, description and ``max_content_length``; an API
  root we already have is kept as it is.
* **Collections** with title and description.  A UUIDv4 id is kept; any other id is
  replaced by a UUIDv4 derived from it (the same one at every import of the file, so
  importing twice does not make two collections), since Microsoft Sentinel accepts
  no other form.  A title already used in the API root gets a number: ``Title (2)``.
* **Objects**, every version, validated as a TAXII POST is
  (:func:`taxii_server.ingest.prepare_objects`); each refusal is reported with where
  the object is in the file and why.  STIX 2.0 objects are refused: this server
  stores STIX 2.1.
* **Order**: our store assigns ``date_added`` itself (strictly increasing, so that
  pollers never miss an object).  Objects are added in the order of medallion's
  ``date_added`` (from the manifest), in writes whose TLP levels do not decrease (a
  write is stamped least restricted first), so their relative order is kept; the
  absolute values become the time of the import.
* **Owners** (STIX 2.1 §3.6): the import is an operator's, made with the store's
  credentials, so it acts as an admin (:data:`~taxii_server.storage.base.OPERATOR`):
  an object that names its creator in ``created_by_ref`` belongs to that
  organization (whose users make its later versions), any other to nobody (admins
  only).  SCO ids are checked as a POST's are (STIX 2.1 §2.9).

Not imported: the discovery title and default API root (server settings in our
configuration file), status resources (short-lived), and ``can_read``/``can_write``
(ours are per user: ``atlas-taxii users grant``).  The import is idempotent: objects
already stored are reported unchanged.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from converters.tlp import defined_ranks
from converters.validation import StixValidator
from taxii_server.ingest import MarkingLookup, StoredMarkings, prepare_objects
from taxii_server.storage.base import (
    AddOutcome,
    ApiRoot,
    Collection,
    NewObject,
    Storage,
    StorageConflict,
)
from taxii_server.storage.versions import result_message
from taxii_server.timestamps import TimestampError, parse_timestamp

__all__ = [
    "CollectionImport",
    "ImportReport",
    "MedallionFormatError",
    "Refusal",
    "import_medallion",
    "read_medallion_file",
    "uuid4_for",
]

#: Told how an import advances: ``(stage, done, total)``.
Progress = Callable[[str, int, int], None]

DISCOVERY_KEY = "/discovery"
# An API root name is one URL path segment (the configuration's rule).
_API_ROOT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._~-]*")
# Objects per add_objects transaction, as a TAXII POST stores them.
_CHUNK = 1000
# Namespace of the UUIDv4s given to collections whose medallion id is not one.
_ID_NAMESPACE = uuid.UUID("b1c0a7e2-6f1d-4c55-9a3e-2d8f5e7c4b19")
_STIX_20_MESSAGE = (
    "a STIX 2.0 object (no spec_version): atlas-taxii stores STIX 2.1 only; upgrade it "
    "(for example with the OASIS stix2-elevator) and publish it again"
)


class MedallionFormatError(Exception):
    """The file is not a medallion data file; the message says where and why."""


@dataclass(frozen=True, slots=True)
class Refusal:
    """An object that was not imported: where it is in the file, its id, and why."""

    location: str
    object_id: str
    message: str


@dataclass(frozen=True, slots=True)
class CollectionImport:
    """What happened to one medallion collection."""

    api_root: str
    source_id: str
    source_title: str
    collection: Collection | None  # None when it could not be created
    created: bool
    added: int = 0
    unchanged: int = 0
    refusals: tuple[Refusal, ...] = ()
    problem: str | None = None  # why the collection itself was not imported

    @property
    def id_replaced(self) -> bool:
        """Whether the collection got another id than medallion's."""
        return self.collection is not None and self.collection.id != self.source_id


@dataclass(frozen=True, slots=True)
class ImportReport:
    """The outcome of an import."""

    api_roots_created: tuple[str, ...]
    api_roots_kept: tuple[str, ...]
    collections: tuple[CollectionImport, ...]
    notes: tuple[str, ...]

    @property
    def refused(self) -> int:
        """Objects not imported."""
        return sum(len(c.refusals) for c in self.collections)

    @property
    def failed(self) -> bool:
        """Whether anything was not imported."""
        return self.refused > 0 or any(c.problem for c in self.collections)


def uuid4_for(api_root: str, collection_id: str) -> str:
    """A UUIDv4 standing for a medallion collection id that is not one: derived from
    the API root and old id (so a repeated import finds the same collection), with the
    version and variant bits of a UUIDv4 (RFC 9562 §5.4)."""
    digest = uuid.uuid5(_ID_NAMESPACE, f"{api_root}\x00{collection_id}").bytes
    return str(uuid.UUID(bytes=digest, version=4))


def _is_uuid4(text: str) -> bool:
    try:
        value = uuid.UUID(text)
    except ValueError:
        return False
    return value.version == 4 and value.variant == uuid.RFC_4122 and str(value) == text.lower()


def read_medallion_file(path: Path) -> dict[str, Any]:
    """The parsed data file; :class:`MedallionFormatError` when it is not JSON or not
    shaped like a medallion data file."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise MedallionFormatError(f"cannot read {path}: {exc.strerror}") from None
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise MedallionFormatError(
            f"{path}: not JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}"
        ) from None
    _check_shape(data, path)
    return dict(data)


def _require(condition: bool, path: Path, where: str, message: str) -> None:
    if not condition:
        raise MedallionFormatError(f"{path}: {where}: {message}")


def _check_shape(data: Any, path: Path) -> None:
    """Check the structure before anything is stored, so a malformed file changes nothing."""
    _require(isinstance(data, dict), path, "$", "expected a JSON object (a medallion data file)")
    roots = [k for k in data if k != DISCOVERY_KEY]
    _require(bool(roots), path, "$", "no API roots (a medallion data file has one key per root)")
    for name in roots:
        where = f"$[{name!r}]"
        root = data[name]
        _require(
            bool(_API_ROOT_NAME.fullmatch(name)),
            path,
            where,
            "an API root name must be one URL path segment (letters, digits, '.', '_', '~', '-')",
        )
        _require(isinstance(root, dict), path, where, "expected an object (an API root)")
        info = root.get("information")
        _require(isinstance(info, dict), path, f"{where}.information", "expected an object")
        _require(
            isinstance(info.get("title"), str) and bool(info.get("title")),
            path,
            f"{where}.information.title",
            "expected a non-empty string",
        )
        collections = root.get("collections", [])
        _require(isinstance(collections, list), path, f"{where}.collections", "expected a list")
        for index, collection in enumerate(collections):
            at = f"{where}.collections[{index}]"
            _require(isinstance(collection, dict), path, at, "expected an object (a collection)")
            for key in ("id", "title"):
                value = collection.get(key)
                _require(
                    isinstance(value, str) and bool(value), path, f"{at}.{key}", "expected a string"
                )
            for key in ("objects", "manifest"):
                _require(
                    isinstance(collection.get(key, []), list),
                    path,
                    f"{at}.{key}",
                    "expected a list",
                )


def _stamp(value: object) -> int | None:
    if not isinstance(value, str):
        return None
    try:
        return parse_timestamp(value)
    except TimestampError:
        return None


def _version_of(obj: Mapping[str, Any]) -> int | None:
    """medallion's version of an object: modified, else created, else its hidden
    ``_date_added`` (SCOs)."""
    for key in ("modified", "created", "_date_added"):
        if key in obj:
            return _stamp(obj[key])
    return None


@dataclass(slots=True)
class _Entry:
    """One object of a collection, where it is, and when medallion added it."""

    location: str
    obj: Any
    date_added: int | None
    stix_20: bool


def _entries(api_root: str, index: int, collection: Mapping[str, Any]) -> list[_Entry]:
    """The collection's objects in medallion's ``date_added`` order (file order for
    ties and for objects the manifest does not list)."""
    added: dict[tuple[str, int | None], tuple[int | None, str]] = {}
    for entry in collection.get("manifest", []):
        if isinstance(entry, dict) and isinstance(entry.get("id"), str):
            key = (entry["id"], _stamp(entry.get("version")))
            media_type = str(entry.get("media_type", ""))
            when = _stamp(entry.get("date_added"))
            previous = added.get(key)
            # Several entries for one version (a re-post): the first addition counts.
            if previous is None or (
                when is not None and (previous[0] is None or when < previous[0])
            ):
                added[key] = (when, media_type)
    entries = []
    for position, obj in enumerate(collection.get("objects", [])):
        location = f"$[{api_root!r}].collections[{index}].objects[{position}]"
        when, media_type = None, ""
        if isinstance(obj, dict):
            when, media_type = added.get((str(obj.get("id")), _version_of(obj)), (None, ""))
        stix_20 = isinstance(obj, dict) and (
            media_type.replace(" ", "").endswith("version=2.0")
            or (
                "spec_version" not in obj
                and ("created" in obj or "modified" in obj)
                and not media_type
            )
        )
        entries.append(_Entry(location, obj, when, stix_20))
    # Sorted by date_added; stable, so ties keep file order; unknown ones go last.
    entries.sort(key=lambda e: (e.date_added is None, e.date_added or 0))
    return entries


def _without_hidden(obj: Any) -> Any:
    """The object without medallion's bookkeeping fields (``_date_added``)."""
    if isinstance(obj, dict):
        return {k: v for k, v in obj.items() if not k.startswith("_")}
    return obj


def _object_id(obj: Any, location: str) -> str:
    value = obj.get("id") if isinstance(obj, dict) else None
    return value if isinstance(value, str) and value else location


@dataclass(slots=True)
class _Counts:
    added: int = 0
    unchanged: int = 0
    stored: int = 0  # objects handed to the store (the rest were refused before)
    refusals: list[Refusal] = field(default_factory=list)


def _markings(storage: Storage, entries: Sequence[_Entry]) -> MarkingLookup:
    """Ranks of marking definitions for objects imported one at a time: the store's
    registered ones, else those this import carries (wherever they are in it)."""
    stored = StoredMarkings(storage.marking_ranks)
    carried = defined_ranks(e.obj for e in entries if not e.stix_20)

    def lookup(ids: Sequence[str]) -> dict[str, int]:
        found = {i: carried[i] for i in ids if i in carried}
        found.update(stored(ids))
        return found

    return lookup


def _store(
    storage: Storage,
    collection: Collection,
    entries: Sequence[_Entry],
    validator: StixValidator,
    tell: Callable[[int], None],
) -> _Counts:
    counts = _Counts()
    ready: list[tuple[_Entry, NewObject]] = []
    markings = _markings(storage, entries)
    for entry in entries:
        obj = _without_hidden(entry.obj)
        if entry.stix_20:
            counts.refusals.append(
                Refusal(entry.location, _object_id(obj, entry.location), _STIX_20_MESSAGE)
            )
            continue
        prepared = prepare_objects([obj], validator, markings)
        for failure in prepared.failures:
            message = (failure.message or "invalid").replace("$.objects[0]", entry.location)
            counts.refusals.append(
                Refusal(entry.location, _object_id(obj, entry.location), message)
            )
        ready.extend((entry, new) for new in prepared.valid)
    counts.stored = len(ready)
    for chunk in _in_order(ready):
        results = storage.add_objects(collection.id, [new for _, new in chunk])
        for (entry, new), result in zip(chunk, results, strict=True):
            if result.outcome is AddOutcome.ADDED:
                counts.added += 1
            elif result.outcome is AddOutcome.UNCHANGED:
                counts.unchanged += 1
            else:
                message = result_message(result) or "not stored"
                counts.refusals.append(Refusal(entry.location, new.id, message))
        tell(len(chunk))
    return counts


def _in_order(
    ready: Sequence[tuple[_Entry, NewObject]],
) -> Iterator[list[tuple[_Entry, NewObject]]]:
    """Writes of at most :data:`_CHUNK` objects whose TLP ranks do not decrease: a store
    stamps a write's objects least restricted first (so that gaps in ``date_added`` do
    not count hidden objects), so only then does ``date_added`` keep the file's order."""
    chunk: list[tuple[_Entry, NewObject]] = []
    for item in ready:
        if chunk and (len(chunk) == _CHUNK or item[1].tlp < chunk[-1][1].tlp):
            yield chunk
            chunk = []
        chunk.append(item)
    if chunk:
        yield chunk


def _free_title(storage: Storage, api_root: str, title: str) -> str:
    taken = {c.title for c in storage.list_collections(api_root)}
    if title not in taken:
        return title
    number = 2
    while f"{title} ({number})" in taken:
        number += 1
    return f"{title} ({number})"


def _collection(
    storage: Storage, api_root: str, source: Mapping[str, Any]
) -> tuple[Collection, bool]:
    """Our collection for a medallion one: found by (possibly derived) id, else created."""
    source_id = str(source["id"])
    wanted = source_id.lower() if _is_uuid4(source_id) else uuid4_for(api_root, source_id)
    existing = storage.get_collection(api_root, wanted)
    if existing is not None and existing.id == wanted:
        return existing, False
    description = source.get("description")
    alias = source.get("alias")
    collection = Collection(
        id=wanted,
        api_root=api_root,
        title=_free_title(storage, api_root, str(source["title"])),
        description=description if isinstance(description, str) else "",
        alias=alias if isinstance(alias, str) and alias else None,
    )
    storage.create_collection(collection)
    return collection, True


def _api_root(storage: Storage, name: str, info: Mapping[str, Any]) -> bool:
    """Create the API root unless we have it; return whether it was created."""
    if storage.get_api_root(name) is not None:
        return False
    limit = info.get("max_content_length")
    description = info.get("description")
    fields: dict[str, Any] = {}
    if isinstance(limit, int) and not isinstance(limit, bool) and limit > 0:
        fields["max_content_length"] = limit
    storage.put_api_root(
        ApiRoot(
            name=name,
            title=str(info["title"]),
            description=description if isinstance(description, str) else "",
            **fields,
        )
    )
    return True


def _notes(data: Mapping[str, Any]) -> list[str]:
    notes = []
    discovery = data.get(DISCOVERY_KEY)
    if isinstance(discovery, dict):
        title, default = discovery.get("title"), discovery.get("default")
        if title:
            notes.append(
                f"discovery title {title!r} not imported: set [server] title in the configuration"
            )
        if default:
            notes.append(
                f"default API root {default!r} not imported: set [server] default_api_root"
            )
    statuses = sum(
        len(root.get("status") or [])
        for name, root in data.items()
        if name != DISCOVERY_KEY and isinstance(root, dict)
    )
    if statuses:
        notes.append(f"{statuses} status resource(s) not imported (they expire after a day)")
    notes.append(
        "access is not imported (medallion's can_read/can_write apply to every user): "
        "grant it per user with 'atlas-taxii users grant'"
    )
    return notes


def import_medallion(
    data: Mapping[str, Any],
    storage: Storage,
    validator: StixValidator,
    progress: Progress | None = None,
) -> ImportReport:
    """Import a data file read by :func:`read_medallion_file` into ``storage``."""
    created_roots: list[str] = []
    kept_roots: list[str] = []
    results: list[CollectionImport] = []
    plans = []
    for name, root in data.items():
        if name == DISCOVERY_KEY:
            continue
        (created_roots if _api_root(storage, name, root["information"]) else kept_roots).append(
            name
        )
        for index, source in enumerate(root.get("collections", [])):
            plans.append((name, index, source, _entries(name, index, source)))
    total = sum(len(entries) for *_, entries in plans)
    done = 0

    def tell(count: int) -> None:
        nonlocal done
        done += count
        if progress is not None:
            progress("import", done, total)

    for name, _index, source, entries in plans:
        try:
            collection, created = _collection(storage, name, source)
        except StorageConflict as exc:
            results.append(
                CollectionImport(name, source["id"], source["title"], None, False, problem=str(exc))
            )
            tell(len(entries))
            continue
        counts = _store(storage, collection, entries, validator, tell)
        tell(len(entries) - counts.stored)
        results.append(
            CollectionImport(
                api_root=name,
                source_id=source["id"],
                source_title=source["title"],
                collection=collection,
                created=created,
                added=counts.added,
                unchanged=counts.unchanged,
                refusals=tuple(counts.refusals),
            )
        )
    return ImportReport(
        tuple(created_roots), tuple(kept_roots), tuple(results), tuple(_notes(data))
    )
