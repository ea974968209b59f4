"""Verifying a signed bundle: the verdict says what is valid and, when it is not,
exactly what failed — the object changed, added or removed, an unknown ``kid``, a
wrong key, an expired or revoked key.

The bundle signature (RFC 7515, over the bundle's RFC 8785 bytes) decides validity.
The manifest signature (see :mod:`converters.signing.signature`) is checked on its
own, so that when the bundle was altered its object hashes can still be trusted to
name what differs.  Key rules come from the trusted key: a key revoked, or expired,
before the signing time (``iat``) fails the signature; one revoked since is noted.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from converters.signing.canonical import ObjectEntry, canonical, canonical_bundle, sha256_hex
from converters.signing.errors import SignatureFormatError
from converters.signing.keys import KeySet, PublicKey
from converters.signing.signature import Signature

__all__ = ["Verdict", "rfc3339", "verify_bundle"]


def rfc3339(seconds: int) -> str:
    """A NumericDate as an RFC 3339 UTC time."""
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True, slots=True)
class Verdict:
    """The outcome of a verification.

    ``problems`` are the reasons it failed, one line each (a line about an object
    begins with its id); ``notes`` are facts that do not fail it (a key revoked after
    the signature was made).  ``objects`` counts the objects the signature covers.
    """

    valid: bool
    problems: tuple[str, ...]
    notes: tuple[str, ...]
    kid: str
    identity: str
    signed_at: int
    objects: int
    custody: Mapping[str, Any] | None = None


def _key_problems(key: PublicKey, header: Mapping[str, Any]) -> tuple[list[str], list[str]]:
    problems: list[str] = []
    notes: list[str] = []
    at = int(header["iat"])
    if key.identity is not None and header["stix_identity"] != key.identity:
        problems.append(
            f"key {key.kid} signs for {key.identity}, but the signature claims "
            f"{header['stix_identity']}"
        )
    if key.revoked is not None:
        why = f" ({key.reason})" if key.reason else ""
        if at >= key.revoked:
            problems.append(
                f"key {key.kid} was revoked at {rfc3339(key.revoked)}{why}; this signature "
                f"was made at {rfc3339(at)}, after the revocation"
            )
        else:
            notes.append(
                f"key {key.kid} has been revoked since, at {rfc3339(key.revoked)}{why}; "
                f"this signature was made before, at {rfc3339(at)}"
            )
    if key.expires is not None and at > key.expires:
        problems.append(
            f"key {key.kid} expired at {rfc3339(key.expires)}; this signature was made at "
            f"{rfc3339(at)}, after it expired"
        )
    return problems, notes


def _grouped(entries: Sequence[ObjectEntry]) -> dict[str, list[tuple[str, str]]]:
    groups: dict[str, list[tuple[str, str]]] = {}
    for entry in entries:
        groups.setdefault(entry.id, []).append((entry.modified or "", entry.sha256))
    return groups


def _differences(signed: Sequence[ObjectEntry], present: Sequence[ObjectEntry]) -> list[str]:
    """One line per object id whose versions differ between the manifest and the bundle."""
    before, after = _grouped(signed), _grouped(present)
    lines = []
    for object_id in [*before, *(i for i in after if i not in before)]:
        old, new = sorted(before.get(object_id, [])), sorted(after.get(object_id, []))
        if old == new:
            continue
        if not new:
            lines.append(f"{object_id}: removed since it was signed")
        elif not old:
            lines.append(f"{object_id}: added since it was signed")
        else:
            lines.append(f"{object_id}: changed since it was signed{_versions(old, new)}")
    return lines


def _versions(old: list[tuple[str, str]], new: list[tuple[str, str]]) -> str:
    if len(old) == len(new) == 1:
        return ""  # one version each: "changed" says it all
    gone = sorted({v for v, _ in old} - {v for v, _ in new})
    return "".join(f" (version {v or '(none)'} removed)" for v in gone)


def _entries(manifest: Mapping[str, Any]) -> list[ObjectEntry]:
    entries = []
    for i, item in enumerate(manifest["objects"]):
        if not isinstance(item, dict) or not {"id", "sha256"} <= item.keys():
            raise SignatureFormatError(f"manifest: objects[{i}] lacks id or sha256")
        entries.append(ObjectEntry(str(item["id"]), item.get("modified"), str(item["sha256"])))
    return entries


def _select(bundle: Mapping[str, Any], manifest: Mapping[str, Any]) -> dict[str, Any]:
    """The signed bundle rebuilt from a larger one: the manifest's objects, found by
    id and version (or content), in the manifest's order, under its bundle id."""
    available: dict[tuple[str, str | None], list[Any]] = {}
    for obj in bundle.get("objects") or []:
        if isinstance(obj, dict) and isinstance(obj.get("id"), str):
            available.setdefault((obj["id"], obj.get("modified")), []).append(obj)
    picked = []
    for entry in _entries(manifest):
        candidates = available.get((entry.id, entry.modified), [])
        # The version whose content was signed, else another (named as changed).
        same = (o for o in candidates if sha256_hex(canonical(o)) == entry.sha256)
        match = next(same, candidates[0] if candidates else None)
        if match is not None:
            picked.append(match)
    return {"type": "bundle", "id": manifest["bundle"]["id"], "objects": picked}


