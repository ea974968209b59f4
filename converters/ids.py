"""Deterministic STIX identifiers: converting a package twice gives the same ids.

* SCOs (STIX 2.1 §2.9): UUIDv5 in the STIX namespace of the JSON-canonicalised
  (RFC 8785) id-contributing properties, exactly as the stix2 library computes
  them — and, for the community types, as their stix2extensions classes do — so
  partners who see the same wallet produce the same id.
* Everything else: UUIDv5 in the project's own namespace (never the SCO one) of
  the object's type and its key — the package id and the item's ref for objects an
  item owns, a natural key (country code, ATT&CK id, organisation name…) for
  objects shared by every package, and ``(source, relationship type, target)`` for
  relationships.  So every revision of a package keeps its ids.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Mapping
from typing import Any, Final

import orjson

__all__ = [
    "ORGANISATION_KEY_KIND",
    "PROJECT_NAMESPACE",
    "SCO_ID_PROPERTIES",
    "SCO_NAMESPACE",
    "canonical_json",
    "object_id",
    "organization_identity_id",
    "relationship_id",
    "sco_id",
    "sco_id_problem",
    "uuid5",
]

#: STIX 2.1 §2.9: namespace of deterministic SCO identifiers.
SCO_NAMESPACE: Final = uuid.UUID("00abedb4-aa42-466c-9c01-fed23315a9b7")

#: The project's namespace for SDO, SRO and bundle identifiers (fixed forever: changing
#: it would change the id of every object ever published).
PROJECT_NAMESPACE: Final = uuid.UUID("429eab29-7318-4737-bc24-4f31ae1a5acc")

_SCO_BYTES: Final = SCO_NAMESPACE.bytes
_PROJECT_BYTES: Final = PROJECT_NAMESPACE.bytes

#: Id-contributing properties of the SCO types the converter emits: STIX 2.1 §6 for
#: the standard types, the stix2extensions definitions for the community ones.
SCO_ID_PROPERTIES: Final[Mapping[str, tuple[str, ...]]] = {
    "artifact": ("hashes", "payload_bin"),
    "autonomous-system": ("number",),
    "directory": ("path",),
    "domain-name": ("value",),
    "email-addr": ("value",),
    "email-message": ("from_ref", "subject", "body"),
    "file": ("hashes", "name", "parent_directory_ref", "extensions"),
    "ipv4-addr": ("value",),
    "ipv6-addr": ("value",),
    "mac-addr": ("value",),
    "mutex": ("name",),
    "network-traffic": (
        "start",
        "end",
        "src_ref",
        "dst_ref",
        "src_port",
        "dst_port",
        "protocols",
        "extensions",
    ),
    "software": ("name", "cpe", "swid", "vendor", "version"),
    "url": ("value",),
    "user-account": ("account_type", "user_id", "account_login"),
    "windows-registry-key": ("key", "values"),
    "x509-certificate": ("hashes", "serial_number"),
    "cryptocurrency-wallet": ("value",),
    "bank-account": ("iban", "account_number"),
    "phone-number": ("value",),
}

# STIX 2.1 §2.9: of a hashes dictionary only one hash contributes, in this order of
# preference (then the first one given).
_HASH_PREFERENCE: Final = ("MD5", "SHA-1", "SHA-256", "SHA-512")


def canonical_json(value: Any) -> bytes:
    """RFC 8785 (JCS) UTF-8 bytes of a value made of strings, integers, lists and dicts.

    For such values JCS is compact JSON with sorted keys and no ASCII escaping, which
    is what orjson writes with ``OPT_SORT_KEYS`` (keys here are ASCII, so UTF-16 and
    code-point key order agree); tests compare it with stix2's canonicaliser.
    """
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)


def uuid5(namespace: bytes, name: bytes) -> str:
    """``str(uuid.uuid5(UUID(bytes=namespace), name))`` without UUID objects (RFC 4122 §4.3).

    Ids are made for every object of every package; this is a few times faster: the
    SHA-1 state after the namespace is kept, and the version and variant bits are
    set on the hex digits.
    """
    known = _NAMESPACE_STATES.get(namespace)
    state = known.copy() if known is not None else hashlib.sha1(namespace)  # noqa: S324
    state.update(name)
    h = state.hexdigest()
    # Version 5 in the high nibble of byte 6; the RFC 4122 variant (10xx) in byte 8.
    return f"{h[:8]}-{h[8:12]}-5{h[13:16]}-{_VARIANT[h[16]]}{h[17:20]}-{h[20:32]}"


# RFC 4122 §4.3 names SHA-1 (S324): the hash states after each namespace, copied per id.
_NAMESPACE_STATES: Final = {ns: hashlib.sha1(ns) for ns in (_SCO_BYTES, _PROJECT_BYTES)}  # noqa: S324
_VARIANT: Final = {digit: "89ab"[int(digit, 16) & 3] for digit in "0123456789abcdef"}


def _one_hash(hashes: Mapping[str, str]) -> dict[str, str]:
    for algorithm in _HASH_PREFERENCE:
        if algorithm in hashes:
            return {algorithm: hashes[algorithm]}
    first = next(iter(hashes))
    return {first: hashes[first]}


def sco_id(obj: Mapping[str, Any]) -> str:
    """The STIX 2.1 deterministic id of an SCO (``type`` plus its properties).

    Raises ``KeyError`` for a type without known id-contributing properties and
    ``ValueError`` when the object has none of them (STIX would then require a
    random UUIDv4, which a converter that must be deterministic cannot use).
    """
    kind = obj["type"]
    contributing: dict[str, Any] = {}
    for name in SCO_ID_PROPERTIES[kind]:
        if name in obj:
            value = obj[name]
            contributing[name] = _one_hash(value) if name == "hashes" else value
    if not contributing:
        raise ValueError(f"{kind} has none of its id-contributing properties")
    return f"{kind}--{uuid5(_SCO_BYTES, canonical_json(contributing))}"


def object_id(kind: str, *key: str | int) -> str:
    """Id of a non-SCO object of type ``kind`` from its key, in the project namespace."""
    return f"{kind}--{uuid5(_PROJECT_BYTES, canonical_json([kind, *key]))}"


def relationship_id(source_ref: str, relationship_type: str, target_ref: str) -> str:
    """Id of a relationship from its source, type and target."""
    key = canonical_json(["relationship", source_ref, relationship_type, target_ref])
    return f"relationship--{uuid5(_PROJECT_BYTES, key)}"


#: The key kind the mapping gives organisations' identities (``id: {shared: name,
#: kind: organisation}`` in ``mappings/atlas-package-1.yaml``): a package's authors.
ORGANISATION_KEY_KIND: Final = "organisation"


def organization_identity_id(name: str) -> str:
    """The STIX identity id of the organisation called ``name``, exactly as a package
    naming it as an author gets it (``object_id("identity", "organisation", name)``,
    the shared id of the mapping's producer and author rules): a partner's account
    and the ``created_by_ref`` of its packages agree."""
    return object_id("identity", ORGANISATION_KEY_KIND, name)


def _uuid_version(object_id: str) -> str:
    """The version digit of an identifier's UUID (``"5"`` for UUIDv5)."""
    uuid_part = object_id.partition("--")[2]
    return uuid_part[14:15]


def sco_id_problem(obj: Mapping[str, Any]) -> str | None:
    """Why an SCO's ``id`` does not fit its id-contributing properties, or ``None``.

    STIX 2.1 §2.9: an SCO's UUIDv5 is derived from its id-contributing properties, so
    a UUIDv5 must be the one they give (else another value's object could be posted
    under this value's id).  A UUIDv4 is what §2.9 requires when none of them is
    present and still permits otherwise (the UUIDv5 is a SHOULD); it cannot collide
    with a derived id.  Types without known id-contributing properties (custom SCOs)
    are not checked.
    """
    kind = obj.get("type")
    object_id = obj.get("id")
    if not isinstance(kind, str) or kind not in SCO_ID_PROPERTIES:
        return None
    if not isinstance(object_id, str):
        return None
    version = _uuid_version(object_id)
    try:
        expected: str | None = sco_id(obj)
    except ValueError:
        expected = None
    except (TypeError, AttributeError, StopIteration):  # malformed hashes and the like
        return f"{kind} id cannot be derived from its id-contributing properties"
    if expected == object_id or version == "4":
        return None
    contributing = ", ".join(SCO_ID_PROPERTIES[kind])
    if expected is None:
        return (
            f"{object_id} is a UUIDv{version or '?'} id but the object has none of its "
            f"id-contributing properties ({contributing}): STIX 2.1 §2.9 then requires a "
            "UUIDv4"
        )
    return (
        f"{object_id} does not match the object's id-contributing properties "
        f"({contributing}): STIX 2.1 §2.9 derives {expected} from them (or use a UUIDv4)"
    )
