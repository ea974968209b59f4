"""Who is calling: HTTP Basic, Bearer and Token credentials checked against the store.

Accepted ``Authorization`` forms (the scheme in any case: MISP sends ``basic``):

* ``Basic base64(user:password)``: a password, or an API key as the password (the
  user name is then ignored: the key names its owner), or an API key as the user name
  with an empty password;
* ``Bearer <key>`` and ``Token <key>`` (taxii2-client's token auth).

No header means the anonymous caller, who may read public collections at TLP:CLEAR.

Secrets are stored as scrypt hashes (:mod:`taxii_server.credentials`), which cost tens
of milliseconds to check, on purpose.  A SIEM polling every minute must not pay that
each time, so a successful check is remembered for ``auth_cache_ttl`` seconds under
an HMAC of (credential, stored hash) keyed by a per-process random key: the cache
never holds a secret in clear, and a changed password or revoked key changes or
removes the stored hash, so the old credential stops working at once.  Unknown users
and key ids still cost one hash check, against a dummy hash, so a 401 takes as long
whether or not the name exists.

Failed attempts are counted per client address and minute in the store, so the limit
holds across every worker and host (a per-process count would let an attacker try
``auth_failures_per_minute`` times per worker process).  An address that reached it
gets 429 until the minute is over, before any hash is checked; an IPv6 client counts
for its whole /64, which one subscriber usually holds.  The store is asked only when a
hash would be checked (a credential not in the cache) and when one failed, so a poll
with a cached credential costs nothing more.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import ipaddress
import logging
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from taxii_server.credentials import (
    CredentialError,
    parse_api_key,
    unmatchable_hash,
    verify_secret,
)
from taxii_server.errors import TooManyRequests, Unauthorized, quoted
from taxii_server.storage.base import Storage, User

__all__ = ["ANONYMOUS", "Authenticator", "Principal", "client_key"]

_log = logging.getLogger(__name__)

_CACHE_LIMIT = 10_000  # verified credentials remembered per process
_WINDOW = 60  # seconds per failed-login window
# What an unknown user name or key id is checked against (see Authenticator._burn).
_UNMATCHABLE = unmatchable_hash()


@dataclass(frozen=True, slots=True)
class Principal:
    """The caller of one request: a user, or anonymous when ``user`` is ``None``, and
    the client address the request came from (for the audit log)."""

    user: User | None = None
    address: str = "-"

    @property
    def name(self) -> str | None:
        return None if self.user is None else self.user.name

    @property
    def clearance(self) -> int:
        """Highest TLP rank the caller may receive; anonymous callers get TLP:CLEAR."""
        return 0 if self.user is None else self.user.clearance

    @property
    def admin(self) -> bool:
        return self.user is not None and self.user.admin

    @property
    def anonymous(self) -> bool:
        return self.user is None


ANONYMOUS = Principal()


class Authenticator:
    """Turns an ``Authorization`` header into a :class:`Principal`, or raises 401/429."""

    def __init__(
        self,
        storage: Storage,
        *,
        cache_ttl: float,
        failures_per_minute: int,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """``clock`` is wall-clock seconds: failed-login windows are shared with other
        processes and hosts through the store."""
        self._storage = storage
        self._cache_ttl = cache_ttl
        self._failures_per_minute = failures_per_minute
        self._clock = clock
        self._process_key = secrets.token_bytes(32)
        self._verified: dict[bytes, float] = {}
        self._lock = threading.Lock()

    # -- public -----------------------------------------------------------------
    def authenticate(self, authorization: str | None, client: str | None = None) -> Principal:
        """Check the credentials of one request; no header means anonymous."""
        address = client or "-"
        if authorization is None or not authorization.strip():
            return Principal(None, address)
        try:
            user = self._authenticate(authorization.strip(), address)
        except Unauthorized:
            self._count_failure(address)
            raise
        return Principal(user, address)

    # -- schemes ------------------------------------------------------------------
    def _authenticate(self, header: str, address: str) -> User:
        scheme, _, value = header.partition(" ")
        scheme = scheme.lower()
        value = value.strip()
        if scheme == "basic":
            name, password = self._basic(value)
            if parse_api_key(password) is not None:
                return self._by_key(password, address)
            if not password and parse_api_key(name) is not None:
                return self._by_key(name, address)
            return self._by_password(name, password, address)
        if scheme in ("bearer", "token"):
            if parse_api_key(value) is None:
                raise Unauthorized(f"the {scheme.title()} credential is not an atlas-taxii API key")
            return self._by_key(value, address)
        raise Unauthorized(
            f"unsupported authorization scheme {quoted(scheme)}; use Basic, Bearer or Token"
        )

    @staticmethod
    def _basic(value: str) -> tuple[str, str]:
        try:
            raw = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raise Unauthorized("the Basic credentials are not valid base64") from None
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            text = raw.decode("latin-1")  # RFC 7617 allows it; older clients send it
        name, colon, password = text.partition(":")
        if not colon:
            raise Unauthorized("the Basic credentials must be user:password")
        return name, password

    def _by_password(self, name: str, password: str, address: str) -> User:
        # No user name holds U+0000 (PostgreSQL text cannot): look none up.
        user = self._storage.get_user(name) if name and "\x00" not in name else None
        if user is None or user.password_hash is None:
            self._burn(password, address)
            raise Unauthorized("unknown user or wrong password")
        if not self._check(b"password", name, password, user.password_hash, address):
            raise Unauthorized("unknown user or wrong password")
        return user

    def _by_key(self, token: str, address: str) -> User:
        parsed = parse_api_key(token)
        key = self._storage.get_api_key(parsed.key_id) if parsed is not None else None
        if parsed is None or key is None:
            self._burn(token, address)
            raise Unauthorized("unknown or revoked API key")
        if not self._check(b"key", parsed.key_id, parsed.secret, key.secret_hash, address):
            raise Unauthorized("unknown or revoked API key")
        user = self._storage.get_user(key.user)
        if user is None:
            raise Unauthorized("unknown or revoked API key")
        return user

    # -- slow checks and their cache --------------------------------------------------
    def _check(self, kind: bytes, name: str, secret: str, stored: str, address: str) -> bool:
        mark = hmac.new(
            self._process_key,
            b"\x00".join((kind, name.encode(), secret.encode(), stored.encode())),
            hashlib.sha256,
        ).digest()
        now = self._clock()
        expiry = self._verified.get(mark)
        if expiry is not None and expiry > now:
            return True
        self._gate(address)
        try:
            ok = verify_secret(secret, stored)
        except CredentialError:
            _log.error("stored hash of %s %r is malformed; refusing it", kind.decode(), name)
            return False
        if ok:
            with self._lock:
                if len(self._verified) >= _CACHE_LIMIT:
                    self._verified = {m: e for m, e in self._verified.items() if e > now}
                    if len(self._verified) >= _CACHE_LIMIT:
                        self._verified.clear()
                self._verified[mark] = now + self._cache_ttl
        return ok

    def _burn(self, secret: str, address: str) -> None:
        """Spend one hash check so a 401 for an unknown name costs what a wrong password
        does (the existence of user names and key ids stays private)."""
        self._gate(address)
        verify_secret(secret, _UNMATCHABLE)

    # -- failed-attempt limit, shared through the store -------------------------------------
    def _gate(self, address: str) -> None:
        """429 when ``address`` has used up this minute's failed logins."""
        if self._failures_per_minute <= 0:
            return
        now = self._clock()
        failures = self._storage.login_failures(client_key(address), int(now // _WINDOW))
        if failures >= self._failures_per_minute:
            raise TooManyRequests(
                f"too many failed logins from {address}; wait a minute and check the credentials",
                headers={"Retry-After": str(_WINDOW - int(now) % _WINDOW)},
            )

    def _count_failure(self, address: str) -> None:
        if self._failures_per_minute > 0:
            window = int(self._clock() // _WINDOW)
            self._storage.count_login_failure(client_key(address), window)


def client_key(address: str) -> str:
    """What failed logins are counted under: the address, or for IPv6 its /64 (one
    subscriber's network, from which an attacker can use any of 2**64 addresses)."""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(parsed, ipaddress.IPv4Address):
        return str(parsed)
    if parsed.ipv4_mapped is not None:  # ::ffff:192.0.2.1 is 192.0.2.1
        return str(parsed.ipv4_mapped)
    return str(ipaddress.IPv6Network((parsed, 64), strict=False))
