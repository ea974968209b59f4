"""Passwords and API keys: generation, slow salted hashing, constant-time checks.

Secrets are stored only as scrypt hashes (RFC 7914) with a random 16-byte salt, in
the self-describing form ``scrypt$<n>$<r>$<p>$<salt b64>$<hash b64>`` so the cost can
be raised later without invalidating stored hashes.  Checking one costs tens of
milliseconds on purpose; ``taxii_server.auth`` caches successful checks briefly so a
client polling every minute does not pay it on every request.

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
    "hash_secret",
    "new_api_key",
    "parse_api_key",
    "unmatchable_hash",
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
    """Hash a password or API-key secret for storage."""
    salt = secrets.token_bytes(16)
    digest = _scrypt(secret, salt, _N, _R, _P)
    return f"scrypt${_N}${_R}${_P}${_b64(salt)}${_b64(digest)}"


def unmatchable_hash() -> str:
    """A hash in the current format and at the current cost that no secret is expected
    to match (its digest is all zeros): checking a secret against it costs exactly what
    checking a real one does, without computing a hash first."""
    return f"scrypt${_N}${_R}${_P}${_b64(bytes(16))}${_b64(bytes(32))}"


def verify_secret(secret: str, stored: str) -> bool:
    """True when ``secret`` matches the stored hash; the comparison is constant-time."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            raise ValueError(scheme)
        expected = base64.b64decode(digest, validate=True)
        actual = _scrypt(secret, base64.b64decode(salt, validate=True), int(n), int(r), int(p))
    except ValueError as exc:
        raise CredentialError("stored credential hash is malformed") from exc
    return hmac.compare_digest(actual, expected)


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
