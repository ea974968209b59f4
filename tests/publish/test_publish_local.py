"""``atlas-taxii publish`` into the configured store: what is stored, what is not."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from converters import convert_package
from taxii_server.settings import load_settings
from taxii_server.storage import open_storage
from taxii_server.storage.base import ObjectQuery, VersionSelector

from .conftest import EXAMPLE, Runner

COLLECTION_ID = "0c6f1e2d-3a4b-4c5d-8e6f-7a8b9c0d1e2f"
CONFIG = """
[storage]
url = "sqlite:///{db}"

[[api_roots]]
name = "community"
title = "Community"

[[collections]]
api_root = "community"
title = "Indicators"
id = "{collection}"
alias = "indicators"
"""


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "atlas-taxii.toml"
    path.write_text(CONFIG.format(db=tmp_path / "atlas.db", collection=COLLECTION_ID))
    return path


def stored_versions(config: Path) -> dict[str, list[dict[str, Any]]]:
    """Every stored version of every object of the collection, by id (a store that
    was never opened holds none)."""
    storage = open_storage(load_settings(config).storage_url, migrate=True)
    try:
        page = storage.query_objects(
            COLLECTION_ID,
            ObjectQuery(clearance=4, limit=10_000, versions=VersionSelector(all=True)),
        )
    finally:
        storage.close()
    assert not page.more
    found: dict[str, list[dict[str, Any]]] = {}
    for item in page.items:
        found.setdefault(item.id, []).append(json.loads(item.data))
    return found


def revision(tmp_path: Path, *, published: str | None, changes: dict[str, str]) -> Path:
    """The example package as a later revision, with some text replaced."""
    text = EXAMPLE.read_text("utf-8").replace("revision: 2", "revision: 3")
    if published is not None:
        text = text.replace("published: 2024-06-11T09:00:00Z", f"published: {published}")
    for old, new in changes.items():
        assert old in text
        text = text.replace(old, new)
    path = tmp_path / "RP-2024-0007-r3.yaml"
    path.write_text(text, "utf-8")
    return path


def without_modified(obj: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in obj.items() if k != "modified"}


def summary(result_out: str) -> str:
    return result_out.strip().rpartition(": ")[2]


def test_a_package_is_converted_and_stored(cli: Runner, config: Path) -> None:
    result = cli("publish", str(EXAMPLE), "--collection", "indicators", "--config", str(config))
    expected = convert_package(EXAMPLE)["objects"]
    assert result.status == 0, result.err
    assert summary(result.out) == f"{len(expected)} new, 0 changed, 0 unchanged, 0 failed"
    stored = stored_versions(config)
    assert {i: [o] for o in expected for i in [o["id"]]} == stored


def test_publishing_again_stores_nothing(cli: Runner, config: Path) -> None:
    args = ("publish", str(EXAMPLE), "--collection", COLLECTION_ID, "--config", str(config))
    assert cli(*args).status == 0
    before = stored_versions(config)
    again = cli(*args)
    assert again.status == 0
    assert summary(again.out) == f"0 new, 0 changed, {len(before)} unchanged, 0 failed"
    assert stored_versions(config) == before


def test_a_new_revision_stores_only_what_changed(cli: Runner, config: Path, tmp_path: Path) -> None:
    assert (
        cli("publish", str(EXAMPLE), "--collection", "indicators", "--config", str(config)).status
        == 0
    )
    first = {o["id"]: o for o in convert_package(EXAMPLE)["objects"]}
    later = revision(
        tmp_path, published="2024-07-01T09:00:00Z", changes={"203.0.113[.]77": "203.0.113[.]78"}
    )
    second = {o["id"]: o for o in convert_package(later)["objects"]}
    # The oracle: what differs between the two conversions other than `modified`.
    new_ids = second.keys() - first.keys()
    changed_ids = {
        i
        for i in second.keys() & first.keys()
        if without_modified(first[i]) != without_modified(second[i])
    }
    unchanged_ids = second.keys() - new_ids - changed_ids
    assert new_ids and changed_ids and unchanged_ids  # the revision exercises all three

    result = cli("publish", str(later), "--collection", "indicators", "--config", str(config))

    assert result.status == 0, result.err
    assert summary(result.out) == (
        f"{len(new_ids)} new, {len(changed_ids)} changed, {len(unchanged_ids)} unchanged, 0 failed"
    )
    stored = stored_versions(config)
    # The new IP address is a new observable; the old one stays (nothing is deleted).
    assert any(o[0].get("value") == "203.0.113.78" for i, o in stored.items() if i in new_ids)
    assert any(o[0].get("value") == "203.0.113.77" for o in stored.values())
    for object_id in unchanged_ids:
        assert stored[object_id] == [first[object_id]]  # not stored again: revision 2's
    for object_id in changed_ids:
        assert stored[object_id] == [first[object_id], second[object_id]]
    for object_id in new_ids:
        assert stored[object_id] == [second[object_id]]
    report = next(o for o in second.values() if o["type"] == "report")
    assert report["id"] in changed_ids


def test_a_change_without_a_new_timestamp_fails_and_keeps_the_stored_version(
    cli: Runner, config: Path, tmp_path: Path
) -> None:
    assert (
        cli("publish", str(EXAMPLE), "--collection", "indicators", "--config", str(config)).status
        == 0
    )
    before = stored_versions(config)
    # Revision 3 with the same `published`: a changed object keeps its `modified`.
    later = revision(
        tmp_path, published=None, changes={"title: Suspend the kit's": "title: Take down the kit's"}
    )
    result = cli("publish", str(later), "--collection", "indicators", "--config", str(config))
    assert result.status == 1
    assert "1 failed" in result.out
    failure = next(
        line for line in result.err.splitlines() if line.startswith("course-of-action--")
    )
    assert "STIX 2.1 §3.6 requires a new modified timestamp" in failure
    assert stored_versions(config) == before


def test_bundles_are_published_as_they_are(cli: Runner, config: Path, tmp_path: Path) -> None:
    objects = convert_package(EXAMPLE)["objects"]
    bundle = tmp_path / "bundle.json"
    bundle.write_text(
        json.dumps(
            {
                "type": "bundle",
                "id": "bundle--" + "0" * 8 + "-0000-4000-8000-" + "0" * 12,
                "objects": objects,
            }
        )
    )
    result = cli("publish", str(bundle), "--collection", "indicators", "--config", str(config))
    assert result.status == 0, result.err
    assert summary(result.out) == f"{len(objects)} new, 0 changed, 0 unchanged, 0 failed"


def test_invalid_objects_fail_with_their_reason_and_the_rest_is_stored(
    cli: Runner, config: Path, tmp_path: Path
) -> None:
    objects = convert_package(EXAMPLE)["objects"]
    broken = dict(next(o for o in objects if o["type"] == "indicator"), pattern="[broken")
    envelope = tmp_path / "envelope.json"
    envelope.write_text(json.dumps({"objects": [broken, *objects[:5]]}))
    result = cli("publish", str(envelope), "--collection", "indicators", "--config", str(config))
    assert result.status == 1
    assert summary(result.out) == "5 new, 0 changed, 0 unchanged, 1 failed"
    (line,) = result.err.splitlines()
    assert line.startswith(f"{broken['id']}: $.objects[0].pattern")
    assert set(stored_versions(config)) == {o["id"] for o in objects[:5]}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        pytest.param("{not json", "not JSON: ", id="not-json"),
        pytest.param(
            '{"type": "bundle", "objects": 3}', "$.objects: expected a list", id="objects"
        ),
    ],
)
def test_an_unreadable_bundle_is_bad_input(
    cli: Runner, config: Path, tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content)
    result = cli("publish", str(path), "--collection", "indicators", "--config", str(config))
    assert result.status == 2
    assert result.err.startswith(f"atlas-taxii: error: {path}") and message in result.err
    assert "Traceback" not in result.err
    assert stored_versions(config) == {}


def test_an_invalid_package_is_bad_input_and_stores_nothing(cli: Runner, config: Path) -> None:
    bad = (
        Path(__file__).resolve().parent.parent.parent
        / "fixtures"
        / "invalid"
        / "dangling-refs.yaml"
    )
    result = cli("publish", str(bad), "--collection", "indicators", "--config", str(config))
    assert result.status == 2
    assert result.err.splitlines()[-1].startswith("atlas-taxii: error: ")
    assert stored_versions(config) == {}


def test_an_unknown_collection_is_bad_input(cli: Runner, config: Path) -> None:
    result = cli("publish", str(EXAMPLE), "--collection", "nope", "--config", str(config))
    assert result.status == 2
    assert "no collection with id, alias or title 'nope'" in result.err


def test_a_missing_file_is_bad_input(cli: Runner, config: Path, tmp_path: Path) -> None:
    result = cli(
        "publish",
        str(tmp_path / "gone.yaml"),
        "--collection",
        "indicators",
        "--config",
        str(config),
    )
    assert result.status == 2
    assert result.err == f"atlas-taxii: error: {tmp_path / 'gone.yaml'}: no such file\n"


def test_unverified_data_points_are_refused_unless_allowed(
    cli: Runner, config: Path, tmp_path: Path
) -> None:
    text = EXAMPLE.read_text("utf-8").replace(
        "vetting: {status: vetted, by: [Example Bank FIU]}", "vetting: {status: unverified}"
    )
    package = tmp_path / "RP-2024-0007.yaml"
    package.write_text(text, encoding="utf-8")
    refused = cli("publish", str(package), "--collection", "indicators", "--config", str(config))
    assert refused.status == 2
    assert "$.data_points[10].vetting.status (line 70): data point 'd11' is unverified" in (
        refused.err
    )
    assert stored_versions(config) == {}
    allowed = cli(
        "publish", str(package), "--allow-unverified", "--collection", "indicators",
        "--config", str(config),
    )  # fmt: skip
    assert allowed.status == 0, allowed.err


@pytest.mark.parametrize("first_published", [True, False], ids=["first-published", "without"])
def test_a_revision_changing_one_data_point_republishes_only_it_and_the_report(
    cli: Runner, config: Path, tmp_path: Path, first_published: bool
) -> None:
    """Revision 2 of a package in which one data point's confidence changed (and, as in
    every revision, `revision` and `published`): only that data point's objects and the
    report get new versions, each keeping the `created` of the first (STIX 2.1 §3.6).
    Without `first_published`, the conversion's `created` (and the `valid_from` of
    indicators without `first_seen`) follows `published`; publishing must not."""
    text = EXAMPLE.read_text("utf-8")
    if not first_published:
        text = text.replace("first_published: 2024-05-02T09:00:00Z\n", "")
    one = tmp_path / "RP-2024-0007.yaml"
    one.write_text(text, "utf-8")
    changed_point = '{ref: d2, type: url, value: "hxxps://verify-examplebank[.]top/otp/relay.php",'
    assert changed_point in text
    two = tmp_path / "RP-2024-0007-r3.yaml"
    two.write_text(
        text.replace("revision: 2", "revision: 3")
        .replace("published: 2024-06-11T09:00:00Z", "published: 2024-07-01T09:00:00Z")
        .replace(changed_point, changed_point + " confidence: 40,"),
        "utf-8",
    )
    args = ("--collection", "indicators", "--config", str(config))
    assert cli("publish", str(one), *args).status == 0
    first = stored_versions(config)

    result = cli("publish", str(two), *args)

    assert result.status == 0, result.err
    report = next(i for i, (o, *_) in first.items() if o["type"] == "report")
    indicator = next(
        i
        for i, (o, *_) in first.items()
        if o.get("name") == "https://verify-examplebank.top/otp/relay.php"
    )
    assert summary(result.out) == f"0 new, 2 changed, {len(first) - 2} unchanged, 0 failed"
    stored = stored_versions(config)
    assert {i for i, versions in stored.items() if len(versions) > 1} == {report, indicator}
    for object_id in (report, indicator):
        old, new = stored[object_id]
        assert new["created"] == old["created"] == first[object_id][0]["created"]
        assert new["modified"] == "2024-07-01T09:00:00.000Z"
    old, new = stored[indicator]
    assert (old["confidence"], new["confidence"]) == (80, 40)
    assert new["valid_from"] == old["valid_from"] == old["created"]
    assert stored[report][1]["published"] == "2024-07-01T09:00:00.000Z"


def test_a_misp_event_is_published_as_it_converts(
    cli: Runner, config: Path, tmp_path: Path
) -> None:
    """publish reads every input convert reads (here a MISP event PyMISP wrote, told
    by its content) and stores exactly the converted bundle's objects."""
    from converters import convert_packages
    from tests.converters.inputs.misp_events import harbour_line_event, write_event

    event = write_event(harbour_line_event(), tmp_path / "event.json")
    expected = {o["id"]: o for o in convert_packages([event], kind="auto").bundle["objects"]}

    result = cli("publish", str(event), "--collection", "indicators", "--config", str(config))

    assert result.status == 0, result.err
    assert summary(result.out) == f"{len(expected)} new, 0 changed, 0 unchanged, 0 failed"
    assert {i: v[-1] for i, v in stored_versions(config).items()} == expected
