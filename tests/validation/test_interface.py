"""The public interface the converter, the server and the CLI code against."""

from __future__ import annotations

import threading
from typing import Any

import converters.validation as validation
from converters.validation import Problem, StixValidator, get_validator

INDICATOR: dict[str, Any] = {
    "type": "indicator",
    "spec_version": "2.1",
    "id": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
    "created": "2024-05-01T10:00:00.000Z",
    "modified": "2024-05-01T10:00:00.000Z",
    "pattern": "[ipv4-addr:value = '198.51.100.7']",
    "pattern_type": "stix",
    "valid_from": "2024-05-01T10:00:00Z",
}


def test_all_is_curated() -> None:
    assert sorted(validation.__all__) == [
        "Problem",
        "SchemaError",
        "StixValidator",
        "ValidationSetupError",
        "get_validator",
    ]


def test_problem_renders_id_path_and_message() -> None:
    problem = Problem("indicator--1", "$.objects[3].pattern", "is not a valid STIX pattern")
    assert str(problem) == "indicator--1 $.objects[3].pattern: is not a valid STIX pattern"
    assert str(Problem(None, "$", "expected a STIX object")) == "- $: expected a STIX object"


def test_get_validator_is_one_instance_built_once_across_threads() -> None:
    seen: list[StixValidator] = []
    threads = [threading.Thread(target=lambda: seen.append(get_validator())) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({id(v) for v in seen}) == 1
    assert seen[0] is get_validator()


def test_a_valid_object_has_no_problems() -> None:
    assert get_validator().check_object(INDICATOR) == []


def test_a_non_object_is_one_problem_at_the_given_path() -> None:
    for value in (None, 3, "indicator", [INDICATOR]):
        problems = get_validator().check_object(value, "$.objects[7]")
        assert len(problems) == 1
        assert problems[0].object_id is None
        assert problems[0].path == "$.objects[7]"


def test_problems_name_the_object_and_the_path_of_the_value() -> None:
    bad = {**INDICATOR, "valid_from": "2024-13-01T00:00:00Z"}
    bundle = {
        "type": "bundle",
        "id": "bundle--5d0092c5-5f74-4287-9642-33f4c354e56d",
        "objects": [INDICATOR, INDICATOR, INDICATOR, bad],
    }
    problems = get_validator().check_bundle(bundle)
    assert problems, "a month of 13 must be reported"
    assert {p.path for p in problems} == {"$.objects[3].valid_from"}
    assert {p.object_id for p in problems} == {INDICATOR["id"]}
    assert all("2024-13-01T00:00:00Z" in p.message for p in problems)


def test_a_lone_object_uses_the_callers_base_path() -> None:
    problems = get_validator().check_object({**INDICATOR, "pattern": 7}, "$.objects[0]")
    assert [p.path for p in problems] == ["$.objects[0].pattern"]
