"""The response headers of every workbench page: a strict Content-Security-Policy
(scripts and styles from this server's files only, never inline, never ``eval``), no
framing, no sniffing, no referrer, and no caching of pages (they differ per user).

A STIX object's strings are escaped by the templates; the policy is the second line
of defence: a string that slipped through could still not run as a script.
"""

from __future__ import annotations

from flask import Response, request

from taxii_server.app import is_workbench_request
from taxii_server.web import workbench

__all__ = ["CONTENT_SECURITY_POLICY"]

#: No ``unsafe-inline``, no ``unsafe-eval``: only the workbench's own files run.
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "font-src 'self'",
        "form-action 'self'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    )
)


@workbench.after_app_request
def _page_headers(response: Response) -> Response:
    if not is_workbench_request():
        return response
    headers = response.headers
    headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    headers["X-Content-Type-Options"] = "nosniff"
    headers["X-Frame-Options"] = "DENY"
    headers["Referrer-Policy"] = "no-referrer"
    headers["Cross-Origin-Opener-Policy"] = "same-origin"
    if request.endpoint == "workbench.static":
        headers["Cache-Control"] = "public, max-age=3600"
    else:
        headers["Cache-Control"] = "no-store"
        headers["Vary"] = "Cookie"
    return response
