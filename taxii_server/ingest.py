"""A POSTed envelope into objects ready to store and per-object failures (TAXII 2.1 §5.5).

The body must be a JSON object with an ``objects`` list (a TAXII envelope, §3.7; a
STIX bundle has the same shape and is accepted too) of at least one JSON object, each
with a STIX identifier as its ``id``.  A body that is not JSON, or not that shape, is
refused as a whole (400, saying the line and column or the path of the first thing
wrong; :func:`~taxii_server.envelope.parse_envelope`, which parses the items one at a
time, then :func:`check_identified`): a status entry must name
each object by its identifier (§4.3.1, status details), which an item that is not an
object, or has no usable ``id``, does not give.
Within a well-formed envelope each object is judged on its own: one that fails STIX
2.1 validation, or an SCO whose UUIDv5 id is not the one its id-contributing properties
give (STIX 2.1 §2.9, :func:`converters.ids.sco_id_problem`), becomes a status failure
whose message says why, and never stops the others (§5.5: the status lists successes
and failures).

Each object's TLP rank is fixed here, once, when it is written
(:func:`converters.tlp.object_rank`): a marking that is not built in ranks as the
marking definition of that id says, the registered one (any collection, read once per
envelope through a per-process cache, :class:`StoredMarkings`) before one in the same
envelope; a marking nobody defined makes the object admin-only.  A marking definition
under an official TLP id must be the official one (:func:`converters.tlp.is_genuine`).
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import msgspec
import orjson

from converters.extensions import atlas_extension_definition, new_sco_definitions
from converters.ids import sco_id_problem
from converters.tlp import (
    EXTENSION_DEFINITION,
    MARKING_DEFINITIONS,
    RANK_BY_MARKING_ID,
    definition_rank,
    is_built_in,
    is_genuine,
    marking_rank,
    marking_refs,
    normalise_id,
)
from converters.validation import Problem, StixValidator
from taxii_server.envelope import EnvelopeItems, parse_envelope
from taxii_server.errors import BadRequest, quoted
from taxii_server.query import ID_RE
from taxii_server.storage.base import STIX_21, NewObject, StatusDetail
from taxii_server.storage.versions import canonical_json, origin_of
from taxii_server.timestamps import TimestampError, format_timestamp, parse_timestamp

__all__ = [
    "ADD_CHUNK",
    "MarkingLookup",
    "Prepared",
    "StoredMarkings",
    "builtin_definitions",
    "check_identified",
    "parse_envelope",
    "prepare_objects",
]

#: Objects handed to the store per transaction while processing a POST.  Each chunk
#: moves its status entries from pendings in the same transaction, so the status
#: never claims more than is stored.
ADD_CHUNK = 1000

_MAX_PROBLEMS_SHOWN = 5
# Longest id, version and message a status entry keeps (characters).
_MAX_ID = 300
_MAX_VERSION = 64
_MAX_MESSAGE = 2000


@dataclass(frozen=True, slots=True)
class Prepared:
    """The objects of an envelope split into what to store and what failed."""

    valid: list[NewObject]
    failures: list[StatusDetail]


def check_identified(objects: Sequence[Any]) -> None:
    """400 unless the envelope holds objects a status can name: at least one, each a
    JSON object whose ``id`` is a STIX identifier (§4.3.1, status details)."""
    if not objects:
        raise BadRequest("$.objects: empty; an envelope to add holds at least one STIX object")
    identifier = ID_RE.match
    # An envelope's items are built once, by prepare_objects: here their ids alone.
    # When one is wrong, the items are read in order to name the first problem (an
    # item that is not JSON before it, say).
    ids = objects.identifiers() if isinstance(objects, EnvelopeItems) else None
    if ids is not None and all(isinstance(i, str) and identifier(i) for i in ids):
        return
    for index, obj in enumerate(objects):
        object_id = obj.get("id") if isinstance(obj, dict) else None
        if not (isinstance(object_id, str) and identifier(object_id)):
            _refuse_item(index, obj)


def _refuse_item(index: int, obj: object) -> None:
    """400 saying why the item at ``index`` cannot be named in a status."""
    if not isinstance(obj, dict):
        raise BadRequest(
            f"$.objects[{index}]: expected a STIX object (a JSON object), got {_kind(obj)}",
            details={"index": index},
        )
    object_id = obj.get("id")
    if object_id is None:
        found = "missing; expected"
    elif isinstance(object_id, str):
        found = f"{quoted(object_id)} is not"
    else:
        found = f"{_kind(object_id)} is not"
    raise BadRequest(
        f"$.objects[{index}].id: {found} a STIX identifier such as "
        "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
        details={"index": index},
    )


def _kind(value: object) -> str:
    if value is None:
        return "null"
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}.get(
        type(value), "a number"
    )


def _describe(problems: Sequence[Problem]) -> str:
    shown = "; ".join(f"{p.path}: {p.message}" for p in problems[:_MAX_PROBLEMS_SHOWN])
    hidden = len(problems) - _MAX_PROBLEMS_SHOWN
    return shown + (f"; and {hidden} more problem(s)" if hidden > 0 else "")


def _identity(obj: object, path: str) -> tuple[str, str]:
    """The ``id`` and ``version`` a failure names for an object: its own id (else the
    JSON path, for callers that did not check ids with :func:`check_identified`), and
    its ``modified`` (else ``created``) as a TAXII timestamp, or ``""`` when it has no
    usable one: the status then gives the time of the request
    (:meth:`~taxii_server.service.TaxiiService.add_objects`)."""
    if not isinstance(obj, dict):
        return path, ""
    object_id = obj.get("id")
    stamp = obj.get("modified", obj.get("created"))
    try:
        version = format_timestamp(parse_timestamp(stamp)) if isinstance(stamp, str) else ""
    except TimestampError:
        version = ""
    return (object_id if isinstance(object_id, str) and object_id else path, version)


def _storable(text: str, limit: int) -> str:
    """``text`` fit for a status entry: U+0000 spelled as JSON spells it (PostgreSQL
    text cannot hold that character) and at most ``limit`` characters (an indexed
    column cannot hold megabytes; a failure names what the client sent, it does not
    echo it)."""
    text = text.replace("\x00", "\\u0000")
    return text if len(text) <= limit else f"{text[: limit - 1]}…"


#: The integers the store's JSON serialiser writes (orjson: 64 bits, signed or not).
#: STIX 2.1 §2.7 asks integers to fit in 54 bits, so a STIX property never needs more.
_INTEGERS = range(-(2**63), 2**64)


def _unstorable(obj: Any, path: str, exc: Exception) -> Problem:
    """The failure for an object the validator accepted but the store cannot write:
    an integer out of range is named by its path."""
    # Only an integer error is searched for: a walk of an object nested deeper than the
    # serialiser goes (its other error) could exhaust the interpreter's stack.
    found = _integer_out_of_range(obj, path) if "Integer" in str(exc) else None
    if found is not None:
        where, value = found
        digits = str(value)
        shown = digits if len(digits) <= 30 else f"{digits[:12]}…({len(digits)} digits)"
        return Problem(
            obj.get("id"),
            where,
            f"the integer {shown} is out of range: this server stores integers from "
            "-2**63 to 2**64-1 (STIX 2.1 §2.7 integers fit in 54 bits); send it as a "
            "string if it is an identifier",
        )
    return Problem(obj.get("id"), path, f"cannot be stored: {exc}")


def _integer_out_of_range(value: Any, path: str) -> tuple[str, int] | None:
    """The path and value of the first integer in ``value`` beyond :data:`_INTEGERS`."""
    if isinstance(value, int) and not isinstance(value, bool):
        return None if value in _INTEGERS else (path, value)
    if isinstance(value, dict):
        children: Iterable[tuple[str, Any]] = ((f"{path}.{k}", v) for k, v in value.items())
    elif isinstance(value, list):
        children = ((f"{path}[{i}]", v) for i, v in enumerate(value))
    else:
        return None
    for child_path, child in children:
        found = _integer_out_of_range(child, child_path)
        if found is not None:
            return found
    return None


#: The types of the objects :func:`builtin_definitions` holds.
_DEFINITION_TYPES = frozenset({"extension-definition", "marking-definition"})


@functools.cache
def builtin_definitions() -> frozenset[bytes]:
    """The stored form of the definitions this code ships and the converter puts in
    every bundle: the TLP 2.0 marking definitions and their extension definition
    (OASIS's), the community SCO extension definitions (stix2extensions') and the
    project's own.  Their content is fixed by the code, not by whoever posts them, so
    anyone may post them and nobody owns them (STIX 2.1 §3.6, see
    :func:`taxii_server.storage.versions.resolve_additions`)."""
    definitions = [
        *MARKING_DEFINITIONS.values(),
        EXTENSION_DEFINITION,
        atlas_extension_definition(),
        *new_sco_definitions().values(),
    ]
    return frozenset(canonical_json(dict(d)) for d in definitions)


def _version(obj: dict[str, Any]) -> int | None:
    stamp = obj["modified"] if "modified" in obj else obj.get("created")
    return None if stamp is None else parse_timestamp(stamp)


#: Registered marking definitions' ranks by normalised id, for the ids asked that have
#: one (:meth:`~taxii_server.storage.base.Storage.marking_ranks`).
MarkingLookup = Callable[[Sequence[str]], Mapping[str, int]]

_BUILT_IN_MESSAGE = (
    "is the id of an official TLP marking definition, built into this server; only its "
    "official content may be posted under it (STIX 2.1 §7.2.1: marking definitions "
    "cannot be changed or versioned)"
)


class StoredMarkings:
    """A :data:`MarkingLookup` over a store with a per-process cache: a registered
    marking definition never changes (STIX 2.1 §7.2.1), so its rank is asked of the
    store once; ids not registered are asked again next time (they may be by then)."""

    #: Most ranks kept; the cache starts again when full.
    LIMIT = 100_000

    def __init__(self, lookup: MarkingLookup) -> None:
        self._lookup = lookup
        self._known: dict[str, int] = {}
        self._lock = threading.Lock()

    def __call__(self, ids: Sequence[str]) -> Mapping[str, int]:
        with self._lock:
            found = {i: self._known[i] for i in ids if i in self._known}
        missing = [i for i in ids if i not in found]
        if missing:
            fetched = self._lookup(missing)
            with self._lock:
                if len(self._known) + len(fetched) > self.LIMIT:
                    self._known.clear()
                self._known.update(fetched)
            found.update(fetched)
        return found


def _defined_rank(obj: dict[str, Any], path: str) -> tuple[int | None, Problem | None]:
    """For a marking definition: the rank to register it with (``None`` for a built-in
    TLP definition, registered by nobody), or the problem when it claims a built-in id
    with other content."""
    if not is_built_in(obj["id"]):
        return definition_rank(obj), None
    if is_genuine(obj):
        return None, None
    return None, Problem(obj["id"], f"{path}.id", f"{quoted(obj['id'])} {_BUILT_IN_MESSAGE}")


def _rank_unresolved(
    valid: list[NewObject],
    unresolved: list[tuple[int, list[str]]],
    envelope: dict[str, int],
    stored: MarkingLookup | None,
) -> None:
    """Rank the objects whose markings are not built in, once the envelope's marking
    definitions are known: a registered definition first (it is the one a store keeps:
    another body in this envelope is refused), then the envelope's, else admin-only."""
    if not unresolved and not envelope:
        return
    wanted = dict.fromkeys(
        r
        for _, refs in unresolved
        for r in refs
        if r and r not in envelope and r not in RANK_BY_MARKING_ID
    )
    wanted.update(dict.fromkeys(envelope))
    known = dict(stored(list(wanted))) if stored is not None and wanted else {}
    defined = {**envelope, **known}
    ranks: dict[tuple[str, ...], int] = {}  # most objects of an envelope share markings
    for position, refs in unresolved:
        key = tuple(refs)
        rank = ranks.get(key)
        if rank is None:
            rank = ranks[key] = marking_rank(refs, defined)
        if rank != valid[position].tlp:
            valid[position] = msgspec.structs.replace(valid[position], tlp=rank)
    for position, obj in enumerate(valid):
        if obj.marking is not None:
            registered = known.get(normalise_id(obj.id))
            if registered is not None and registered != obj.marking:
                valid[position] = msgspec.structs.replace(obj, marking=registered)


