"""The access log: gunicorn's, with the authenticated user and every field escaped.

gunicorn's own logger writes, as the user of a request, the name in its Basic
credentials whatever they are: an API key sent as the user name lands in the log in
clear, a name holding a newline forges a log line of the attacker's choosing, and a
request authenticated with Bearer or Token shows ``-``.  This logger writes instead
the user the application authenticated (``taxii_server.app.AUTHENTICATED_USER`` in the
request's WSGI environ; ``-`` for anonymous and refused requests), and escapes every
field a client can influence (request line, user agent, referer, forwarded address,
user name) as nginx does: ``\\`` and every non-printable character (controls, NUL,
line and paragraph separators) become ``\\\\``, ``\\xHH`` or ``\\uHHHH`` (gunicorn
itself turns ``"`` into ``\\"``), so one request is always one line and no quoted
field can end early.
"""

from __future__ import annotations

from typing import Any

from gunicorn import glogging

from taxii_server.app import AUTHENTICATED_USER

__all__ = ["AccessLogger", "escape"]

# Request headers that must never reach a log, whatever format is configured: gunicorn
# offers each header as a ``{name}i`` atom and its environ key as ``{key}e``.
_SECRET_HEADERS = ("authorization", "cookie", "proxy-authorization")
_SECRET_ATOMS = tuple(f"{{{name}}}i" for name in _SECRET_HEADERS) + tuple(
    f"{{http_{name.replace('-', '_')}}}e" for name in _SECRET_HEADERS
)


def _escaped(char: str) -> str:
    if char == "\\":
        return "\\\\"
    if char.isprintable():
        return char
    code = ord(char)
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def escape(value: str) -> str:
    """``value`` with ``\\`` and non-printable characters escaped: one line, and (once
    gunicorn has escaped ``"``) safe inside a quoted field of a log record."""
    if value.isprintable() and "\\" not in value:
        return value  # the usual case, without a loop over the characters
    return "".join(_escaped(char) for char in value)


class AccessLogger(glogging.Logger):  # type: ignore[misc]  # gunicorn ships no types
    """gunicorn's logger, with the authenticated user and escaped fields."""

    def _get_user(self, environ: dict[str, Any]) -> str | None:
        user = environ.get(AUTHENTICATED_USER)
        return user if isinstance(user, str) else None

    def atoms(self, resp: Any, req: Any, environ: dict[str, Any], request_time: Any) -> Any:
        atoms: dict[str, Any] = super().atoms(resp, req, environ, request_time)
        for name in _SECRET_ATOMS:
            atoms.pop(name, None)
        return {key: escape(v) if isinstance(v, str) else v for key, v in atoms.items()}
