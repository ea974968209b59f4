"""Publishing to another TAXII 2.1 server: compare by ``match[id]``, post in envelopes
that fit, wait for each status.

* **Envelopes** (TAXII 2.1 §3.7) are filled up to the API root's
  ``max_content_length`` (§4.2.1), counted on the exact bytes sent, and to at most
  :data:`MAX_OBJECTS_PER_ENVELOPE` objects (servers cap the object count too, and a
  smaller request keeps each status short-lived).  An object that alone exceeds the
  limit is reported as failed, not sent.
* **Statuses** (§4.3): each POST's status is polled until ``complete``, backing off
  from half a second to five; what is still pending after ``status_timeout`` seconds
  is reported as failed with the status id, so the operator can look it up.
* **Comparison**: the latest versions are read with ``match[id]`` (§3.4.1) in batches
  that keep each request line within :data:`REQUEST_LINE_BYTES` (gunicorn's default
  limit is 4,094 bytes, and proxies have their own); a server that still answers 414
  gets the batch in halves.  A user who may not read the collection gets ``None``,
  and everything is posted.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

from taxii_server.publishing import Failure, Progress, Stored
from taxii_server.remote.connection import RemoteCollection
from taxii_server.remote.errors import RemoteProtocolError, RemoteRefused, translated
from taxii_server.remote.paging import PageGuard
from taxii_server.storage.base import NewObject
from taxii_server.storage.versions import canonical_json

__all__ = ["MAX_OBJECTS_PER_ENVELOPE", "REQUEST_LINE_BYTES", "RemoteTarget", "envelopes"]

#: Most objects in one POSTed envelope.
MAX_OBJECTS_PER_ENVELOPE = 1000
#: Seconds to wait for one status to complete.
DEFAULT_STATUS_TIMEOUT = 300.0
#: Longest request line a lookup sends ("GET /path?query HTTP/1.1"), in bytes.
REQUEST_LINE_BYTES = 2000
_URI_TOO_LONG = 414
# Objects per page when reading latest versions (servers lower a larger limit).
_LOOKUP_LIMIT = 1000
_HEAD = b'{"objects":['
_TAIL = b"]}"


@dataclass(frozen=True, slots=True)
class _Envelope:
    objects: list[NewObject]
    body: bytes


def envelopes(
    objects: Sequence[NewObject], max_bytes: int, max_objects: int = MAX_OBJECTS_PER_ENVELOPE
) -> Iterator[_Envelope | Failure]:
    """Split ``objects`` into envelopes of at most ``max_bytes`` bytes and
    ``max_objects`` objects, in order; an object too large alone is a :class:`Failure`."""
    batch: list[NewObject] = []
    size = len(_HEAD) + len(_TAIL)
    for obj in objects:
        alone = len(_HEAD) + len(obj.data) + len(_TAIL)
        if alone > max_bytes:
            yield Failure(
                obj.id,
                f"{alone} bytes as an envelope: larger than the API root's "
                f"max_content_length of {max_bytes} bytes; not posted",
            )
            continue
        added = len(obj.data) + (1 if batch else 0)
        if batch and (size + added > max_bytes or len(batch) >= max_objects):
            yield _pack(batch)
            batch, size = [], len(_HEAD) + len(_TAIL)
            added = len(obj.data)
        batch.append(obj)
        size += added
    if batch:
        yield _pack(batch)


def _pack(batch: list[NewObject]) -> _Envelope:
    return _Envelope(batch, _HEAD + b",".join(o.data for o in batch) + _TAIL)


def _id_batches(ids: Sequence[str], budget: int) -> Iterator[list[str]]:
    """``ids`` in batches whose ``match[id]`` value, URL-encoded, fits ``budget`` bytes."""
    batch: list[str] = []
    size = 0
    for object_id in ids:
        cost = len(quote(object_id, safe="")) + 3  # and the encoded comma
        if batch and size + cost > budget:
            yield batch
            batch, size = [], 0
        batch.append(object_id)
        size += cost
    if batch:
        yield batch


class RemoteTarget:
    """A collection on another TAXII 2.1 server, written through taxii2-client."""

    def __init__(
        self,
        collection: RemoteCollection,
        *,
        status_timeout: float = DEFAULT_STATUS_TIMEOUT,
        max_objects: int = MAX_OBJECTS_PER_ENVELOPE,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._collection = collection
        self._status_timeout = status_timeout
        self._max_objects = max_objects
        self._sleep = sleep

    @property
    def markings(self) -> None:
        """The remote server ranks the objects' markings itself."""
        return None

    def latest(self, ids: Sequence[str], progress: Progress) -> dict[str, bytes] | None:
        """Latest versions by ``match[id]``; ``None`` when this user may not read."""
        if not self._collection.can_read:
            return None
        found: dict[str, bytes] = {}
        done = 0
        for batch in _id_batches(ids, self._id_budget()):
            for obj in self._lookup(batch):
                if isinstance(obj, dict) and isinstance(obj.get("id"), str):
                    found[obj["id"]] = canonical_json(obj)
            done += len(batch)
            progress("compare", done, len(ids))
        return found

    def _id_budget(self) -> int:
        """Bytes left for the ``match[id]`` value in a lookup's request line."""
        path = urlsplit(f"{self._collection.url}objects/").path
        fixed = f"GET {path}?match%5Bid%5D=&limit={_LOOKUP_LIMIT} HTTP/1.1"
        return max(REQUEST_LINE_BYTES - len(fixed), 1)

    def _lookup(self, batch: list[str]) -> list[Any]:
        """The latest versions of ``batch``; on 414 URI Too Long, of each half."""
        try:
            return list(self._objects(id=",".join(batch)))
        except RemoteRefused as exc:
            if exc.status != _URI_TOO_LONG or len(batch) == 1:
                raise
        middle = len(batch) // 2
        return self._lookup(batch[:middle]) + self._lookup(batch[middle:])

    def _objects(self, **filters: Any) -> Iterator[Any]:
        """Every object a filtered Get Objects returns, following ``next``."""
        endpoint = self._collection.endpoint
        url = f"{self._collection.url}objects/"
        guard = PageGuard(url)
        token: str | None = None
        while True:
            extra = {"next": token} if token else {}
            with translated(f"reading {url}"):
                page = endpoint.get_objects(limit=_LOOKUP_LIMIT, **filters, **extra)
            objects = page.get("objects") or []
            yield from objects
            token = page.get("next")
            if not page.get("more") or not token:
                return
            guard.page(objects, token)

    def store(self, objects: Sequence[NewObject], progress: Progress) -> Stored:
        """Post the objects in envelopes that fit and wait for each status."""
        failures: list[Failure] = []
        unnamed = 0
        done = 0
        limit = self._collection.max_content_length
        for item in envelopes(objects, limit, self._max_objects):
            if isinstance(item, Failure):
                failures.append(item)
                done += 1
            else:
                named, anonymous = self._post(item)
                failures.extend(named)
                unnamed += anonymous
                done += len(item.objects)
            progress("post", done, len(objects))
        return Stored(failures=tuple(failures), unnamed_failures=unnamed)

    def _post(self, envelope: _Envelope) -> tuple[list[Failure], int]:
        url = f"{self._collection.url}objects/"
        with translated(f"posting to {url}"):
            try:
                status = self._collection.endpoint.add_objects(
                    envelope.body, wait_for_completion=False
                )
            except (KeyError, TypeError) as exc:
                raise RemoteProtocolError(
                    f"posting to {url}: the answer is not a TAXII 2.1 status resource"
                ) from exc
            delay = 0.5
            waited = 0.0
            while status.status != "complete" and waited < self._status_timeout:
                self._sleep(delay)
                waited += delay
                delay = min(delay * 2, 5.0)
                status.refresh()
        return _failures_of(status, envelope, self._status_timeout)


