"""The signing errors: every one says what was wrong and in which file or member.

``SigningError`` is the root.  A signature that does not verify is *not* an error:
:func:`converters.signing.verify_bundle` returns a verdict naming what failed.  These
are the cases where there is nothing to verify with or nothing to sign: an unreadable
or malformed key file, a wrong passphrase, a JWK Set that is not one, a ``.jws`` file
that is not in this format, a bundle that JSON canonicalisation (RFC 8785) cannot
represent.
"""

from __future__ import annotations

__all__ = ["KeyFileError", "KeySetError", "SignatureFormatError", "SigningError"]


class SigningError(Exception):
    """Root of the signing errors."""


class KeyFileError(SigningError):
    """A key file cannot be read, is not an Ed25519 JWK, or its passphrase is wrong."""


class KeySetError(SigningError):
    """A JWK Set (RFC 7517 §5) or a key in it is malformed."""


class SignatureFormatError(SigningError):
    """A signature file is not a detached JWS in the format of this package, or a
    bundle cannot be canonicalised (RFC 8785) for signing."""
