"""Loading research packages: YAML/JSON/CSV reading, defaults, normalisation, merging."""

from __future__ import annotations

from pathlib import Path

import pytest

from converters import PackageError, Policy, load_package

from .conftest import PACKAGE_FILES, PACKAGES

_MINIMAL = """\
format: atlas-package/1
id: RP-2024-0999
revision: 1
title: Minimal
published: 2024-06-11
tlp: amber
authors: [{name: Example Bank FIU}]
"""


def _write(tmp_path: Path, text: str, name: str = "package.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("path", PACKAGE_FILES, ids=lambda p: p.name)
def test_fixture_packages_load(path: Path) -> None:
    package = load_package(path, policy=Policy(allow_unverified=True))
    assert package.items and package.created <= package.modified


def test_the_example_package(tmp_path: Path) -> None:
    package = load_package(PACKAGES / "RP-2024-0007.yaml")
    assert (package.id, package.revision, package.tlp) == ("RP-2024-0007", 2, "amber")
    assert package.created == "2024-05-02T09:00:00.000Z"
    assert package.modified == "2024-06-11T09:00:00.000Z"
    fields = package.items["d1"].fields
    assert fields["value"] == "secure-login-examplebank.top"
    assert fields["confidence"] == 80 and fields["tlp"] == "amber"
    assert fields["vetting"] == {"status": "vetted"}
    assert package.items["d4"].fields["value"] == 64511
    assert package.items["d11"].fields["value"] == "31600000000"
    assert package.items["harbourline"].fields["motivation"] == "personal-gain"
    assert package.warnings == ()


def test_strict_makes_warnings_errors() -> None:
    allowed = Policy(allow_unverified=True)
    assert len(load_package(PACKAGES / "RP-2024-0031.yaml", policy=allowed).warnings) == 1
    with pytest.raises(PackageError) as caught:
        load_package(PACKAGES / "RP-2024-0031.yaml", strict=True, policy=allowed)
    assert [p.severity for p in caught.value.problems] == ["warning"]


def test_yaml_is_read_with_core_schema_scalars(tmp_path: Path) -> None:
    text = _MINIMAL + (
        "targets: {countries: [NO, NL]}\n"
        "data_points:\n"
        "  - {ref: w, type: crypto-wallet, currency: ETH,"
        " value: 0xabCDeF0123456789AbcdEf0123456789aBCDEF01}\n"
        "  - {ref: d, type: domain, value: on.example, first_seen: 2024-06-01}\n"
    )
    package = load_package(_write(tmp_path, text))
    assert package.root["targets"] == {"countries": ["NO", "NL"]}  # not [False, "NL"]
    assert package.items["w"].fields["value"] == "0xabcdef0123456789abcdef0123456789abcdef01"
    assert package.items["d"].fields["first_seen"] == "2024-06-01T00:00:00.000Z"


def test_timestamps_with_offsets_become_utc(tmp_path: Path) -> None:
    text = _MINIMAL.replace("published: 2024-06-11", "published: 2024-06-11T11:00:00.123456+02:00")
    package = load_package(_write(tmp_path, text))
    assert package.modified == "2024-06-11T09:00:00.123456Z"
    assert package.created == package.modified  # first_published defaults to published


def test_duplicate_observables_merge_into_the_first(tmp_path: Path) -> None:
    text = _MINIMAL + (
        "actors: [{ref: a, name: A, kind: group}, {ref: b, name: B, kind: group}]\n"
        "sources: [{ref: s1, name: S1}, {ref: s2, name: S2}]\n"
        "data_points:\n"
        "  - {ref: d1, type: domain, value: login.example, linked_to: [a], sources: [s1]}\n"
        "  - {ref: d2, type: domain, value: 'LOGIN[.]example.', linked_to: [b, a],"
        " sources: [s2], tlp: red}\n"
        "data_points_csv: points.csv\n"
    )
    (tmp_path / "points.csv").write_text(
        "ref,type,value,linked_to,sources\nd3,domain,login.example,b,s1;s2\nd4,domain,other.example,a,\n",
        encoding="utf-8",
    )
    package = load_package(_write(tmp_path, text))
    points = package.sections["data_points"]
    assert [p.ref for p in points] == ["d1", "d4"]
    merged = points[0]
    assert merged.refs == ("d1", "d2", "d3")
    assert merged.fields["linked_to"] == ["a", "b"]
    assert merged.fields["sources"] == ["s1", "s2"]
    assert merged.tlp == "red"
    assert package.items["d2"] is merged and package.items["d3"] is merged
    assert points[1].location.endswith("points.csv:3")


def test_csv_columns(tmp_path: Path) -> None:
    text = _MINIMAL + "actors: [{ref: a, name: A, kind: group}]\ndata_points_csv: points.csv\n"
    (tmp_path / "points.csv").write_text(
        "\ufeffref,type,value,bank.name,bank.country,vetting.status,vetting.by,confidence,x_note\n"
        "b1,bank-account,NL64 EXMP 0417 7283 91,Example Bank,NL,vetted,Org A; Org B,40,kept\n",
        encoding="utf-8",
    )
    fields = load_package(_write(tmp_path, text)).items["b1"].fields
    assert fields["value"] == "NL64EXMP0417728391"
    assert fields["bank"] == {"name": "Example Bank", "country": "NL"}
    assert fields["vetting"] == {"status": "vetted", "by": ["Org A", "Org B"]}
    assert fields["confidence"] == 40 and fields["x_note"] == "kept"


def test_a_red_source_is_not_cited_by_an_amber_item(tmp_path: Path) -> None:
    text = _MINIMAL + (
        "sources: [{ref: open, name: Open}, {ref: secret, name: Secret, tlp: red}]\n"
        "actors: [{ref: a, name: A, kind: group, sources: [secret, open]},"
        " {ref: b, name: B, kind: group, tlp: red, sources: [secret]}]\n"
    )
    package = load_package(_write(tmp_path, text))
    assert package.items["a"].fields["sources"] == ["open"]
    assert package.items["b"].fields["sources"] == ["secret"]
    assert [str(w) for w in package.warnings] == [
        "$.actors[0].sources[0] (line 9): warning: source 'secret' is tlp red, more "
        "restrictive than this item's amber: it is not cited on the item's STIX objects"
    ]


def test_json_packages_report_lines(tmp_path: Path) -> None:
    path = _write(tmp_path, '{"format": "atlas-package/1",\n "id": "x"\n}\n', "package.json")
    with pytest.raises(PackageError) as caught:
        load_package(path)
    assert [str(p) for p in caught.value.problems][:2] == [
        "$ (line 1): missing required field 'revision'",
        "$ (line 1): missing required field 'title'",
    ]
    assert "$.id (line 2): expected a package id such as RP-2024-0142, got 'x'" in [
        str(p) for p in caught.value.problems
    ]


def test_broken_json_names_line(tmp_path: Path) -> None:
    path = _write(tmp_path, '{"format": "atlas-package/1",\n "id": }\n', "package.json")
    with pytest.raises(PackageError) as caught:
        load_package(path)
    (problem,) = caught.value.problems
    assert (problem.line, problem.message) == (
        2,
        "not valid JSON: unexpected character, expected a JSON value (column 8)",
    )


def test_yaml_values_json_cannot_hold_are_problems(tmp_path: Path) -> None:
    text = _MINIMAL.replace("published: 2024-06-11", "published: !!timestamp 2024-06-11")
    text += "1: a number as a field name\n"
    with pytest.raises(PackageError) as caught:
        load_package(_write(tmp_path, text))
    messages = {p.path: p.message for p in caught.value.problems}
    assert messages["$.published"] == "date is not a JSON value"
    assert messages["$.1"] == "property names must be strings, got int 1"


def test_null_and_booleans_are_shown_as_written(tmp_path: Path) -> None:
    """Not Python's None and True: an analyst wrote ``~`` or ``true``."""
    text = _MINIMAL.replace("title: Minimal", "title: ~").replace("revision: 1", "revision: true")
    with pytest.raises(PackageError) as caught:
        load_package(_write(tmp_path, text))
    messages = {p.path: p.message for p in caught.value.problems}
    assert messages["$.title"] == "expected a string, got null"
    assert messages["$.revision"] == "expected an integer, got a boolean true"
