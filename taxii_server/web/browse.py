"""Browsing: API roots, the collections a user may see, a collection's objects
(filtered, searched, paged) and one object with its versions and relationships.

Every query goes through :class:`~taxii_server.service.TaxiiService` and
:mod:`taxii_server.browsing` with the signed-in caller: the same grants, the same
TLP clearance and the same audit records as TAXII.
"""

from __future__ import annotations

import re
from typing import Any

import orjson
from flask import render_template, request

from taxii_server.app import current_caller, get_service
from taxii_server.browsing import (
    REFERENCE_TYPES,
    SCAN_LIMIT,
    BrowseFilters,
    browse,
    rank_of,
    references,
)
from taxii_server.errors import BadRequest
from taxii_server.query import ID_PATTERN, TYPE_PATTERN
from taxii_server.timestamps import TimestampError, parse_timestamp
from taxii_server.web import workbench
from taxii_server.web.present import (
    COMMON_TYPES,
    LEVELS,
    dict_without,
    is_stix_id,
    link_url,
    marking_label,
    property_rows,
    stamp,
    title_of,
    tlp_level,
    tlp_of,
)

__all__: list[str] = []

#: Objects per page of the object list.
PAGE_SIZE = 50
#: Relationships shown per direction on an object's page.
_RELATED = 50

workbench.add_app_template_filter(stamp, "stamp")
workbench.add_app_template_global(title_of, "title_of")
workbench.add_app_template_global(tlp_of, "tlp_of")
workbench.add_app_template_global(link_url, "link_url")
workbench.add_app_template_global(is_stix_id, "is_stix_id")
workbench.add_app_template_global(marking_label, "marking_label")
workbench.add_app_template_global(tlp_level, "tlp_level")
workbench.add_app_template_filter(dict_without, "dict_without")


@workbench.route("/")
def home() -> str:
    """The API roots and, under each, the collections the user may see."""
    service = get_service()
    caller = current_caller()
    roots = []
    for root in service.api_roots():
        collections = service.list_collections(caller, root.name)
        roots.append((root, collections))
    return render_template("home.html", roots=roots)


def _filters(args: Any) -> BrowseFilters:
    kind = args.get("type", "").strip()
    if kind and not re.fullmatch(TYPE_PATTERN, kind):
        raise BadRequest(f"{kind!r} is not a STIX type name")
    level = args.get("tlp", "")
    if level and level not in LEVELS:
        raise BadRequest(f"{level!r} is not a TLP level")
    after = args.get("added_after", "").strip()
    added_after = None
    if after:
        try:
            added_after = parse_timestamp(after if "T" in after else f"{after}T00:00:00Z")
        except TimestampError as exc:
            raise BadRequest(f"added after: {exc}") from None
    return BrowseFilters(
        types=(kind,) if kind else (),
        tlp=LEVELS.index(level) if level else None,
        added_after=added_after,
        text=args.get("q", "").strip()[:200],
    )


@workbench.route("/roots/<api_root>/collections/<collection_id>/")
def objects(api_root: str, collection_id: str) -> str:
    """A collection's objects, filtered and paged (a fragment for htmx requests)."""
    service = get_service()
    caller = current_caller()
    access = service.collection(caller, api_root, collection_id)
    filters = _filters(request.args)
    page = None
    if access.can_read:
        page = browse(
            service,
            caller,
            api_root,
            collection_id,
            filters,
            limit=PAGE_SIZE,
            next_token=request.args.get("next") or None,
        )
    ends = set()
    for item in page.items if page is not None else ():
        if item.body.get("type") == "relationship":
            ends |= {str(item.body.get("source_ref")), str(item.body.get("target_ref"))}
    names = _names(api_root, collection_id, ends) if ends else {}
    template = "objects_table.html" if request.headers.get("HX-Request") else "objects.html"
    return render_template(
        template,
        root=service.api_root(api_root),
        access=access,
        page=page,
        args=request.args,
        types=COMMON_TYPES,
        levels=LEVELS,
        continued=bool(request.args.get("next")),
        names=names,
    )


@workbench.route("/roots/<api_root>/collections/<collection_id>/objects/<object_id>/")
def object_page(api_root: str, collection_id: str, object_id: str) -> str:
    """One object: readable properties, markings, versions, relationships, raw JSON."""
    service = get_service()
    caller = current_caller()
    access = service.readable(caller, api_root, collection_id)
    versions = service.object(
        caller, api_root, collection_id, object_id, {"match[version]": ["all"]}
    ).items
    chosen = request.args.get("version", "")
    bodies = [(v, orjson.loads(v.data)) for v in versions]
    current = next((b for v, b in bodies if b.get("modified") == chosen), bodies[-1][1])
    outgoing = references(current)
    related = browse(
        service,
        caller,
        api_root,
        collection_id,
        BrowseFilters(types=REFERENCE_TYPES, refers_to=object_id),
        limit=_RELATED,
    )
    incoming = [r.body for r in related.items if r.body.get("source_ref") != object_id]
    outgoing_relationships = [
        r.body for r in related.items if r.body.get("source_ref") == object_id
    ]
    names = _names(
        api_root,
        collection_id,
        {v for _, v in outgoing}
        | {str(r.get("target_ref", "")) for r in outgoing_relationships}
        | {str(r.get("source_ref", r.get("sighting_of_ref", ""))) for r in incoming},
    )
    return render_template(
        "object.html",
        root=service.api_root(api_root),
        access=access,
        body=current,
        rank=rank_of(service, current),
        versions=[(v, b) for v, b in reversed(bodies)],
        rows=property_rows(current),
        outgoing=outgoing,
        incoming=incoming,
        outgoing_relationships=outgoing_relationships,
        relationships_complete=related.next is None,
        names=names,
        scan_limit=f"{SCAN_LIMIT:,}",
        raw=orjson.dumps(current, option=orjson.OPT_INDENT_2).decode(),
    )


def _names(api_root: str, collection_id: str, ids: set[str]) -> dict[str, str]:
    """The title of each of ``ids`` the caller may read (one audited query)."""
    wanted = sorted(i for i in ids if re.fullmatch(ID_PATTERN, i))[:200]
    if not wanted:
        return {}
    page = get_service().objects(
        current_caller(), api_root, collection_id, {"match[id]": wanted, "limit": ["200"]}
    )
    return {item.id: title_of(orjson.loads(item.data)) for item in page.items}
