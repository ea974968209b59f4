"""abuse.ch exports into packages by feed files: records, what is not mapped, where problems are."""

from __future__ import annotations

from pathlib import Path

import pytest

from converters import PackageError
from converters.inputs import read_input

from ..conftest import FIXTURES

INPUTS = FIXTURES / "inputs"


def test_urlhaus_csv_rows_become_urls_cited_by_the_feed() -> None:
    read = read_input(INPUTS / "urlhaus-recent.csv")
    assert read.kind == "urlhaus"
    (package,) = read.packages
    assert package.id == "URLHAUS-2018-000001"  # the same for every export
    point = package.items["urlhaus-2873157"].fields
    assert point["value"] == "http://198.51.100.23:43321/i"
    assert point["role"] == "hosting" and point["sources"] == ["feed"]
    assert point["first_seen"] == "2024-06-11T09:12:03.000Z"
    assert point["x_urlhaus_tags"] == ["32-bit", "elf", "mips", "Mozi"]
    assert "last_seen" not in package.items["urlhaus-2873155"].fields  # an empty cell
    assert package.modified == "2024-06-11T09:30:00.000Z"  # the newest record


def test_urlhaus_json_and_csv_give_the_same_data_points() -> None:
    (csv_package,) = read_input(INPUTS / "urlhaus-recent.csv").packages
    (json_package,) = read_input(INPUTS / "urlhaus-recent.json").packages
    for ref in ("urlhaus-2873157", "urlhaus-2873156"):
        assert csv_package.items[ref].fields == json_package.items[ref].fields


def test_threatfox_iocs_are_linked_to_their_malware_family() -> None:
    read = read_input(INPUTS / "threatfox-recent.json")
    (package,) = read.packages
    point = package.items["threatfox-1290421"].fields
    assert (point["type"], point["value"], point["role"]) == ("ipv4", "203.0.113.45", "c2")
    assert point["linked_to"] == ["malware-win-cobalt_strike"]
    service = package.items["malware-win-cobalt_strike"].fields
    assert (service["name"], service["category"]) == ("Cobalt Strike", "botnet")
    ((kind, name, count, where),) = [(u.kind, u.name, u.count, u.where) for u in read.unmapped]
    assert (kind, name, count, where) == ("ioc_type value", "sha1_hash", 1, "$.1290419[0]")


def test_a_bad_csv_record_is_reported_at_its_line_and_column(tmp_path: Path) -> None:
    text = (INPUTS / "urlhaus-recent.csv").read_text("utf-8")
    path = tmp_path / "export.csv"
    path.write_text(text.replace("https://cdn-update.example/", "https://cdn update.example/"))
    with pytest.raises(PackageError) as caught:
        read_input(path)
    (problem,) = caught.value.problems
    assert problem.path == f"{path}:11"
    assert problem.message.startswith("column url: expected an absolute URL")
    assert problem.located().startswith(f"{path}:11: column url:")


def test_a_bad_json_record_is_reported_at_its_path(tmp_path: Path) -> None:
    text = (INPUTS / "threatfox-recent.json").read_text("utf-8")
    path = tmp_path / "export.json"
    path.write_text(text.replace('"confidence_level": 75,', '"confidence_level": 175,', 1))
    with pytest.raises(PackageError) as caught:
        read_input(path)
    (problem,) = caught.value.problems
    assert problem.path == "$.1290420[0].confidence_level"
    assert "from 0 to 100" in problem.message


def test_from_names_the_kind_and_refuses_a_mismatch(tmp_path: Path) -> None:
    with pytest.raises(PackageError) as caught:
        read_input(INPUTS / "threatfox-recent.json", "urlhaus")
    assert "expected a URLhaus CSV export or URLhaus JSON export" in str(caught.value)
    with pytest.raises(PackageError) as caught:
        read_input(INPUTS / "threatfox-recent.json", "rss")
    assert "unknown kind of input 'rss'" in str(caught.value)
    unknown = tmp_path / "x.json"
    unknown.write_text("[1, 2]")
    with pytest.raises(PackageError) as caught:
        read_input(unknown)
    assert "cannot tell what this input is" in str(caught.value)