def prepare_objects(
    objects: Iterable[Any], validator: StixValidator, markings: MarkingLookup | None = None
) -> Prepared:
    """Validate each object against STIX 2.1 and turn the valid ones into records.

    ``objects`` is read once, in order (an envelope's items are parsed as they are
    read: only the records are kept).  ``markings`` gives the ranks of registered
    marking definitions (asked once, after the last object); without it only the
    built-in ones and the envelope's own rank."""
    valid: list[NewObject] = []
    failures: list[StatusDetail] = []
    unresolved: list[tuple[int, list[str]]] = []
    envelope: dict[str, int] = {}
    for index, obj in enumerate(objects):
        path = f"$.objects[{index}]"
        problems = validator.check_object(obj, path)
        if not problems and obj.get("spec_version", STIX_21) != STIX_21:
            # The OASIS schemas admit "2.0" here, but a 2.0 object is another format:
            # our collections hold STIX 2.1 (their media_types say so).
            problems = [
                Problem(
                    obj.get("id"),
                    f"{path}.spec_version",
                    f"this server stores STIX {STIX_21} objects only, got spec_version "
                    f"{obj['spec_version']!r}",
                )
            ]
        defines: int | None = None
        if not problems and obj["type"] == "marking-definition":
            defines, problem = _defined_rank(obj, path)
            problems = [] if problem is None else [problem]
        if not problems:
            mismatch = sco_id_problem(obj)
            if mismatch is not None:
                problems = [Problem(obj.get("id"), f"{path}.id", mismatch)]
        if not problems:
            creator = obj.get("created_by_ref")
            try:
                refs = marking_refs(obj)
                pending = any(r not in RANK_BY_MARKING_ID for r in refs)
                data = canonical_json(obj)
                kind = obj["type"]
                record = NewObject(
                    id=obj["id"],
                    type=kind,
                    spec_version=STIX_21,
                    version=_version(obj),
                    tlp=marking_rank(refs),
                    data=data,
                    created_by_ref=creator if isinstance(creator, str) else None,
                    origin=origin_of(obj),
                    builtin=kind in _DEFINITION_TYPES and data in builtin_definitions(),
                    marking=defines,
                )
                if pending:
                    unresolved.append((len(valid), refs))
                if defines is not None:
                    envelope.setdefault(normalise_id(record.id), defines)
                valid.append(record)
                continue
            except (TimestampError, orjson.JSONEncodeError, KeyError, TypeError) as exc:
                # The validator passed it, so this is a rule it does not share with
                # the store (e.g. nesting beyond the serialiser's): still a per-object
                # failure.
                problems = [_unstorable(obj, path, exc)]
        object_id, version = _identity(obj, path)
        if len(object_id) > _MAX_ID:  # no STIX id is longer (250-character type + UUID)
            object_id = path
        failures.append(
            StatusDetail(
                _storable(object_id, _MAX_ID),
                _storable(version, _MAX_VERSION),
                _storable(_describe(problems), _MAX_MESSAGE),
            )
        )
    _rank_unresolved(valid, unresolved, envelope, markings)
    return Prepared(valid, failures)
