"""Rules every backend applies identically inside its write transactions.

Kept here, once, so that SQL and MongoDB cannot drift: how version masks are
computed (TAXII 2.1 §3.4.1 ``match[version]`` first/last, per TLP clearance), how
object bodies are serialised, and which status list an add outcome lands in (§4.3.1).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import msgspec
import orjson

from converters.tlp import ADMIN_ONLY, normalise_id
from taxii_server.storage.base import (
    OPERATOR,
    Actor,
    AddOutcome,
    AddResult,
    NewObject,
    StatusDetail,
)
from taxii_server.timestamps import TimestampError, format_timestamp, now_us, parse_timestamp

__all__ = [
    "ALL_CLEARANCES",
    "CONFLICT_MESSAGE",
    "NOT_OWNER_MESSAGE",
    "REDEFINED_MESSAGE",
    "DATE_ADDED_GRANULE",
    "StatusMoves",
    "VersionRow",
    "assign_date_added",
    "canonical_json",
    "claimable",
    "clearance_bit",
    "creator_refusal",
    "add_results",
    "failure_message",
    "first_owner",
    "marking_claims",
    "may_change",
    "origin_of",
    "owner_of",
    "pending_owner",
    "pending_entries",
    "redefinitions",
    "refresh_masks",
    "resolve_additions",
    "result_message",
    "same_origin",
    "status_entry",
    "version_masks",
]

#: Number of clearance levels: TLP ranks 0..4 and admin-only (5,
#: :data:`converters.tlp.ADMIN_ONLY`).
ALL_CLEARANCES = ADMIN_ONLY + 1

CONFLICT_MESSAGE = (
    "an object with this id and modified timestamp is already stored with different "
    "content; STIX 2.1 §3.6 requires a new modified timestamp for a changed object"
)


REDEFINED_MESSAGE = (
    "a marking definition with this id is already stored with different content (or "
    "is an official TLP definition built into this server); STIX 2.1 §7.2.1: a marking "
    "definition cannot be changed or versioned, so new content needs a new id"
)


NOT_OWNER_MESSAGE = (
    "this object belongs to another organization: only the organization that created "
    "it makes new versions of it, revokes or deletes it (STIX 2.1 §3.6)"
)
_NO_ORGANIZATION = (
    "your account belongs to no organization, so nothing you post can have an owner; "
    "an admin sets one with `atlas-taxii users set-organization`"
)
_ORIGIN_CHANGED = (
    "created and created_by_ref must stay those of the object's first stored version "
    "(STIX 2.1 §3.6: they never change between versions)"
)
_PENDING = "user:"


def pending_owner(user: str) -> str:
    """The owner a schema upgrade stores for objects whose first version ``user``
    posted before objects had owners: theirs once an admin sets their organization
    (:meth:`~taxii_server.storage.base.Storage.set_organization`); until then only
    admins change them."""
    return f"{_PENDING}{user}"


def origin_of(obj: dict[str, Any]) -> str:
    """What must not change between an object's versions (STIX 2.1 §3.6): its
    ``created`` and ``created_by_ref`` as written, in one string (empty parts when
    absent); compared by :func:`same_origin`.  Nothing is parsed here: this runs for
    every object of every POST, the comparison only for new versions."""
    created = obj.get("created")
    creator = obj.get("created_by_ref")
    created_text = created if isinstance(created, str) else ""
    return f"{created_text}|{creator if isinstance(creator, str) else ''}"


def same_origin(new: str, stored: str) -> bool:
    """Whether two :func:`origin_of` strings say the same: the same ``created_by_ref``
    and the same ``created`` instant (``…00Z`` and ``…00.000Z`` are one)."""
    if new == stored:
        return True
    new_created, _, new_creator = new.rpartition("|")
    old_created, _, old_creator = stored.rpartition("|")
    if new_creator != old_creator or not new_created or not old_created:
        return False
    try:
        return parse_timestamp(new_created) == parse_timestamp(old_created)
    except TimestampError:
        return False


def first_owner(poster: str | None, first: dict[str, Any]) -> str | None:
    """The owner a schema upgrade gives an object stored before objects had owners:
    the user who posted its first version, where the store still knows it (pending
    until that user has an organization, :func:`pending_owner`), else the
    ``created_by_ref`` of its first version, else none (admins only)."""
    if poster is not None:
        return pending_owner(poster)
    creator = first.get("created_by_ref")
    if isinstance(creator, str) and creator.startswith("identity--"):
        return creator
    return None


def may_change(actor: Actor, owner: str | None) -> bool:
    """Whether ``actor`` may add a version of, revoke or delete an object owned by
    ``owner`` (an organization's identity id; ``None`` or a pending owner: admins
    only).  Admins act for every organization."""
    return actor.admin or (actor.organization is not None and owner == actor.organization)


def owner_of(obj: NewObject, actor: Actor) -> str | None:
    """The owner a new object gets: the poster's organization; an admin acts for the
    organization the object names as ``created_by_ref`` (else their own, else none:
    admins only).  A definition the code ships belongs to nobody."""
    if obj.builtin:
        return None
    if actor.admin and obj.created_by_ref is not None:
        return obj.created_by_ref
    return actor.organization


def creator_refusal(obj: NewObject, actor: Actor) -> str | None:
    """Why ``actor`` may not be the creator of ``obj`` whatever is stored, or ``None``.
    A definition the code ships is anyone's to post: its content is the code's."""
    if obj.builtin or actor.admin:
        return None
    if actor.organization is None:
        return _NO_ORGANIZATION
    if obj.created_by_ref is not None and obj.created_by_ref != actor.organization:
        return (
            f"created_by_ref {obj.created_by_ref} is not your organization's identity "
            f"{actor.organization}: the creator of an object is the organization that "
            "posts it (STIX 2.1 §3.6)"
        )
    return None


def claimable(objects: Sequence[NewObject], actor: Actor) -> Sequence[NewObject]:
    """``objects`` with the marking definitions ``actor`` may not create made plain
    objects (``marking`` ``None``), so that a store does not register them in the
    marking registry (:func:`marking_claims`) before :func:`resolve_additions`
    refuses them."""
    if all(o.marking is None for o in objects):
        return objects
    return [
        msgspec.structs.replace(o, marking=None)
        if o.marking is not None and creator_refusal(o, actor) is not None
        else o
        for o in objects
    ]


def _refusal(obj: NewObject, known: list[VersionRow], actor: Actor) -> str | None:
    """Why ``actor`` may not add ``obj`` as a new version of an object whose stored
    versions are ``known``, or ``None``.  A definition the code ships is anyone's to
    post: its content is the code's, not the poster's."""
    if obj.builtin:
        return None
    refusal = creator_refusal(obj, actor)
    if refusal is not None or not known:
        return refusal
    first = min(known, key=lambda row: row.version)
    if not may_change(actor, first.owner):
        return NOT_OWNER_MESSAGE
    if first.origin is not None and not same_origin(obj.origin, first.origin):
        return _ORIGIN_CHANGED
    return None


def clearance_bit(clearance: int) -> int:
    """The mask bit a query at ``clearance`` tests."""
    return 1 << clearance


def canonical_json(obj: dict[str, Any]) -> bytes:
    """Compact JSON with sorted keys: the stored and served form of an object.

    Copied out of orjson's result, which keeps the buffer it wrote into (at least 4 KB
    since orjson 3.12, however short the JSON): a POST holds 50,000 of these at once,
    which was 200 MB where 6 MB of JSON is needed."""
    return bytes(memoryview(orjson.dumps(obj, option=orjson.OPT_SORT_KEYS)))


def _mask_from(tlp: int) -> int:
    """The clearance bits that see a version marked ``tlp``: every level from it up."""
    return sum(clearance_bit(c) for c in range(max(tlp, 0), ALL_CLEARANCES))


# Both masks of an object's only version, by its TLP rank: every reader cleared for it
# sees it as first and latest.  Most objects have one version, and a bulk add computes
# masks for every object it stores.
_ONLY_VERSION = tuple((_mask_from(tlp), _mask_from(tlp)) for tlp in range(ALL_CLEARANCES))


def version_masks(versions: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    """Compute ``(first_mask, latest_mask)`` for each ``(version, tlp)`` of one object.

    Bit *c* of ``latest_mask`` is set on the newest version whose ``tlp`` is at most
    *c*, so a reader cleared at *c* sees that version as the object's latest and never
    learns that a newer, more restricted one exists; ``first_mask`` likewise for the
    oldest.  Versions are unique per object id.  The result is in input order.
    """
    if len(versions) == 1 and 0 <= versions[0][1] < ALL_CLEARANCES:
        return [_ONLY_VERSION[versions[0][1]]]
    first = [0] * len(versions)
    latest = [0] * len(versions)
    order = sorted(range(len(versions)), key=lambda i: versions[i][0])
    for clearance in range(ALL_CLEARANCES):
        visible = [i for i in order if versions[i][1] <= clearance]
        if visible:
            first[visible[0]] |= clearance_bit(clearance)
            latest[visible[-1]] |= clearance_bit(clearance)
    return list(zip(first, latest, strict=True))


@dataclass(frozen=True, slots=True)
class StatusMoves:
    """Where each object of an add records its outcome: the position of the pending
    entry it takes over, or ``None`` for a new entry numbered from ``next_position``."""

    status_id: str
    positions: tuple[int | None, ...]
    next_position: int


def pending_entries(objects: Sequence[NewObject], received: int) -> tuple[StatusDetail, ...]:
    """The pending status entries of objects about to be stored, in their order.

    An entry names a version (TAXII 2.1 §4.3.1): an object that has none until it is
    stored (an SCO) is named by ``received``, the request's time."""
    arrival = format_timestamp(received)
    return tuple(
        StatusDetail(o.id, arrival if o.version is None else format_timestamp(o.version))
        for o in objects
    )


