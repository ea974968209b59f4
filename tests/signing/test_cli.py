"""``atlas-taxii keys``, ``convert --sign``, ``publish --sign`` and ``verify`` in-process;
the JWK Set the server publishes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import orjson
import pytest

from taxii_server.app import create_app
from taxii_server.settings import ConfigError, load_settings
from taxii_server.storage import open_storage
from taxii_server.storage.base import ObjectQuery, VersionSelector
from taxii_server.trust import JWKS_PATH, trusted_keys

from .conftest import IDENTITY, PACKAGE, Runner


@pytest.fixture
def signer(tmp_path: Path, cli: Runner) -> Path:
    path = tmp_path / "signer.jwk"
    assert cli("keys", "create", "--out", str(path), "--name", "Example Bank FIU").status == 0
    return path


def _jwks(tmp_path: Path, cli: Runner, key: Path) -> Path:
    public = json.loads(cli("keys", "public", str(key)).out)
    path = tmp_path / "community.jwks"
    path.write_text(json.dumps({"keys": [public]}))
    return path


def test_keys_create(tmp_path: Path, cli: Runner, signer: Path) -> None:
    assert signer.stat().st_mode & 0o777 == 0o600
    jwk = json.loads(signer.read_text())
    assert jwk["stix_identity"] == IDENTITY  # the organisation's id, as the converter makes it
    again = cli("keys", "create", "--out", str(signer), "--identity", IDENTITY)
    assert again.status == 2
    assert "exists; a key file is never overwritten" in again.err
    assert json.loads(signer.read_text()) == jwk
    bad = cli("keys", "create", "--out", str(tmp_path / "x.jwk"), "--identity", "bob")
    assert bad.status == 2 and "must be a STIX identity id" in bad.err


def test_keys_public(cli: Runner, signer: Path) -> None:
    public = json.loads(cli("keys", "public", str(signer)).out)
    private = json.loads(signer.read_text())
    assert private.pop("d")
    assert public == private
    assert set(public) == {"kty", "crv", "x", "kid", "alg", "use", "stix_identity"}


def test_keys_public_toml_is_a_trusted_keys_entry(
    tmp_path: Path, cli: Runner, signer: Path
) -> None:
    entry = cli("keys", "public", str(signer), "--toml").out
    config = tmp_path / "c.toml"
    config.write_text(entry)
    (key,) = trusted_keys(load_settings(config, environ={})).keys
    assert key.kid == json.loads(signer.read_text())["kid"] and key.identity == IDENTITY


def test_passphrase_protected_key(
    tmp_path: Path, cli: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "locked.jwk"
    created = cli(
        "keys",
        "create",
        "--out",
        str(path),
        "--name",
        "X",
        "--passphrase-stdin",
        stdin="correct horse battery\n",
    )
    assert created.status == 0 and "passphrase-protected" in created.err
    refused = cli("keys", "public", str(path))
    assert refused.status == 2 and "set ATLAS_TAXII_KEY_PASSPHRASE" in refused.err
    monkeypatch.setenv("ATLAS_TAXII_KEY_PASSPHRASE", "wrong passphrase!")
    assert "wrong passphrase" in cli("keys", "public", str(path)).err
    monkeypatch.setenv("ATLAS_TAXII_KEY_PASSPHRASE", "correct horse battery")
    assert json.loads(cli("keys", "public", str(path)).out)["kty"] == "OKP"
    output = tmp_path / "b.json"
    assert cli("convert", str(PACKAGE), "-o", str(output), "--sign", str(path)).status == 0
    jwks = _jwks(tmp_path, cli, path)
    assert cli("verify", str(output), "--jwks", str(jwks)).status == 0


def test_convert_sign_and_verify(tmp_path: Path, cli: Runner, signer: Path) -> None:
    output = tmp_path / "bundle.json"
    converted = cli("convert", str(PACKAGE), "-o", str(output), "--sign", str(signer))
    assert converted.status == 0, converted.err
    kid = json.loads(signer.read_text())["kid"]
    assert f"{output}.jws: signed by {IDENTITY} with key {kid}" in converted.err
    jwks = _jwks(tmp_path, cli, signer)
    verified = cli("verify", str(output), "--jwks", str(jwks))
    assert verified.status == 0
    assert verified.out.startswith(f"{output}: valid: 84 objects signed by {IDENTITY} with key")
    bundle = json.loads(output.read_text())
    bundle["objects"][40]["created"] = "2020-01-01T00:00:00.000Z"
    output.write_text(json.dumps(bundle, indent=1))
    failed = cli("verify", str(output), "--jwks", str(jwks))
    assert failed.status == 1
    assert failed.out.splitlines() == [
        f"{bundle['objects'][40]['id']}: changed since it was signed",
        f"{output}: NOT VALID (1 problem(s))",
    ]


def test_convert_sign_needs_a_file(cli: Runner, signer: Path) -> None:
    result = cli("convert", str(PACKAGE), "-o", "-", "--sign", str(signer))
    assert result.status == 2 and "give -o FILE" in result.err


def _config(tmp_path: Path, extra: str = "") -> Path:
    path = tmp_path / "atlas-taxii.toml"
    path.write_text(
        f'[storage]\nurl = "sqlite:///{tmp_path / "atlas.db"}"\n\n'
        '[[api_roots]]\nname = "community"\ntitle = "Community"\n\n'
        '[[collections]]\napi_root = "community"\ntitle = "Research"\nalias = "research"\n\n'
        + extra
    )
    return path


def test_verify_with_the_configured_keys_and_revocation(
    tmp_path: Path, cli: Runner, signer: Path
) -> None:
    output = tmp_path / "bundle.json"
    assert cli("convert", str(PACKAGE), "-o", str(output), "--sign", str(signer)).status == 0
    config = _config(tmp_path, f'[[trusted_keys]]\nfile = "{signer.name}"\n')
    assert cli("verify", str(output), "--config", str(config)).status == 0
    revoked = _config(
        tmp_path,
        f'[[trusted_keys]]\nfile = "{signer.name}"\nrevoked = "2020-01-01T00:00:00Z"\n'
        'reason = "laptop lost"\n',
    )
    result = cli("verify", str(output), "--config", str(revoked))
    assert result.status == 1
    assert "was revoked at 2020-01-01T00:00:00Z (laptop lost); this signature was made" in (
        result.out
    )


def test_rotation_several_trusted_keys_each_verify_their_own(
    tmp_path: Path, cli: Runner, signer: Path
) -> None:
    """A key rotated out (revoked from a later date) still verifies what it signed
    before; its successor, trusted beside it, verifies its own signatures; once the
    old key's revocation date has passed its signatures fail, the new key's do not."""
    successor = tmp_path / "successor.jwk"
    assert cli("keys", "create", "--out", str(successor), "--identity", IDENTITY).status == 0
    old, new = tmp_path / "old.json", tmp_path / "new.json"
    assert cli("convert", str(PACKAGE), "-o", str(old), "--sign", str(signer)).status == 0
    assert cli("convert", str(PACKAGE), "-o", str(new), "--sign", str(successor)).status == 0

    def trusting(revoked: str) -> Path:
        return _config(
            tmp_path,
            f'[[trusted_keys]]\nfile = "{signer.name}"\nrevoked = "{revoked}"\n'
            f'reason = "rotated"\n\n[[trusted_keys]]\nfile = "{successor.name}"\n',
        )

    later = trusting("2099-01-01T00:00:00Z")
    assert cli("verify", str(old), "--config", str(later)).status == 0
    assert cli("verify", str(new), "--config", str(later)).status == 0
    past = trusting("2020-01-01T00:00:00Z")
    refused = cli("verify", str(old), "--config", str(past))
    assert refused.status == 1 and "was revoked at 2020-01-01T00:00:00Z (rotated)" in refused.out
    assert cli("verify", str(new), "--config", str(past)).status == 0


def test_verify_failures_and_bad_input(tmp_path: Path, cli: Runner, signer: Path) -> None:
    output = tmp_path / "bundle.json"
    assert cli("convert", str(PACKAGE), "-o", str(output), "--sign", str(signer)).status == 0
    other = tmp_path / "other.jwk"
    cli("keys", "create", "--out", str(other), "--identity", IDENTITY)
    unknown = cli("verify", str(output), "--jwks", str(_jwks(tmp_path, cli, other)))
    assert unknown.status == 1 and unknown.out.startswith("unknown kid ")
    no_keys = cli("verify", str(output), "--config", str(_config(tmp_path)))
    assert no_keys.status == 2 and "no keys to verify with" in no_keys.err
    missing = cli("verify", str(output), "--jwks", str(other), "--sig", str(tmp_path / "x"))
    assert missing.status == 2 and "cannot read the signature" in missing.err
    (tmp_path / "garbled.jws").write_text("{")
    garbled = cli(
        "verify", str(output), "--jwks", str(other), "--sig", str(tmp_path / "garbled.jws")
    )
    assert garbled.status == 1 and "NOT VALID" in garbled.out


def test_jwks_endpoint(tmp_path: Path, cli: Runner, signer: Path) -> None:
    public = json.loads(cli("keys", "public", str(signer)).out)
    config = _config(
        tmp_path,
        f'[[trusted_keys]]\nfile = "{signer.name}"\nexpires = "2030-01-01T00:00:00Z"\n\n'
        f'[[trusted_keys]]\njwk = {{ kty = "OKP", crv = "Ed25519", '
        f'x = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo" }}\n'
        'revoked = "2025-03-01T12:00:00Z"\nreason = "retired"\n',
    )
    settings = load_settings(config, environ={})
    app = create_app(settings, storage=open_storage(settings.storage_url, migrate=True))
    response = app.test_client().get(JWKS_PATH, headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/jwk-set+json"
    keys = orjson.loads(response.data)["keys"]
    assert keys[0] == {**public, "exp": 1_893_456_000}
    assert keys[1]["kid"] == "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
    assert keys[1]["revoked"] == {"revoked_at": 1_740_830_400, "reason": "retired"}
    app.extensions["taxii"].storage.close()


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ('file = "missing.jwk"', "trusted_keys[0]: cannot read"),
        ('jwk = { kty = "RSA" }', "trusted_keys[0]: trusted_keys[0].jwk: not an Ed25519 JWK"),
        ('file = "k.jwk"\nrevoked = "yesterday"', "trusted_keys[0].revoked"),
        ('file = "k.jwk"\njwk = { kty = "OKP" }', "trusted_keys[0]: give either jwk or file"),
    ],
)
def test_trusted_key_configuration_errors(
    tmp_path: Path, cli: Runner, signer: Path, entry: str, message: str
) -> None:
    signer.rename(tmp_path / "k.jwk")
    config = _config(tmp_path, f"[[trusted_keys]]\n{entry}\n")
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("]", r"\]")):
        trusted_keys(load_settings(config, environ={}))


def _collection_bundle(config: Path) -> dict[str, Any]:
    settings = load_settings(config, environ={})
    storage = open_storage(settings.storage_url)
    try:
        (collection,) = [c for c in storage.list_collections("community")]
        page = storage.query_objects(
            collection.id,
            ObjectQuery(clearance=4, limit=10_000, versions=VersionSelector(all=True)),
        )
    finally:
        storage.close()
    return {
        "type": "bundle",
        "id": "bundle--4a1f3c2e-7d5b-4e8a-9c6f-1b2d3e4f5a6b",
        "objects": [orjson.loads(item.data) for item in page.items],
    }


def test_publish_sign_stores_the_signature_of_what_the_collection_holds(
    tmp_path: Path, cli: Runner, signer: Path
) -> None:
    config = _config(tmp_path, f'[[trusted_keys]]\nfile = "{signer.name}"\n')
    first = cli(
        "publish",
        str(PACKAGE),
        "--collection",
        "research",
        "--config",
        str(config),
        "--sign",
        str(signer),
    )
    assert first.status == 0, first.err
    artifact = first.out.split("signature stored as ")[1].strip()
    assert "signed 84 objects with key" in first.out
    pulled = tmp_path / "pulled.json"
    pulled.write_text(json.dumps(_collection_bundle(config)))
    verified = cli("verify", str(pulled), "--sig", artifact, "--config", str(config))
    assert verified.status == 0, verified.out
    assert "valid: 84 objects signed by" in verified.out
    stored = next(o for o in _collection_bundle(config)["objects"] if o["id"] == artifact)
    assert stored["mime_type"] == "application/jose+json"
    # TLP:RED objects are among those signed: the signature is as restricted.
    assert stored["object_marking_refs"] == [
        "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"
    ]
    # An object altered in the collection afterwards is named.
    bundle = _collection_bundle(config)
    victim = next(o for o in bundle["objects"] if o["type"] == "indicator")
    victim["name"] = "altered"
    pulled.write_text(json.dumps(bundle))
    altered = cli("verify", str(pulled), "--sig", artifact, "--config", str(config))
    assert altered.status == 1
    assert f"{victim['id']}: changed since it was signed" in altered.out
