"""Signing keys: Ed25519 JWKs (RFC 8037), named by their RFC 7638 thumbprint.

A key file holds one private JWK::

    {"kty": "OKP", "crv": "Ed25519", "x": "…", "d": "…",
     "kid": "<RFC 7638 thumbprint>", "alg": "EdDSA", "use": "sig",
     "stix_identity": "identity--…"}

``stix_identity`` names the STIX identity (the organisation) that signs with the key;
every signature carries it, and a verifier checks it against the trusted key's.

**With a passphrase** the file holds instead the JWK encrypted to that passphrase as
RFC 7517 §7 describes ("Encrypted JWK"): a JWE compact serialization, ``alg``
``PBES2-HS512+A256KW`` (RFC 7518 §4.8, PBKDF2 with 210,000 iterations of
HMAC-SHA-512, OWASP's figure), ``enc`` ``A256GCM``, ``cty`` ``jwk+json``, and the
``kid`` in its header so that the file says which key it holds without the
passphrase.  Why a JWE rather than a PKCS#8 encrypted PEM beside a public JWK: it is
one file in the format family the signatures use, decryptable by any JOSE library
(``jwcrypto``, ``joserfc``, ``jose`` for Node) with the passphrase alone, and its
key-derivation parameters are ours to choose and visible in its header, where
PKCS#8's are whatever the library picked.

A trusted public key may carry, as OpenID Federation 1.0 does for historical keys, an
expiry ``exp`` and a revocation ``{"revoked_at": …, "reason": …}`` (NumericDate,
seconds since the epoch): signatures made after either time fail.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from joserfc import jwe
from joserfc.errors import JoseError
from joserfc.jwk import OctKey, OKPKey

from converters.signing.errors import KeyFileError, KeySetError

__all__ = [
    "ALGORITHMS",
    "KeySet",
    "PublicKey",
    "SigningKey",
    "create_key",
    "encode_key_file",
    "read_key_file",
]

#: The JWS ``alg`` of every signature; "Ed25519" (RFC 9864's name for the same
#: algorithm with this curve) is accepted too when verifying.
ALGORITHM = "EdDSA"
ALGORITHMS = (ALGORITHM, "Ed25519")
_CURVE = "Ed25519"
_IDENTITY = "stix_identity"
_IDENTITY_ID = re.compile(r"identity--[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
#: The key wrapping of a passphrase-protected key file (RFC 7518 §4.8).
_WRAP: dict[str, Any] = {
    "alg": "PBES2-HS512+A256KW",
    "enc": "A256GCM",
    "cty": "jwk+json",
    "p2c": 210_000,
}
_WRAP_ALGORITHMS = ["PBES2-HS512+A256KW", "A256GCM"]


def _checked_identity(identity: Any, where: str, error: type[Exception]) -> str:
    if not isinstance(identity, str) or not _IDENTITY_ID.fullmatch(identity):
        raise error(f"{where}: {_IDENTITY} must be a STIX identity id (identity--<uuid>)")
    return identity


@dataclass(frozen=True, slots=True)
class PublicKey:
    """A public Ed25519 key and what the configuration says about it: the identity
    it signs for, when it expires, when (and why) it was revoked."""

    kid: str
    x: str
    identity: str | None = None
    expires: int | None = None
    revoked: int | None = None
    reason: str | None = None

    def to_jwk(self) -> dict[str, Any]:
        """The public JWK as this package writes it (key files, JWK Sets)."""
        jwk: dict[str, Any] = {
            "kty": "OKP",
            "crv": _CURVE,
            "x": self.x,
            "kid": self.kid,
            "alg": ALGORITHM,
            "use": "sig",
        }
        if self.identity is not None:
            jwk[_IDENTITY] = self.identity
        if self.expires is not None:
            jwk["exp"] = self.expires
        if self.revoked is not None:
            jwk["revoked"] = {"revoked_at": self.revoked}
            if self.reason:
                jwk["revoked"]["reason"] = self.reason
        return jwk

    @classmethod
    def from_jwk(cls, jwk: Any, where: str) -> PublicKey:
        """Read a public (or private: ``d`` is ignored) Ed25519 JWK; ``kid``, when
        present, must be the key's RFC 7638 thumbprint."""
        if not isinstance(jwk, dict) or jwk.get("kty") != "OKP" or jwk.get("crv") != _CURVE:
            raise KeySetError(f"{where}: not an Ed25519 JWK (kty OKP, crv Ed25519)")
        try:
            key = OKPKey.import_key({"kty": "OKP", "crv": _CURVE, "x": str(jwk.get("x"))})
        except (JoseError, ValueError, TypeError):
            raise KeySetError(f"{where}: x is not an Ed25519 public key") from None
        kid = key.thumbprint()
        if jwk.get("kid", kid) != kid:
            raise KeySetError(
                f"{where}: kid {jwk['kid']!r} is not the key's RFC 7638 thumbprint {kid!r}"
            )
        identity = jwk.get(_IDENTITY)
        if identity is not None:
            _checked_identity(identity, where, KeySetError)
        revoked = jwk.get("revoked")
        if revoked is not None and not (
            isinstance(revoked, dict) and isinstance(revoked.get("revoked_at"), int)
        ):
            raise KeySetError(f"{where}: revoked must be {{'revoked_at': <seconds>, 'reason'?}}")
        expires = jwk.get("exp")
        if expires is not None and (isinstance(expires, bool) or not isinstance(expires, int)):
            raise KeySetError(f"{where}: exp must be a NumericDate (seconds since the epoch)")
        return cls(
            kid=kid,
            x=str(jwk["x"]),
            identity=identity,
            expires=expires,
            revoked=revoked["revoked_at"] if revoked else None,
            reason=str(revoked["reason"]) if revoked and revoked.get("reason") else None,
        )

    def okp(self) -> OKPKey:
        """The key for joserfc."""
        return OKPKey.import_key({"kty": "OKP", "crv": _CURVE, "x": self.x})


