"""Publishing STIX objects to a collection: store what changed, and only that.

A research package is re-vetted and republished as a new revision: every object it
produces gets the revision's ``modified``, even the many whose content did not
change.  Storing all of them again would give every partner's SIEM a new version of
every indicator on each revision.  So each object is compared, without its
``modified``, with the latest version the collection holds (STIX 2.1 §3.6: a new
version is a changed object), and

* an id the collection does not hold is **new** and stored;
* an id whose latest version has other content is **changed** and stored as a new
  version;
* an id whose latest version has the same content is **unchanged** and not stored
  (for a remote server: not even posted);
* an object that fails STIX 2.1 validation (exactly as a TAXII POST is validated,
  :func:`taxii_server.ingest.prepare_objects`), or that the store or server refuses,
  is **failed**, with the reason.

Before the comparison, an object the collection holds takes the stored ``created``
(STIX 2.1 §3.6: it never changes between versions), whatever the package revision
says (:func:`_keep_created`).

Where the collection cannot be read (a remote user with write access only), nothing
can be compared and every valid object is sent: those are counted as **posted**.

The destination is a :class:`Target`: :class:`LocalTarget` writes into a store;
:class:`taxii_server.remote.push.RemoteTarget` posts to another TAXII server.

Whose the objects are (STIX 2.1 §3.6): posted to a server, the user's organization's,
under the server's rules.  Written to the local store, the operator acts as an admin
(:data:`~taxii_server.storage.base.OPERATOR`, they hold the database's credentials):
each object belongs to the organization its ``created_by_ref`` names (a package's
author), and a new version of an object keeps its owner; ``created`` and
``created_by_ref`` still never change.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import msgspec
import orjson

from converters.tlp import ADMIN_ONLY
from converters.validation import StixValidator
from taxii_server.ingest import ADD_CHUNK, MarkingLookup, StoredMarkings, prepare_objects
from taxii_server.storage.base import (
    OPERATOR,
    Actor,
    AddOutcome,
    Collection,
    NewObject,
    ObjectQuery,
    Storage,
    VersionSelector,
)
from taxii_server.storage.versions import canonical_json, origin_of, result_message
from taxii_server.timestamps import TimestampError, parse_timestamp

__all__ = [
    "Failure",
    "LocalTarget",
    "PublishReport",
    "Stored",
    "Target",
    "content_key",
    "publish_objects",
]

#: Told how publishing advances: ``(stage, done, total)``.
Progress = Callable[[str, int, int], None]

#: The clearance a publisher compares at: every version, whatever its marking.
_ALL_LEVELS = ADMIN_ONLY
#: Ids per lookup of latest versions in a local store.
_LOOKUP_BATCH = 200


@dataclass(frozen=True, slots=True)
class Failure:
    """An object that was not published, and why."""

    object_id: str
    message: str


@dataclass(frozen=True, slots=True)
class Stored:
    """What a :class:`Target` did with the objects it was given.

    ``unchanged`` names objects the destination found it already held (the same id,
    version and content); ``failures`` those it refused; ``unnamed_failures`` counts
    failures a remote server reported without saying which objects they were.
    """

    unchanged: frozenset[str] = frozenset()
    failures: tuple[Failure, ...] = ()
    unnamed_failures: int = 0


class Target(Protocol):
    """Where objects are published."""

    def latest(self, ids: Sequence[str], progress: Progress) -> Mapping[str, bytes] | None:
        """The latest stored version of each of ``ids`` the destination holds, as
        canonical JSON; ``None`` when the destination cannot be read."""

    def store(self, objects: Sequence[NewObject], progress: Progress) -> Stored:
        """Store ``objects`` (all valid STIX 2.1) and say what happened."""

    @property
    def markings(self) -> MarkingLookup | None:
        """The ranks of the marking definitions the destination's store registered,
        for the objects' TLP ranks (``None``: a remote server ranks them itself)."""


