"""The signing keys a community trusts: ``[[trusted_keys]]`` of the configuration as a
:class:`converters.signing.KeySet`.

The server publishes them as a JWK Set (RFC 7517 §5) at :data:`JWKS_PATH`, and
``atlas-taxii verify`` uses them when it is given no ``--jwks``.  Expiry and
revocation times travel with each key (``exp``; ``revoked.revoked_at`` and
``reason``, as OpenID Federation 1.0 marks historical keys), so a verifier who
fetches the set learns of a revocation as soon as the configuration says it.
"""

from __future__ import annotations

from dataclasses import replace

import orjson

from converters.signing import KeyFileError, KeySet, KeySetError, PublicKey, read_key_file
from taxii_server.settings import ConfigError, Settings, TrustedKeyConfig
from taxii_server.timestamps import TimestampError, parse_timestamp

__all__ = ["JWKS_MEDIA_TYPE", "JWKS_PATH", "jwks_document", "trusted_keys"]

#: Where the server publishes the keys its configuration trusts.
JWKS_PATH = "/taxii2/jwks.json"
#: RFC 7517 §8.5.1.
JWKS_MEDIA_TYPE = "application/jwk-set+json"


def _seconds(text: str | None, where: str) -> int | None:
    if text is None:
        return None
    try:
        return parse_timestamp(text) // 1_000_000
    except TimestampError as exc:
        raise ConfigError(f"{where}: {exc}") from None


def _key(config: TrustedKeyConfig, where: str) -> PublicKey:
    try:
        if config.file is not None:
            key = read_key_file(config.file)
            if not isinstance(key, PublicKey):
                key = key.public()
        else:
            key = PublicKey.from_jwk(config.jwk, f"{where}.jwk")
    except (KeyFileError, KeySetError) as exc:
        raise ConfigError(f"{where}: {exc}") from None
    return replace(
        key,
        expires=_seconds(config.expires, f"{where}.expires") or key.expires,
        revoked=_seconds(config.revoked, f"{where}.revoked") or key.revoked,
        reason=config.reason or key.reason,
    )


def trusted_keys(settings: Settings) -> KeySet:
    """The keys ``settings`` trust; :class:`ConfigError` names the entry that is wrong."""
    keys = [_key(c, f"trusted_keys[{i}]") for i, c in enumerate(settings.trusted_keys)]
    try:
        return KeySet.from_keys(keys)
    except KeySetError as exc:
        raise ConfigError(f"trusted_keys: {exc}") from None


def jwks_document(settings: Settings) -> bytes:
    """The JWK Set the server serves, serialised once."""
    return orjson.dumps(trusted_keys(settings).to_jwks())
