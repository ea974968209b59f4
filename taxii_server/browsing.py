"""Browsing a collection as a person does: filters TAXII does not define (TLP level,
text), paged by bounded scans, under exactly the TAXII rules.

The workbench (:mod:`taxii_server.web`) lists a collection's objects by type, TLP
level, date added and a text found in a name, value or pattern, and finds the
relationships of one object.  TAXII 2.1 §3.4.1 filters only by id, type, version and
date added, and the stores index those; the other filters are applied here, to
objects read from the store in ``date_added`` order at the caller's clearance
(:meth:`TaxiiService.readable` decides it, as for Get Objects §5.4).

A page therefore never costs more than :data:`SCAN_LIMIT` objects read, whatever the
size of the collection: when fewer than a page's worth matched within that many, the
page ends there and its ``next`` token resumes the scan where it stopped.  Without
TLP or text filter a page is one indexed store query, as fast at a million objects
as at ten.  Every page is audited as a Get Objects read of the objects it shows.

An object above the caller's clearance is never read at all: the store query carries
the clearance, so no count, filter or search can reveal it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from converters.tlp import RANK_BY_MARKING_ID, marking_refs, object_rank
from taxii_server.auth import Principal
from taxii_server.errors import BadRequest
from taxii_server.query import Endpoint, Filters, NextToken
from taxii_server.service import TaxiiService
from taxii_server.storage.base import ObjectQuery, StoredObject

__all__ = [
    "REFERENCE_TYPES",
    "SCAN_LIMIT",
    "BrowseFilters",
    "BrowsePage",
    "Listed",
    "browse",
    "rank_of",
    "references",
]

#: The most objects one page may read from the store while filtering.
SCAN_LIMIT = 10_000
#: Objects read per store query while filtering.
_CHUNK = 1_000
#: Properties searched by the text filter (STIX 2.1 §4, §6: names, SCO values, patterns).
_SEARCHED = ("name", "value", "pattern", "display_name", "account_login", "iban", "address")
#: The object types that relate two others (STIX 2.1 §5).
REFERENCE_TYPES = ("relationship", "sighting")


@dataclass(frozen=True, slots=True)
class BrowseFilters:
    """What a person filters by; empty means no filter."""

    types: tuple[str, ...] = ()
    tlp: int | None = None  # an exact TLP rank (0 clear … 4 red)
    added_after: int | None = None
    text: str = ""
    refers_to: str = ""  # an object id a relationship or sighting points to or from


@dataclass(frozen=True, slots=True)
class Listed:
    """One object of a page: as stored, parsed, and its TLP rank (:func:`rank_of`)."""

    stored: StoredObject
    body: Mapping[str, Any]
    rank: int


@dataclass(frozen=True, slots=True)
class BrowsePage:
    """One page: the matching objects, how many were read, and the token that
    continues (``None`` when the collection has no more)."""

    items: list[Listed]
    scanned: int
    next: str | None


def _searchable(body: Mapping[str, Any]) -> Iterable[str]:
    for key in _SEARCHED:
        value = body.get(key)
        if isinstance(value, str):
            yield value
    aliases = body.get("aliases")
    if isinstance(aliases, list):
        yield from (a for a in aliases if isinstance(a, str))


def references(body: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Every ``(property, id)`` an object points to through its ``*_ref`` and
    ``*_refs`` properties (STIX 2.1 §3.2), in property order."""
    found: list[tuple[str, str]] = []
    for key, value in body.items():
        if key.endswith("_ref") and isinstance(value, str):
            found.append((key, value))
        elif key.endswith("_refs") and isinstance(value, list):
            found.extend((key, v) for v in value if isinstance(v, str))
    return found


def rank_of(service: TaxiiService, body: Mapping[str, Any]) -> int:
    """An object's TLP rank as the store ranked it: built-in markings by their id,
    others by the marking definitions the store registered (``admin-only`` when it
    holds none), as :mod:`converters.tlp` says."""
    refs = marking_refs(body)
    other = [ref for ref in refs if ref not in RANK_BY_MARKING_ID]
    return object_rank(body, service.markings(other) if other else {})


def _matches(body: Mapping[str, Any], rank: int, filters: BrowseFilters) -> bool:
    if filters.tlp is not None and rank != filters.tlp:
        return False
    if filters.refers_to and filters.refers_to not in (v for _, v in references(body)):
        return False
    if filters.text:
        needle = filters.text.casefold()
        if not any(needle in text.casefold() for text in _searchable(body)):
            return False
    return True


def browse(
    service: TaxiiService,
    caller: Principal,
    api_root: str,
    collection_id: str,
    filters: BrowseFilters,
    *,
    limit: int,
    next_token: str | None = None,
) -> BrowsePage:
    """One page of the latest versions of the objects matching ``filters``, that
    ``caller`` may read, in ``date_added`` order; 404/403/401 as Get Objects."""
    access = service.readable(caller, api_root, collection_id)
    clearance = access.clearance
    if filters.tlp is not None:
        clearance = min(clearance, filters.tlp)
    collection = access.collection.id
    position = filters.added_after
    if next_token:
        token = service.codec.decode(next_token, now=service.clock())
        if (token.api_root, token.collection_id, token.endpoint) != (
            api_root,
            collection,
            Endpoint.OBJECTS,
        ):
            raise BadRequest("this page link continues another list; start again from page one")
        position = token.position
    filtered = filters.tlp is not None or bool(filters.text) or bool(filters.refers_to)
    chunk = _CHUNK if filtered else limit
    found: list[Listed] = []
    scanned = 0
    more = True
    while len(found) < limit and scanned < SCAN_LIMIT:
        query = ObjectQuery(
            clearance=clearance,
            limit=min(chunk, SCAN_LIMIT - scanned),
            after=position,
            types=filters.types,
        )
        page = service.storage.query_objects(collection, query)
        more = page.more
        for item in page.items:
            scanned += 1
            position = item.date_added
            body = orjson.loads(item.data)
            rank = rank_of(service, body)
            if not filtered or _matches(body, rank, filters):
                found.append(Listed(item, body, rank))
                if len(found) == limit:
                    more = more or item is not page.items[-1]
                    break
        if not more or not page.items:
            more = more and bool(page.items)
            break
    # The record names the objects shown: the decided filters, the clearance read at
    # and the date_added of the first and last (taxii_server.audit).
    decided = Filters(added_after=filters.added_after, types=filters.types or None)
    stored = [listed.stored for listed in found]
    service.audit.read(
        caller, api_root, collection, Endpoint.OBJECTS.value, stored, decided, clearance=clearance
    )
    following = None
    if more and position is not None:
        following = service.codec.encode(
            NextToken(
                api_root=api_root,
                collection_id=collection,
                endpoint=Endpoint.OBJECTS,
                object_id=None,
                filters=decided,
                limit=limit,
                position=position,
                expires=service.clock() + service.settings.next_ttl * 1_000_000,
            )
        )
    return BrowsePage(found, scanned, following)