@dataclass(frozen=True, slots=True)
class PublishReport:
    """How many objects were new, changed, unchanged, posted and failed."""

    new: int = 0
    changed: int = 0
    unchanged: int = 0
    posted: int = 0
    failures: tuple[Failure, ...] = ()
    unnamed_failures: int = 0

    @property
    def failed(self) -> int:
        """Objects not published, named or not."""
        return len(self.failures) + self.unnamed_failures

    def summary(self) -> str:
        """One line: ``12 new, 3 changed, 40 unchanged, 0 failed``."""
        parts = [f"{self.new} new", f"{self.changed} changed", f"{self.unchanged} unchanged"]
        if self.posted:
            parts.append(f"{self.posted} posted without comparison")
        parts.append(f"{self.failed} failed")
        return ", ".join(parts)


def content_key(obj: Mapping[str, Any]) -> bytes:
    """An object's content without ``modified``, as canonical JSON: two versions with
    the same key differ only in their version timestamp."""
    return canonical_json({k: v for k, v in obj.items() if k != "modified"})


@dataclass(slots=True)
class _Plan:
    """The objects to send, by kind, and the ones left out."""

    send: list[NewObject] = field(default_factory=list)
    new: set[str] = field(default_factory=set)  # ids sent as new (not yet held)
    unchanged: int = 0


def _plan(valid: Sequence[NewObject], latest: Mapping[str, bytes] | None) -> _Plan:
    plan = _Plan()
    if latest is None:
        plan.send = list(valid)
        return plan
    # Per id, the content and version of the latest version known so far: the stored
    # one, then whichever this publication adds (a bundle may hold several versions);
    # and the `created` the first version fixed.
    known: dict[str, tuple[bytes, int | None]] = {}
    first_created: dict[str, str] = {}
    for object_id, data in latest.items():
        stored = orjson.loads(data)
        known[object_id] = (content_key(stored), None)
        if isinstance(stored.get("created"), str):
            first_created[object_id] = stored["created"]
    for obj in valid:
        body = orjson.loads(obj.data)
        created = first_created.get(obj.id)
        if created is not None and _keep_created(body, created):
            obj = msgspec.structs.replace(obj, data=canonical_json(body), origin=origin_of(body))
        key = content_key(body)
        seen = known.get(obj.id)
        if seen is None:
            plan.new.add(obj.id)
        elif seen[0] == key:
            plan.unchanged += 1
            continue
        if seen is None or seen[1] is None or (obj.version or 0) >= seen[1]:
            known[obj.id] = (key, obj.version)
        plan.send.append(obj)
    return plan


def _keep_created(body: dict[str, Any], created: str) -> bool:
    """Give a new version of a stored object the stored ``created``; say whether
    ``body`` changed.

    STIX 2.1 §3.6: ``created`` never changes between versions.  A package revision
    without ``first_published`` converts with ``created`` = this revision's
    ``published``; taken as it is, every object would differ from its stored version
    and be republished.  An indicator's ``valid_from`` that follows its ``created``
    (the mapping's fallback when a data point has no ``first_seen``) follows it here
    too.  A version older than the stored ``created`` is left as it is (it would
    have ``modified`` before ``created``): the destination refuses or keeps it.
    """
    own = body.get("created")
    if own == created or not isinstance(own, str):
        return False
    try:
        if parse_timestamp(str(body.get("modified", own))) < parse_timestamp(created):
            return False
    except TimestampError:
        return False
    if body.get("valid_from") == own:
        body["valid_from"] = created
    body["created"] = created
    return True


def _deduplicated(valid: Sequence[NewObject]) -> list[NewObject]:
    """Drop exact repeats (an object shared by two bundles given together)."""
    seen: set[tuple[str, bytes]] = set()
    kept = []
    for obj in valid:
        if (obj.id, obj.data) not in seen:
            seen.add((obj.id, obj.data))
            kept.append(obj)
    return kept


