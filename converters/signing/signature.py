"""The signature of a bundle: a detached JWS (RFC 7515) over the bundle's JCS bytes,
carrying a signed manifest of its objects.

The ``.jws`` file is a JWS in the flattened JSON serialization (RFC 7515 §7.2.2)
with its payload detached (Appendix F: the ``payload`` member is left out; the
verifier supplies the JCS bytes of the bundle)::

    {"protected": BASE64URL(protected header),
     "header": {"manifest": "<JWS compact serialization>"},
     "signature": BASE64URL(Ed25519 signature)}

Protected header: ``alg`` ``EdDSA``; ``kid`` (RFC 7638 thumbprint of the key);
``cty`` ``application/stix+json;version=2.1``; ``iat`` (signing time, NumericDate);
``stix_identity`` (the signer's STIX identity id); ``payload_sha256`` (hex SHA-256 of
the JCS bytes).

Why a second signature, the manifest: a signature over the whole bundle says only
"something changed"; it cannot say what, and once it fails nothing in its header can
be trusted either.  The manifest is its own JWS (compact, payload attached, same key,
``cty`` ``application/vnd.atlas-taxii.manifest+json``) whose payload is the JCS of::

    {"bundle": {"id": "bundle--…", "sha256": "<payload_sha256>"},
     "objects": [{"id": …, "modified"?: …, "sha256": <SHA-256 of the object's JCS>}, …],
     "custody": {…}}                         # pull --sign only

so it still verifies when the bundle was altered, and the verifier can name each
object changed, added or removed, and vouch for the rest.  ``custody`` is the chain
of custody record of a pulled export.  The manifest sits in the unprotected header,
which JOSE tools pass over; the bundle signature alone is standard JWS.
"""

from __future__ import annotations

import base64
import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import orjson
from joserfc import jws
from joserfc.errors import JoseError, SecurityWarning
from joserfc.registry import HeaderParameter

from converters.signing.canonical import CanonicalBundle, canonical, canonical_bundle
from converters.signing.errors import SignatureFormatError
from converters.signing.keys import ALGORITHM, ALGORITHMS, PublicKey, SigningKey

__all__ = [
    "BUNDLE_CONTENT_TYPE",
    "MANIFEST_CONTENT_TYPE",
    "Signature",
    "read_signature",
    "sign_bundle",
]

BUNDLE_CONTENT_TYPE = "application/stix+json;version=2.1"
MANIFEST_CONTENT_TYPE = "application/vnd.atlas-taxii.manifest+json"


def _is_sha256(value: Any) -> None:
    if not isinstance(value, str) or len(value) != 64 or value.strip("0123456789abcdef"):
        raise ValueError("must be 64 lower-case hex digits")


# joserfc refuses header parameters it does not know, and JWS larger than a token:
# ours are declared with their types, and a bundle may be many megabytes.
_REGISTRY = jws.JWSRegistry(
    header_registry={
        "iat": HeaderParameter("Signing time (NumericDate)", "int", True),
        "stix_identity": HeaderParameter("The signer's STIX identity id", "str", True),
        "payload_sha256": HeaderParameter("SHA-256 of the JCS payload", _is_sha256),
        "manifest": HeaderParameter("The signed object manifest (compact JWS)", "str"),
    },
    algorithms=list(ALGORITHMS),
)
_REGISTRY.max_header_length = _REGISTRY.max_payload_length = 1 << 40


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@contextmanager
def _eddsa() -> Iterator[None]:
    # joserfc warns that RFC 9864 deprecates "EdDSA" in favour of "Ed25519".  With an
    # Ed25519 key the two are the same algorithm, and deployed JOSE tools know only
    # the first (jwcrypto 1.6 knows both; José 11 neither), so the format keeps it.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SecurityWarning)
        yield


