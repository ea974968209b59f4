"""The storage boundary: records exchanged with the stores, and the Storage protocol.

Everything here is in TAXII 2.1 domain terms (§4 API roots, §5 collections, objects,
manifests, versions, status) and plain Python values.  Nothing here knows about HTTP:
no Flask, no status codes, no query strings.  Backends (``sql.py`` for SQLite and
PostgreSQL, ``mongo.py`` for MongoDB) implement :class:`Storage`; the TAXII rules
(which filters a request means, how ``next`` tokens look, who may see what) live in
``taxii_server/service.py`` and reach a backend only as the literal, already-decided
values of an :class:`ObjectQuery`.

Conventions every backend follows:

* Timestamps are integers: microseconds since the Unix epoch, UTC.  ``date_added`` is
  unique and strictly increasing per collection, assigned inside the write transaction
  while the collection's write lock is held, so commit order equals ``date_added``
  order and a poller resuming after the last ``date_added`` it saw never misses an
  object committed concurrently (TAXII 2.1 §3.4.2, ``added_after``).
* Object bodies are stored as the canonical compact JSON bytes produced by
  :func:`taxii_server.storage.versions.canonical_json` (sorted keys), and served back
  without re-parsing.
* TLP clearance is an integer rank (see :mod:`converters.tlp`): 0 clear, 1 green,
  2 amber, 3 amber+strict, 4 red, 5 admin-only (a marking the server cannot rank).
  A stored version with ``tlp`` greater than a query's ``clearance`` does not exist
  for that query.
* Marking definitions are immutable (STIX 2.1 §7.2.1): the first body stored under a
  marking-definition id (compared lower-cased) is registered server-wide, with the rank
  it defines, in the write that stores it; a later object of that id with another body
  is :attr:`AddOutcome.REDEFINED` in any collection, and not stored.
* Version selection (``match[version]`` first/last) is answered per clearance: each
  stored version carries ``first_mask``/``latest_mask`` bit sets (bit *c* set when it
  is the first/latest version visible to clearance *c*), recomputed for an object id
  whenever one of its versions is added or deleted, by the one shared function
  :func:`taxii_server.storage.versions.version_masks`.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Generic, Protocol, TypeVar

import msgspec

__all__ = [
    "AUDIT_ACTIONS",
    "OPERATOR",
    "Actor",
    "AddOutcome",
    "AddResult",
    "AuditQuery",
    "AuditRecord",
    "ApiKey",
    "ApiRoot",
    "Collection",
    "Grant",
    "ManifestEntry",
    "NewObject",
    "ObjectQuery",
    "Page",
    "SchemaTooNew",
    "Status",
    "StatusDetail",
    "Storage",
    "StorageConflict",
    "StorageError",
    "StorageNotFound",
    "NotOwner",
    "StorageUnavailable",
    "StoredObject",
    "User",
    "VersionSelector",
    "STIX_21",
]

STIX_21 = "2.1"

T = TypeVar("T")


# --------------------------------------------------------------------------- errors


class StorageError(Exception):
    """Root of every error a backend raises; driver exceptions are translated into it."""


class StorageUnavailable(StorageError):
    """The database cannot be reached or refused the operation for a transient reason."""


class StorageNotFound(StorageError):
    """A record the caller named (API root, collection, user, key) does not exist."""


class StorageConflict(StorageError):
    """A uniqueness rule was broken (duplicate collection title, user name, key id)."""


class NotOwner(StorageError):
    """A write the caller's organization may not make: the object belongs to another
    (STIX 2.1 §3.6, only the creator makes new versions).  Nothing was changed."""


class SchemaTooNew(StorageError):
    """The database was written by a newer atlas-taxii; refuse to touch it."""


# --------------------------------------------------------------------------- records


@dataclass(frozen=True, slots=True)
class ApiRoot:
    """An API root (TAXII 2.1 §4.2), addressed by its URL path segment ``name``."""

    name: str
    title: str
    description: str = ""
    max_content_length: int = 10 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Collection:
    """A collection (TAXII 2.1 §5.2).  ``id`` is a UUIDv4 string; ``title`` is unique
    within its API root; ``alias`` (optional) is unique within its API root too.
    ``public`` grants anonymous read (at clearance ``clear``)."""

    id: str
    api_root: str
    title: str
    description: str = ""
    alias: str | None = None
    public: bool = False
    media_types: tuple[str, ...] = ("application/stix+json;version=2.1",)


@dataclass(frozen=True, slots=True)
class VersionSelector:
    """The literal meaning of ``match[version]`` (TAXII 2.1 §3.4.1).

    A stored version matches when ``all`` is set, or it is the first/latest version
    visible at the query's clearance and ``first``/``last`` is set, or its version
    timestamp is one of ``at``.  The TAXII default is ``last`` only.
    """

    first: bool = False
    last: bool = True
    all: bool = False
    at: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class ObjectQuery:
    """One page request against one collection, with every filter already decided.

    ``after`` is the exclusive lower bound on ``date_added`` (the larger of the
    client's ``added_after`` and the position a ``next`` token resumes from).  The
    store returns at most ``limit`` items ordered by ``date_added`` ascending and
    says whether more match.  Empty tuples mean "no filter on this field";
    ``spec_versions`` empty means the latest spec version (only 2.1 is stored).
    """

    clearance: int
    limit: int
    after: int | None = None
    ids: tuple[str, ...] = ()
    types: tuple[str, ...] = ()
    versions: VersionSelector = field(default_factory=VersionSelector)
    spec_versions: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """A page of query results in ``date_added`` order; ``more`` is true when further
    matching items exist after the last one."""

    items: list[T]
    more: bool


@dataclass(frozen=True, slots=True)
class StoredObject:
    """One stored version of a STIX object, with its body as canonical JSON bytes."""

    id: str
    date_added: int
    version: int
    spec_version: str
    data: bytes


@dataclass(frozen=True, slots=True)
class ManifestEntry:
    """The manifest view of one stored version (TAXII 2.1 §5.3)."""

    id: str
    date_added: int
    version: int
    spec_version: str


# The records made once per object of a POST (the object, its result, its status
# entry) are msgspec Structs: frozen and slotted like the dataclasses here, built in C,
# where a frozen dataclass sets each field through object.__setattr__ (0.4 us a record
# of three fields, against 0.05; 0.95 against 0.05 for a NewObject).  Change one with
# msgspec.structs.replace.  Not tracked by the cyclic collector: they hold strings,
# bytes, numbers and an enum member only.


class NewObject(msgspec.Struct, frozen=True, gc=False):
    """A validated STIX object ready to store.

    ``version`` is the object's ``modified`` (or ``created``) in microseconds, or
    ``None`` for objects with neither (most SCOs): those are versioned by content,
    taking their ``date_added`` as version, and an identical body is not stored again.
    ``tlp`` is the highest TLP rank among the object's markings (0 when unmarked).
    ``created_by_ref`` is the object's, when it has one; ``origin`` says what must not
    change between its versions (STIX 2.1 §3.6: ``created`` and ``created_by_ref``,
    see :func:`taxii_server.storage.versions.origin_of`).
    ``marking`` is, for a marking definition to register (every one but the built-in
    TLP definitions), the rank it gives what it marks
    (:func:`converters.tlp.definition_rank`); ``None`` for other objects.
    """

    id: str
    type: str
    spec_version: str
    version: int | None
    tlp: int
    data: bytes
    created_by_ref: str | None = None
    origin: str = ""
    #: One of the definitions the code ships, byte for byte
    #: (:func:`taxii_server.ingest.builtin_definitions`): anyone may post it.
    builtin: bool = False
    marking: int | None = None


@dataclass(frozen=True, slots=True)
class Actor:
    """Who a write is made for (STIX 2.1 §3.6: only an object's creator makes new
    versions of it, revokes or deletes it).

    ``organization`` is the STIX identity id of the writer's organization (``None``
    when they have none); ``admin`` writers act for any organization.  See
    :func:`taxii_server.storage.versions.resolve_additions` for the rules.
    """

    organization: str | None
    admin: bool = False


#: Writes made with direct access to the store (``atlas-taxii publish`` to the local
#: store, ``import-medallion``): whoever holds the database credentials is an admin.
OPERATOR = Actor(None, admin=True)


class AddOutcome(enum.Enum):
    """What happened to one object handed to :meth:`Storage.add_objects`."""

    ADDED = "added"  # stored as a new version
    UNCHANGED = "unchanged"  # the same id and version with the same body was already stored
    CONFLICT = "conflict"  # the same id and version is stored with a different body
    REFUSED = "refused"  # another organization's object, or a changed created(_by_ref)
    REDEFINED = "redefined"  # a marking definition of this id is registered with another body


class AddResult(msgspec.Struct, frozen=True, gc=False):
    """The outcome for one object, with the version it has in the store (for objects
    without ``modified``/``created``: the ``date_added`` it got, or had when it was
    first stored); ``message`` says why a refused object was refused."""

    outcome: AddOutcome
    version: int
    message: str | None = None


class StatusDetail(msgspec.Struct, frozen=True, gc=False):
    """One entry of a status resource's successes, failures or pendings (§4.3.1)."""

    id: str
    version: str
    message: str | None = None


