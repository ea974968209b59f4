"""The ecosystem map of a collection: the ``atlas-taxii map`` analysis
(:mod:`ecosystem`) of what the user may read there, drawn with cytoscape.js and its
choke-point candidates listed with their impact.

The objects are read through the service, page by page like a TAXII client, each
page audited; at most :data:`MAP_LIMIT` of them (the page says when it stopped).
"""

from __future__ import annotations

from typing import Any

import orjson
from flask import render_template, url_for

from ecosystem import build_map, rank
from taxii_server.app import current_caller, get_service, get_settings
from taxii_server.gc_pause import gc_paused
from taxii_server.web import workbench
from taxii_server.web.graphs import drawing

__all__: list[str] = []

#: Objects read for one map at most.
MAP_LIMIT = 100_000


@workbench.route("/map")
def maps() -> str:
    """Choose a collection to map."""
    service = get_service()
    caller = current_caller()
    readable = [
        (root.name, access)
        for root in service.api_roots()
        for access in service.list_collections(caller, root.name)
        if access.can_read
    ]
    return render_template("maps.html", collections=readable)


@workbench.route("/roots/<api_root>/collections/<collection_id>/map")
def map_page(api_root: str, collection_id: str) -> str:
    """The map of one collection."""
    service = get_service()
    caller = current_caller()
    access = service.readable(caller, api_root, collection_id)
    page_size = str(get_settings().max_limit)
    objects: list[dict[str, Any]] = []
    args: dict[str, list[str]] = {"limit": [page_size]}
    complete = True
    with gc_paused():
        while True:
            page = service.objects(caller, api_root, collection_id, args)
            objects.extend(orjson.loads(item.data) for item in page.items)
            if page.next is None:
                break
            if len(objects) >= MAP_LIMIT:
                complete = False
                break
            args = {"next": [page.next]}
        # The service read them at the caller's clearance, ranking markings as the
        # store does: the map keeps them all (its own ranking knows no registered
        # marking definitions, and would drop a partner's own TLP markings).
        emap = build_map(objects)
        candidates = rank(emap)

    def href(node: str) -> str:
        return url_for(
            "workbench.object_page",
            api_root=api_root,
            collection_id=access.collection.id,
            object_id=node,
        )

    graph = drawing(emap, candidates, href)
    return render_template(
        "map.html",
        root=service.api_root(api_root),
        access=access,
        emap=emap,
        graph=graph,
        complete=complete,
        read=len(objects),
        body=None,
    )
