"""Server Discovery (TAXII 2.1 §4.1): ``GET /taxii2/``."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, request

from taxii_server.app import get_service, get_settings
from taxii_server.media import taxii_response

__all__ = ["bp"]

bp = Blueprint("discovery", __name__)


@bp.get("/taxii2/")
def get_discovery() -> Response:
    """The discovery resource: server title, contact, default and all API root URLs."""
    settings = get_settings()
    base = request.url_root
    body: dict[str, Any] = {"title": settings.title}
    if settings.description:
        body["description"] = settings.description
    if settings.contact:
        body["contact"] = settings.contact
    if settings.default_api_root:
        body["default"] = f"{base}{settings.default_api_root}/"
    roots = [f"{base}{root.name}/" for root in get_service().api_roots()]
    if roots:  # TAXII 2.1 §4.1.1: optional, and never an empty list
        body["api_roots"] = roots
    return taxii_response(body)