def publish_objects(
    objects: Sequence[Any],
    target: Target,
    validator: StixValidator,
    progress: Progress | None = None,
) -> PublishReport:
    """Validate ``objects``, compare them with what ``target`` holds, and store the
    new and changed ones there."""
    tell = progress or _silent
    prepared = prepare_objects(objects, validator, target.markings)
    invalid = tuple(Failure(f.id, f.message or "invalid") for f in prepared.failures)
    valid = _deduplicated(prepared.valid)
    latest = target.latest(sorted({o.id for o in valid}), tell)
    plan = _plan(valid, latest)
    stored = target.store(plan.send, tell) if plan.send else Stored()
    failed_ids = {f.object_id for f in stored.failures}
    new = changed = posted = 0
    unchanged = plan.unchanged
    for obj in plan.send:
        if obj.id in failed_ids:
            continue
        if obj.id in stored.unchanged:
            unchanged += 1
        elif latest is None:
            posted += 1
        elif obj.id in plan.new:
            new += 1
        else:
            changed += 1
    return PublishReport(
        new=new,
        changed=changed,
        unchanged=unchanged,
        posted=posted,
        failures=invalid + stored.failures,
        unnamed_failures=stored.unnamed_failures,
    )


def _silent(stage: str, done: int, total: int) -> None:
    """The progress callback when nobody watches."""


def _batches(items: Sequence[str], size: int) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class LocalTarget:
    """A collection in this installation's store."""

    def __init__(
        self,
        storage: Storage,
        collection: Collection,
        *,
        clearance: int = _ALL_LEVELS,
        actor: Actor = OPERATOR,
    ) -> None:
        """``clearance``: the TLP rank compared at; every level by default (an operator
        publishing from the command line), a user's own in the workbench.  ``actor``:
        whom the writes are made for (the operator by default; a user's organization
        in the workbench, under the ownership rules of a TAXII POST)."""
        self._storage = storage
        self._actor = actor
        self._markings = StoredMarkings(storage.marking_ranks)
        self._collection = collection
        self._clearance = clearance

    @property
    def markings(self) -> MarkingLookup:
        return self._markings

    def latest(self, ids: Sequence[str], progress: Progress) -> Mapping[str, bytes]:
        """The latest version of each id, at every TLP level by default (the publisher
        compares with everything stored, not with what some reader sees)."""
        found: dict[str, bytes] = {}
        for done, batch in enumerate(_batches(ids, _LOOKUP_BATCH)):
            query = ObjectQuery(
                clearance=self._clearance,
                limit=len(batch),
                ids=tuple(batch),
                versions=VersionSelector(last=True),
            )
            while True:
                page = self._storage.query_objects(self._collection.id, query)
                for item in page.items:
                    found[item.id] = item.data
                if not page.more or not page.items:
                    break
                query = ObjectQuery(
                    clearance=query.clearance,
                    limit=query.limit,
                    after=page.items[-1].date_added,
                    ids=query.ids,
                    versions=query.versions,
                )
            progress("compare", min((done + 1) * _LOOKUP_BATCH, len(ids)), len(ids))
        return found

    def store(self, objects: Sequence[NewObject], progress: Progress) -> Stored:
        """Add the objects in chunks, one transaction each (as a TAXII POST does)."""
        unchanged: set[str] = set()
        failures: list[Failure] = []
        for start in range(0, len(objects), ADD_CHUNK):
            chunk = objects[start : start + ADD_CHUNK]
            results = self._storage.add_objects(self._collection.id, chunk, actor=self._actor)
            for obj, result in zip(chunk, results, strict=True):
                if result.outcome is AddOutcome.UNCHANGED:
                    unchanged.add(obj.id)
                elif (message := result_message(result)) is not None:
                    failures.append(Failure(obj.id, message))
            progress("store", start + len(chunk), len(objects))
        return Stored(frozenset(unchanged), tuple(failures))
