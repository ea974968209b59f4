"""The OpenAPI description of this API: ``GET /taxii2/openapi.json``.

Not a TAXII resource: it is served as ``application/json`` whatever the Accept header
says, to anyone (it names no API root, collection or user), so that OpenAPI tools
fetch it as they do any other.  Errors on this URL are still TAXII error messages.
"""

from __future__ import annotations

import orjson
from flask import Blueprint, Response

from taxii_server.media import plain_json
from taxii_server.openapi import OPENAPI_PATH, openapi_document

__all__ = ["bp"]

bp = Blueprint("openapi", __name__)


@bp.get(OPENAPI_PATH)
@plain_json
def get_openapi() -> Response:
    """The OpenAPI 3.0 document."""
    return Response(orjson.dumps(openapi_document()), content_type="application/json")
