"""Get Object Manifests (TAXII 2.1 §5.3): ``GET …/collections/{id}/manifest/``."""

from __future__ import annotations

from flask import Blueprint, Response, request

from taxii_server.app import current_caller, get_service
from taxii_server.media import taxii_response
from taxii_server.resources import manifest_resource

__all__ = ["bp"]

bp = Blueprint("manifest", __name__)


@bp.get("/<api_root>/collections/<collection_id>/manifest/")
def get_manifest(api_root: str, collection_id: str) -> Response:
    """A page of manifest records, filtered and paged like Get Objects."""
    page = get_service().manifest(
        current_caller(), api_root, collection_id, request.args.to_dict(flat=False)
    )
    return taxii_response(
        manifest_resource(page.items, page.more, page.next), date_added=page.date_added
    )
