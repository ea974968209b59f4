"""The canonical form that is signed: RFC 8785 JSON Canonicalization Scheme (JCS).

A bundle is signed as its JCS bytes, so re-indenting it, re-ordering the keys of its
objects or writing ``\\u00e9`` for ``é`` does not change what was signed; changing a
value, an object or the order of the objects does.  Each object is also hashed on its
own (SHA-256 of its JCS bytes): those hashes are what lets a verifier name the object
that was changed, added or removed.

The bundle's bytes are assembled from its objects' bytes (JCS of an array is its
elements' JCS joined by commas, of an object its members sorted by UTF-16 code units,
RFC 8785 §3.2.3), so every object is canonicalised once for both uses.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import rfc8785

from converters.signing.errors import SignatureFormatError

__all__ = ["CanonicalBundle", "ObjectEntry", "canonical", "canonical_bundle", "sha256_hex"]


def sha256_hex(data: bytes) -> str:
    """SHA-256 of ``data`` as 64 lower-case hex digits (what ``sha256sum`` prints)."""
    return hashlib.sha256(data).hexdigest()


def canonical(value: Any, where: str = "$") -> bytes:
    """The RFC 8785 bytes of a JSON value; :class:`SignatureFormatError` for values JCS
    cannot represent (integers beyond ±2^53, NaN), naming ``where`` they are."""
    try:
        return rfc8785.dumps(value)
    except rfc8785.CanonicalizationError as exc:
        raise SignatureFormatError(f"{where}: cannot be canonicalised (RFC 8785): {exc}") from None


@dataclass(frozen=True, slots=True)
class ObjectEntry:
    """One object of a bundle as the signature manifest lists it.

    ``id`` is the STIX id (or the object's JSON path when it has none), ``modified``
    its version when it has one (several versions of an object may share a bundle),
    ``sha256`` the hash of its JCS bytes.
    """

    id: str
    modified: str | None
    sha256: str

    def to_json(self) -> dict[str, str]:
        """The manifest member: ``{"id", "modified"?, "sha256"}``."""
        entry = {"id": self.id, "sha256": self.sha256}
        if self.modified is not None:
            entry["modified"] = self.modified
        return entry

    def label(self) -> str:
        """The object named in messages: its id, and its version when it has one."""
        return self.id if self.modified is None else f"{self.id} (modified {self.modified})"


@dataclass(frozen=True, slots=True)
class CanonicalBundle:
    """A bundle's JCS bytes, their SHA-256, and one entry per object, in bundle order."""

    data: bytes
    sha256: str
    entries: tuple[ObjectEntry, ...]


def _entry(obj: Any, where: str) -> tuple[bytes, ObjectEntry]:
    data = canonical(obj, where)
    object_id = obj.get("id") if isinstance(obj, dict) else None
    modified = obj.get("modified") if isinstance(obj, dict) else None
    return data, ObjectEntry(
        object_id if isinstance(object_id, str) else where,
        modified if isinstance(modified, str) else None,
        sha256_hex(data),
    )


def canonical_bundle(bundle: Mapping[str, Any]) -> CanonicalBundle:
    """Canonicalise a bundle (any JSON object with an ``objects`` array)."""
    objects = bundle.get("objects")
    if not isinstance(objects, Sequence) or isinstance(objects, str | bytes):
        raise SignatureFormatError("$.objects: expected an array of STIX objects")
    parts = [_entry(obj, f"$.objects[{i}]") for i, obj in enumerate(objects)]
    members = []
    # RFC 8785 §3.2.3: members sorted by the UTF-16 code units of their names.
    for name in sorted(bundle, key=lambda key: key.encode("utf-16-be")):
        if name == "objects":
            value = b"[" + b",".join(data for data, _ in parts) + b"]"
        else:
            value = canonical(bundle[name], f"$.{name}")
        members.append(canonical(name) + b":" + value)
    data = b"{" + b",".join(members) + b"}"
    return CanonicalBundle(data, sha256_hex(data), tuple(entry for _, entry in parts))
