"""Keys: RFC 7638 thumbprints, key files (plain and passphrase-protected), JWK Sets."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path

import pytest

from converters.signing import (
    KeyFileError,
    KeySet,
    KeySetError,
    PublicKey,
    SigningKey,
    create_key,
    encode_key_file,
    read_key_file,
)

from .conftest import IDENTITY

# RFC 8037 Appendix A.1 and A.3: the Ed25519 example key and its RFC 7638 thumbprint.
RFC8037_X = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"
RFC8037_THUMBPRINT = "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"


def test_kid_is_the_rfc7638_thumbprint_of_the_rfc8037_example() -> None:
    key = PublicKey.from_jwk({"kty": "OKP", "crv": "Ed25519", "x": RFC8037_X}, "example")
    assert key.kid == RFC8037_THUMBPRINT


def test_kid_of_a_new_key_is_its_thumbprint(key: SigningKey) -> None:
    # RFC 7638 §3: SHA-256 of the required members, sorted, without whitespace.
    members = json.dumps(
        {"crv": "Ed25519", "kty": "OKP", "x": key.public().x}, separators=(",", ":")
    )
    digest = hashlib.sha256(members.encode()).digest()
    assert key.kid == base64.urlsafe_b64encode(digest).decode().rstrip("=")


def test_key_file_round_trip(tmp_path: Path, key: SigningKey) -> None:
    path = tmp_path / "k.jwk"
    path.write_bytes(encode_key_file(key))
    loaded = read_key_file(str(path))
    assert isinstance(loaded, SigningKey)
    assert (loaded.kid, loaded.identity) == (key.kid, IDENTITY)
    assert json.loads(path.read_text())["d"]


def test_passphrase_protected_key_file(tmp_path: Path, key: SigningKey) -> None:
    path = tmp_path / "k.jwk"
    path.write_bytes(encode_key_file(key, "a long enough passphrase"))
    text = path.read_text()
    assert key.public().x not in text  # nothing of the key in clear, except its kid
    header = json.loads(base64.urlsafe_b64decode(text.split(".")[0] + "=="))
    assert header["alg"] == "PBES2-HS512+A256KW" and header["cty"] == "jwk+json"
    assert header["kid"] == key.kid and header["p2c"] >= 210_000
    loaded = read_key_file(str(path), lambda: "a long enough passphrase")
    assert isinstance(loaded, SigningKey) and loaded.kid == key.kid
    with pytest.raises(KeyFileError, match="wrong passphrase"):
        read_key_file(str(path), lambda: "another passphrase")
    with pytest.raises(KeyFileError, match="protected by a passphrase"):
        read_key_file(str(path))


def test_a_damaged_private_key_is_refused(tmp_path: Path, key: SigningKey) -> None:
    other = create_key(IDENTITY)
    jwk = {**key.to_jwk(), "d": other.to_jwk()["d"]}
    path = tmp_path / "k.jwk"
    path.write_text(json.dumps(jwk))
    with pytest.raises(KeyFileError, match="d is not the private half of x"):
        read_key_file(str(path))


@pytest.mark.parametrize(
    ("jwk", "message"),
    [
        ({"kty": "RSA"}, "not an Ed25519 JWK"),
        ({"kty": "OKP", "crv": "Ed25519", "x": "AAAA"}, "x is not an Ed25519 public key"),
        ({"kty": "OKP", "crv": "Ed25519", "x": RFC8037_X, "kid": "k1"}, "kid 'k1' is not"),
        (
            {"kty": "OKP", "crv": "Ed25519", "x": RFC8037_X, "stix_identity": "bob"},
            "stix_identity must be a STIX identity id",
        ),
        ({"kty": "OKP", "crv": "Ed25519", "x": RFC8037_X, "exp": "soon"}, "exp must be"),
    ],
)
def test_bad_jwks(jwk: dict[str, object], message: str) -> None:
    with pytest.raises(KeySetError, match=message):
        PublicKey.from_jwk(jwk, "keys[0]")


def test_jwk_set_round_trip_with_revocation_and_expiry(key: SigningKey) -> None:
    public = PublicKey(key.kid, key.public().x, IDENTITY, 1_900_000_000, 1_800_000_000, "lost")
    jwks = KeySet((public,)).to_jwks()
    assert jwks["keys"][0]["revoked"] == {"revoked_at": 1_800_000_000, "reason": "lost"}
    assert jwks["keys"][0]["exp"] == 1_900_000_000
    # Keys of other kinds in a shared set cannot have signed: skipped.
    jwks["keys"].append({"kty": "RSA", "n": "…", "e": "AQAB"})
    assert KeySet.from_jwks(jwks, "set").keys == (public,)


def test_a_key_listed_twice_is_an_error(key: SigningKey) -> None:
    with pytest.raises(KeySetError, match="listed twice"):
        KeySet.from_jwks({"keys": [key.public().to_jwk()] * 2}, "set")
