"""StixValidator on awkward input: never an exception, always a located problem."""

from __future__ import annotations

import subprocess
import sys
from collections import OrderedDict
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from converters.validation import Problem, SchemaError, StixValidator, get_validator
from converters.validation import schemas as schemas_module
from converters.validation.schemas import SchemaSet, load_schemas

_ID = "8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"
_STAMP = "2024-05-01T10:00:00.000Z"
IDENTITY: dict[str, Any] = {
    "type": "identity",
    "spec_version": "2.1",
    "id": f"identity--{_ID}",
    "created": _STAMP,
    "modified": _STAMP,
    "name": "Atlas CERT",
}


def test_nothing_is_compiled_at_import_time() -> None:
    code = (
        "import converters.validation as v, converters.validation.validator as m, sys; "
        "assert m._instance is None; assert 'stix2patterns' not in sys.modules; print('ok')"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert result.stdout.strip() == "ok", result.stderr


def test_a_bundle_given_as_an_object_is_refused() -> None:
    bundle = {"type": "bundle", "id": f"bundle--{_ID}", "objects": [IDENTITY]}
    (problem,) = get_validator().check_object(bundle, "$.objects[0]")
    assert problem.path == "$.objects[0].type" and "check_bundle" in problem.message


@pytest.mark.parametrize(
    ("bundle", "paths"),
    [
        ({"type": "bundle", "id": f"bundle--{_ID}", "objects": [IDENTITY]}, []),
        ({"type": "bundle", "objects": [IDENTITY]}, ["$.id"]),
        ({"type": "bundle", "id": f"identity--{_ID}", "objects": [IDENTITY]}, ["$.id"]),
        ({"type": "bundle", "id": f"bundle--{_ID}", "objects": {}}, ["$.objects"]),
        (
            {"type": "bundle", "id": f"bundle--{_ID}", "objects": [7, None]},
            ["$.objects[0]", "$.objects[1]"],
        ),
        (
            {"type": "bundle", "id": f"bundle--{_ID}", "objects": [{"id": 5}]},
            [
                f"$.objects[0].{name}"
                for name in ("type", "id", "spec_version", "created", "modified")
            ],
        ),
        ({"type": "bundel", "id": f"bundle--{_ID}", "objects": [IDENTITY]}, ["$.type"]),
        ([IDENTITY], ["$"]),
    ],
)
def test_bundle_shapes(bundle: object, paths: list[str]) -> None:
    problems = get_validator().check_bundle(bundle)
    assert sorted({p.path for p in problems}) == sorted(paths), problems


def test_custom_objects_are_checked_against_the_core_they_look_like() -> None:
    validator = get_validator()
    custom_sdo = {**IDENTITY, "type": "x-atlas-case", "id": f"x-atlas-case--{_ID}"}
    assert validator.check_object(custom_sdo) == []
    # One problem: a value that is not a timestamp is not also "imprecise".
    assert [p.path for p in validator.check_object({**custom_sdo, "created": "x"})] == ["$.created"]
    wallet = {
        "type": "cryptocurrency-wallet",
        "spec_version": "2.1",
        "id": f"cryptocurrency-wallet--{_ID}",
        "value": "bc1q",
    }
    assert validator.check_object(wallet) == []
    # An SCO core: spec_version optional, but extensions are checked as anywhere.
    bad = {**wallet, "extensions": {"not-an-extension": {}}}
    assert [p.path for p in validator.check_object(bad)] == ["$.extensions['not-an-extension']"]


@pytest.mark.parametrize(
    ("created", "says"),
    [
        pytest.param("2024-13-01T00:00:00Z", "expected RFC 3339", id="month-13"),
        pytest.param("2024-02-30T00:00:00.000Z", "2024-02 has 29 days", id="february-30"),
        pytest.param("2024-02-30T00:00:00Z", "2024-02 has 29 days", id="february-30-seconds"),
        pytest.param("yesterday", "expected RFC 3339", id="words"),
    ],
)
def test_one_bad_timestamp_is_one_problem(created: str, says: str) -> None:
    """Not also "must be precise to the millisecond", nor "modified must be later than
    or equal to created" when created is no timestamp to compare with."""
    problems = get_validator().check_object({**IDENTITY, "created": created})
    assert [(p.path, says in p.message) for p in problems] == [("$.created", True)]


def test_python_values_that_are_not_json_are_problems_not_crashes() -> None:
    validator = get_validator()
    odd = {
        **IDENTITY,
        "created": datetime(2024, 5, 1, tzinfo=UTC),
        "description": ("a", "tuple"),
        3: "int key",
        "x_set": {1, 2},
    }
    problems = validator.check_object(odd)
    assert {p.path for p in problems} >= {"$.created", "$.description", "$['3']", "$.x_set"}
    # A dict subclass is still a JSON object.
    assert validator.check_object(OrderedDict(IDENTITY)) == []


def test_validators_are_independent_and_reusable() -> None:
    first, second = StixValidator(load_schemas()), get_validator()
    assert first is not second
    for _ in range(2):
        assert first.check_object(IDENTITY) == second.check_object(IDENTITY) == []


def test_a_dangling_reference_fails_loudly() -> None:
    schemas = load_schemas()
    core = {**schemas.documents[schemas.core], "$ref": "../common/nowhere.json"}
    documents = {**schemas.documents, schemas.core: core}
    altered = SchemaSet(documents, schemas.object_types, schemas.core, schemas.observable_core)
    with pytest.raises(SchemaError, match="nowhere.json"):
        StixValidator(altered)


def test_a_refinement_of_a_schema_that_changed_fails_loudly(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    moved = (("common/timestamp.json", ("allOf", 0, "pattern"), "^x$"),)
    monkeypatch.setattr(schemas_module, "REFINEMENTS", moved)
    with pytest.raises(SchemaError, match="timestamp.json no longer has"):
        load_schemas()


def test_python_values_in_nested_places_are_located() -> None:
    odd = {**IDENTITY, "external_references": [{"source_name": "x", "url": b"bytes"}]}
    (problem,) = get_validator().check_object(odd)
    assert (problem.path, problem.message) == (
        "$.external_references[0].url",
        "bytes is not a JSON value",
    )


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=12,
)
_KEYS = st.sampled_from(
    [*sorted(IDENTITY), "objects", "extensions", "granular_markings", "pattern"]
    + ["pattern_type", "external_references", "hashes", "lang", "contents"]
)
_TYPES = st.sampled_from(
    ["identity", "indicator", "observed-data", "marking-definition", "language-content"]
    + ["file", "network-traffic", "x-custom", "bundle", "email-message", "location"]
)


@settings(
    max_examples=500,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(_TYPES, st.dictionaries(_KEYS, _JSON, max_size=6))
def test_any_json_gets_problems_never_an_exception(stix_type: str, extra: dict[str, Any]) -> None:
    obj = {**IDENTITY, "type": stix_type, "id": f"{stix_type}--{_ID}", **extra}
    validator = get_validator()
    for problems in (
        validator.check_object(obj, "$.objects[0]"),
        validator.check_bundle({"type": "bundle", "id": f"bundle--{_ID}", "objects": [obj]}),
    ):
        for problem in problems:
            assert isinstance(problem, Problem)
            assert problem.path.startswith("$.objects[0]") or problem.path.startswith("$")
            assert "does not match the schema" not in problem.message, problem
            assert "\n" not in problem.message


@settings(max_examples=200, deadline=None, derandomize=True)
@given(_JSON)
def test_any_json_value_as_object_or_bundle(value: Any) -> None:
    validator = get_validator()
    assert isinstance(validator.check_object(value), list)
    assert isinstance(validator.check_bundle(value), list)
