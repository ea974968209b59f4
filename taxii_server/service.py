"""TAXII 2.1 semantics, written once: who may see what, pages, deletes and status.

Views hand this module parsed path parameters, the query string (as a mapping of
lists) and the caller; it applies the rules and returns records.  Nothing here knows
Flask; nothing in the stores knows these rules.

Who may see what:

* A collection is readable by admins, by users granted read, and by anyone when it is
  public; writable by admins and users granted write.
* Clearance is per collection: admins and users granted read read at their own TLP
  clearance (an admin cleared for RED also reads what is admin-only: objects whose
  markings cannot be ranked, :mod:`converters.tlp`); anyone else reading a public
  collection, signed in or not, reads its TLP:CLEAR objects only.  Signing in never
  widens a public collection by itself: a user needs a read grant to see what their
  clearance allows there.
* A collection the caller can neither read nor write does not exist for them (404,
  never 403), so a user of collection A learns nothing about collection B.  Anonymous
  callers get 401 instead, which tells them to authenticate and reveals nothing.
* TLP: every store query carries the caller's clearance; an object above it does not
  exist for them in any endpoint (objects, manifest, object, versions, delete, counts
  and headers).
* A status resource is visible only to the user who posted it, and to admins.

Who may change what (STIX 2.1 §3.6, only an object's creator makes new versions): every
user writes for their organization (:func:`actor_of`); the first version of an object
fixes its owner, and later versions, revocations and deletes are the owner's (admins
act for every organization, and the audit log names the admin).  The rules are
:func:`taxii_server.storage.versions.resolve_additions` and ``may_change``, applied
by each store inside its write transaction; a refused object is a status failure
saying why, a refused delete of an object the caller can see is 403.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Generic, Protocol, TypeVar

import msgspec

from converters.ids import organization_identity_id
from converters.validation import StixValidator
from taxii_server.audit import Auditor
from taxii_server.auth import Principal
from taxii_server.errors import (
    BadRequest,
    Forbidden,
    NotFound,
    PayloadTooLarge,
    ServiceUnavailable,
    Unauthorized,
    quoted,
)
from taxii_server.gc_pause import gc_paused
from taxii_server.ingest import (
    ADD_CHUNK,
    StoredMarkings,
    check_identified,
    parse_envelope,
    prepare_objects,
)
from taxii_server.query import (
    Endpoint,
    NextToken,
    NextTokenCodec,
    build_query,
    check_object_id,
    parse_delete_filters,
    parse_page_request,
)
from taxii_server.settings import Settings
from taxii_server.storage.base import (
    Actor,
    ApiRoot,
    Collection,
    Grant,
    ManifestEntry,
    NotOwner,
    ObjectQuery,
    Status,
    StatusDetail,
    Storage,
    StoredObject,
    VersionSelector,
)
from taxii_server.storage.versions import pending_entries
from taxii_server.timestamps import format_timestamp

__all__ = [
    "ABANDONED_MESSAGE",
    "CollectionAccess",
    "actor_of",
    "require_organization",
    "RequestBody",
    "ResultPage",
    "TaxiiService",
    "actor_of",
]

_log = logging.getLogger(__name__)


#: How often (seconds) one process purges statuses older than ``status_ttl``.
_PURGE_EVERY = 3600

ABANDONED_MESSAGE = (
    "not stored: the server stopped processing this request (restarted or timed out) "
    "before reaching this object; post it again"
)

T = TypeVar("T", StoredObject, ManifestEntry)
Args = Mapping[str, Sequence[str]]


@dataclass(frozen=True, slots=True)
class CollectionAccess:
    """A collection with what the caller may do in it, and the highest TLP rank they
    read at there (their clearance with a read grant, TLP:CLEAR otherwise)."""

    collection: Collection
    can_read: bool
    can_write: bool
    clearance: int = 0


def actor_of(caller: Principal) -> Actor:
    """Whom ``caller``'s writes are made for: their organization's STIX identity (the
    id a package naming it as author gives it), as an admin or not."""
    organization = caller.user.organization if caller.user is not None else None
    identity = organization_identity_id(organization) if organization is not None else None
    return Actor(identity, admin=caller.admin)


def require_organization(caller: Principal) -> None:
    """403 for a user who is not an admin and belongs to no organization: what they
    would store could have no owner (docs/security.md, Ownership)."""
    if not caller.admin and (caller.user is None or caller.user.organization is None):
        raise Forbidden(
            f"user {caller.name!r} belongs to no organization, and objects are written for "
            "an organization (STIX 2.1 §3.6: only an object's creator changes it); an "
            "admin sets it with `atlas-taxii users set-organization`"
        )


def _access(caller: Principal, collection: Collection, grant: Grant | None) -> CollectionAccess:
    """What a user who is not an admin (or anonymous: no grant) may do in ``collection``."""
    granted = grant is not None and grant.can_read
    return CollectionAccess(
        collection,
        can_read=granted or collection.public,
        can_write=grant is not None and grant.can_write,
        clearance=caller.clearance if granted else 0,
    )


class RequestBody(Protocol):
    """The body of a POST, read no further than a limit."""

    @property
    def content_length(self) -> int | None:
        """The declared length, when the client sent one."""

    def read(self, limit: int) -> bytes:
        """At most ``limit + 1`` bytes of the body (one more tells it is too long)."""


@dataclass(frozen=True, slots=True)
class ResultPage(Generic[T]):
    """One page of a paged endpoint, ready to render: items in ``date_added`` order,
    ``next`` whenever ``more``, and the ``X-TAXII-Date-Added-First``/``-Last`` values
    (the query's lower bound, or the epoch, when the page is empty)."""

    items: list[T]
    more: bool
    next: str | None
    date_added: tuple[int, int]


class TaxiiService:
    """The TAXII rules over one store.  ``clock`` returns microseconds since the epoch."""

    def __init__(
        self,
        storage: Storage,
        settings: Settings,
        *,
        codec: NextTokenCodec,
        clock: Callable[[], int],
        validator: Callable[[], StixValidator],
    ) -> None:
        self.storage = storage
        self.settings = settings
        self.codec = codec
        self.clock = clock
        self.validator = validator
        self.audit = Auditor(storage, clock, settings.audit_retain_days)
        self.markings = StoredMarkings(storage.marking_ranks)
        self._last_purge: int | None = None

    # -- discovery and API roots (§4.1, §4.2) ------------------------------------------
    def api_roots(self) -> list[ApiRoot]:
        """Every API root, for discovery."""
        return self.storage.list_api_roots()

    def api_root(self, name: str) -> ApiRoot:
        """An API root, or 404."""
        root = self.storage.get_api_root(name)
        if root is None:
            raise NotFound(f"there is no API root {quoted(name)} on this server")
        return root

    # -- collections (§5.1, §5.2) ------------------------------------------------------
    def access(self, caller: Principal, collection: Collection) -> CollectionAccess:
        """What ``caller`` may do in ``collection``."""
        if caller.admin:
            return CollectionAccess(collection, True, True, caller.clearance)
        grant = (
            self.storage.get_grant(caller.name, collection.id) if caller.name is not None else None
        )
        return _access(caller, collection, grant)

    def list_collections(self, caller: Principal, api_root: str) -> list[CollectionAccess]:
        """The collections of an API root the caller can read or write (§5.1)."""
        self.api_root(api_root)
        collections = self.storage.list_collections(api_root)
        if caller.anonymous:
            # Anonymous callers only ever see public collections; with none, the
            # useful answer is "authenticate", not an empty list.
            visible = [CollectionAccess(c, True, False, 0) for c in collections if c.public]
            if not visible:
                raise Unauthorized(f"API root {api_root!r} has no public collections")
            return visible
        if caller.admin:
            return [CollectionAccess(c, True, True, caller.clearance) for c in collections]
        grants = {g.collection_id: g for g in self.storage.list_grants(caller.name or "")}
        every = (_access(caller, c, grants.get(c.id)) for c in collections)
        return [access for access in every if access.can_read or access.can_write]

    def collection(self, caller: Principal, api_root: str, collection_id: str) -> CollectionAccess:
        """A collection the caller can read or write; 404 (401 anonymous) otherwise."""
        self.api_root(api_root)
        collection = self.storage.get_collection(api_root, collection_id)
        access = self.access(caller, collection) if collection is not None else None
        if access is None or not (access.can_read or access.can_write):
            if caller.anonymous:
                raise Unauthorized("authenticate to use this collection")
            raise NotFound(
                f"there is no collection {quoted(collection_id)} in API root {api_root!r}"
            )
        return access

    def readable(self, caller: Principal, api_root: str, collection_id: str) -> CollectionAccess:
        """A collection the caller may read, or the error that says why not."""
        access = self.collection(caller, api_root, collection_id)
        if not access.can_read:
            raise Forbidden(f"you may add objects to collection {collection_id!r} but not read it")
        return access

    def writable(self, caller: Principal, api_root: str, collection_id: str) -> CollectionAccess:
        """A collection the caller may write, or the error that says why not."""
        access = self.collection(caller, api_root, collection_id)
        if not access.can_write:
            if caller.anonymous:
                raise Unauthorized("authenticate to add objects to this collection")
            raise Forbidden(f"collection {collection_id!r} is read-only for you")
        return access

    # -- paged endpoints (§5.3, §5.4, §5.6, §5.8) --------------------------------------
    def objects(
        self, caller: Principal, api_root: str, collection_id: str, args: Args
    ) -> ResultPage[StoredObject]:
        """Get Objects (§5.4)."""
        access = self.readable(caller, api_root, collection_id)
        query, start = self._query(caller, api_root, access, Endpoint.OBJECTS, args, None)
        page = self.storage.query_objects(access.collection.id, query)
        return self._result(caller, start, query, page.items, page.more)

    def manifest(
        self, caller: Principal, api_root: str, collection_id: str, args: Args
    ) -> ResultPage[ManifestEntry]:
        """Get Object Manifests (§5.3)."""
        access = self.readable(caller, api_root, collection_id)
        query, start = self._query(caller, api_root, access, Endpoint.MANIFEST, args, None)
        page = self.storage.query_manifest(access.collection.id, query)
        return self._result(caller, start, query, page.items, page.more)

    def object(
        self, caller: Principal, api_root: str, collection_id: str, object_id: str, args: Args
    ) -> ResultPage[StoredObject]:
        """Get an Object (§5.6): 404 when no version of it is visible to the caller."""
        access = self.readable(caller, api_root, collection_id)
        check_object_id(object_id)
        query, start = self._query(caller, api_root, access, Endpoint.OBJECT, args, object_id)
        page = self.storage.query_objects(access.collection.id, query)
        if not page.items:
            self._require_object(access, object_id)
        return self._result(caller, start, query, page.items, page.more)

    def versions(
        self, caller: Principal, api_root: str, collection_id: str, object_id: str, args: Args
    ) -> ResultPage[ManifestEntry]:
        """Get Object Versions (§5.8): every visible version, unless filtered."""
        access = self.readable(caller, api_root, collection_id)
        check_object_id(object_id)
        query, start = self._query(caller, api_root, access, Endpoint.VERSIONS, args, object_id)
        page = self.storage.query_manifest(access.collection.id, query)
        if not page.items:
            self._require_object(access, object_id)
        return self._result(caller, start, query, page.items, page.more)

    def delete_object(
        self, caller: Principal, api_root: str, collection_id: str, object_id: str, args: Args
    ) -> int:
        """Delete an Object (§5.7): every visible version, or those ``match[version]``
        and ``match[spec_version]`` select; needs read and write.  404 when none matched;
        403 when the object is another organization's (STIX 2.1 §3.6)."""
        access = self.writable(caller, api_root, collection_id)
        if not access.can_read:
            raise Forbidden(f"deleting from collection {collection_id!r} needs read access too")
        check_object_id(object_id)
        require_organization(caller)
        query = build_query(
            parse_delete_filters(args), endpoint=None, clearance=access.clearance, limit=1
        )
        try:
            deleted = self.storage.delete_objects(
                access.collection.id, object_id, query, actor=actor_of(caller)
            )
        except NotOwner as exc:
            # Raised only when versions visible to the caller were selected: 403 tells
            # them nothing they cannot read.
            raise Forbidden(str(exc)) from None
        if not deleted:
            raise NotFound(f"no version of {object_id!r} matches in this collection")
        self.audit.deleted(
            caller, api_root, access.collection.id, object_id, deleted, clearance=access.clearance
        )
        return deleted

    def _require_object(self, access: CollectionAccess, object_id: str) -> None:
        probe = ObjectQuery(
            clearance=access.clearance,
            limit=1,
            ids=(object_id,),
            versions=VersionSelector(last=False, all=True),
        )
        if not self.storage.query_manifest(access.collection.id, probe).items:
            raise NotFound(f"there is no object {object_id!r} in this collection")

    def _query(
        self,
        caller: Principal,
        api_root: str,
        access: CollectionAccess,
        endpoint: Endpoint,
        args: Args,
        object_id: str | None,
    ) -> tuple[ObjectQuery, NextToken]:
        """The store query of one page, and the token that the next page would resume
        (its ``position`` still unset)."""
        request = parse_page_request(args, endpoint, max_limit=self.settings.max_limit)
        filters = request.filters
        limit = request.limit or self.settings.default_limit
        position = None
        if request.next is not None:
            token = self.codec.decode(request.next, now=self.clock())
            issued_for = (token.api_root, token.collection_id, token.endpoint, token.object_id)
            if issued_for != (api_root, access.collection.id, endpoint, object_id):
                raise BadRequest(
                    "this next token continues another query (API root, collection, "
                    "endpoint or object); it cannot be used here",
                    details={"parameter": "next"},
                )
            filters = filters.resumed_from(token.filters)
            limit = min(request.limit or token.limit, self.settings.max_limit)
            position = token.position
        query = build_query(
            filters,
            endpoint=endpoint,
            clearance=access.clearance,  # the caller's here, never the token's
            limit=limit,
            position=position,
            object_id=object_id,
        )
        start = NextToken(
            api_root=api_root,
            collection_id=access.collection.id,
            endpoint=endpoint,
            object_id=object_id,
            filters=filters,
            limit=limit,
            position=0,
            expires=0,
        )
        return query, start

    def _result(
        self, caller: Principal, start: NextToken, query: ObjectQuery, items: list[T], more: bool
    ) -> ResultPage[T]:
        """The page to render, once its audit record is stored (no record, no page)."""
        self.audit.read(
            caller,
            start.api_root,
            start.collection_id,
            start.endpoint.value,
            items,
            start.filters,
            object_id=start.object_id,
            clearance=query.clearance,
        )
        lower = query.after or 0
        if not items:
            return ResultPage(items, False, None, (lower, lower))
        first, last = items[0].date_added, items[-1].date_added
        next_token = None
        if more:
            resume = NextToken(
                api_root=start.api_root,
                collection_id=start.collection_id,
                endpoint=start.endpoint,
                object_id=start.object_id,
                filters=start.filters,
                limit=start.limit,
                position=last,
                expires=self.clock() + self.settings.next_ttl * 1_000_000,
            )
            next_token = self.codec.encode(resume)
        return ResultPage(items, more, next_token, (first, last))

    # -- Add Objects (§5.5) -------------------------------------------------------------
    def add_objects(
        self, caller: Principal, api_root: str, collection_id: str, body: RequestBody
    ) -> Status:
        """Validate and store a POSTed envelope; return its status (complete).

        Every object is accounted for: invalid ones are status failures saying why,
        re-posted identical ones are successes stored once, and a different body under
        a stored id and version is a failure (STIX 2.1 §3.6).  An envelope of at most
        ``ADD_CHUNK`` valid objects is stored with its status and audit record in one
        transaction.  A larger one is stored in chunks: the status is created before the
        first chunk and updated in the same transactions as the objects, so it tells the
        truth even if this worker dies half-way.
        """
        # Thousands of parsed objects live until the end: the cyclic collector would
        # walk them again and again for nothing (taxii_server.gc_pause).
        with gc_paused():
            return self._add_objects(caller, api_root, collection_id, body)

    def _add_objects(
        self, caller: Principal, api_root: str, collection_id: str, body: RequestBody
    ) -> Status:
        access = self.writable(caller, api_root, collection_id)
        require_organization(caller)
        actor = actor_of(caller)
        limit = self.api_root(api_root).max_content_length
        too_large = PayloadTooLarge(
            f"the body exceeds this API root's max_content_length of {limit} bytes; "
            "split the envelope",
            details={"max_content_length": limit},
        )
        if body.content_length is not None and body.content_length > limit:
            raise too_large
        raw = body.read(limit)
        if len(raw) > limit:
            raise too_large
        objects = parse_envelope(raw)
        most = self.settings.max_objects_per_request
        if len(objects) > most:
            raise PayloadTooLarge(
                f"the envelope holds {len(objects)} objects; at most {most} are accepted "
                "per request: split it",
                details={"max_objects_per_request": most},
            )
        check_identified(objects)
        requested = self.clock()
        prepared = prepare_objects(objects, self.validator(), self.markings)
        status_id = str(uuid.uuid4())
        self._purge_statuses(requested)
        # A status entry names a version (§4.3.1): an invalid object without a usable
        # one is named by the request's time (pending SCOs too: pending_entries).
        received = format_timestamp(requested)
        status = Status(
            id=status_id,
            api_root=api_root,
            collection_id=access.collection.id,
            owner=caller.name,
            request_timestamp=requested,
            updated=requested,
            total_count=len(objects),
            failures=tuple(
                msgspec.structs.replace(f, version=f.version or received) for f in prepared.failures
            ),
        )
        audit = self.audit.addition(caller, api_root, access.collection.id, status_id, len(objects))
        if len(prepared.valid) <= ADD_CHUNK:
            # One transaction: the status, its audit record and the objects, or nothing.
            self.storage.add_envelope(status, prepared.valid, audit, actor=actor)
        else:
            # The status and the audit record first: a worker killed half-way leaves
            # them, and the status says what was stored.
            self.storage.create_status(
                replace(status, pendings=pending_entries(prepared.valid, requested))
            )
            self.storage.record_audit(audit)
            for start in range(0, len(prepared.valid), ADD_CHUNK):
                chunk = prepared.valid[start : start + ADD_CHUNK]
                self.storage.add_objects(
                    access.collection.id, chunk, status_id=status_id, actor=actor
                )
        stored = self.storage.get_status(api_root, status_id)
        if stored is None:
            raise ServiceUnavailable(f"the store lost status {status_id!r} while processing")
        return stored

    def _purge_statuses(self, now: int) -> None:
        """Drop statuses past ``status_ttl``, at most once per ``_PURGE_EVERY`` per process."""
        if self._last_purge is not None and now - self._last_purge < _PURGE_EVERY * 1_000_000:
            return
        self._last_purge = now
        purged = self.storage.purge_statuses(now - self.settings.status_ttl * 1_000_000)
        if purged:
            _log.info("purged %d statuses older than %d s", purged, self.settings.status_ttl)

    # -- status (§4.3) ---------------------------------------------------------------------
    def status(self, caller: Principal, api_root: str, status_id: str) -> Status:
        """A status resource, to the user who posted it (or an admin); 404 to anyone else.

        A status whose pendings have not moved for twice the request timeout belongs to
        a request whose worker was killed: no worker is still processing it, so its
        pendings are reported as failures (:data:`ABANDONED_MESSAGE`) and it is complete.
        """
        self.api_root(api_root)
        if caller.anonymous:
            raise Unauthorized("authenticate to read a status resource")
        status = self.storage.get_status(api_root, status_id)
        now = self.clock()
        if (
            status is None
            or (status.owner != caller.name and not caller.admin)
            or status.updated < now - self.settings.status_ttl * 1_000_000
        ):
            raise NotFound(f"there is no status {quoted(status_id)} in API root {api_root!r}")
        abandoned_before = now - 2 * self.settings.request_timeout * 1_000_000
        if status.pendings and status.updated < abandoned_before:
            lost = tuple(StatusDetail(p.id, p.version, ABANDONED_MESSAGE) for p in status.pendings)
            status = replace(status, failures=status.failures + lost, pendings=())
        return status
