"""The Flask application factory; there is no module-level app.

``create_app(settings=None, *, storage=None)`` builds one WSGI app over one store:
settings default to :func:`taxii_server.settings.load_settings` (``ATLAS_TAXII_CONFIG``
and ``ATLAS_TAXII_*`` variables), the store to ``open_storage(settings.storage_url,
migrate=True)``.  gunicorn runs it as a factory, one app per worker::

    gunicorn 'taxii_server.app:create_app()'

Every request goes through the same three steps before its view: negotiation
(:func:`taxii_server.media.negotiate`), authentication (the caller is kept for the
view in ``flask.g``), and, after it, the TAXII media type on every response.

The analyst workbench (:mod:`taxii_server.web`, under ``/ui/``) is part of the same
app when ``ui.enabled``: its pages skip the three TAXII steps and do their own (a
signed-in session instead of an ``Authorization`` header, HTML instead of TAXII
JSON), over the same service.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask, Response, current_app, g, request

from converters.validation import get_validator
from taxii_server.auth import Authenticator, Principal
from taxii_server.errors import NotFound, register_error_handlers
from taxii_server.forwarded import ForwardedFromProxies
from taxii_server.media import MEDIA_TYPE_TAXII_V21, is_plain_json, negotiate
from taxii_server.query import NextTokenCodec
from taxii_server.request_limit import AnonymousLimit
from taxii_server.service import TaxiiService
from taxii_server.settings import Settings, load_settings
from taxii_server.storage.base import Storage
from taxii_server.timestamps import now_us
from taxii_server.trust import jwks_document

__all__ = [
    "AUTHENTICATED_USER",
    "TaxiiExtension",
    "UI_PREFIX",
    "create_app",
    "current_caller",
    "get_authenticator",
    "get_jwks",
    "get_service",
    "get_settings",
    "get_storage",
    "is_workbench_request",
]

#: The WSGI environ key holding the authenticated user's name (``None``: anonymous).
AUTHENTICATED_USER = "atlas_taxii.user"

#: Where the workbench's pages live (taxii_server.web).
UI_PREFIX = "/ui"

#: Name of the shared secret that signs ``next`` tokens when the settings give none.
NEXT_SECRET_NAME = "next-signing"  # noqa: S105 - the name of a secret, not one


@dataclass(frozen=True, slots=True)
class TaxiiExtension:
    """What one app holds, in ``app.extensions["taxii"]``."""

    settings: Settings
    storage: Storage
    service: TaxiiService
    authenticator: Authenticator
    anonymous_limit: AnonymousLimit
    jwks: bytes  # the trusted signing keys, serialised (taxii_server.trust)


def create_app(
    settings: Settings | None = None,
    *,
    storage: Storage | None = None,
    clock: Callable[[], int] | None = None,
) -> Flask:
    """Build the TAXII 2.1 app.  ``clock`` (microseconds since the epoch) is for tests
    that need time to pass, e.g. for ``next`` token expiry."""
    settings = settings if settings is not None else load_settings()
    if storage is None:
        from taxii_server.storage import open_storage

        storage = open_storage(settings.storage_url, migrate=True)
    # Every worker and host on one store must sign `next` alike: without a configured
    # secret, the first worker to start stores a random one and all others reuse it.
    signing = settings.next_secrets or (
        storage.ensure_secret(NEXT_SECRET_NAME, secrets.token_urlsafe(32)),
    )
    micros = clock or now_us
    service = TaxiiService(
        storage,
        settings,
        codec=NextTokenCodec(signing),
        clock=micros,
        validator=get_validator,
    )
    authenticator = Authenticator(
        storage,
        cache_ttl=settings.auth_cache_ttl,
        failures_per_minute=settings.auth_failures_per_minute,
    )

    app = Flask("taxii_server")
    if settings.trusted_proxies:
        # Behind reverse proxies the client address (for the failed-login limit) and
        # the public scheme and host (for discovery URLs) come from their headers,
        # when the request does come from one of them.
        app.wsgi_app = ForwardedFromProxies(  # type: ignore[method-assign]
            app.wsgi_app,
            proxies=settings.trusted_proxies,
            addresses=settings.trusted_proxy_addresses,
        )
    # TAXII URLs end in "/", clients drop it (taxii2-client's status URL): answer both,
    # never with a redirect, which would turn a POST into a GET in some clients.
    app.url_map.strict_slashes = False
    # Body size is enforced per API root (its max_content_length) by the service.
    app.config["MAX_CONTENT_LENGTH"] = None
    jwks = jwks_document(settings)
    anonymous_limit = AnonymousLimit(
        storage, settings.anonymous_requests_per_minute, clock=lambda: micros() / 1e6
    )
    app.extensions["taxii"] = TaxiiExtension(
        settings, storage, service, authenticator, anonymous_limit, jwks
    )
    register_error_handlers(app)
    app.before_request(_refuse_nul)
    app.before_request(_negotiate)
    app.before_request(_authenticate)
    app.after_request(_taxii_headers)
    # Imported here: the views import this module's accessors.
    from taxii_server.api import BLUEPRINTS

    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)
    if settings.ui_enabled:
        from taxii_server.web import register_workbench

        register_workbench(app, storage)
    return app


def _extension() -> TaxiiExtension:
    extension: TaxiiExtension = current_app.extensions["taxii"]
    return extension


def get_service() -> TaxiiService:
    """The TAXII service of the current app."""
    return _extension().service


def get_storage() -> Storage:
    """The store of the current app."""
    return _extension().storage


def get_settings() -> Settings:
    """The settings of the current app."""
    return _extension().settings


def get_authenticator() -> Authenticator:
    """The authenticator of the current app (the workbench's sign-in uses it too)."""
    return _extension().authenticator


def get_jwks() -> bytes:
    """The JWK Set of the signing keys the configuration trusts."""
    return _extension().jwks


def current_caller() -> Principal:
    """The authenticated caller of the current request."""
    caller: Principal = g.taxii_caller
    return caller


def is_workbench_request() -> bool:
    """Whether the current request is for a workbench page (served, not TAXII)."""
    path = request.path
    return _extension().settings.ui_enabled and (
        path == UI_PREFIX or path.startswith(UI_PREFIX + "/")
    )


def _refuse_nul() -> None:
    # No API root, collection, object or status has U+0000 in its name, and PostgreSQL
    # cannot even compare text with it: such a URL names nothing, and says so.
    if "\x00" in request.path:
        raise NotFound("no TAXII resource at this URL (it contains U+0000)")


def _negotiate() -> None:
    if not is_workbench_request():
        negotiate()


def _authenticate() -> None:
    if is_workbench_request():
        return  # the workbench signs its users in itself (taxii_server.web.session)
    extension = _extension()
    caller = extension.authenticator.authenticate(
        request.headers.get("Authorization"), request.remote_addr
    )
    # For the access log (taxii_server.cli.access_log): the user authenticated, never
    # the name a client sent.
    request.environ[AUTHENTICATED_USER] = caller.name
    if caller.anonymous:
        extension.anonymous_limit.admit(caller.address)
    g.taxii_caller = caller


def _taxii_headers(response: Response) -> Response:
    if is_workbench_request():
        return response  # pages have their own headers (taxii_server.web.headers)
    # Every response, also Flask's automatic OPTIONS/HEAD ones, is TAXII 2.1 (§3.1);
    # only the OpenAPI document, when it is served, is plain JSON.
    if response.status_code >= 300 or not is_plain_json():
        response.headers["Content-Type"] = MEDIA_TYPE_TAXII_V21
    # Pages differ per caller (grants, TLP clearance): no shared cache may keep them.
    response.headers["Cache-Control"] = "no-store"
    response.headers["Vary"] = "Accept, Authorization"
    return response
