"""The audit log: who received or sent which objects, when, and from where.

Every read of objects (Get Objects §5.4, Get Object Manifests §5.3, Get an Object
§5.6, Get Object Versions §5.8) and every write (Add Objects §5.5, Delete an Object
§5.7) that succeeds is recorded as one :class:`~taxii_server.storage.base.AuditRecord`
in the store, where ``atlas-taxii audit`` reads it back filtered by user, collection and
time.  A law-enforcement partner can keep that as the record of who received what.

Why a table in the store and not a log file: the server runs as several workers on
several hosts over one store (the store is the truth), and an operator needs one
record, in order, that survives a host; a file per process or host would have to be
collected and merged, and a worker killed between a response and a buffered write
would lose the line.  Here a record is committed *before* the response leaves: if it
cannot be stored the request fails with 503 and no object is served.  The cost is one
indexed insert per request (``python -m benchmarks audit`` measures it).

A record names the objects a page held without listing them: the collection, the
``date_added`` of the first and last item, the filters as decided and the caller's TLP
clearance together select exactly those objects (``date_added`` is unique per
collection).  It holds no credentials and no object contents.

Records older than ``audit.retain_days`` are deleted lazily, like statuses: at most
once an hour per process, after a record is written, :data:`PURGE_BATCH` at a time
(once a minute while older ones are left), so no request pays for more than one
batch; ``atlas-taxii audit purge`` deletes them all at once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Protocol

from converters.tlp import level_of_rank
from taxii_server.auth import Principal
from taxii_server.query import Filters
from taxii_server.storage.base import AuditRecord, Storage, StorageError, VersionSelector
from taxii_server.timestamps import format_timestamp

__all__ = ["PURGE_BATCH", "Auditor", "describe_filters", "full_query"]

_log = logging.getLogger(__name__)

#: Records deleted by one lazy purge (a few tens of milliseconds of one request).
PURGE_BATCH = 5_000
_DAY = 86_400_000_000
_PURGE_EVERY = 3_600_000_000  # between purges of one process
_PURGE_BACKLOG_EVERY = 60_000_000  # while a purge left older records behind


class _Dated(Protocol):
    @property
    def date_added(self) -> int: ...


def _versions(selector: VersionSelector) -> str:
    words = [w for w in ("first", "last", "all") if getattr(selector, w)]
    return ",".join(words + [format_timestamp(at) for at in selector.at])


def describe_filters(filters: Filters, clearance: int) -> str:
    """The decided filters of a read but ``added_after`` (recorded apart: it changes at
    every poll), and the caller's clearance, as a query string:
    ``tlp=amber&match[type]=indicator``."""
    parts = [f"tlp={level_of_rank(clearance)}"]
    for name, values in (
        ("match[id]", filters.ids),
        ("match[type]", filters.types),
        ("match[spec_version]", filters.spec_versions),
    ):
        if values:
            parts.append(f"{name}={','.join(values)}")
    if filters.versions is not None:
        parts.append(f"match[version]={_versions(filters.versions)}")
    return "&".join(parts)


def full_query(record: AuditRecord) -> str:
    """A record's filters as one query string, ``added_after`` in its place after the
    clearance (as ``atlas-taxii audit`` has always printed them)."""
    if record.added_after is None:
        return record.query
    tlp, sep, rest = record.query.partition("&")
    return f"{tlp}&added_after={format_timestamp(record.added_after)}{sep}{rest}"


class Auditor:
    """Appends audit records to the store, and purges those older than ``retain_days``
    (0: none); ``clock`` gives microseconds since the epoch."""

    def __init__(self, storage: Storage, clock: Callable[[], int], retain_days: int = 0) -> None:
        self._storage = storage
        self._clock = clock
        self._retain = retain_days * _DAY
        self._next_purge = 0

    def read(
        self,
        caller: Principal,
        api_root: str,
        collection_id: str,
        action: str,
        items: Sequence[_Dated],
        filters: Filters,
        *,
        object_id: str | None = None,
        clearance: int,
    ) -> None:
        """Record one page served by a read endpoint (``action``: objects, manifest,
        object or versions) at TLP ``clearance``."""
        self._storage.record_audit(
            self._record(
                caller,
                api_root,
                collection_id,
                action,
                len(items),
                object_id=object_id,
                first=items[0].date_added if items else None,
                last=items[-1].date_added if items else None,
                query=describe_filters(filters, clearance),
                added_after=filters.added_after,
            ),
            durable=False,  # a record of a read: see Storage.record_audit
        )

    def addition(
        self, caller: Principal, api_root: str, collection_id: str, status_id: str, count: int
    ) -> AuditRecord:
        """The record of an accepted envelope of ``count`` objects, for the store to
        append before or with the first object it stores; its status (``status_id``)
        says which were stored."""
        return self._record(caller, api_root, collection_id, "add", count, status_id=status_id)

    def deleted(
        self,
        caller: Principal,
        api_root: str,
        collection_id: str,
        object_id: str,
        count: int,
        *,
        clearance: int,
    ) -> None:
        """Record the deletion of ``count`` versions of ``object_id``, made at TLP
        ``clearance``."""
        self._storage.record_audit(
            self._record(
                caller,
                api_root,
                collection_id,
                "delete",
                count,
                object_id=object_id,
                query=f"tlp={level_of_rank(clearance)}",
            )
        )

    def _record(
        self,
        caller: Principal,
        api_root: str,
        collection_id: str,
        action: str,
        count: int,
        *,
        status_id: str | None = None,
        object_id: str | None = None,
        first: int | None = None,
        last: int | None = None,
        query: str | None = None,
        added_after: int | None = None,
    ) -> AuditRecord:
        """One record; a write's ``query`` is the clearance it was made at.  Records past
        retention are purged now and then as records are made."""
        now = self._clock()
        if self._retain and now >= self._next_purge:
            self._purge(now)
        return AuditRecord(
            time=now,
            user=caller.name,
            address=caller.address,
            api_root=api_root,
            collection_id=collection_id,
            action=action,
            count=count,
            object_id=object_id,
            status_id=status_id,
            first=first,
            last=last,
            query=f"tlp={level_of_rank(caller.clearance)}" if query is None else query,
            added_after=added_after,
        )

    def _purge(self, now: int) -> None:
        """One batch of records past retention.  Housekeeping: a failure is logged and
        left to the next attempt, the request it follows has its record."""
        self._next_purge = now + _PURGE_EVERY  # before: other threads skip meanwhile
        try:
            deleted = self._storage.purge_audit(now - self._retain, PURGE_BATCH)
        except StorageError as exc:
            _log.warning("audit purge failed, will try again: %s", str(exc).splitlines()[0])
            return
        if deleted == PURGE_BATCH:
            self._next_purge = now + _PURGE_BACKLOG_EVERY
        if deleted:
            _log.info("purged %d audit records older than %d days", deleted, self._retain // _DAY)