def failure_message(outcome: AddOutcome) -> str | None:
    """Why an object with this outcome was not stored; ``None`` when it is stored
    (a refused object's reason is in its :class:`AddResult`'s ``message``)."""
    if outcome is AddOutcome.CONFLICT:
        return CONFLICT_MESSAGE
    if outcome is AddOutcome.REDEFINED:
        return REDEFINED_MESSAGE
    return None


def result_message(result: AddResult) -> str | None:
    """Why the object of ``result`` was not stored (a refusal's own reason, else the
    outcome's); ``None`` when it is stored."""
    return result.message or failure_message(result.outcome)


def status_entry(object_id: str, result: AddResult) -> tuple[str, StatusDetail]:
    """Which status list (``"successes"`` or ``"failures"``) an add result goes to,
    with the entry to record there.  Re-posting an identical object is a success
    (TAXII 2.1 §5.5: the server must not treat it as an error)."""
    version = format_timestamp(result.version)
    message = result_message(result)
    if message is not None:
        return "failures", StatusDetail(object_id, version, message)
    return "successes", StatusDetail(object_id, version)


def marking_claims(objects: Sequence[NewObject]) -> list[tuple[str, int, bytes]]:
    """``(normalised id, rank, digest)`` of each marking definition among ``objects``
    to register (those with a ``marking`` rank), in order; a store inserts each unless
    its id is registered, in the write that stores the objects."""
    return [
        (normalise_id(o.id), o.marking, hashlib.sha256(o.data).digest())
        for o in objects
        if o.marking is not None
    ]


