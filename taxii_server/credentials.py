"""Passwords and API keys: generation, hashing for storage, constant-time checks.

The two kinds of secret get two kinds of hash, each stored in a self-describing form:

* **Passwords** are chosen by people, so a stolen hash may be guessed at: scrypt
  (RFC 7914) with a random 16-byte salt, ``scrypt$<n>$<r>$<p>$<salt b64>$<hash b64>``
  (the cost can be raised later without invalidating stored hashes).  Checking one
  costs tens of milliseconds on purpose; ``taxii_server.auth`` caches successful checks
  briefly so a person's tool polling every minute does not pay it on every request.
* **API key secrets** are 192 random bits drawn by the server: SHA-256 (FIPS 180-4),
  ``sha256$<hash b64>``, checked in about a microsecond.  No one can search 2**192
  secrets, however fast the hash, so a slow one would only slow every poll down; and
  a key (unlike a password) is never reused elsewhere.  Keys made before this form
  existed carry scrypt hashes; they keep working, and ``taxii_server.auth`` rewrites
  such a hash to this form the first time the key is used.

An API key is ``atk_<key_id>_<secret>``: ``key_id`` (12 base32 characters) is public
and indexed so a key is found without scanning; ``secret`` (32 url-safe base64
characters, 192 bits) is what the hash protects.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

__all__ = [
    "ApiKeyToken",
    "CredentialError",
    "UNMATCHABLE_KEY_HASH",
    "hash_api_key",
    "hash_secret",
    "is_legacy_key_hash",
    "new_api_key",
    "parse_api_key",
    "unmatchable_hash",
    "verify_api_key",
    "verify_secret",
]

# scrypt cost: n=2**15, r=8 takes ~70 ms and 32 MiB on one core of the reference machine.
_N, _R, _P = 2**15, 8, 1
_MAXMEM = 128 * 1024 * 1024
_KEY_PATTERN = re.compile(r"atk_([a-z2-7]{12})_([A-Za-z0-9_-]{32})")


class CredentialError(ValueError):
    """A stored hash is not in a form this version understands."""


@dataclass(frozen=True, slots=True)
class ApiKeyToken:
    """The parts of an API key as handed to its owner once, at creation."""

    key_id: str
    secret: str

    @property
    def token(self) -> str:
        """The whole key, as clients send it."""
        return f"atk_{self.key_id}_{self.secret}"


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _scrypt(secret: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(
        secret.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=_MAXMEM, dklen=32
    )


def hash_secret(secret: str) -> str:
    """Hash a password for storage (scrypt, slow on purpose)."""
    salt = secrets.token_bytes(16)
    digest = _scrypt(secret, salt, _N, _R, _P)
    return f"scrypt${_N}${_R}${_P}${_b64(salt)}${_b64(digest)}"


def unmatchable_hash() -> str:
    """A hash in the current format and at the current cost that no secret is expected
    to match (its digest is all zeros): checking a secret against it costs exactly what
    checking a real one does, without computing a hash first."""
    return f"scrypt${_N}${_R}${_P}${_b64(bytes(16))}${_b64(bytes(32))}"


def verify_secret(secret: str, stored: str) -> bool:
    """True when ``secret`` matches the stored scrypt hash (a password's, or an API
    key's from before keys were hashed with SHA-256); the comparison is constant-time."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            raise ValueError(scheme)
        expected = base64.b64decode(digest, validate=True)
        actual = _scrypt(secret, base64.b64decode(salt, validate=True), int(n), int(r), int(p))
    except ValueError as exc:
        raise CredentialError("stored credential hash is malformed") from exc
    return hmac.compare_digest(actual, expected)


def _sha256(secret: str) -> bytes:
    return hashlib.sha256(secret.encode("utf-8")).digest()


def hash_api_key(secret: str) -> str:
    """The stored form of an API key's secret: ``sha256$<digest b64>``."""
    return f"sha256${_b64(_sha256(secret))}"


#: What an unknown key id is checked against: a key hash no secret is expected to match
#: (all zeros), so that a 401 for an unknown key costs what one for a wrong secret does.
UNMATCHABLE_KEY_HASH = f"sha256${_b64(bytes(32))}"


def is_legacy_key_hash(stored: str) -> bool:
    """Whether an API key's stored hash is a scrypt one (keys made before SHA-256)."""
    return stored.startswith("scrypt$")


def verify_api_key(secret: str, stored: str) -> bool:
    """True when ``secret`` matches an API key hash made by :func:`hash_api_key`; one
    SHA-256 and a constant-time comparison."""
    scheme, _, digest = stored.partition("$")
    try:
        if scheme != "sha256":
            raise ValueError(scheme)
        expected = base64.b64decode(digest, validate=True)
    except ValueError as exc:
        raise CredentialError("stored API key hash is malformed") from exc
    return hmac.compare_digest(_sha256(secret), expected)


def new_api_key() -> ApiKeyToken:
    """Generate a random API key."""
    key_id = base64.b32encode(secrets.token_bytes(10)).decode("ascii").lower()[:12]
    return ApiKeyToken(key_id=key_id, secret=secrets.token_urlsafe(24))


def parse_api_key(token: str) -> ApiKeyToken | None:
    """Split a presented API key into id and secret; ``None`` if it is not one of ours."""
    match = _KEY_PATTERN.fullmatch(token)
    if match is None:
        return None
    return ApiKeyToken(key_id=match.group(1), secret=match.group(2))
