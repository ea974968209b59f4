"""Differential tests: our verdict equals stix2-validator's (offline), case by case.

Corpora: the OASIS schema repository's examples, stix2-validator's own test objects
and the edits its tests make to them, the stix2extensions community objects, our
generated realistic mix, and Hypothesis mutations of all of those.  Where we differ
on purpose the case is listed with the reason, and the test checks that we still
differ in the listed direction (tests/validation/test_deliberate_differences.py
shows each kind of difference on a small object).
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from converters.tlp import MARKING_DEFINITIONS
from converters.validation import get_validator

from .reference import (
    disagreements,
    example_cases,
    extension_examples,
    generated_cases,
    our_valid,
    reference_test_cases,
    reference_valid,
    valid_bases,
)

_CUSTOM_OBJECT = "custom_obj_tests.py:VALID_CUSTOM_OBJECT"
_INDICATOR = "indicator_tests.py:VALID_INDICATOR"
_ID_PREFIX = "an id starts with its type (STIX 2.1, Identifier); the reference skips custom types"

#: Cases of the reference's own tests where we disagree on purpose: (ours, reason).
DELIBERATE: dict[str, tuple[bool, str]] = {
    f'{_CUSTOM_OBJECT} {{"path": ["type"], "value": "x-corporation"}}': (False, _ID_PREFIX),
    f'{_CUSTOM_OBJECT} {{"path": ["id"], "value": '
    f'"x-corporation--4527e5de-8572-446a-a57a-706f15467461"}}': (False, _ID_PREFIX),
    f'{_CUSTOM_OBJECT} {{"path": ["type"], "value": "x-corp-oration"}}': (False, _ID_PREFIX),
    f'{_CUSTOM_OBJECT} {{"path": ["id"], "value": '
    f'"x-corp-oration--4527e5de-8572-446a-a57a-706f15467461"}}': (False, _ID_PREFIX),
    f'{_INDICATOR} {{"path": ["type"], "value": "x-new-type"}}': (False, _ID_PREFIX),
    f'{_INDICATOR} {{"path": ["lang"], "value": "foo"}}': (
        True,
        "'foo' is a well-formed RFC 5646 tag; the reference only knows a list of 232 tags",
    ),
    'observed_data_tests.py:VALID_OBJECT {"path": ["name_enc"], "value": "bla.bla.bla"}': (
        True,
        "IANA character-set registry membership is left out (musts.RULES_LEFT_OUT)",
    ),
    'observed_data_tests.py:VALID_OBJECT {"path": ["objects"], "value": [{"type": '
    '"windows-registry-key", "id": "windows-registry-key--ff1e0780-358c-5808-a8c7-d0fca4ef6ef4", '
    '"key": "HKEY_LOCAL_MACHINE\\\\SYSTEM\\\\ControlSet001\\\\Services\\\\WSALG2"}]}': (
        True,
        "on a file SCO, objects is a custom property (a list is fine); the reference "
        "crashes reading it as observed-data's dictionary",
    ),
    "spec_version_tests.py:VALID_BUNDLE": (
        False,
        "SDOs without spec_version are STIX 2.0 objects to the reference; we validate 2.1",
    ),
}


def _check(cases: tuple[tuple[str, Any], ...]) -> None:
    found = {name: (ours, theirs) for name, ours, theirs in disagreements(cases)}
    unexpected = {n: v for n, v in found.items() if n not in DELIBERATE}
    assert unexpected == {}, "verdicts differ (ours, reference):\n" + json.dumps(
        unexpected, indent=1
    )
    for name, (ours, _) in found.items():
        assert ours == DELIBERATE[name][0], name


def test_the_oasis_examples_agree() -> None:
    assert len(example_cases()) > 250
    _check(example_cases())


def test_the_references_own_test_objects_and_edits_agree() -> None:
    cases = reference_test_cases()
    assert len(cases) > 400
    _check(cases)
    listed = {name for name, _ in cases}
    assert set(DELIBERATE) <= listed, "a deliberate difference no longer occurs in the corpus"
    for name, value in cases:
        if name in DELIBERATE:
            ours, _ = DELIBERATE[name]
            assert (our_valid(value), reference_valid(value)) == (ours, not ours), name


def test_the_community_objects_agree_and_are_valid() -> None:
    cases = extension_examples()
    assert {obj["type"] for _, obj in cases} >= {
        "cryptocurrency-wallet",
        "bank-account",
        "phone-number",
    }
    _check(cases)
    # The SCO examples are valid; a few SDO examples carry placeholder CVE ids
    # ("CVE-XXX-XXXX") that the OASIS schema rejects, for both validators.
    assert all(our_valid(obj) for name, obj in cases if name.startswith("scos/"))


def test_our_tlp_marking_definitions_agree_and_are_valid() -> None:
    cases = tuple((level, dict(obj)) for level, obj in MARKING_DEFINITIONS.items())
    _check(cases)
    assert all(our_valid(obj) for _, obj in cases)


def test_our_generated_mix_agrees_and_is_valid() -> None:
    _check(generated_cases())
    assert all(our_valid(obj) for _, obj in generated_cases())


# ----------------------------------------------------------------- Hypothesis mutations

_BASES = valid_bases()
_TIMESTAMPS = (
    "2024-13-01T00:00:00.000Z",
    "2023-02-29T00:00:00.000Z",
    "2024-02-29T00:00:00.000Z",
    "2024-04-31T12:00:00.000Z",
    "2024-01-01T24:00:00.000Z",
    "2024-01-01T00:00:00.000",
    "2024-01-01 00:00:00.000Z",
    "2024-01-01T00:00:00Z",
    "0000-01-01T00:00:00.000Z",
    "2016-12-31T23:59:60.000Z",
    "1970-01-01T00:00:00.000Z",
    "9999-12-31T23:59:59.999Z",
    "2024-06-01T12:00:00.123456Z",
)
_VALUES = (None, 0, -1, 101, 1.5, True, False, "", "x", "abc", [], ["x"], [1], {}, {"a": 1})
_BAD_IDS = (
    "indicator--8E2E2D2B-17D4-4CBF-938F-98EE46B3CD3F",
    "indicator--8e2e2d2b-17d4-0cbf-938f-98ee46b3cd3f",
    "indicator--8e2e2d2b-17d4-4cbf-738f-98ee46b3cd3f",
    "indicator-8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
    "indicator--8e2e2d2b17d44cbf938f98ee46b3cd3f",
    "Indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
    "--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
)
_NAMES = ("x_custom", "X_CUSTOM", "ab", "x-custom", "_abc", "1abc", "abc!", "a" * 251, "xid")
# Properties whose values the reference checks against registries (left out here).
_REGISTRY = frozenset({"mime_type", "name_enc", "path_enc", "cpe", "languages", "lang"})
_PATTERN_NOISE = "[]()':=.,*ANDORNOTINLIKEMATCHESWITHINSECONDSREPEATSTIMES0123456789 -_abcxyz\\"


def _timestamp_keys(obj: dict[str, Any]) -> list[str]:
    return [k for k, v in obj.items() if isinstance(v, str) and v[:2] in ("19", "20")]


@st.composite
def mutated(draw: st.DrawFn) -> dict[str, Any]:
    obj = copy.deepcopy(draw(st.sampled_from(_BASES)))
    keys = sorted(obj)
    kinds = ["drop", "retype", "timestamp", "id", "name", "empty", "pattern", "deep"]
    kind = draw(st.sampled_from(kinds))
    if kind == "deep":
        _mutate_deep(draw, obj)
    elif kind == "drop":
        del obj[draw(st.sampled_from(keys))]
    elif kind == "retype":
        key = draw(st.sampled_from([k for k in keys if k not in _REGISTRY]))
        values = _VALUES
        if key == "type":  # a new valid type name would make a custom-type id mismatch
            values = tuple(v for v in _VALUES if not (isinstance(v, str) and len(v) >= 3))
        obj[key] = draw(st.sampled_from(values))
    elif kind == "timestamp" and _timestamp_keys(obj):
        obj[draw(st.sampled_from(_timestamp_keys(obj)))] = draw(st.sampled_from(_TIMESTAMPS))
    elif kind == "id":
        bad = draw(st.sampled_from(_BAD_IDS))
        # A well-formed id of another type is only a schema error for the defined
        # types; for custom ones it is a deliberate difference (test above).
        obj["id"] = bad if obj["type"] == "indicator" else bad.replace("indicator", obj["type"])
    elif kind == "name":
        obj[draw(st.sampled_from(_NAMES))] = draw(st.sampled_from(_VALUES[4:]))
    elif kind == "empty":
        lists = [k for k in keys if isinstance(obj[k], list)]
        if lists:
            obj[draw(st.sampled_from(lists))] = []
    elif kind == "pattern" and obj.get("pattern_type") == "stix":
        pattern: str = obj["pattern"]
        at = draw(st.integers(0, len(pattern)))
        edit = draw(st.sampled_from(["cut", "drop", "insert"]))
        if edit == "cut":
            pattern = pattern[:at]
        elif edit == "drop":
            pattern = pattern[:at] + pattern[at + 1 :]
        else:
            pattern = pattern[:at] + draw(st.sampled_from(_PATTERN_NOISE)) + pattern[at:]
        obj["pattern"] = pattern
    return obj


def _mutate_deep(draw: st.DrawFn, obj: dict[str, Any]) -> None:
    """Drop or retype a value inside a nested object or list (references, hashes...)."""
    parent: Any = obj
    while True:
        keys = list(parent) if isinstance(parent, dict) else list(range(len(parent)))
        nested = [k for k in keys if isinstance(parent[k], dict | list) and parent[k]]
        if not nested or (parent is not obj and draw(st.booleans())):
            break
        parent = parent[draw(st.sampled_from(nested))]
    if parent is obj or not parent:
        return
    key = draw(st.sampled_from(list(parent) if isinstance(parent, dict) else range(len(parent))))
    if isinstance(parent, dict) and draw(st.booleans()):
        del parent[key]
    elif key not in _REGISTRY:
        parent[key] = draw(st.sampled_from(_VALUES))


@settings(
    max_examples=400,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(mutated())
def test_mutations_get_the_reference_verdict(obj: dict[str, Any]) -> None:
    assert our_valid(obj) == reference_valid(obj), json.dumps(obj)[:2000]
    for problem in get_validator().check_object(obj):
        # Every rejection is explained by a keyword, not by the catch-all.
        assert "does not match the schema" not in problem.message, problem


@pytest.mark.parametrize("case", [n for n, _ in example_cases() if ":" not in n])
def test_each_example_bundle_is_valid(case: str) -> None:
    bundle = dict(example_cases())[case]
    assert our_valid(bundle) and reference_valid(bundle)
