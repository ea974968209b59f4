"""Our signatures checked without our verification code: with jwcrypto (another JOSE
implementation), with raw ``cryptography`` on the RFC 8785 bytes, and by running the
off-the-shelf recipe of docs/law-enforcement.md exactly as printed there."""

from __future__ import annotations

import base64
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson
import pytest
import rfc8785
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from jwcrypto import jwk, jws
from jwcrypto.common import JWException

from converters.signing import SigningKey, sign_bundle

from .conftest import ROOT, SIGNED_AT

DOC = ROOT / "docs" / "law-enforcement.md"


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def test_jwcrypto_verifies_the_bundle_and_the_manifest(
    bundle: dict[str, Any], key: SigningKey
) -> None:
    document = sign_bundle(bundle, key, at=SIGNED_AT)
    public = jwk.JWK(**{k: v for k, v in key.public().to_jwk().items() if k != "stix_identity"})
    assert public.thumbprint() == key.kid
    signature = jws.JWS()
    signature.deserialize(json.dumps(document))
    signature.verify(public, detached_payload=rfc8785.dumps(bundle))
    assert signature.jose_header["alg"] == "EdDSA"
    manifest = jws.JWS()
    manifest.deserialize(signature.jose_header["manifest"], public)
    assert len(json.loads(manifest.payload)["objects"]) == len(bundle["objects"])
    changed = {**bundle, "objects": bundle["objects"][1:]}
    with pytest.raises(JWException):
        signature.verify(public, detached_payload=rfc8785.dumps(changed))


def test_raw_ed25519_over_the_jcs_bytes(bundle: dict[str, Any], key: SigningKey) -> None:
    document = sign_bundle(bundle, key, at=SIGNED_AT)
    public = Ed25519PublicKey.from_public_bytes(_unb64(key.public().x))
    payload = base64.urlsafe_b64encode(rfc8785.dumps(bundle)).rstrip(b"=")
    signing_input = document["protected"].encode() + b"." + payload
    public.verify(_unb64(document["signature"]), signing_input)
    with pytest.raises(InvalidSignature):
        public.verify(_unb64(document["signature"]), signing_input + b"x")


def _recipe() -> str:
    text = DOC.read_text(encoding="utf-8")
    section = text.split("## Verifying with an off-the-shelf JOSE library", 1)[1]
    match = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert match is not None
    return match.group(1)


def _run_recipe(tmp_path: Path, bundle: Any, document: Any, key: SigningKey) -> Any:
    (tmp_path / "verify_bundle.py").write_text(_recipe())
    (tmp_path / "b.json").write_text(json.dumps(bundle, indent=2))
    (tmp_path / "b.json.jws").write_bytes(orjson.dumps(document))
    (tmp_path / "signer.pub.jwk").write_bytes(orjson.dumps(key.public().to_jwk()))
    return subprocess.run(
        [sys.executable, "verify_bundle.py", "b.json", "b.json.jws", "signer.pub.jwk"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_the_documented_recipe_verifies(
    tmp_path: Path, bundle: dict[str, Any], key: SigningKey
) -> None:
    custody = {"source": {"collection_title": "Case leads"}}
    document = sign_bundle(bundle, key, at=SIGNED_AT, custody=custody)
    result = _run_recipe(tmp_path, bundle, document, key)
    assert result.returncode == 0, result.stderr
    assert f"valid: 84 objects signed by {key.identity} at {SIGNED_AT}" in result.stdout
    assert '"collection_title": "Case leads"' in result.stdout


def test_the_documented_recipe_refuses_an_altered_bundle(
    tmp_path: Path, bundle: dict[str, Any], key: SigningKey
) -> None:
    document = sign_bundle(bundle, key, at=SIGNED_AT)
    bundle["objects"][7]["spec_version"] = "2.0"
    result = _run_recipe(tmp_path, bundle, document, key)
    assert result.returncode != 0
    assert "InvalidJWSSignature" in result.stderr
