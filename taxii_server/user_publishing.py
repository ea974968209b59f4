"""Publishing as a signed-in user: the workbench's "publish" under the TAXII rules.

``atlas-taxii publish`` is an operator's command: it writes into the store and
compares with every version held.  The workbench publishes for a user, so the same
:func:`~taxii_server.publishing.publish_objects` runs behind the service's checks:

* the collection must be writable by the user (:meth:`TaxiiService.writable`, as for
  Add Objects, TAXII 2.1 §5.5), or the answer is 404/403, and the user must belong to
  an organization (or be an admin);
* objects are written for the user's organization, under the ownership rules of a
  TAXII POST (STIX 2.1 §3.6: a package authored by another organization is refused
  object by object, each failure saying why; a preview says so already);
* objects are compared with what the user may read there, at their clearance (an
  object above it is not looked at, so a preview reveals nothing about it); a user
  who may write but not read gets every valid object sent, as ``posted``;
* the publication is audited as an ``add`` of the objects offered, before any is
  stored (no record, no write);
* a preview (``dry_run``) compares and stores nothing, and is not audited: it reads
  only objects the caller sent;
* an object the store already held identically but the user may not read is reported
  as new, not unchanged, as TAXII's status reports either as a success: the report
  says nothing about objects above the user's clearance.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from taxii_server.auth import Principal
from taxii_server.ingest import MarkingLookup
from taxii_server.publishing import (
    Failure,
    LocalTarget,
    Progress,
    PublishReport,
    Stored,
    Target,
    publish_objects,
)
from taxii_server.service import TaxiiService, actor_of, require_organization
from taxii_server.storage.base import Actor, NewObject
from taxii_server.storage.versions import creator_refusal

__all__ = ["publish_as"]


class _Blind:
    """A target the user may write but not read: nothing to compare with."""

    def __init__(self, inner: Target) -> None:
        self._inner = inner

    @property
    def markings(self) -> MarkingLookup | None:
        return self._inner.markings

    def latest(self, ids: Sequence[str], progress: Progress) -> Mapping[str, bytes] | None:
        return None

    def store(self, objects: Sequence[NewObject], progress: Progress) -> Stored:
        return self._inner.store(objects, progress)


class _Cleared:
    """Reports as unchanged only objects the user could compare with (see above)."""

    def __init__(self, inner: Target) -> None:
        self._inner = inner
        self._seen: set[str] = set()

    @property
    def markings(self) -> MarkingLookup | None:
        return self._inner.markings

    def latest(self, ids: Sequence[str], progress: Progress) -> Mapping[str, bytes] | None:
        found = self._inner.latest(ids, progress)
        self._seen = set(found or ())
        return found

    def store(self, objects: Sequence[NewObject], progress: Progress) -> Stored:
        stored = self._inner.store(objects, progress)
        return replace(stored, unchanged=stored.unchanged & frozenset(self._seen))


class _Preview:
    """Compares like the target it wraps, and stores nothing; names the objects the
    user could not be the creator of, whatever is stored (the store would refuse
    them; what it would refuse for stored versions it alone can say)."""

    def __init__(self, inner: Target, actor: Actor) -> None:
        self._inner = inner
        self._actor = actor

    @property
    def markings(self) -> MarkingLookup | None:
        return self._inner.markings

    def latest(self, ids: Sequence[str], progress: Progress) -> Mapping[str, bytes] | None:
        return self._inner.latest(ids, progress)

    def store(self, objects: Sequence[NewObject], progress: Progress) -> Stored:
        refused = ((obj.id, creator_refusal(obj, self._actor)) for obj in objects)
        return Stored(failures=tuple(Failure(i, why) for i, why in refused if why is not None))


def publish_as(
    service: TaxiiService,
    caller: Principal,
    api_root: str,
    collection_id: str,
    objects: Sequence[Any],
    *,
    dry_run: bool = False,
) -> PublishReport:
    """Publish ``objects`` (parsed STIX) into a collection ``caller`` may write; with
    ``dry_run``, only say what would be new, changed and unchanged."""
    access = service.writable(caller, api_root, collection_id)
    require_organization(caller)
    actor = actor_of(caller)
    local = LocalTarget(service.storage, access.collection, clearance=access.clearance, actor=actor)
    target: Target = _Cleared(local) if access.can_read else _Blind(local)
    if dry_run:
        target = _Preview(target, actor)
    else:
        service.audit.published(caller, api_root, access.collection.id, len(objects))
    return publish_objects(objects, target, service.validator())
