"""Sign and verify: a round trip, and a verdict that names exactly what failed."""

from __future__ import annotations

import base64
import copy
import json
from dataclasses import replace
from typing import Any

import orjson
import pytest

from converters.signing import (
    KeySet,
    SignatureFormatError,
    SigningKey,
    create_key,
    read_signature,
    sign_bundle,
    verify_bundle,
)

from .conftest import IDENTITY, SIGNED_AT, Check, signed


def test_round_trip(bundle: dict[str, Any], key: SigningKey, check: Check) -> None:
    verdict = check(bundle, signed(bundle, key))
    assert verdict.valid, verdict.problems
    assert verdict.problems == verdict.notes == ()
    assert (verdict.kid, verdict.identity, verdict.signed_at) == (key.kid, IDENTITY, SIGNED_AT)
    assert verdict.objects == len(bundle["objects"]) == 84
    assert verdict.custody is None


def test_pretty_printed_and_reordered_keys_stay_valid(
    bundle: dict[str, Any], key: SigningKey, check: Check
) -> None:
    signature = signed(bundle, key)
    # Indented, keys in reverse order, non-ASCII escaped: the same JSON values.
    text = json.dumps(bundle, indent=4, ensure_ascii=True)
    reordered = json.loads(text, object_pairs_hook=lambda pairs: dict(reversed(pairs)))
    assert list(reordered) != list(bundle)
    assert check(reordered, signature).valid


@pytest.mark.parametrize("index", [0, 17, 83])
def test_one_character_changed_names_that_object(
    bundle: dict[str, Any], key: SigningKey, check: Check, index: int
) -> None:
    signature = signed(bundle, key)
    obj = bundle["objects"][index]
    name = next(k for k, v in sorted(obj.items()) if isinstance(v, str) and k not in ("id", "type"))
    obj[name] = obj[name][:-1] + ("x" if obj[name][-1:] != "x" else "y")
    verdict = check(bundle, signature)
    assert not verdict.valid
    assert verdict.problems == (f"{obj['id']}: changed since it was signed",)


def test_dropped_and_added_objects_are_named(
    bundle: dict[str, Any], key: SigningKey, check: Check
) -> None:
    signature = signed(bundle, key)
    dropped = bundle["objects"].pop(5)
    added = copy.deepcopy(bundle["objects"][0])
    added["id"] = "identity--0b4bd3ba-9a4c-4d7e-a5d5-0e1c9a3e3f11"
    bundle["objects"].append(added)
    assert check(bundle, signature).problems == (
        f"{dropped['id']}: removed since it was signed",
        f"{added['id']}: added since it was signed",
    )


def test_reordered_objects_fail_but_every_object_is_vouched_for(
    bundle: dict[str, Any], key: SigningKey, check: Check
) -> None:
    signature = signed(bundle, key)
    bundle["objects"].reverse()
    (problem,) = check(bundle, signature).problems
    assert "every object is as signed, but they are in another order" in problem


def test_changed_bundle_id_is_named(bundle: dict[str, Any], key: SigningKey, check: Check) -> None:
    signature = signed(bundle, key)
    original = bundle["id"]
    bundle["id"] = "bundle--6f0f3b5e-8d4a-4c1b-9e2f-3a4b5c6d7e8f"
    assert check(bundle, signature).problems == (
        f"the bundle id was changed from {original} to {bundle['id']}",
    )


def test_unknown_kid(
    bundle: dict[str, Any], key: SigningKey, other_key: SigningKey, check: Check
) -> None:
    verdict = check(bundle, signed(bundle, key), KeySet((other_key.public(),)))
    assert verdict.problems == (
        f"unknown kid {key.kid}: not one of the trusted keys ({other_key.kid})",
    )


def _forged(document: dict[str, Any], kid: str) -> dict[str, Any]:
    """``document`` with the header's kid replaced (its signature no longer matches)."""
    forged = copy.deepcopy(document)
    for where in ("protected",):
        header = json.loads(base64.urlsafe_b64decode(forged[where] + "=="))
        header["kid"] = kid
        forged[where] = base64.urlsafe_b64encode(json.dumps(header).encode()).decode().rstrip("=")
    manifest = forged["header"]["manifest"].split(".")
    header = json.loads(base64.urlsafe_b64decode(manifest[0] + "=="))
    header["kid"] = kid
    manifest[0] = base64.urlsafe_b64encode(json.dumps(header).encode()).decode().rstrip("=")
    forged["header"]["manifest"] = ".".join(manifest)
    return forged


def test_wrong_key(
    bundle: dict[str, Any], key: SigningKey, other_key: SigningKey, check: Check
) -> None:
    # Made with other_key, claiming to be key's: the unaltered bundle does not verify.
    document = _forged(sign_bundle(bundle, other_key, at=SIGNED_AT), key.kid)
    verdict = check(bundle, read_signature(orjson.dumps(document), "forged.jws"))
    assert verdict.problems == (
        f"the signature was not made with key {key.kid}, although the bundle is the one its "
        "header describes: a wrong key, or a forged kid",
    )


