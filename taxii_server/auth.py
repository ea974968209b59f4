"""Who is calling: HTTP Basic, Bearer and Token credentials checked against the store.

Accepted ``Authorization`` forms (the scheme in any case: MISP sends ``basic``):

* ``Basic base64(user:password)``: a password, or an API key as the password
  (Microsoft Sentinel and QRadar have only user and password fields): the user name is
  then the key's owner's or empty, and a key sent under another user's name is refused;
  or an API key as the user name with an empty password;
* ``Bearer <key>`` and ``Token <key>`` (taxii2-client's token auth).

No header means the anonymous caller, who may read public collections at TLP:CLEAR.

**API keys** are checked in microseconds: one indexed read of the key by its id, one
SHA-256 of the secret and a constant-time comparison (:mod:`taxii_server.credentials`
says why a fast hash is right for 192 random bits).  An unknown key id is compared with
a hash no secret matches, so a 401 costs the same whether or not the id exists.  A key
from before SHA-256 (a scrypt hash) is checked once at scrypt's cost, then its stored
hash is rewritten in the fast form: nothing for its owner to do.

**Passwords** are scrypt hashes, tens of milliseconds on purpose.  A successful check
is remembered for ``auth_cache_ttl`` seconds under an HMAC of (credential, stored hash)
keyed by a per-process random key: the cache never holds a secret in clear, and a
changed password changes the stored hash, so the old one stops working at once.  The
cache is per process, so each worker pays the first check of a password: machine
clients should use API keys.  An unknown user name still costs one scrypt check,
against a dummy hash.

**Failed logins** are limited per client address (an IPv6 client per /64, which one
subscriber usually holds) over a sliding window of the last minute, counted in the
store so that every worker and host agrees (a per-process count would let an attacker
try ``auth_failures_per_minute`` times per worker).  An address at the limit gets 429:

* for a password, before anything is checked, whether or not the password is right
  and whether or not this process has it cached: the answer never depends on which
  worker the request reaches;
* for an API key, only when the key is wrong.  Checking a key costs nothing worth
  protecting and no one can guess one, so a SIEM behind the same NAT as an attacker
  keeps polling with its key while the attacker is locked out.

The store is read for the limit only when a password is checked or a key failed, and
written only when a login failed, so a poll with a valid key costs no more.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import ipaddress
import logging
import math
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from converters.tlp import ADMIN_ONLY, rank_of_level
from taxii_server.credentials import (
    UNMATCHABLE_KEY_HASH,
    CredentialError,
    hash_api_key,
    is_legacy_key_hash,
    parse_api_key,
    unmatchable_hash,
    verify_api_key,
    verify_secret,
)
from taxii_server.errors import TooManyRequests, Unauthorized, quoted
from taxii_server.storage.base import ApiKey, Storage, User

__all__ = ["ANONYMOUS", "FAILURE_WINDOW", "Authenticator", "Principal", "client_key"]

_log = logging.getLogger(__name__)

_CACHE_LIMIT = 10_000  # verified passwords remembered per process
#: Seconds over which failed logins are counted (a sliding window).
FAILURE_WINDOW = 60
_WINDOW_US = FAILURE_WINDOW * 1_000_000
_RED = rank_of_level("red")

# What an unknown user name is checked against (see Authenticator._by_password).
_UNMATCHABLE = unmatchable_hash()
_WRONG_KEY = "unknown or revoked API key"


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
        """Highest TLP rank the caller may receive; anonymous callers get TLP:CLEAR.
        An admin cleared for TLP:RED also receives the objects carrying a marking the
        server cannot rank (:data:`converters.tlp.ADMIN_ONLY`, above RED: whoever may
        read them may read RED)."""
        if self.user is None:
            return 0
        clearance = self.user.clearance
        return ADMIN_ONLY if self.user.admin and clearance >= _RED else clearance

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
        """``clock`` is wall-clock seconds: failed logins are shared with other
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
                return self._by_key(password, address, owner=name or None)
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

    # -- API keys: one indexed read, one SHA-256 ---------------------------------------
    def _by_key(self, token: str, address: str, *, owner: str | None = None) -> User:
        """The user whose key ``token`` is; ``owner``: the Basic user name sent with it,
        which must be the key's owner's."""
        parsed = parse_api_key(token)
        if parsed is None:  # the callers checked; kept for the type checker
            raise Unauthorized(_WRONG_KEY)
        key = self._storage.get_api_key(parsed.key_id)
        if key is not None and is_legacy_key_hash(key.secret_hash):
            matched = self._legacy_key(key, parsed.secret, address)
        else:
            matched = self._key_matches(parsed.secret, key)
        if not matched or key is None:
            self._gate(address)  # a wrong key from an address at the limit: 429
            raise Unauthorized(_WRONG_KEY)
        if owner is not None and owner != key.user:
            raise Unauthorized(
                f"this API key does not belong to user {quoted(owner)}: send it with its "
                "owner's user name, or an empty one"
            )
        user = self._storage.get_user(key.user)
        if user is None:
            raise Unauthorized(_WRONG_KEY)
        return user

    @staticmethod
    def _key_matches(secret: str, key: ApiKey | None) -> bool:
        """One SHA-256 whether or not the key exists (no timing difference)."""
        stored = UNMATCHABLE_KEY_HASH if key is None else key.secret_hash
        try:
            matched = verify_api_key(secret, stored)
        except CredentialError:
            _log.error("stored hash of API key %r is malformed; refusing it", key and key.key_id)
            return False
        return matched and key is not None

    def _legacy_key(self, key: ApiKey, secret: str, address: str) -> bool:
        """A key from before SHA-256: checked with scrypt like a password (after the
        failed-login limit), and on success stored in the fast form from now on."""
        self._gate(address)
        try:
            if not verify_secret(secret, key.secret_hash):
                return False
        except CredentialError:
            _log.error("stored hash of API key %r is malformed; refusing it", key.key_id)
            return False
        if self._storage.replace_api_key_hash(key.key_id, key.secret_hash, hash_api_key(secret)):
            _log.info("API key %s: stored hash upgraded to SHA-256 on first use", key.key_id)
        return True

    # -- passwords: scrypt, with a per-process cache of successful checks ---------------
    def _by_password(self, name: str, password: str, address: str) -> User:
        self._gate(address)
        # No user name holds U+0000 (PostgreSQL text cannot): look none up.
        user = self._storage.get_user(name) if name and "\x00" not in name else None
        if user is None or user.password_hash is None:
            # Spend one hash check so a 401 for an unknown name costs what a wrong
            # password does (the existence of user names stays private).
            verify_secret(password, _UNMATCHABLE)
            raise Unauthorized("unknown user or wrong password")
        if not self._password_matches(name, password, user.password_hash):
            raise Unauthorized("unknown user or wrong password")
        return user

    def _password_matches(self, name: str, password: str, stored: str) -> bool:
        mark = hmac.new(
            self._process_key,
            b"\x00".join((name.encode(), password.encode(), stored.encode())),
            hashlib.sha256,
        ).digest()
        now = self._clock()
        expiry = self._verified.get(mark)
        if expiry is not None and expiry > now:
            return True
        try:
            ok = verify_secret(password, stored)
        except CredentialError:
            _log.error("stored password hash of user %r is malformed; refusing it", name)
            return False
        if ok:
            with self._lock:
                if len(self._verified) >= _CACHE_LIMIT:
                    self._verified = {m: e for m, e in self._verified.items() if e > now}
                    if len(self._verified) >= _CACHE_LIMIT:
                        self._verified.clear()
                self._verified[mark] = now + self._cache_ttl
        return ok

    # -- failed-login limit: a sliding window, shared through the store ----------------------
    def _gate(self, address: str) -> None:
        """429 when ``address`` has had ``auth_failures_per_minute`` failed logins in
        the last minute; ``Retry-After`` is when the oldest of them leaves the window."""
        limit = self._failures_per_minute
        if limit <= 0:
            return
        now = int(self._clock() * 1_000_000)
        failures = self._storage.login_failures(client_key(address), now - _WINDOW_US)
        if len(failures) >= limit:
            frees = failures[len(failures) - limit] + _WINDOW_US
            wait = max(1, math.ceil((frees - now) / 1_000_000))
            raise TooManyRequests(
                f"too many failed logins from {address}; try again in {wait} s and check "
                "the credentials",
                headers={"Retry-After": str(wait)},
            )

    def _count_failure(self, address: str) -> None:
        if self._failures_per_minute > 0:
            now = int(self._clock() * 1_000_000)
            self._storage.record_login_failure(
                client_key(address), now, forget_before=now - _WINDOW_US
            )


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
