"""The data every server in a run gets: a seeded stream of realistic STIX 2.1 objects,
with later versions of some of them, cut into TAXII envelopes.

The stream is :func:`benchmarks.stix_mix.iter_realistic_objects` (indicators, SCOs
including the community wallet, bank-account and phone-number types, relationships,
sightings, identities, reports, notes, TLP markings) with, for one in twenty objects
that have a ``modified`` timestamp, one to three newer versions (a later ``modified``
and a revised ``confidence``) inserted 20 to 2,000 objects further on, as a community
revises its assessments.  The stream is prefix-stable: the first *n* objects are the
same whatever the total, so one generated set serves every size of a growth run.

The last :data:`NEWS` objects are kept back from the bulk load: they are posted after
it, so that polls with ``added_after`` = the bulk's newest ``date_added`` find exactly
those, as a SIEM polling every minute finds the latest additions.

Objects are kept serialised (``orjson``), not as dicts: a million of them as dicts
would take several GiB in the client, which shares the machine with the server.
"""

from __future__ import annotations

import collections
import heapq
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import orjson

from benchmarks.stix_mix import iter_realistic_objects

__all__ = ["NEWS", "Probe", "Workload", "generate"]

#: Objects posted after the bulk load, for the polls to find.
NEWS = 10
#: Share of objects with a ``modified`` timestamp that get newer versions later on.
VERSIONED_SHARE = 0.05
#: Newer versions per versioned object: 1 to this many.
MAX_NEWER_VERSIONS = 3


@dataclass(frozen=True, slots=True)
class Probe:
    """An object id to look up, and how many versions of it the bulk load stored."""

    id: str
    versions: int


@dataclass(frozen=True, slots=True)
class Workload:
    """A generated data set: serialised objects in posting order, with their ids and
    whether each has a ``modified`` timestamp (SDOs and SROs; SCOs have none)."""

    seed: int
    bodies: list[bytes]
    ids: list[str]
    dated: list[bool]

    def __len__(self) -> int:
        return len(self.bodies)

    def prefix(self, count: int) -> Workload:
        """The first ``count`` objects (the data set a smaller run gets)."""
        return Workload(self.seed, self.bodies[:count], self.ids[:count], self.dated[:count])

    def truncated(self, bulk: int) -> Workload:
        """The first ``bulk`` objects of the bulk load, and the same news (what a server
        stopped half-way through the load holds, and is then sent)."""
        end = self.bulk_size
        keep = [*range(min(bulk, end)), *range(end, len(self.bodies))]
        return Workload(
            self.seed,
            [self.bodies[i] for i in keep],
            [self.ids[i] for i in keep],
            [self.dated[i] for i in keep],
        )

    def dated_only(self) -> Workload:
        """The objects that have a ``modified`` timestamp, in the same order (for a
        server that cannot store objects without one)."""
        keep = [i for i, dated in enumerate(self.dated) if dated]
        return Workload(
            self.seed,
            [self.bodies[i] for i in keep],
            [self.ids[i] for i in keep],
            [True] * len(keep),
        )

    @property
    def bulk_size(self) -> int:
        """Objects in the bulk load (all but the :data:`NEWS`)."""
        return max(0, len(self.bodies) - NEWS)

    def envelopes(self, size: int) -> list[bytes]:
        """The bulk load as TAXII envelopes (§3.7) of ``size`` objects."""
        end = self.bulk_size
        return [_envelope(self.bodies[i : min(i + size, end)]) for i in range(0, end, size)]

    def news(self) -> bytes:
        """The objects kept back from the bulk load, as one envelope."""
        return _envelope(self.bodies[self.bulk_size :])

    def distinct_bulk(self) -> int:
        """Objects a full read of the bulk returns: one (the latest version) per id."""
        return len(set(self.ids[: self.bulk_size]))

    def distinct_news(self) -> int:
        """Objects a poll for the news returns: one per id among them."""
        return len(set(self.ids[self.bulk_size :]))

    def last_bulk_id(self) -> str:
        """The id of the last object of the bulk load (its newest ``date_added``)."""
        return self.ids[self.bulk_size - 1]

    def probes(self, count: int) -> list[Probe]:
        """``count`` ids of the bulk to look up, seeded: half of them objects with
        several versions (for the versions endpoint), the rest any object."""
        versions = collections.Counter(self.ids[: self.bulk_size])
        # Ids of the news that also occur in the bulk would change what a lookup
        # returns after the news are posted: leave them out.
        news = set(self.ids[self.bulk_size :])
        candidates = sorted(i for i in versions if i not in news)
        several = [i for i in candidates if versions[i] > 1]
        rng = random.Random(self.seed)
        chosen = rng.sample(several, min(len(several), count // 2))
        taken = set(chosen)
        rest = [i for i in candidates if i not in taken]
        chosen += rng.sample(rest, min(len(rest), count - len(chosen)))
        rng.shuffle(chosen)
        return [Probe(object_id, versions[object_id]) for object_id in chosen]


def _envelope(bodies: list[bytes]) -> bytes:
    return b'{"objects":[' + b",".join(bodies) + b"]}"


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _newer(obj: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    """A newer version of ``obj``: later ``modified``, revised ``confidence`` (a common
    property of every SDO and SRO, STIX 2.1 §3.2)."""
    newer = dict(obj)
    modified = datetime.fromisoformat(obj["modified"])
    newer["modified"] = _stamp(modified + timedelta(seconds=rng.randrange(60, 30 * 86_400)))
    confidence = rng.randrange(0, 101)
    if confidence == obj.get("confidence"):
        confidence = (confidence + 1) % 101
    newer["confidence"] = confidence
    return newer


def _stream(count: int, seed: int) -> Iterator[dict[str, Any]]:
    """``count`` objects: the realistic mix with newer versions of some inserted."""
    base = iter_realistic_objects(count, seed)
    # A separate random source: the mix itself stays what stix_mix draws for the seed.
    rng = random.Random(f"versions-{seed}")
    due: list[tuple[int, int, dict[str, Any]]] = []  # (position, order, object)
    order = 0
    for position in range(count):
        if due and due[0][0] <= position:
            yield heapq.heappop(due)[2]
            continue
        obj = next(base)
        if "modified" in obj and rng.random() < VERSIONED_SHARE:
            when, previous = position, obj
            for _ in range(rng.randint(1, MAX_NEWER_VERSIONS)):
                when += rng.randint(20, 2000)
                previous = _newer(previous, rng)
                heapq.heappush(due, (when, order, previous))
                order += 1
        yield obj


def generate(count: int, seed: int) -> Workload:
    """Generate ``count`` objects (bulk load plus :data:`NEWS`) for ``seed``."""
    bodies: list[bytes] = []
    ids: list[str] = []
    dated: list[bool] = []
    for obj in _stream(count, seed):
        bodies.append(orjson.dumps(obj))
        ids.append(obj["id"])
        dated.append("modified" in obj)
    return Workload(seed, bodies, ids, dated)