@dataclass(frozen=True, slots=True)
class Status:
    """A status resource (TAXII 2.1 §4.3) together with who may read it.

    ``owner`` is the user who posted (``None`` once that user is deleted: a status
    never passes to a later user of the same name; anonymous callers never write);
    ``collection_id`` is the collection written to.  ``updated`` is the last time a
    backend changed it, so a status abandoned by a killed worker can be told apart from
    one in progress.
    """

    id: str
    api_root: str
    collection_id: str
    owner: str | None
    request_timestamp: int
    updated: int
    total_count: int
    successes: tuple[StatusDetail, ...] = ()
    failures: tuple[StatusDetail, ...] = ()
    pendings: tuple[StatusDetail, ...] = ()

    @property
    def success_count(self) -> int:
        return len(self.successes)

    @property
    def failure_count(self) -> int:
        return len(self.failures)

    @property
    def pending_count(self) -> int:
        return len(self.pendings)

    @property
    def complete(self) -> bool:
        return not self.pendings


@dataclass(frozen=True, slots=True)
class User:
    """A user.  ``password_hash`` is a slow salted hash (see ``taxii_server.auth``) or
    ``None`` for key-only users; ``clearance`` is the highest TLP rank they receive;
    ``organization`` the name of the organization they write for (``None``: they
    cannot write until an admin sets one, see docs/security.md, Ownership)."""

    name: str
    clearance: int
    password_hash: str | None = None
    admin: bool = False
    organization: str | None = None