def test_altered_manifest_fails_although_the_bundle_is_intact(
    bundle: dict[str, Any], key: SigningKey, check: Check
) -> None:
    document = sign_bundle(bundle, key, at=SIGNED_AT)
    head, payload, tail = document["header"]["manifest"].split(".")
    manifest = json.loads(base64.urlsafe_b64decode(payload + "=="))
    manifest["objects"].pop()
    payload = base64.urlsafe_b64encode(json.dumps(manifest).encode()).decode().rstrip("=")
    document["header"]["manifest"] = f"{head}.{payload}.{tail}"
    verdict = check(bundle, read_signature(orjson.dumps(document), "t.jws"))
    assert verdict.problems == (
        f"the manifest does not verify with key {key.kid}: the .jws file was altered "
        "(the bundle itself is as signed)",
    )


def test_altered_bundle_and_manifest(bundle: dict[str, Any], key: SigningKey, check: Check) -> None:
    document = sign_bundle(bundle, key, at=SIGNED_AT)
    head, payload, _ = document["header"]["manifest"].split(".")
    document["header"]["manifest"] = f"{head}.{payload}.{'A' * 86}"
    bundle["objects"][3]["spec_version"] = "2.0"
    (problem,) = check(bundle, read_signature(orjson.dumps(document), "t.jws")).problems
    assert problem.startswith(f"the signature does not verify with key {key.kid}, nor does its")


def test_revoked_before_signing_fails_and_after_is_noted(
    bundle: dict[str, Any], key: SigningKey, check: Check
) -> None:
    signature = signed(bundle, key)
    revoked = replace(key.public(), revoked=SIGNED_AT - 60, reason="laptop lost")
    assert check(bundle, signature, KeySet((revoked,))).problems == (
        f"key {key.kid} was revoked at 2024-05-31T23:59:00Z (laptop lost); this signature "
        "was made at 2024-06-01T00:00:00Z, after the revocation",
    )
    later = replace(key.public(), revoked=SIGNED_AT + 60)
    verdict = check(bundle, signature, KeySet((later,)))
    assert verdict.valid
    assert verdict.notes == (
        f"key {key.kid} has been revoked since, at 2024-06-01T00:01:00Z; this signature was "
        "made before, at 2024-06-01T00:00:00Z",
    )


def test_expired_key(bundle: dict[str, Any], key: SigningKey, check: Check) -> None:
    signature = signed(bundle, key)
    expired = replace(key.public(), expires=SIGNED_AT - 1)
    assert check(bundle, signature, KeySet((expired,))).problems == (
        f"key {key.kid} expired at 2024-05-31T23:59:59Z; this signature was made at "
        "2024-06-01T00:00:00Z, after it expired",
    )
    assert check(bundle, signature, KeySet((replace(expired, expires=SIGNED_AT),))).valid


def test_a_key_signs_only_for_its_identity(bundle: dict[str, Any], check: Check) -> None:
    impostor = create_key("identity--1d6e2b7c-3a4f-4b5e-9c8d-7e6f5a4b3c2d")
    trusted = replace(impostor.public(), identity=IDENTITY)
    (problem,) = check(bundle, signed(bundle, impostor), KeySet((trusted,))).problems
    assert problem == (
        f"key {impostor.kid} signs for {IDENTITY}, but the signature claims {impostor.identity}"
    )


def test_several_versions_of_an_object(
    bundle: dict[str, Any], key: SigningKey, check: Check
) -> None:
    report = next(o for o in bundle["objects"] if o["type"] == "report")
    newer = {**report, "modified": "2030-01-01T00:00:00.000Z", "name": "revised"}
    bundle["objects"].append(newer)
    signature = signed(bundle, key)
    assert check(bundle, signature).valid
    bundle["objects"].remove(report)
    assert check(bundle, signature).problems == (
        f"{report['id']}: changed since it was signed (version {report['modified']} removed)",
    )


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (b"not json", "not JSON"),
        (b"{}", "not a JWS in the flattened JSON serialization"),
        (b'{"signature": "x", "protected": "e30"}', "protected header: no 'alg'"),
    ],
)
def test_malformed_signature_files(document: bytes, message: str) -> None:
    with pytest.raises(SignatureFormatError, match=message):
        read_signature(document, "x.jws")


def test_an_attached_payload_is_refused(bundle: dict[str, Any], key: SigningKey) -> None:
    document = {**sign_bundle(bundle, key, at=SIGNED_AT), "payload": "e30"}
    with pytest.raises(SignatureFormatError, match="the payload is attached"):
        read_signature(orjson.dumps(document), "x.jws")


def test_custody_travels_in_the_signed_manifest(
    bundle: dict[str, Any], key: SigningKey, check: Check
) -> None:
    custody = {"source": {"api_root": "http://127.0.0.1/x/"}, "objects": 84}
    verdict = check(bundle, signed(bundle, key, custody=custody))
    assert verdict.valid and verdict.custody == custody


def test_select_picks_the_signed_objects_out_of_a_larger_bundle(
    bundle: dict[str, Any], key: SigningKey
) -> None:
    signature = signed(bundle, key)
    larger = {
        "type": "bundle",
        "id": "bundle--0d7a2f4c-5b1e-4c3d-9a8b-7f6e5d4c3b2a",
        "objects": [{"type": "x-other", "id": "x-other--1"}, *reversed(bundle["objects"])],
    }
    keys = KeySet((key.public(),))
    assert verify_bundle(larger, signature, keys, select=True).valid
    larger["objects"] = larger["objects"][:-1]
    missing = bundle["objects"][0]["id"]
    verdict = verify_bundle(larger, signature, keys, select=True)
    assert verdict.problems == (f"{missing}: removed since it was signed",)