def verify_bundle(
    bundle: Mapping[str, Any], signature: Signature, keys: KeySet, *, select: bool = False
) -> Verdict:
    """Verify ``bundle`` against ``signature`` with the ``keys`` trusted.

    With ``select``, ``bundle`` may hold more than was signed (a pulled collection):
    the signed objects are taken from it as the manifest lists them.
    """
    header = signature.header
    kid = signature.kid
    manifest: Mapping[str, Any] = {}  # set once the manifest verifies

    def verdict(problems: Sequence[str], notes: Sequence[str] = (), count: int = 0) -> Verdict:
        return Verdict(
            not problems,
            tuple(problems),
            tuple(notes),
            kid,
            str(header["stix_identity"]),
            int(header["iat"]),
            count,
            manifest.get("custody"),
        )

    key = keys.get(kid)
    if key is None:
        trusted = ", ".join(k.kid for k in keys.keys) or "none"
        return verdict([f"unknown kid {kid}: not one of the trusted keys ({trusted})"])
    problems, notes = _key_problems(key, header)
    if signature.manifest_header.get("kid") != kid:
        problems.append("the manifest names another key than the signature")
    manifest_ok = signature.manifest_valid(key)
    if manifest_ok:
        manifest = signature.manifest()
        if select:
            bundle = _select(bundle, manifest)
    elif select:
        return verdict([*problems, f"the manifest does not verify with key {kid}"])
    canonical = canonical_bundle(bundle)
    count = len(canonical.entries)
    if signature.bundle_valid(canonical, key):
        if not manifest_ok:
            problems.append(
                f"the manifest does not verify with key {kid}: the .jws file was altered "
                "(the bundle itself is as signed)"
            )
        elif manifest["bundle"].get("sha256") != canonical.sha256:
            problems.append("the manifest describes another bundle than the one signed")
        return verdict(problems, notes, count)
    if not manifest_ok:
        if header.get("payload_sha256") == canonical.sha256:
            reason = (
                f"the signature was not made with key {kid}, although the bundle is the one "
                "its header describes: a wrong key, or a forged kid"
            )
        else:
            reason = (
                f"the signature does not verify with key {kid}, nor does its manifest: the "
                "bundle and the .jws file were both altered, or another key made them"
            )
        return verdict([*problems, reason], notes, count)
    signed = _entries(manifest)
    differences = _differences(signed, canonical.entries)
    if differences:
        return verdict([*problems, *differences], notes, len(signed))
    if manifest["bundle"].get("sha256") == canonical.sha256:
        problems.append(
            f"the bundle is as the manifest lists it, but its signature does not verify "
            f"with key {kid}: the signature or its protected header was altered"
        )
    elif manifest["bundle"].get("id") != bundle.get("id"):
        problems.append(
            f"the bundle id was changed from {manifest['bundle'].get('id')} to {bundle.get('id')}"
        )
    elif [e.sha256 for e in signed] != [e.sha256 for e in canonical.entries]:
        problems.append(
            "every object is as signed, but they are in another order (the signature covers "
            "the order)"
        )
    else:
        problems.append("the bundle's members other than its objects were changed")
    return verdict(problems, notes, len(signed))