def sign_bundle(
    bundle: Mapping[str, Any],
    key: SigningKey,
    *,
    at: int,
    custody: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The ``.jws`` document for ``bundle`` signed by ``key`` at ``at`` (seconds since
    the epoch), with ``custody`` in the manifest when given."""
    canonical_form = canonical_bundle(bundle)
    common = {"alg": ALGORITHM, "kid": key.kid, "iat": at, "stix_identity": key.identity}
    manifest: dict[str, Any] = {
        "bundle": {"id": bundle.get("id"), "sha256": canonical_form.sha256},
        "objects": [entry.to_json() for entry in canonical_form.entries],
    }
    if custody is not None:
        manifest["custody"] = dict(custody)
    header = {**common, "cty": BUNDLE_CONTENT_TYPE, "payload_sha256": canonical_form.sha256}
    with _eddsa():
        manifest_jws = jws.serialize_compact(
            {**common, "cty": MANIFEST_CONTENT_TYPE},
            canonical(manifest, "manifest"),
            key.okp,
            registry=_REGISTRY,
        )
        member: jws.HeaderDict = {"protected": header}
        signed = jws.serialize_json(member, canonical_form.data, key.okp, registry=_REGISTRY)
    return {
        "protected": signed["protected"],
        "header": {"manifest": manifest_jws},
        "signature": signed["signature"],
    }


@dataclass(frozen=True, slots=True)
class Signature:
    """A parsed ``.jws`` document: its protected header, and the manifest's."""

    document: Mapping[str, Any]
    header: Mapping[str, Any]
    manifest_jws: str
    manifest_header: Mapping[str, Any]

    @property
    def kid(self) -> str:
        """The thumbprint of the key the signature names."""
        return str(self.header["kid"])

    def manifest(self) -> Mapping[str, Any]:
        """The manifest's payload, unverified (check :meth:`manifest_valid` first)."""
        payload = orjson.loads(_unb64(self.manifest_jws.split(".")[1]))
        if not (
            isinstance(payload, dict)
            and isinstance(payload.get("objects"), list)
            and isinstance(payload.get("bundle"), dict)
        ):
            raise SignatureFormatError("the manifest lacks its 'bundle' object or 'objects' array")
        return payload

    def bundle_valid(self, bundle: CanonicalBundle, key: PublicKey) -> bool:
        """Whether the bundle signature verifies over ``bundle`` with ``key``."""
        document = {**self.document, "payload": _b64(bundle.data)}
        try:
            with _eddsa():
                jws.deserialize_json(document, key.okp(), registry=_REGISTRY)  # type: ignore[call-overload]
        except JoseError:
            return False
        return True

    def manifest_valid(self, key: PublicKey) -> bool:
        """Whether the manifest's own signature verifies with ``key``."""
        try:
            with _eddsa():
                jws.deserialize_compact(self.manifest_jws, key.okp(), registry=_REGISTRY)
        except JoseError:
            return False
        return True


def _header(encoded: Any, where: str) -> dict[str, Any]:
    try:
        header = orjson.loads(_unb64(encoded))
    except (TypeError, ValueError, orjson.JSONDecodeError):
        raise SignatureFormatError(f"{where}: not a BASE64URL-encoded JSON header") from None
    if not isinstance(header, dict):
        raise SignatureFormatError(f"{where}: not a JSON object")
    for name in ("alg", "kid", "iat", "stix_identity"):
        if name not in header:
            raise SignatureFormatError(f"{where}: no {name!r}")
    if header["alg"] not in ALGORITHMS:
        raise SignatureFormatError(f"{where}: alg {header['alg']!r} is not EdDSA")
    if isinstance(header["iat"], bool) or not isinstance(header["iat"], int):
        raise SignatureFormatError(f"{where}: iat is not a NumericDate")
    return header


def read_signature(data: bytes, where: str) -> Signature:
    """Parse a ``.jws`` document; :class:`SignatureFormatError` says what is missing."""
    try:
        document = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise SignatureFormatError(f"{where}: not JSON: {exc.msg} at line {exc.lineno}") from None
    if not isinstance(document, dict) or not isinstance(document.get("signature"), str):
        raise SignatureFormatError(
            f"{where}: not a JWS in the flattened JSON serialization (RFC 7515 §7.2.2)"
        )
    if document.get("payload"):
        raise SignatureFormatError(f"{where}: the payload is attached; expected it detached")
    header = _header(document.get("protected"), f"{where}: protected header")
    if header.get("cty") != BUNDLE_CONTENT_TYPE:
        raise SignatureFormatError(f"{where}: cty is not {BUNDLE_CONTENT_TYPE!r}")
    manifest_jws = (document.get("header") or {}).get("manifest")
    if not isinstance(manifest_jws, str) or manifest_jws.count(".") != 2:
        raise SignatureFormatError(f"{where}: header.manifest is not a JWS compact serialization")
    manifest_header = _header(manifest_jws.split(".")[0], f"{where}: manifest header")
    if manifest_header.get("cty") != MANIFEST_CONTENT_TYPE:
        raise SignatureFormatError(f"{where}: the manifest's cty is not {MANIFEST_CONTENT_TYPE!r}")
    plain = {k: v for k, v in document.items() if k != "payload"}
    return Signature(plain, header, manifest_jws, manifest_header)
