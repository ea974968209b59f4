"""Get API Root Information (TAXII 2.1 §4.2): ``GET /{api-root}/``."""

from __future__ import annotations

from flask import Blueprint, Response

from taxii_server.app import get_service
from taxii_server.media import taxii_response
from taxii_server.resources import api_root_resource

__all__ = ["bp"]

bp = Blueprint("api_roots", __name__)


@bp.get("/<api_root>/")
def get_api_root(api_root: str) -> Response:
    """The API root resource, with the ``max_content_length`` POST enforces."""
    return taxii_response(api_root_resource(get_service().api_root(api_root)))