def redefinitions(objects: Sequence[NewObject], registered: dict[str, bytes]) -> set[int]:
    """Positions of the marking definitions among ``objects`` whose id is registered
    (``registered``: normalised id -> digest, read after this write's inserts) with
    another body: :attr:`AddOutcome.REDEFINED` (STIX 2.1 §7.2.1)."""
    return {
        index
        for index, o in enumerate(objects)
        if o.marking is not None
        and registered.get(normalise_id(o.id), b"") != hashlib.sha256(o.data).digest()
    }


@dataclass(slots=True)
class VersionRow:
    """One version of an object id while a write works on it: a stored row or
    document (``new`` is ``None``), or a version this write adds."""

    version: int  # 0 until a content-versioned new version gets its date_added
    tlp: int
    by_content: bool  # versioned by content (no modified/created): version = date_added
    digest: bytes  # SHA-256 of the canonical body
    first_mask: int = -1  # as stored; -1 until computed for a new version
    latest_mask: int = -1
    new: NewObject | None = None
    date_added: int = 0
    #: The organization identity that owns the object (same on every version),
    #: ``None`` for admins only; see :func:`may_change`.
    owner: str | None = None
    #: :func:`origin_of` its body (``None``: not known, for rows read without it).
    origin: str | None = None
    #: Why the object was refused (a row standing for a refused object, never stored).
    refusal: str | None = None


def add_results(resolved: Sequence[tuple[VersionRow, AddOutcome]]) -> list[AddResult]:
    """The results of :func:`resolve_additions`, once ``date_added`` is assigned."""
    return [AddResult(outcome, row.version, row.refusal) for row, outcome in resolved]


