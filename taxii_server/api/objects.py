"""Get Objects (§5.4), Add Objects (§5.5), Get an Object (§5.6), Delete an Object (§5.7)."""

from __future__ import annotations

from flask import Blueprint, Response, request

from taxii_server.app import current_caller, get_service
from taxii_server.errors import RequestTimeout
from taxii_server.media import taxii_response
from taxii_server.resources import envelope_bytes, status_resource

__all__ = ["bp"]

bp = Blueprint("objects", __name__)

_OBJECTS = "/<api_root>/collections/<collection_id>/objects/"
_OBJECT = "/<api_root>/collections/<collection_id>/objects/<object_id>/"
_READ_SIZE = 256 * 1024


class _Body:
    """The request body, read no further than a limit (see ``service.RequestBody``)."""

    @property
    def content_length(self) -> int | None:
        return request.content_length

    def read(self, limit: int) -> bytes:
        # A WSGI stream may return less than asked before its end: read until the
        # body ends or is known to be too long.
        chunks: list[bytes] = []
        total = 0
        while total <= limit:
            try:
                chunk = request.stream.read(min(_READ_SIZE, limit + 1 - total))
            except TimeoutError:  # the worker's client timeout (cli/workers.py)
                raise RequestTimeout(
                    f"the body stopped arriving after {total} bytes; send it again"
                ) from None
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
        return b"".join(chunks)


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
    status = get_service().add_objects(current_caller(), api_root, collection_id, _Body())
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
