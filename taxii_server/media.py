"""TAXII 2.1 media types, content negotiation, and the one response builder.

TAXII 2.1 §3.1: every TAXII resource is ``application/taxii+json;version=2.1``; the
unversioned ``application/taxii+json`` means the latest version the server speaks
(2.1 here), so neither may be refused.  We also serve ``*/*``, ``application/*``
and, since the body *is* JSON and curl scripts and browsers ask for it,
``application/json``.  Only Accept headers that exclude all of these (another TAXII
version, STIX bundles, XML, or ``q=0``) get 406.  Responses always carry the
versioned type, which taxii2-client insists on.

Negotiation happens once, in :func:`negotiate` (a ``before_request`` hook); views
return :func:`taxii_response`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import orjson
from flask import Response, current_app, request

from taxii_server.errors import NotAcceptable, UnsupportedMediaType
from taxii_server.timestamps import format_timestamp

__all__ = [
    "MEDIA_TYPE_STIX_V21",
    "MEDIA_TYPE_TAXII_V21",
    "MediaRange",
    "accepts_taxii",
    "check_content_type",
    "is_plain_json",
    "negotiate",
    "parse_media_range",
    "plain_json",
    "taxii_response",
]

MEDIA_TYPE_TAXII_V21 = "application/taxii+json;version=2.1"
MEDIA_TYPE_STIX_V21 = "application/stix+json;version=2.1"

_TAXII = ("application", "taxii+json")
_SERVED_VERSION = "2.1"


@dataclass(frozen=True, slots=True)
class MediaRange:
    """One element of an Accept header, or a Content-Type (RFC 9110 §12.5.1)."""

    type: str
    subtype: str
    params: Mapping[str, str]
    q: float = 1.0


def parse_media_range(text: str) -> MediaRange | None:
    """Parse ``type/subtype;param=value;q=0.5``; ``None`` when it is not one."""
    head, *raw_params = text.split(";")
    kind, slash, subtype = head.strip().lower().partition("/")
    if not slash or not kind or not subtype:
        return None
    params: dict[str, str] = {}
    q = 1.0
    for raw in raw_params:
        name, eq, value = raw.strip().partition("=")
        if not eq:
            continue
        name = name.strip().lower()
        value = value.strip().strip('"')
        if name == "q":
            try:
                q = float(value)
            except ValueError:
                return None
            if not 0.0 <= q <= 1.0:
                return None
        else:
            params[name] = value
    return MediaRange(kind, subtype, params, q)


def _specificity(media: MediaRange) -> int:
    """How specifically ``media`` names our response type; -1 when it does not."""
    if (media.type, media.subtype) == ("*", "*"):
        return 0
    if (media.type, media.subtype) == ("application", "*"):
        return 1
    if (media.type, media.subtype) == ("application", "json"):
        return 2
    if (media.type, media.subtype) == _TAXII:
        version = media.params.get("version")
        if version is None:
            return 3
        return 4 if version == _SERVED_VERSION else -1
    return -1


def accepts_taxii(accept: str | None) -> bool:
    """Whether an Accept header admits ``application/taxii+json;version=2.1``.

    The most specific matching range decides (RFC 9110 §12.5.1), so
    ``*/*, application/taxii+json;q=0`` refuses us while
    ``application/taxii+json;q=0, application/taxii+json;version=2.1`` does not.
    A missing or empty header accepts anything.
    """
    if accept is None or not accept.strip():
        return True
    best, best_q = -1, 0.0
    for part in accept.split(","):
        if not part.strip():
            continue
        media = parse_media_range(part)
        if media is None:
            continue
        specificity = _specificity(media)
        if specificity > best or (specificity == best and media.q > best_q):
            best, best_q = specificity, media.q
    return best >= 0 and best_q > 0.0


def check_content_type(content_type: str | None) -> None:
    """Raise :class:`UnsupportedMediaType` unless a body is TAXII 2.1 JSON (§3.1, §5.5)."""
    media = parse_media_range(content_type) if content_type else None
    if media is None or (media.type, media.subtype) != _TAXII:
        got = f"{content_type!r}" if content_type else "no Content-Type"
        raise UnsupportedMediaType(
            f"the request body must be {MEDIA_TYPE_TAXII_V21} (a TAXII envelope); got {got}"
        )
    version = media.params.get("version", _SERVED_VERSION)
    if version != _SERVED_VERSION:
        raise UnsupportedMediaType(
            f"this server speaks TAXII {_SERVED_VERSION} only; the body is declared as "
            f"TAXII {version}"
        )


View = TypeVar("View", bound=Callable[..., Any])


def plain_json(view: View) -> View:
    """Mark a view that serves plain JSON rather than a TAXII resource (the OpenAPI
    document): no Accept negotiation, and its success keeps its own Content-Type."""
    view.plain_json = True  # type: ignore[attr-defined]
    return view


def is_plain_json() -> bool:
    """Whether the current request is routed to a :func:`plain_json` view."""
    view = current_app.view_functions.get(request.endpoint or "")
    return bool(getattr(view, "plain_json", False))


def negotiate() -> None:
    """``before_request`` hook: refuse what we cannot produce or read, once for all views."""
    if is_plain_json():
        return
    accept = request.headers.get("Accept")
    if not accepts_taxii(accept):
        raise NotAcceptable(
            f"this server produces {MEDIA_TYPE_TAXII_V21} only (also offered for "
            f"application/taxii+json, application/json and */*); Accept was {accept!r}"
        )
    # Elastic sends a Content-Type on GET: only a body we must read is checked, and
    # only where a route takes one (a POST to a GET-only URL is a 405, not a 415).
    if request.method == "POST" and request.routing_exception is None:
        check_content_type(request.headers.get("Content-Type"))


def taxii_response(
    body: Mapping[str, Any] | bytes,
    *,
    status: int = 200,
    date_added: tuple[int, int] | None = None,
) -> Response:
    """Build a TAXII 2.1 response from a JSON mapping or already serialised bytes.

    ``date_added`` (first, last), in microseconds, becomes the
    ``X-TAXII-Date-Added-First``/``-Last`` headers (TAXII 2.1 §3.2).
    """
    data = body if isinstance(body, bytes) else orjson.dumps(body)
    response = Response(data, status=status, content_type=MEDIA_TYPE_TAXII_V21)
    if date_added is not None:
        response.headers["X-TAXII-Date-Added-First"] = format_timestamp(date_added[0])
        response.headers["X-TAXII-Date-Added-Last"] = format_timestamp(date_added[1])
    return response
