"""Signed bundles: canonical form, keys, signing and verification (no server knowledge).

A bundle is signed as a detached JWS (RFC 7515) over its RFC 8785 canonical bytes,
with Ed25519 keys named by their RFC 7638 thumbprint, plus a signed manifest of
per-object hashes that lets a verifier name what changed.  The exact format is in
:mod:`converters.signing.signature` and ``docs/law-enforcement.md``.

Typical use::

    key = create_key("identity--…")
    document = sign_bundle(bundle, key, at=int(time.time()))
    signature = read_signature(data, "bundle.json.jws")
    verdict = verify_bundle(bundle, signature, KeySet((key.public(),)))
"""

from __future__ import annotations

from converters.signing.artifact import (
    SIGNATURE_MEDIA_TYPE,
    signature_artifact,
    signature_from_artifact,
)
from converters.signing.canonical import CanonicalBundle, ObjectEntry, canonical, canonical_bundle
from converters.signing.errors import KeyFileError, KeySetError, SignatureFormatError, SigningError
from converters.signing.keys import (
    KeySet,
    PublicKey,
    SigningKey,
    create_key,
    encode_key_file,
    read_key_file,
)
from converters.signing.signature import Signature, read_signature, sign_bundle
from converters.signing.verification import Verdict, rfc3339, verify_bundle

__all__ = [
    "SIGNATURE_MEDIA_TYPE",
    "CanonicalBundle",
    "KeyFileError",
    "KeySet",
    "KeySetError",
    "ObjectEntry",
    "PublicKey",
    "Signature",
    "SignatureFormatError",
    "SigningError",
    "SigningKey",
    "Verdict",
    "canonical",
    "canonical_bundle",
    "create_key",
    "encode_key_file",
    "read_key_file",
    "read_signature",
    "rfc3339",
    "sign_bundle",
    "signature_artifact",
    "signature_from_artifact",
    "verify_bundle",
]
