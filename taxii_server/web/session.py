"""Signing in to the workbench: the form, the session cookie, sign-out and CSRF.

The user name and password are the TAXII Basic ones, checked by the same
:class:`~taxii_server.auth.Authenticator` (scrypt, the verified-password cache, the
failed-login limit per client address, counted in the store): a failed sign-in here
counts against the same limit as a failed TAXII request, on every worker.

The session is Flask's signed cookie, its key a secret kept in the store
(:data:`SESSION_SECRET_NAME`), so that every worker and host accepts every session
and a server process keeps nothing.  The cookie is HttpOnly, SameSite=Strict, limited
to ``/ui``, Secure when the request came over HTTPS (also through a trusted proxy), and
expires ``ui.session_hours`` after sign-in whatever the activity.  It holds the user
name, the sign-in time, the CSRF token and a keyed fingerprint of the stored password
hash: a changed password ends every session at once.  It holds no credential.

Every POST carries the session's CSRF token in a hidden ``csrf_token`` field (the
sign-in form too, against login CSRF); one without it, or with another, is refused
with 400 before the view runs.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from datetime import timedelta

from flask import (
    Flask,
    Request,
    Response,
    current_app,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from werkzeug.exceptions import LengthRequired
from werkzeug.wrappers import Response as BaseResponse

from taxii_server.app import (
    AUTHENTICATED_USER,
    get_authenticator,
    get_settings,
    is_workbench_request,
)
from taxii_server.auth import Principal
from taxii_server.errors import BadRequest, PayloadTooLarge, TooManyRequests, Unauthorized
from taxii_server.storage.base import Storage
from taxii_server.web import workbench

__all__ = ["SESSION_SECRET_NAME", "configure", "csrf_token"]

#: Name of the store's secret that signs session cookies.
SESSION_SECRET_NAME = "ui-session"  # noqa: S105 - the name of a secret, not one
#: The session cookie's name.
COOKIE_NAME = "atlas_workbench"
#: Wall-clock seconds (tests move it to expire sessions).
_now = time.time
#: Bytes a form may carry beyond server.max_content_length (its other fields).
_FORM_ROOM = 64 * 1024
#: Pages anyone may open without signing in.
_PUBLIC_ENDPOINTS = frozenset({"workbench.login", "workbench.static"})


class _SessionInterface(SecureCookieSessionInterface):
    """Flask's signed cookie, Secure whenever the request itself was over HTTPS.

    Only workbench pages have a session: a TAXII request gets Flask's null session,
    neither read from a cookie nor saved (the cookie's path is ``/ui`` anyway), so a
    poll does not build a signing serializer twice for nothing.
    """

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if not is_workbench_request():
            return self.make_null_session(app)
        return super().open_session(app, request)

    def get_cookie_secure(self, app: Flask) -> bool:
        return request.is_secure


def configure(app: Flask, storage: Storage) -> None:
    """Give ``app`` the workbench's session settings and signing key."""
    app.secret_key = storage.ensure_secret(SESSION_SECRET_NAME, secrets.token_urlsafe(32))
    app.session_interface = _SessionInterface()
    app.config.update(
        SESSION_COOKIE_NAME=COOKIE_NAME,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict",
        SESSION_COOKIE_PATH="/ui",
        PERMANENT_SESSION_LIFETIME=timedelta(
            hours=app.extensions["taxii"].settings.ui_session_hours
        ),
    )


def csrf_token() -> str:
    """The session's CSRF token (made on first use), for a form's hidden field."""
    token = session.get("csrf")
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        session["csrf"] = token
        session.permanent = True
    return token


def _fingerprint(password_hash: str | None) -> str:
    """A keyed digest of the stored password hash: changes when the password does,
    and tells nothing about it (the session cookie is signed, not encrypted)."""
    key = str(current_app.secret_key).encode()
    digest = hmac.new(key, (password_hash or "").encode(), hashlib.sha256).hexdigest()
    return digest[:32]


@workbench.app_template_global()
def csrf_field_value() -> str:
    """The CSRF token, for templates (``{{ csrf_field_value() }}``)."""
    return csrf_token()


@workbench.before_request
def _limit_body() -> None:
    """A form is read whole: one larger than ``server.max_content_length`` (plus room
    for the form's own fields) is refused before any of it is read."""
    if request.method != "POST":
        return
    limit = get_settings().max_content_length + _FORM_ROOM
    length = request.content_length
    if length is None:
        raise LengthRequired("a form must be sent with its Content-Length")
    if length > limit:
        raise PayloadTooLarge(
            f"the form is {length} bytes; at most {limit} are accepted (server.max_content_length)"
        )


@workbench.before_request
def _check_csrf() -> None:
    if request.method != "POST":
        return
    sent = request.form.get("csrf_token", "")
    expected = session.get("csrf")
    if not isinstance(expected, str) or not hmac.compare_digest(sent.encode(), expected.encode()):
        raise BadRequest(
            "this form was refused: it carries no valid security token (it may have been "
            "sent from another site, or the session expired); reload the page and try again"
        )


@workbench.before_request
def _signed_in() -> BaseResponse | None:
    """Find the session's user, as the store holds them now; send anyone else to the
    sign-in page."""
    g.taxii_caller = Principal(None, request.remote_addr or "-")
    if request.endpoint == "workbench.static":
        return None  # the same files for everyone: no store read
    name = session.get("user")
    started = session.get("since")
    if isinstance(name, str) and isinstance(started, int | float):
        lifetime = get_settings().ui_session_hours * 3600
        caller = get_authenticator().reload(name, request.remote_addr)
        if (
            caller is not None
            and caller.user is not None
            and _now() - started < lifetime
            and hmac.compare_digest(
                str(session.get("pw", "")), _fingerprint(caller.user.password_hash)
            )
        ):
            g.taxii_caller = caller
            request.environ[AUTHENTICATED_USER] = caller.name
            return None
        session.pop("user", None)
    if request.endpoint in _PUBLIC_ENDPOINTS:
        return None
    target = url_for("workbench.login", next=_local_path(request))
    if request.headers.get("HX-Request"):
        # An htmx update after the session ended: the whole page goes to sign-in.
        return Response(status=204, headers={"HX-Redirect": target})
    return redirect(target)


def _local_path(req: Request) -> str:
    return req.full_path.rstrip("?") if req.method == "GET" else url_for("workbench.home")


def _safe_next(target: str | None) -> str:
    """Where to go after signing in: a path of this workbench, never another site."""
    if target and target.startswith("/ui/") and not target.startswith("//") and "\\" not in target:
        return target
    return url_for("workbench.home")


@workbench.route("/login", methods=["GET", "POST"])
def login() -> Response | BaseResponse | tuple[str, int]:
    """The sign-in form (``username``, ``password``) and its check."""
    if request.method == "GET":
        if not g.taxii_caller.anonymous:
            return redirect(_safe_next(request.args.get("next")))
        return render_template("login.html", next=request.args.get("next", ""), error=None), 200
    name = request.form.get("username", "")
    password = request.form.get("password", "")
    target = request.form.get("next", "")
    try:
        caller = get_authenticator().sign_in(name, password, request.remote_addr)
    except Unauthorized:
        error = "Unknown user name or wrong password."
        return render_template("login.html", next=target, error=error, name=name), 401
    except TooManyRequests as exc:
        return render_template("login.html", next=target, error=exc.description, name=name), 429
    assert caller.user is not None  # sign_in returns a user or raises
    session.clear()
    session.permanent = True
    session["user"] = caller.user.name
    session["since"] = int(_now())
    session["pw"] = _fingerprint(caller.user.password_hash)
    session["csrf"] = secrets.token_urlsafe(32)  # a new token for the new session
    return redirect(_safe_next(target))


@workbench.route("/logout", methods=["POST"])
def logout() -> BaseResponse:
    """Sign out: the session is emptied and the cookie replaced."""
    session.clear()
    return redirect(url_for("workbench.login"))