def resolve_additions(
    objects: Sequence[NewObject],
    versions: dict[str, list[VersionRow]],
    refused: set[int] | frozenset[int] = frozenset(),
    actor: Actor = OPERATOR,
) -> tuple[list[tuple[VersionRow, AddOutcome]], list[VersionRow]]:
    """Decide, for each object to add, what it is against the stored ``versions`` of
    its id (which every object's id must have an entry in, maybe empty), when
    ``actor`` adds it.

    Same id and version with the same body is :attr:`AddOutcome.UNCHANGED`, with a
    different body :attr:`AddOutcome.CONFLICT` (STIX 2.1 §3.6); an object without
    ``modified``/``created`` whose body is already stored under its id is unchanged,
    otherwise a new version whose ``version`` will be its ``date_added``.  New versions
    are appended to ``versions`` (so a later duplicate in the same batch is unchanged)
    and returned, in order, as the second element.  The objects at the positions in
    ``refused`` (:func:`redefinitions`) are :attr:`AddOutcome.REDEFINED`, not stored.

    Anything else is a new version, or a new object, and is
    :attr:`AddOutcome.REFUSED` (STIX 2.1 §3.6, only the creator makes new versions)
    when ``actor`` is not an admin and the object's ``created_by_ref`` is not their
    organization, when the object is stored and owned by another organization (or by
    none: admins only), or when its ``created``/``created_by_ref`` differ from its
    first stored version's.  A new object gets the owner :func:`owner_of` gives; a
    new version keeps the object's.
    """
    resolved: list[tuple[VersionRow, AddOutcome]] = []
    added: list[VersionRow] = []
    for index, obj in enumerate(objects):
        digest = hashlib.sha256(obj.data).digest()
        if index in refused:
            stamp = 0 if obj.version is None else obj.version
            row = VersionRow(stamp, obj.tlp, obj.version is None, digest, new=obj)
            resolved.append((row, AddOutcome.REDEFINED))
            continue
        known = versions[obj.id]
        # Most objects of a bulk load are new: nothing stored to compare with.
        if known and obj.version is not None:
            match = next((v for v in known if v.version == obj.version), None)
            if match is not None:
                same = match.digest == digest
                resolved.append((match, AddOutcome.UNCHANGED if same else AddOutcome.CONFLICT))
                continue
        elif known:
            match = next((v for v in known if v.by_content and v.digest == digest), None)
            if match is not None:
                resolved.append((match, AddOutcome.UNCHANGED))
                continue
        refusal = _refusal(obj, known, actor)
        if refusal is not None:
            version = now_us() if obj.version is None else obj.version
            refused_row = VersionRow(version, obj.tlp, obj.version is None, digest, refusal=refusal)
            resolved.append((refused_row, AddOutcome.REFUSED))
            continue
        owner = min(known, key=lambda v: v.version).owner if known else owner_of(obj, actor)
        row = VersionRow(
            0 if obj.version is None else obj.version,
            obj.tlp,
            obj.version is None,
            digest,
            new=obj,
            owner=owner,
            origin=obj.origin,
        )
        known.append(row)
        added.append(row)
        resolved.append((row, AddOutcome.ADDED))
    return resolved, added


#: Every write's ``date_added`` values start on a multiple of this many microseconds
#: (1 ms): more than a write of ``ADD_CHUNK`` objects uses.
DATE_ADDED_GRANULE = 1000


def assign_date_added(added: list[VersionRow], last_date_added: int) -> int:
    """Give each new version a ``date_added`` after the collection's last one, strictly
    increasing (``+1`` µs each); content-versioned ones take it as their version.
    Called while the collection's write lock is held, as late as possible before the
    rows are written.  Returns the collection's new ``last_date_added``.

    Two rules keep a reader from counting the objects hidden from them (above their
    TLP clearance) by the gaps between the ``date_added`` values they see:

    * ``added`` is put in order of TLP rank, least restricted first (stable): within a
      write, every reader's objects come before those hidden from them, without gaps;
    * a write starts at ``max(now, last + 1)`` rounded up to a multiple of
      :data:`DATE_ADDED_GRANULE`: a write of at most that many objects ends before the
      next multiple, so where the next write starts does not depend on how many
      objects, hidden or not, the last one held.

    Order across writes is commit order, as before; within one write the order is
    arbitrary anyway (one commit).  Two versions of one object without ``modified``
    posted in one write are versioned by this order too.
    """
    added.sort(key=lambda row: row.tlp)
    start = max(now_us(), last_date_added + 1)
    date_added = -(-start // DATE_ADDED_GRANULE) * DATE_ADDED_GRANULE
    for row in added:
        row.date_added = date_added
        if row.by_content:
            row.version = date_added
        date_added += 1
    return date_added - 1 if added else last_date_added


def refresh_masks(known: list[VersionRow]) -> list[VersionRow]:
    """Give every version of one object id its first/latest masks; return the stored
    ones whose masks changed (the rows or documents to update)."""
    if len(known) == 1 and known[0].new is not None and 0 <= known[0].tlp < ALL_CLEARANCES:
        # A new object's only version (most rows of a bulk load): nothing stored changes.
        known[0].first_mask, known[0].latest_mask = _ONLY_VERSION[known[0].tlp]
        return []
    changed: list[VersionRow] = []
    masks = version_masks([(v.version, v.tlp) for v in known])
    for row, (first, latest) in zip(known, masks, strict=True):
        if row.new is None and (row.first_mask, row.latest_mask) != (first, latest):
            changed.append(row)
        row.first_mask, row.latest_mask = first, latest
    return changed
