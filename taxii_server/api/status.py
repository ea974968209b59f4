"""Get Status (TAXII 2.1 §4.3): ``GET /{api-root}/status/{status-id}/``."""

from __future__ import annotations

from flask import Blueprint, Response

from taxii_server.app import current_caller, get_service
from taxii_server.media import taxii_response
from taxii_server.resources import status_resource

__all__ = ["bp"]

bp = Blueprint("status", __name__)


@bp.get("/<api_root>/status/<status_id>/")
def get_status(api_root: str, status_id: str) -> Response:
    """A status resource, for the user who posted the objects (or an admin)."""
    status = get_service().status(current_caller(), api_root, status_id)
    return taxii_response(status_resource(status))
