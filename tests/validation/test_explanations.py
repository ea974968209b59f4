"""Problems say which object, which value (JSON path) and what was expected, in one line."""

from __future__ import annotations

from typing import Any

import pytest

from converters.validation import get_validator

_ID = "8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"
_STAMP = "2024-05-01T10:00:00.000Z"
_TLP_GREEN = "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da"


def _sdo(stix_type: str, **properties: Any) -> dict[str, Any]:
    obj = {
        "type": stix_type,
        "spec_version": "2.1",
        "id": f"{stix_type}--{_ID}",
        "created": _STAMP,
        "modified": _STAMP,
        **properties,
    }
    return {k: v for k, v in obj.items() if v is not None}


def _indicator(**properties: Any) -> dict[str, Any]:
    base = {
        "pattern": "[ipv4-addr:value = '198.51.100.7']",
        "pattern_type": "stix",
        "valid_from": _STAMP,
    }
    return _sdo("indicator", **{**base, **properties})


def _sco(stix_type: str, **properties: Any) -> dict[str, Any]:
    return {"type": stix_type, "spec_version": "2.1", "id": f"{stix_type}--{_ID}", **properties}


CASES: list[tuple[str, dict[str, Any], list[tuple[str, str]]]] = [
    (
        "bad-month",
        _indicator(valid_from="2024-13-01T00:00:00Z"),
        [("$.valid_from", "'2024-13-01T00:00:00Z' is not a valid timestamp: expected RFC 3339")],
    ),
    (
        "no-such-day",
        _indicator(valid_from="2023-02-29T00:00:00Z"),
        [("$.valid_from", "'2023-02-29T00:00:00Z' is not a valid timestamp: 2023-02 has 28 days")],
    ),
    (
        "leap-second",
        _indicator(created="2016-12-31T23:59:60.000Z", modified="2016-12-31T23:59:60.000Z"),
        [
            ("$.created", "seconds must be 00 to 59"),
            ("$.modified", "seconds must be 00 to 59"),
        ],
    ),
    (
        "millisecond-precision",
        _indicator(modified="2024-05-01T10:00:00Z"),
        [("$.modified", "must be precise to at least the millisecond")],
    ),
    (
        "modified-before-created",
        _indicator(modified="2024-04-01T10:00:00.000Z"),
        [("$.modified", "must be later than or equal to created ('2024-05-01T10:00:00.000Z')")],
    ),
    (
        "valid-until-not-after",
        _indicator(valid_until=_STAMP),
        [("$.valid_until", "must be later than valid_from")],
    ),
    (
        "missing-required",
        _indicator(pattern=None),
        [("$.pattern", "required property is missing")],
    ),
    (
        "wrong-type",
        _indicator(name=["Scam"]),
        [("$.name", "expected a string, got an array")],
    ),
    (
        "null-custom-property",
        _indicator(x_atlas_case=None) | {"x_atlas_case": None},
        [
            (
                "$.x_atlas_case",
                "expected an array, a string, an integer, a boolean, a number or an object, "
                "got null",
            )
        ],
    ),
    (
        "bad-property-name",
        _indicator() | {"X-Case": "1"},
        [("$['X-Case']", "'X-Case' is not allowed here: property names are lowercase ASCII")],
    ),
    (
        "reserved-property",
        _indicator(severity="high"),
        [("$.severity", "a reserved property name")],
    ),
    (
        "empty-list",
        _indicator(labels=[]),
        [("$.labels", "must not be an empty array")],
    ),
    (
        "bad-identifier",
        _indicator(created_by_ref="identity--1234"),
        [
            (
                "$.created_by_ref",
                "'identity--1234' is not a valid STIX identifier: expected <type>--<UUID>",
            )
        ],
    ),
    (
        "id-of-another-type",
        _indicator(id=f"malware--{_ID}"),
        [("$.id", f"'malware--{_ID}' must start with 'indicator--'")],
    ),
    (
        "out-of-range",
        _indicator(confidence=101),
        [("$.confidence", "must be at most 100, got 101")],
    ),
    (
        "nested-path",
        _indicator(kill_chain_phases=[{"kill_chain_name": "mitre-attack"}]),
        [("$.kill_chain_phases[0].phase_name", "required property is missing")],
    ),
    (
        "bad-pattern",
        _indicator(pattern="[ipv4-addr:value = '198.51.100.7'"),
        [("$.pattern", "is not a valid STIX pattern: at 1:")],
    ),
    (
        "bad-hash-in-pattern",
        _indicator(pattern="[file:hashes.MD5 = 'abc']"),
        [("$.pattern", "is not a valid STIX pattern: 'abc' is not a valid MD5 hash")],
    ),
    (
        "cve-id",
        _sdo(
            "vulnerability",
            name="CVE-2024-1",
            external_references=[{"source_name": "cve", "external_id": "CVE-2024-1"}],
        ),
        [("$.external_references[0].external_id", "'CVE-2024-1' is not a CVE id such as")],
    ),
    (
        "relationship-to-a-bundle",
        _sdo(
            "relationship",
            relationship_type="related-to",
            source_ref=f"bundle--{_ID}",
            target_ref=f"malware--{_ID}",
        ),
        [("$.source_ref", "a relationship cannot refer to a relationship, sighting, bundle")],
    ),
    (
        "location-needs-a-place",
        _sdo("location", name="Somewhere"),
        [("$", "a location needs region, country, or latitude and longitude")],
    ),
    (
        "selector-not-in-object",
        _indicator(granular_markings=[{"marking_ref": _TLP_GREEN, "selectors": ["description"]}]),
        [
            (
                "$.granular_markings[0].selectors[0]",
                "selector 'description' does not point into this object",
            )
        ],
    ),
    (
        "hash-value",
        _sco("file", name="a.exe", hashes={"SHA-256": "abc"}),
        [("$.hashes['SHA-256']", "'abc' does not match the pattern '^[a-fA-F0-9]{64}$'")],
    ),
    (
        "empty-hashes",
        _sco("file", name="a.exe", hashes={}),
        [("$.hashes", "must not be an empty object")],
    ),
    (
        "ip-address",
        _sco("ipv4-addr", value="198.51.100.300"),
        [("$.value", "'198.51.100.300' does not match the pattern")],
    ),
    (
        "domain-name",
        _sco("domain-name", value="-bad-.example"),
        [("$.value", "'-bad-.example' is not a valid (internationalised) domain name")],
    ),
    (
        "uuid-v4-rule",
        _sco("process", id="process--8e2e2d2b-17d4-5cbf-938f-98ee46b3cd3f", pid=4),
        [("$.id", "must use a UUIDv4 as it has no ID contributing properties")],
    ),
    (
        "custom-type-id",
        {"type": "x-atlas-case", "spec_version": "2.1", "id": f"x-other--{_ID}"},
        [("$.id", "must start with the object's type, x-atlas-case--")],
    ),
    (
        "language",
        _indicator(lang="en_GB"),
        [("$.lang", "'en_GB' is not an RFC 5646 language tag")],
    ),
]


@pytest.mark.parametrize(("obj", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_problem(obj: dict[str, Any], expected: list[tuple[str, str]]) -> None:
    problems = get_validator().check_object(obj, "$")
    found = [(p.path, p.message) for p in problems]
    assert len(found) == len(expected), found
    for (path, message), (want_path, want_text) in zip(found, expected, strict=True):
        assert path == want_path, found
        assert want_text in message, found
    for problem in problems:
        assert problem.object_id == obj.get("id")
        assert "\n" not in str(problem) and "Traceback" not in str(problem)
        assert len(problem.message) < 300


def test_paths_start_from_the_callers_base() -> None:
    (problem,) = get_validator().check_object(_indicator(confidence=-1), "$.objects[12]")
    assert problem.path == "$.objects[12].confidence"


def test_observed_data_embedded_objects_are_checked_where_they_are() -> None:
    obj = _sdo(
        "observed-data",
        first_observed=_STAMP,
        last_observed=_STAMP,
        number_observed=1,
        objects={"0": _sco("ipv4-addr", value="not an ip")},
    )
    (problem,) = get_validator().check_object(obj)
    assert problem.path == "$.objects['0'].value"
    assert problem.object_id == obj["id"]
