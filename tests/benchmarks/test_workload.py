"""The benchmark's data set: valid STIX 2.1, versions that really are newer, the same
objects for the same seed whatever the size, and envelopes that hold the bulk."""

from __future__ import annotations

import collections

import orjson
import pytest

from benchmarks.workload import NEWS, Workload, generate
from converters.validation import get_validator
from taxii_server.timestamps import parse_timestamp


@pytest.fixture(scope="module")
def workload() -> Workload:
    return generate(6000, seed=3)


def test_every_object_is_valid_stix(workload: Workload) -> None:
    validator = get_validator()
    problems = [p for body in workload.bodies for p in validator.check_object(orjson.loads(body))]
    assert problems == []


def test_later_versions_are_newer_and_differ(workload: Workload) -> None:
    seen: dict[str, dict[str, object]] = {}
    newer = 0
    for body in workload.bodies:
        obj = orjson.loads(body)
        before = seen.get(obj["id"])
        if before is not None:
            newer += 1
            assert parse_timestamp(obj["modified"]) > parse_timestamp(str(before["modified"]))
            assert obj["confidence"] != before.get("confidence")
        seen[obj["id"]] = obj
    assert newer > 100  # several versions of some objects, as the issue asks


def test_prefix_is_the_smaller_data_set(workload: Workload) -> None:
    assert generate(1500, seed=3).bodies == workload.prefix(1500).bodies
    assert generate(1500, seed=4).bodies != workload.prefix(1500).bodies


def test_envelopes_hold_the_bulk_and_the_news_the_rest(workload: Workload) -> None:
    envelopes = workload.envelopes(1000)
    posted = [obj for e in envelopes for obj in orjson.loads(e)["objects"]]
    assert len(posted) == workload.bulk_size == len(workload) - NEWS
    assert [orjson.dumps(o) for o in posted] == workload.bodies[: workload.bulk_size]
    assert len(orjson.loads(workload.news())["objects"]) == NEWS
    assert workload.distinct_bulk() == len(set(workload.ids[: workload.bulk_size]))


def test_dated_only_drops_the_objects_without_modified(workload: Workload) -> None:
    dated = workload.dated_only()
    assert all("modified" in orjson.loads(b) for b in dated.bodies)
    assert len(dated) == sum(workload.dated) < len(workload)


def test_probes_name_bulk_objects_half_with_several_versions(workload: Workload) -> None:
    probes = workload.probes(40)
    counts = collections.Counter(workload.ids[: workload.bulk_size])
    assert len({p.id for p in probes}) == 40
    assert all(p.versions == counts[p.id] for p in probes)
    assert sum(p.versions > 1 for p in probes) >= 20  # the other half: any object
    assert not {p.id for p in probes} & set(workload.ids[workload.bulk_size :])


def test_truncated_keeps_the_first_of_the_bulk_and_every_news(workload: Workload) -> None:
    cut = workload.truncated(1000)
    assert cut.bulk_size == 1000 and cut.bodies[:1000] == workload.bodies[:1000]
    assert cut.news() == workload.news()
    assert cut.last_bulk_id() == workload.ids[999]