@dataclass(frozen=True, slots=True)
class ApiKey:
    """An API key.  ``key_id`` is the public, indexed part of the key; ``secret_hash``
    a hash of the secret part (SHA-256, or scrypt for keys made before; see
    ``taxii_server.credentials``).  ``created`` is in microseconds."""

    key_id: str
    user: str
    secret_hash: str
    label: str = ""
    created: int = 0


@dataclass(frozen=True, slots=True)
class Grant:
    """What one user may do in one collection."""

    user: str
    collection_id: str
    can_read: bool
    can_write: bool


#: What an audit record says was done: the TAXII endpoint that read objects (§5.3
#: manifest, §5.4 objects, §5.6 object, §5.8 versions), or the write (§5.5 add,
#: §5.7 delete).
AUDIT_ACTIONS = ("objects", "manifest", "object", "versions", "add", "delete")


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """One read or write of objects, as the audit log keeps it: who received or sent
    what, from where, when.

    ``time`` is in microseconds; ``user`` is ``None`` for an anonymous reader;
    ``address`` is the client's address as the server saw it.  ``collection_id`` is
    the collection's id (records outlive the collection, so it is not a reference).
    ``action`` is one of :data:`AUDIT_ACTIONS`; ``count`` the number of objects (or
    manifest entries, or versions) served, posted or deleted.  ``object_id`` names the
    object of the object, versions and delete endpoints; ``status_id`` the status of an
    add.  ``first``/``last`` are the ``date_added`` of the first and last item served
    (``None`` for writes and empty pages): with the collection, ``query`` (the caller's
    clearance and the filters as decided, e.g. ``tlp=red&match[type]=indicator``) and
    ``added_after`` (the filter that changes from poll to poll, kept apart so that
    ``query`` repeats) they say exactly which objects a page held.  ``seq`` is
    assigned by the store when the record is appended (0 before) and orders the log.
    """

    time: int
    user: str | None
    address: str
    api_root: str
    collection_id: str
    action: str
    count: int
    object_id: str | None = None
    status_id: str | None = None
    first: int | None = None
    last: int | None = None
    query: str = ""
    added_after: int | None = None
    seq: int = 0


@dataclass(frozen=True, slots=True)
class AuditQuery:
    """Which audit records to read: all filters optional and combined with AND;
    ``since``/``until`` bound ``time`` (inclusive, microseconds); records come in
    ``seq`` order starting after ``after``, at most ``limit`` of them."""

    user: str | None = None
    collection_id: str | None = None
    since: int | None = None
    until: int | None = None
    after: int = 0
    limit: int = 1000


