"""Get Collections (TAXII 2.1 §5.1) and Get a Collection (§5.2)."""

from __future__ import annotations

from flask import Blueprint, Response

from taxii_server.app import current_caller, get_service
from taxii_server.media import taxii_response
from taxii_server.resources import collection_resource

__all__ = ["bp"]

bp = Blueprint("collections", __name__)


@bp.get("/<api_root>/collections/")
def get_collections(api_root: str) -> Response:
    """The collections the caller can read or write, with their rights."""
    found = get_service().list_collections(current_caller(), api_root)
    body = [collection_resource(a.collection, a.can_read, a.can_write) for a in found]
    # §5.1: an API root without collections answers an empty object.
    return taxii_response({"collections": body} if body else {})


@bp.get("/<api_root>/collections/<collection_id>/")
def get_collection(api_root: str, collection_id: str) -> Response:
    """One collection, by id or alias."""
    access = get_service().collection(current_caller(), api_root, collection_id)
    return taxii_response(collection_resource(access.collection, access.can_read, access.can_write))
