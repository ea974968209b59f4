"""Get Object Versions (TAXII 2.1 §5.8): ``GET …/objects/{object-id}/versions/``."""

from __future__ import annotations

from flask import Blueprint, Response, request

from taxii_server.app import current_caller, get_service
from taxii_server.media import taxii_response
from taxii_server.resources import versions_resource

__all__ = ["bp"]

bp = Blueprint("versions", __name__)


@bp.get("/<api_root>/collections/<collection_id>/objects/<object_id>/versions/")
def get_versions(api_root: str, collection_id: str, object_id: str) -> Response:
    """The versions of one object the caller may see."""
    page = get_service().versions(
        current_caller(), api_root, collection_id, object_id, request.args.to_dict(flat=False)
    )
    return taxii_response(
        versions_resource(page.items, page.more, page.next), date_added=page.date_added
    )