# --------------------------------------------------------------------------- protocol


class Storage(Protocol):
    """What the TAXII layer needs from a store.  Every method is one transaction."""

    # -- lifecycle ---------------------------------------------------------------
    def close(self) -> None:
        """Release this process's connections and pools (a later call reopens them)."""

    def ensure_secret(self, name: str, candidate: str) -> str:
        """Store ``candidate`` under ``name`` unless a secret is already stored there;
        return the stored one.  Lets every worker and host on one store share e.g. the
        ``next`` signing key when the configuration names none."""

    # -- API roots and collections (TAXII 2.1 §4.2, §5.1, §5.2) -------------------
    def list_api_roots(self) -> list[ApiRoot]: ...

    def get_api_root(self, name: str) -> ApiRoot | None: ...

    def put_api_root(self, api_root: ApiRoot) -> None:
        """Create or replace an API root (by ``name``)."""

    def list_collections(self, api_root: str) -> list[Collection]: ...

    def get_collection(self, api_root: str, collection_id: str) -> Collection | None:
        """Look a collection up by id, or by alias when no id matches."""

    def create_collection(self, collection: Collection) -> None:
        """Raises :class:`StorageConflict` on a duplicate id, title or alias and
        :class:`StorageNotFound` when the API root does not exist."""

    def update_collection(self, collection: Collection) -> None:
        """Replace the fields of the collection with this id in this API root.  Raises
        :class:`StorageNotFound` when there is none and :class:`StorageConflict` when
        the new title or alias is another collection's."""

    def delete_collection(self, api_root: str, collection_id: str) -> None:
        """Delete a collection with its objects, grants and statuses; raises
        :class:`StorageNotFound` when there is none."""

    # -- objects (TAXII 2.1 §5.3–§5.8) --------------------------------------------
    def query_objects(self, collection_id: str, query: ObjectQuery) -> Page[StoredObject]:
        """A page of object versions; an unknown collection has none."""

    def query_manifest(self, collection_id: str, query: ObjectQuery) -> Page[ManifestEntry]: ...

    def add_objects(
        self,
        collection_id: str,
        objects: Sequence[NewObject],
        *,
        status_id: str | None = None,
        actor: Actor = OPERATOR,
    ) -> list[AddResult]:
        """Store ``objects`` in one transaction and return one result per object.

        Whether ``actor`` may add each one (owner, ``created``/``created_by_ref``) is
        decided by :func:`taxii_server.storage.versions.resolve_additions` against the
        owner stored with the object's versions; a new object is stored with the owner
        it gives.

        Assigns each added version a fresh, strictly increasing ``date_added`` and
        recomputes version masks for the touched ids.  When ``status_id`` is given, the
        same transaction moves each object's entry from the status's pendings (matched
        by object id, first match; an object without one gets a new entry) to the
        list and entry that :func:`taxii_server.storage.versions.status_entry` gives.
        Raises :class:`StorageNotFound`, storing nothing, for an unknown collection or
        status.
        """

    def add_envelope(
        self,
        status: Status,
        objects: Sequence[NewObject],
        audit: AuditRecord,
        *,
        actor: Actor = OPERATOR,
    ) -> list[AddResult]:
        """Create ``status``, append ``audit`` and store ``objects`` in
        ``status.collection_id``, all or nothing, as :meth:`create_status`,
        :meth:`record_audit` and :meth:`add_objects` with ``status_id`` would in turn.

        ``objects`` are the status's pending entries, in order (``status.pendings`` is
        not read: :func:`~taxii_server.storage.versions.pending_entries`); the status is
        stored with each object's entry in its final list.  For a POST that fits one
        transaction (TAXII 2.1 §5.5): one commit where the three calls make three, and
        no pending entry written to be moved again.  Raises :class:`StorageNotFound`,
        storing nothing, for an unknown collection.
        """

    def marking_ranks(self, ids: Sequence[str]) -> dict[str, int]:
        """The rank each registered marking definition among ``ids`` (normalised,
        lower-case ids) gives what it marks, in any collection; ids not registered are
        left out.  One query however many ids."""

    def delete_objects(
        self,
        collection_id: str,
        object_id: str,
        query: ObjectQuery,
        *,
        actor: Actor = OPERATOR,
    ) -> int:
        """Delete the versions of ``object_id`` that ``query`` selects (its
        ``versions``, ``spec_versions`` and ``clearance``; ``limit`` and ``after`` are
        ignored) and return how many were deleted.  Raises :class:`NotOwner`, deleting
        nothing, when some are selected and the object is not ``actor``'s
        (:func:`taxii_server.storage.versions.may_change`)."""

    # -- status (TAXII 2.1 §4.3) ----------------------------------------------------
    def create_status(self, status: Status) -> None:
        """Store a new status; :class:`StorageNotFound` for an unknown collection,
        :class:`StorageConflict` for an id already used.  An owner who no longer
        exists (deleted while posting) is stored as ``None``."""

    def get_status(self, api_root: str, status_id: str) -> Status | None: ...

    def purge_statuses(self, older_than: int) -> int:
        """Delete statuses whose ``updated`` is before ``older_than``; return the count."""

    # -- users, keys and grants -------------------------------------------------------
    def get_user(self, name: str) -> User | None: ...

    def list_users(self) -> list[User]: ...

    def put_user(self, user: User) -> None:
        """Create or replace a user."""

    def set_organization(self, name: str, organization: str, identity: str) -> int:
        """Set the organization of user ``name`` (``identity``: its STIX identity id)
        and give that identity the objects a schema upgrade left waiting for this user
        (their first version's poster, see docs/security.md, Ownership); return how
        many object versions it got.  :class:`StorageNotFound` for an unknown user."""

    def delete_user(self, name: str) -> None:
        """Delete a user with their keys and grants, and disown their statuses (their
        ``owner`` becomes ``None``: admins read them, a later user of the same name
        does not); :class:`StorageNotFound` when there is none."""

    def add_api_key(self, key: ApiKey) -> None:
        """Store a key; :class:`StorageNotFound` for an unknown user,
        :class:`StorageConflict` for a key id in use."""

    def get_api_key(self, key_id: str) -> ApiKey | None: ...

    def list_api_keys(self, user: str) -> list[ApiKey]: ...

    def delete_api_key(self, key_id: str) -> None:
        """Delete a key; :class:`StorageNotFound` when there is none."""

    def replace_api_key_hash(self, key_id: str, old: str, new: str) -> bool:
        """Set the key's ``secret_hash`` to ``new`` if it is still ``old``; whether it
        was replaced (not when the key is gone or its hash changed meanwhile)."""

    def set_grant(self, grant: Grant) -> None:
        """Create or replace the grant for (user, collection); a grant with neither
        right removes it.  :class:`StorageNotFound` for an unknown user or
        collection."""

    def get_grant(self, user: str, collection_id: str) -> Grant | None: ...

    def list_grants(self, user: str) -> list[Grant]: ...

    # -- audit log ------------------------------------------------------------------------
    def record_audit(self, record: AuditRecord, *, durable: bool = True) -> None:
        """Append ``record`` (its ``seq`` is ignored) in its own transaction, committed
        when this returns: the server answers a request only after its record is
        stored.  ``durable=False`` (records of reads) need not wait for the disk: an OS
        crash or power cut may lose the last such records, a process crash none (SQL
        stores: ``Mode.RECORD``).  Records are never changed, and are kept when their
        user or collection is deleted; they are deleted only by :meth:`purge_audit`."""

    def query_audit(self, query: AuditQuery) -> list[AuditRecord]:
        """The records ``query`` selects, each with its ``seq``, in ``seq`` order."""

    def purge_audit(self, older_than: int, limit: int) -> int:
        """Delete at most ``limit`` records whose ``time`` is before ``older_than``,
        oldest first, and return how many were deleted (fewer than ``limit``: none of
        that age is left)."""

    # -- failed logins ----------------------------------------------------------------------
    def record_login_failure(self, address: str, time: int, *, forget_before: int) -> None:
        """Record one failed login from ``address`` at ``time`` (microseconds), seen by
        every process and host using this store.  Failures (of any address) before
        ``forget_before`` may be forgotten."""

    def login_failures(self, address: str, since: int) -> list[int]:
        """The times of the failed logins from ``address`` after ``since``, oldest
        first."""

    # -- requests without credentials ---------------------------------------------------------
    def count_request(self, address: str, window: int) -> None:
        """Count one request from ``address`` in time window ``window``, across every
        process and host using this store.  Counts of windows before ``window - 1`` may
        be forgotten."""

    def request_counts(self, address: str, window: int) -> tuple[int, int]:
        """How many requests from ``address`` windows ``window - 1`` and ``window``
        hold (0 for none)."""
