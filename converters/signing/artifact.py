"""A signature as a STIX object: an ``artifact`` (STIX 2.1 §6.1) whose ``payload_bin``
is the ``.jws`` document, ``mime_type`` ``application/jose+json``.

``publish --sign`` stores one in the collection with each revision it publishes, so a
partner fetches it over TAXII like any object; its manifest names the revision's
objects (id, version, hash), which the partner picks out of what it pulled.  It is
marked with the highest TLP of the objects it signs (and, when one carries a marking
that cannot be ranked, with those markings too): the manifest names them all, so
only a reader cleared for every one of them may see it (and could verify it).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable, Mapping
from typing import Any

from converters.ids import sco_id
from converters.signing.errors import SignatureFormatError
from converters.tlp import (
    ADMIN_ONLY,
    LEVELS,
    MARKING_IDS,
    RANK_BY_MARKING_ID,
    defined_ranks,
    marking_refs,
    object_rank,
)

__all__ = ["SIGNATURE_MEDIA_TYPE", "signature_artifact", "signature_from_artifact"]

SIGNATURE_MEDIA_TYPE = "application/jose+json"


def signature_artifact(document: bytes, signed: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """The artifact carrying ``document``, the signature of the objects ``signed``."""
    payload = base64.b64encode(document).decode()
    objects = list(signed)
    defined = defined_ranks(objects)
    rank = max((object_rank(obj, defined) for obj in objects), default=0)
    refs = [MARKING_IDS[LEVELS[min(rank, len(LEVELS) - 1)]]]
    if rank == ADMIN_ONLY:
        # No TLP level says "above RED": the artifact carries the markings that cannot
        # be ranked too, so that a server ranks it as it ranks the objects it names.
        refs += sorted(
            {
                r
                for obj in objects
                for r in marking_refs(obj)
                if r and r not in RANK_BY_MARKING_ID and defined.get(r, ADMIN_ONLY) == ADMIN_ONLY
            }
        )
    return {
        "type": "artifact",
        "spec_version": "2.1",
        "id": sco_id({"type": "artifact", "payload_bin": payload}),
        "mime_type": SIGNATURE_MEDIA_TYPE,
        "payload_bin": payload,
        "object_marking_refs": refs,
    }


def signature_from_artifact(bundle: Mapping[str, Any], artifact_id: str) -> bytes:
    """The ``.jws`` document an artifact of ``bundle`` carries."""
    for obj in bundle.get("objects") or []:
        if isinstance(obj, dict) and obj.get("id") == artifact_id:
            if obj.get("mime_type") != SIGNATURE_MEDIA_TYPE or "payload_bin" not in obj:
                raise SignatureFormatError(f"{artifact_id} is not a signature")
            try:
                return base64.b64decode(obj["payload_bin"], validate=True)
            except (binascii.Error, TypeError):
                raise SignatureFormatError(f"{artifact_id}: payload_bin is not base64") from None
    raise SignatureFormatError(f"{artifact_id} is not in the bundle")
