"""TAXII 2.1 resources as JSON: records from the store, rendered once for every view.

Objects pages are assembled from the stored canonical bytes without parsing them
(docs/design.md: a poll costs index lookups plus bytes already serialised); the other
resources are small and go through orjson.  Timestamps are formatted here, at the
edge, with six fractional digits and ``Z`` (TAXII 2.1 §2).

TAXII 2.1 §2 (the ``list`` type): empty lists are prohibited and must not stand in for an
optional property left out, so every list property below is omitted when it would be
empty: an empty page is ``{"more": false}``, a status without failures has no
``failures``.  Clients read them with ``.get(…, [])`` (taxii2-client, stix2's
TAXIICollectionSource, OpenCTI, our own ``remote/``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson

from taxii_server.media import MEDIA_TYPE_TAXII_V21
from taxii_server.storage.base import (
    ApiRoot,
    Collection,
    ManifestEntry,
    Status,
    StatusDetail,
    StoredObject,
)
from taxii_server.timestamps import format_timestamp

__all__ = [
    "api_root_resource",
    "collection_resource",
    "envelope_bytes",
    "manifest_resource",
    "status_resource",
    "versions_resource",
]


# Second -> "YYYY-MM-DDTHH:MM:SS": a manifest page formats two timestamps per entry,
# mostly within a few seconds of each other; building each from datetime costs more
# than the rest of the page (the `pages` benchmark).
_SECONDS: dict[int, str] = {}
_SECONDS_KEPT = 4096


def _stamp(us: int) -> str:
    """:func:`format_timestamp`, with the whole-second part cached."""
    second, micro = divmod(us, 1_000_000)
    prefix = _SECONDS.get(second)
    if prefix is None:
        if len(_SECONDS) >= _SECONDS_KEPT:
            _SECONDS.clear()
        prefix = _SECONDS[second] = format_timestamp(second * 1_000_000)[:19]
    return f"{prefix}.{micro:06d}Z"


def _paging(more: bool, next_token: str | None) -> dict[str, Any]:
    # `next` whenever `more` is true: OpenCTI loops forever on `more` without `next`.
    return {"more": True, "next": next_token} if more else {"more": False}


def envelope_bytes(items: Sequence[StoredObject], more: bool, next_token: str | None) -> bytes:
    """An envelope (§3.7) around stored object bodies, without re-serialising them."""
    paging = orjson.dumps(_paging(more, next_token))
    if not items:
        return paging
    head = paging[:-1]  # drop the closing brace
    return b"".join((head, b',"objects":[', b",".join(o.data for o in items), b"]}"))


def _listed(body: dict[str, Any], key: str, items: list[Any]) -> dict[str, Any]:
    """``body`` with ``key`` set to ``items``, or without it when there are none."""
    if items:
        body[key] = items
    return body


def manifest_resource(
    items: Sequence[ManifestEntry], more: bool, next_token: str | None
) -> dict[str, Any]:
    """A manifest resource (§5.3.1)."""
    records = [
        {
            "id": e.id,
            "date_added": _stamp(e.date_added),
            "version": _stamp(e.version),
            "media_type": f"application/stix+json;version={e.spec_version}",
        }
        for e in items
    ]
    return _listed(_paging(more, next_token), "objects", records)


def versions_resource(
    items: Sequence[ManifestEntry], more: bool, next_token: str | None
) -> dict[str, Any]:
    """A versions resource (§5.8.1), in ``date_added`` order like every paged list."""
    return _listed(_paging(more, next_token), "versions", [_stamp(e.version) for e in items])


def api_root_resource(root: ApiRoot) -> dict[str, Any]:
    """An API root resource (§4.2.1); ``max_content_length`` is what POST enforces."""
    body: dict[str, Any] = {
        "title": root.title,
        "versions": [MEDIA_TYPE_TAXII_V21],
        "max_content_length": root.max_content_length,
    }
    if root.description:
        body["description"] = root.description
    return body


def collection_resource(collection: Collection, can_read: bool, can_write: bool) -> dict[str, Any]:
    """A collection resource (§5.2.1); ``can_read``/``can_write`` are the caller's."""
    body: dict[str, Any] = {"id": collection.id, "title": collection.title}
    if collection.description:
        body["description"] = collection.description
    if collection.alias:
        body["alias"] = collection.alias
    body["can_read"] = can_read
    body["can_write"] = can_write
    return _listed(body, "media_types", list(collection.media_types))


def _details(entries: Sequence[StatusDetail]) -> list[dict[str, str]]:
    out = []
    for e in entries:
        item = {"id": e.id, "version": e.version}
        if e.message:
            item["message"] = e.message
        out.append(item)
    return out


def status_resource(status: Status) -> dict[str, Any]:
    """A status resource (§4.3.1) with full counts and lists (a list only when it
    has entries)."""
    body: dict[str, Any] = {
        "id": status.id,
        "status": "complete" if status.complete else "pending",
        "request_timestamp": format_timestamp(status.request_timestamp),
        "total_count": status.total_count,
        "success_count": status.success_count,
    }
    _listed(body, "successes", _details(status.successes))
    body["failure_count"] = status.failure_count
    _listed(body, "failures", _details(status.failures))
    body["pending_count"] = status.pending_count
    return _listed(body, "pendings", _details(status.pendings))
