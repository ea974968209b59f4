"""A POST's memory is bounded by its body's size (issue 9, item 5): 14 POSTs of
50,000 small objects left about 900 MB in each worker.  Two causes, each checked here
with tracemalloc (deterministic, unlike timings): the whole envelope was parsed at once
(orjson needed about twelve times the body's size while parsing, then every object
stayed a dictionary until the end), and each object's stored JSON kept orjson's
4 KB buffer however short it was (orjson >= 3.12 over-allocates and does not shrink).
``python -m benchmarks memory`` measures the workers' resident memory."""

from __future__ import annotations

import tracemalloc
from collections.abc import Callable

import orjson

from converters.ids import sco_id
from taxii_server.storage.versions import canonical_json

from .conftest import SHARED, Caller, url

OBJECTS = 20_000


def _domains(count: int) -> list[dict[str, str]]:
    return [
        {
            "type": "domain-name",
            "spec_version": "2.1",
            # STIX 2.1 §2.9: the id its value gives (the server checks it).
            "id": sco_id({"type": "domain-name", "value": f"m{n}.example.org"}),
            "value": f"m{n}.example.org",
        }
        for n in range(count)
    ]


def test_a_large_post_peaks_at_a_small_multiple_of_its_body(
    taxii: Callable[..., Caller],
) -> None:
    body = orjson.dumps({"objects": _domains(OBJECTS)})
    alice = taxii("alice")
    alice.post(url(SHARED, "objects"), _domains(1))  # warm: validator, connections
    tracemalloc.start()
    try:
        response = alice.post(url(SHARED, "objects"), body)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert response.status_code == 202
    assert orjson.loads(response.data)["success_count"] == OBJECTS
    # Measured: 7x; it was 40x (73x at 50,000 objects).
    assert peak < 15 * len(body), f"peak {peak / 1e6:.0f} MB for a {len(body) / 1e6:.1f} MB body"


def test_stored_json_is_no_larger_than_its_text() -> None:
    small = _domains(1)[0]
    tracemalloc.start()
    try:
        kept = [canonical_json(small) for _ in range(1000)]
        held, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert held < 1000 * (len(kept[0]) + 100)
