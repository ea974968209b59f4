"""Objects in MongoDB: the page queries, adding versions, deleting them (TAXII 2.1
§5.3–§5.8).

Every page is one ``find`` that walks an index in ``date_added`` order and stops after
``limit + 1`` matching documents, named by a hint so the plan does not depend on the
planner's sampling:

* no id or type filter: ``(collection, date_added)``;
* ``match[type]``: ``(collection, type, date_added)``, whose per-type scans the server
  merges in ``date_added`` order (for up to :data:`_MAX_MERGED_TYPES` types; beyond,
  the plain page index with the types as a filter);
* ``match[id]``: ``(collection, id, version)`` (few documents, sorted after).

An add runs under the collection's write turn (:mod:`.mongo_writes`).  Without a
transaction its steps are ordered so that an interruption leaves nothing a reader
could be misled by: ``date_added`` is allocated last, just before the inserts, which
run in ``date_added`` order, so objects become visible in that order; each new
version is inserted with its final version masks, and only then are older versions'
masks changed, so an object never lacks a latest version.  An interruption between the
two leaves an older version also marked latest; every later add that names the object
(a re-post, which the abandoned status asks for) recomputes and repairs the masks of
every object it names, not only of those it changes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Final

import pymongo
from pymongo import UpdateOne
from pymongo.database import Database

from taxii_server.storage import mongo_markings
from taxii_server.storage.base import (
    Actor,
    AddResult,
    NewObject,
    NotOwner,
    ObjectQuery,
)
from taxii_server.storage.mongo_writes import LockedCollection, Writer
from taxii_server.storage.versions import (
    ALL_CLEARANCES,
    NOT_OWNER_MESSAGE,
    VersionRow,
    add_results,
    assign_date_added,
    claimable,
    clearance_bit,
    may_change,
    refresh_masks,
    resolve_additions,
)

__all__ = [
    "INSERT_BATCH",
    "OBJECTS",
    "add_objects",
    "delete_objects",
    "page_filter",
    "select_page",
]

OBJECTS: Final = "objects"
_PAGE_INDEX: Final = "objects_page"
_TYPE_INDEX: Final = "objects_type"
_VERSION_INDEX: Final = "objects_version"

#: Objects per insert command; the write turn is renewed between batches, so one batch
#: must take well under :data:`~.mongo_writes.LEASE` seconds.
INSERT_BATCH: Final = 500
# Ids per "$in" list when reading stored versions.
_CHUNK: Final = 1000
# MongoDB merges the sorted scans of at most 200 values of an "$in" ("explode for
# sort"); past that it would collect and sort every match.
_MAX_MERGED_TYPES: Final = 200

_MANIFEST_FIELDS: Final = {
    "_id": False,
    "id": True,
    "date_added": True,
    "version": True,
    "spec_version": True,
}
_OBJECT_FIELDS: Final = {**_MANIFEST_FIELDS, "data": True}
_VERSION_FIELDS: Final = {
    "_id": False,
    "id": True,
    "version": True,
    "tlp": True,
    "by_content": True,
    "digest": True,
    "first": True,
    "latest": True,
    "owner": True,
    "origin": True,
}


def levels(mask: int) -> list[int]:
    """The clearance levels whose bit is set in a version mask, as stored."""
    return [level for level in range(ALL_CLEARANCES) if mask & clearance_bit(level)]


def mask_of(stored: list[int]) -> int:
    """The version mask of the clearance levels stored in a document."""
    return sum(clearance_bit(level) for level in stored)


def _selection(seq: int, query: ObjectQuery) -> dict[str, Any] | None:
    """The conditions every endpoint applies: collection, clearance, spec versions and
    version selection (TAXII 2.1 §3.4.1); ``None`` when nothing can match."""
    where: dict[str, Any] = {"collection": seq, "tlp": {"$lte": query.clearance}}
    if query.spec_versions:
        where["spec_version"] = {"$in": list(dict.fromkeys(query.spec_versions))}
    selector = query.versions
    if selector.all:
        return where
    # The masks hold one level per clearance; a query above the top level sees what
    # the top level sees.
    level = min(max(query.clearance, 0), ALL_CLEARANCES - 1)
    either: list[dict[str, Any]] = []
    if selector.first:
        either.append({"first": level})
    if selector.last:
        either.append({"latest": level})
    if selector.at:
        either.append({"version": {"$in": list(selector.at)}})
    if not either:
        return None
    if len(either) == 1:
        where.update(either[0])
    else:
        where["$or"] = either
    return where


def page_filter(seq: int, query: ObjectQuery) -> tuple[dict[str, Any], str] | None:
    """The filter of a page and the index it walks; ``None`` when nothing can match."""
    where = _selection(seq, query)
    if where is None or query.limit < 1:
        return None
    if query.after is not None:
        where["date_added"] = {"$gt": query.after}
    hint = _PAGE_INDEX
    ids = list(dict.fromkeys(query.ids))
    types = list(dict.fromkeys(query.types))  # a repeated type must not repeat documents
    if types:
        where["type"] = types[0] if len(types) == 1 else {"$in": types}
        if len(types) <= _MAX_MERGED_TYPES:
            hint = _TYPE_INDEX
    if ids:
        where["id"] = ids[0] if len(ids) == 1 else {"$in": ids}
        hint = _VERSION_INDEX
    return where, hint


def select_page(
    database: Database[dict[str, Any]], seq: int, query: ObjectQuery, *, bodies: bool
) -> tuple[list[dict[str, Any]], bool]:
    """Up to ``query.limit`` documents (with ``data`` when ``bodies``) in
    ``date_added`` order, and whether more match."""
    planned = page_filter(seq, query)
    if planned is None:
        return [], False
    where, hint = planned
    cursor = (
        database[OBJECTS]
        .find(where, _OBJECT_FIELDS if bodies else _MANIFEST_FIELDS)
        .sort("date_added", pymongo.ASCENDING)
        .limit(query.limit + 1)
        # The whole page in one reply (up to 16 MiB), not the server's first batch of
        # 101 documents followed by a getMore.
        .batch_size(query.limit + 1)
        .hint(hint)
    )
    found = list(cursor)
    return found[: query.limit], len(found) > query.limit


def _stored_versions(
    database: Database[dict[str, Any]], writer: Writer, seq: int, ids: Sequence[str]
) -> dict[str, list[VersionRow]]:
    found: dict[str, list[VersionRow]] = {object_id: [] for object_id in ids}
    for start in range(0, len(ids), _CHUNK):
        chunk = list(ids[start : start + _CHUNK])
        for doc in (
            database[OBJECTS]
            .find(
                {"collection": seq, "id": {"$in": chunk}},
                _VERSION_FIELDS,
                session=writer.session,
            )
            .hint(_VERSION_INDEX)
        ):
            found[doc["id"]].append(
                VersionRow(
                    int(doc["version"]),
                    int(doc["tlp"]),
                    bool(doc["by_content"]),
                    bytes(doc["digest"]),
                    mask_of(doc["first"]),
                    mask_of(doc["latest"]),
                    owner=doc.get("owner"),
                    origin=doc.get("origin"),
                )
            )
    return found


def add_objects(
    database: Database[dict[str, Any]],
    writer: Writer,
    collection: LockedCollection,
    objects: Sequence[NewObject],
    actor: Actor,
) -> list[AddResult]:
    """Store new versions of ``objects`` in a collection whose write turn ``writer``
    holds; what each object is (added, unchanged, conflict, refused, a redefined
    marking definition) is decided by
    :func:`~taxii_server.storage.versions.resolve_additions`, with the owners read
    along with the stored versions."""
    # A marking definition its poster may not create is not registered either.
    refused = mongo_markings.claim(database, writer, claimable(objects, actor))
    versions = _stored_versions(
        database, writer, collection.seq, list(dict.fromkeys(o.id for o in objects))
    )
    resolved, added = resolve_additions(objects, versions, refused, actor)
    if added:
        # date_added as late as possible: right before the documents are written.
        writer.advance(collection, assign_date_added(added, collection.last_date_added))
    repairs = _mask_updates(collection.seq, versions.items())
    for start in range(0, len(added), INSERT_BATCH):
        if start:
            writer.renew(collection)
        database[OBJECTS].insert_many(
            [_document(collection.seq, row) for row in added[start : start + INSERT_BATCH]],
            ordered=True,
            session=writer.session,
        )
    if repairs:
        writer.renew(collection)
        database[OBJECTS].bulk_write(repairs, ordered=False, session=writer.session)
    return add_results(resolved)


def _mask_updates(seq: int, versions: Iterable[tuple[str, list[VersionRow]]]) -> list[UpdateOne]:
    """Give every version its masks: new versions get them on their rows, stored ones
    whose masks differ get an update (changed by this add, or left stale by an
    interrupted one)."""
    return [
        UpdateOne(
            {"collection": seq, "id": object_id, "version": row.version},
            {"$set": {"first": levels(row.first_mask), "latest": levels(row.latest_mask)}},
        )
        for object_id, known in versions
        for row in refresh_masks(known)
    ]


def _document(seq: int, row: VersionRow) -> dict[str, Any]:
    new = row.new
    assert new is not None  # only new rows are inserted
    return {
        "collection": seq,
        "date_added": row.date_added,
        "id": new.id,
        "type": new.type,
        "version": row.version,
        "spec_version": new.spec_version,
        "tlp": row.tlp,
        "first": levels(row.first_mask),
        "latest": levels(row.latest_mask),
        "by_content": row.by_content,
        "digest": row.digest,
        "data": new.data,
        "owner": row.owner,
        "origin": row.origin,
    }


def delete_objects(
    database: Database[dict[str, Any]],
    writer: Writer,
    collection_id: str,
    object_id: str,
    query: ObjectQuery,
    actor: Actor,
) -> int:
    """Delete the versions of ``object_id`` that ``query`` selects, then recompute the
    masks of the versions that remain.  Raises :class:`NotOwner` when some are
    selected and the object is not ``actor``'s."""
    collection = writer.lock_collection(collection_id)
    if collection is None:
        return 0
    where = _selection(collection.seq, query)
    if where is None:
        return 0
    where["id"] = object_id
    objects = database[OBJECTS]
    selected = list(
        objects.find(
            where, {"_id": False, "version": True, "owner": True}, session=writer.session
        ).hint(_VERSION_INDEX)
    )
    if not selected:
        return 0
    if any(not may_change(actor, doc.get("owner")) for doc in selected):
        raise NotOwner(f"{object_id}: {NOT_OWNER_MESSAGE}")
    doomed = [doc["version"] for doc in selected]
    writer.renew(collection)
    deleted = objects.delete_many(
        {"collection": collection.seq, "id": object_id, "version": {"$in": doomed}},
        session=writer.session,
    ).deleted_count
    remaining = _stored_versions(database, writer, collection.seq, [object_id])
    updates = _mask_updates(collection.seq, remaining.items())
    if updates:
        objects.bulk_write(updates, ordered=False, session=writer.session)
    return deleted