def _entry_id(entry: Any) -> str | None:
    # TAXII 2.1 status details are objects with an id; medallion 2.0-era servers
    # listed bare ids.
    if isinstance(entry, dict):
        value = entry.get("id")
        return value if isinstance(value, str) else None
    return entry if isinstance(entry, str) else None


def _failures_of(status: Any, envelope: _Envelope, timeout: float) -> tuple[list[Failure], int]:
    """The failures a status reports (plus what is still pending), and how many
    failures it counts without naming them."""
    failures = []
    for entry in status.failures:
        object_id = _entry_id(entry)
        message = entry.get("message") if isinstance(entry, dict) else None
        failures.append(
            Failure(object_id or "(unnamed)", str(message or "refused by the server (no reason)"))
        )
    if status.status != "complete":
        pending = {_entry_id(e) for e in status.pendings}
        settled = {_entry_id(e) for e in status.successes} | {f.object_id for f in failures}
        for obj in envelope.objects:
            if obj.id in pending or (not pending and obj.id not in settled):
                failures.append(
                    Failure(
                        obj.id,
                        f"still pending after {timeout:g} s (status {status.id}); "
                        "check the status later or publish again",
                    )
                )
    unnamed = max(0, int(status.failure_count) - len(status.failures))
    if unnamed and status.successes:
        succeeded = {_entry_id(e) for e in status.successes}
        named = {f.object_id for f in failures}
        for obj in envelope.objects:
            if unnamed and obj.id not in succeeded and obj.id not in named:
                failures.append(Failure(obj.id, "refused by the server (no reason given)"))
                unnamed -= 1
    return failures, unnamed
