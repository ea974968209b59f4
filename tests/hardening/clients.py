"""TAXII clients run by the concurrency test: writers (in their own processes, so they
really are concurrent) and pollers, over plain HTTP with ``requests``."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

import orjson
import requests

TAXII = "application/taxii+json;version=2.1"
_NAMESPACE = uuid.UUID("2f0c8e1a-6b7d-4c3e-9a5f-0d1e2c3b4a59")


def writer_objects(writer: int, envelope: int, size: int) -> list[dict[str, Any]]:
    """The objects of one envelope of one writer: distinct ids, one version each."""
    objects = []
    for n in range(size):
        ident = uuid.uuid5(_NAMESPACE, f"{writer}.{envelope}.{n}")
        objects.append(
            {
                "type": "identity",
                "spec_version": "2.1",
                "id": f"identity--{ident}",
                "created": "2024-06-01T00:00:00.000Z",
                "modified": "2024-06-01T00:00:00.000Z",
                "name": f"Mule {writer}.{envelope}.{n}",
                "identity_class": "individual",
            }
        )
    return objects


def write(url: str, token: str, writer: int, envelopes: int, size: int) -> None:
    """Post ``envelopes`` envelopes of ``size`` objects; every object must be a success."""
    with requests.Session() as session:
        for envelope in range(envelopes):
            response = session.post(
                url,
                data=orjson.dumps({"objects": writer_objects(writer, envelope, size)}),
                headers={
                    "Accept": TAXII,
                    "Content-Type": TAXII,
                    "Authorization": f"Bearer {token}",
                },
                timeout=120,
            )
            status = orjson.loads(response.content)
            if response.status_code != 202 or status["success_count"] != size:
                raise RuntimeError(f"writer {writer}: {response.status_code} {response.text[:500]}")


@dataclass
class Poller:
    """A client that polls a collection's objects endpoint over and over.

    ``follow_next`` pollers page with ``next`` while ``more`` is true (OpenCTI, taxii2-client);
    the others ask for one page at a time and resume with ``added_after`` set to the
    previous answer's ``X-TAXII-Date-Added-Last`` (Elastic, Sentinel).  Either way, the
    next request starts from the last answer's ``X-TAXII-Date-Added-Last``.
    """

    url: str
    token: str
    follow_next: bool
    limit: int
    seen: list[str] = field(default_factory=list)
    requests: int = 0
    _cursor: str | None = None
    _next: str | None = None

    def poll(self, session: requests.Session) -> int:
        """One request; return how many objects it brought."""
        params: dict[str, str] = {"limit": str(self.limit)}
        if self._next is not None:
            params["next"] = self._next
        elif self._cursor is not None:
            params["added_after"] = self._cursor
        response = session.get(
            self.url,
            params=params,
            headers={"Accept": TAXII, "Authorization": f"Bearer {self.token}"},
            timeout=120,
        )
        self.requests += 1
        if response.status_code != 200:
            raise RuntimeError(f"poll: {response.status_code} {response.text[:500]}")
        body = orjson.loads(response.content)
        objects = body.get("objects", [])
        self.seen.extend(o["id"] for o in objects)
        self._cursor = response.headers["X-TAXII-Date-Added-Last"]
        self._next = body.get("next") if self.follow_next and body["more"] else None
        return len(objects)
