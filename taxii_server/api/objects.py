"""Get Objects (§5.4), Add Objects (§5.5), Get an Object (§5.6), Delete an Object (§5.7)."""

from __future__ import annotations

from flask import Blueprint, Response, request

from taxii_server.api.body import RequestBody
from taxii_server.app import current_caller, get_service
from taxii_server.media import taxii_response
from taxii_server.resources import envelope_bytes, status_resource

__all__ = ["bp"]

bp = Blueprint("objects", __name__)

_OBJECTS = "/<api_root>/collections/<collection_id>/objects/"
_OBJECT = "/<api_root>/collections/<collection_id>/objects/<object_id>/"


@bp.get(_OBJECTS)
def get_objects(api_root: str, collection_id: str) -> Response:
    """A page of objects, as stored, in ``date_added`` order."""
    page = get_service().objects(
        current_caller(), api_root, collection_id, request.args.to_dict(flat=False)
    )
    return taxii_response(
        envelope_bytes(page.items, page.more, page.next), date_added=page.date_added
    )


@bp.post(_OBJECTS)
def add_objects(api_root: str, collection_id: str) -> Response:
    """Validate and store an envelope; answer 202 with its status resource."""
    status = get_service().add_objects(current_caller(), api_root, collection_id, RequestBody())
    return taxii_response(status_resource(status), status=202)


@bp.get(_OBJECT)
def get_object(api_root: str, collection_id: str, object_id: str) -> Response:
    """The versions of one object that the filters select (the latest by default)."""
    page = get_service().object(
        current_caller(), api_root, collection_id, object_id, request.args.to_dict(flat=False)
    )
    return taxii_response(
        envelope_bytes(page.items, page.more, page.next), date_added=page.date_added
    )


@bp.delete(_OBJECT)
def delete_object(api_root: str, collection_id: str, object_id: str) -> Response:
    """Delete the selected versions of one object (all by default); 200 with no body."""
    get_service().delete_object(
        current_caller(), api_root, collection_id, object_id, request.args.to_dict(flat=False)
    )
    return taxii_response(b"")