@dataclass(frozen=True, slots=True)
class SigningKey:
    """A private Ed25519 key and the STIX identity it signs for."""

    okp: OKPKey
    identity: str

    @property
    def kid(self) -> str:
        """The RFC 7638 thumbprint of the public key."""
        return self.okp.thumbprint()

    def public(self) -> PublicKey:
        """The public half."""
        return PublicKey(self.kid, str(self.okp.as_dict()["x"]), self.identity)

    def to_jwk(self) -> dict[str, Any]:
        """The private JWK, with ``kid``, ``alg``, ``use`` and ``stix_identity``."""
        return {**self.public().to_jwk(), "d": self.okp.as_dict(private=True)["d"]}


def create_key(identity: str) -> SigningKey:
    """A new Ed25519 key pair (from the operating system's random source, through
    ``cryptography``) signing for ``identity``."""
    _checked_identity(identity, "identity", KeyFileError)
    return SigningKey(OKPKey.generate_key("Ed25519"), identity)


def encode_key_file(key: SigningKey, passphrase: str | None = None) -> bytes:
    """The key file's bytes: the private JWK, or its RFC 7517 §7 encryption."""
    jwk = orjson.dumps(key.to_jwk(), option=orjson.OPT_INDENT_2)
    if passphrase is None:
        return jwk + b"\n"
    header = {**_WRAP, "kid": key.kid}
    secret = OctKey.import_key(passphrase.encode())
    wrapped = jwe.encrypt_compact(header, jwk, secret, algorithms=_WRAP_ALGORITHMS)
    return wrapped.encode() + b"\n"


def _decrypt(text: str, passphrase: Callable[[], str], where: str) -> bytes:
    try:
        secret = OctKey.import_key(passphrase().encode())
        plaintext = jwe.decrypt_compact(text, secret, algorithms=_WRAP_ALGORITHMS).plaintext
    except JoseError:
        raise KeyFileError(f"{where}: wrong passphrase, or the file is damaged") from None
    return plaintext or b""


def read_key_file(path: str, passphrase: Callable[[], str] | None = None) -> SigningKey | PublicKey:
    """A private key (:class:`SigningKey`) or a public one from a JWK file.

    ``passphrase`` is called only when the file is passphrase-protected.
    """
    try:
        text = Path(path).read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise KeyFileError(f"cannot read {path}: {getattr(exc, 'strerror', exc)}") from None
    if not text.startswith("{"):
        if passphrase is None:
            raise KeyFileError(f"{path}: the key is protected by a passphrase")
        text = _decrypt(text, passphrase, path).decode()
    try:
        jwk = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise KeyFileError(f"{path}: not a JWK: {exc.msg} at line {exc.lineno}") from None
    try:
        public = PublicKey.from_jwk(jwk, path)
    except KeySetError as exc:
        raise KeyFileError(str(exc)) from None
    if "d" not in jwk:
        return public
    if public.identity is None:
        raise KeyFileError(f"{path}: the private key names no {_IDENTITY}")
    try:
        okp = OKPKey.import_key({k: jwk[k] for k in ("kty", "crv", "x", "d")})
    except (JoseError, ValueError, TypeError):
        raise KeyFileError(f"{path}: d is not the private half of x") from None
    private = okp.private_key
    derived = private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw) if private else b""
    if base64.urlsafe_b64encode(derived).rstrip(b"=").decode() != public.x:
        raise KeyFileError(f"{path}: d is not the private half of x")
    return SigningKey(okp, public.identity)


@dataclass(frozen=True, slots=True)
class KeySet:
    """The public keys a verifier trusts (a JWK Set, RFC 7517 §5), by ``kid``."""

    keys: tuple[PublicKey, ...] = ()

    def get(self, kid: str) -> PublicKey | None:
        """The key with this thumbprint, if trusted."""
        return next((key for key in self.keys if key.kid == kid), None)

    def to_jwks(self) -> dict[str, Any]:
        """``{"keys": [...]}``."""
        return {"keys": [key.to_jwk() for key in self.keys]}

    @classmethod
    def from_keys(cls, keys: Iterable[PublicKey]) -> KeySet:
        """A set of keys; the same key twice is an error (which entry would count?)."""
        found: dict[str, PublicKey] = {}
        for key in keys:
            if key.kid in found:
                raise KeySetError(f"key {key.kid} is listed twice")
            found[key.kid] = key
        return cls(tuple(found.values()))

    @classmethod
    def from_jwks(cls, data: Any, where: str) -> KeySet:
        """Read a JWK Set (or a single JWK, as a set of one).  Keys of other types
        (RSA, EC, Ed448, encryption keys shared in the same set) cannot have made
        these signatures and are skipped."""
        if isinstance(data, Mapping) and "kty" in data and "keys" not in data:
            return cls((PublicKey.from_jwk(data, where),))
        if not isinstance(data, Mapping) or not isinstance(data.get("keys"), list):
            raise KeySetError(f"{where}: not a JWK Set (expected an object with a 'keys' array)")
        keys = []
        for i, jwk in enumerate(data["keys"]):
            if isinstance(jwk, dict) and (jwk.get("kty"), jwk.get("crv")) != ("OKP", _CURVE):
                continue
            keys.append(PublicKey.from_jwk(jwk, f"{where}: keys[{i}]"))
        return cls.from_keys(keys)
