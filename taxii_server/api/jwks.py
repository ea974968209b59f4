"""The signing keys the community trusts, as a JWK Set: ``GET /taxii2/jwks.json``.

Not a TAXII resource: served as ``application/jwk-set+json`` (RFC 7517 §8.5.1) to
anyone, like the OpenAPI document, so that ``atlas-taxii verify --jwks URL`` and any
JOSE tool can fetch it.  The bytes are built once, when the app is created.
"""

from __future__ import annotations

from flask import Blueprint, Response

from taxii_server.app import get_jwks
from taxii_server.media import plain_json
from taxii_server.trust import JWKS_MEDIA_TYPE, JWKS_PATH

__all__ = ["bp"]

bp = Blueprint("jwks", __name__)


@bp.get(JWKS_PATH)
@plain_json
def get_jwks_document() -> Response:
    """The trusted public keys, with their expiry and revocation times."""
    return Response(get_jwks(), content_type=JWKS_MEDIA_TYPE)
