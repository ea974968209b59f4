"""TAXII 2.1 endpoints, one blueprint per resource (TAXII 2.1 §4 and §5).

Each view parses its path parameters and query string, calls
:class:`taxii_server.service.TaxiiService`, and returns
:func:`taxii_server.media.taxii_response`; negotiation, authentication and error
rendering happen once, in :mod:`taxii_server.app` and :mod:`taxii_server.errors`.
"""

from __future__ import annotations

from flask import Blueprint

from taxii_server.api import (
    api_roots,
    collections,
    discovery,
    jwks,
    manifest,
    objects,
    openapi,
    status,
    versions,
)

__all__ = ["BLUEPRINTS"]

BLUEPRINTS: tuple[Blueprint, ...] = (
    openapi.bp,
    jwks.bp,
    discovery.bp,
    api_roots.bp,
    status.bp,
    collections.bp,
    objects.bp,
    manifest.bp,
    versions.bp,
)
