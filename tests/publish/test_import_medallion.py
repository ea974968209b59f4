"""``atlas-taxii import-medallion``: data files written by medallion's own code, and
hand-made edge cases (fixtures/medallion/edge-cases.json)."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from converters import convert_package
from taxii_server.medallion_import import uuid4_for
from taxii_server.settings import load_settings
from taxii_server.storage import open_storage
from taxii_server.storage.base import ObjectQuery, VersionSelector
from taxii_server.timestamps import parse_timestamp

from .conftest import EXAMPLE, Runner

ROOT = Path(__file__).resolve().parent.parent.parent
EDGE_CASES = ROOT / "fixtures" / "medallion" / "edge-cases.json"
CONFIG = """
[storage]
url = "sqlite:///{db}"
"""


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "atlas-taxii.toml"
    path.write_text(CONFIG.format(db=tmp_path / "atlas.db"))
    return path


def stored(config: Path, api_root: str) -> dict[str, list[tuple[str, str, dict[str, Any]]]]:
    """Per collection title: (id, version, object) of every stored version in
    date_added order."""
    storage = open_storage(load_settings(config).storage_url, migrate=True)
    try:
        found = {}
        for collection in storage.list_collections(api_root):
            page = storage.query_objects(
                collection.id,
                ObjectQuery(clearance=4, limit=10_000, versions=VersionSelector(all=True)),
            )
            found[collection.title] = [
                (item.id, collection.id, json.loads(item.data)) for item in page.items
            ]
        return found
    finally:
        storage.close()


def _version(obj: dict[str, Any]) -> int:
    return parse_timestamp(obj.get("modified") or obj.get("created") or obj["_date_added"])


def medallion_order(collection: dict[str, Any]) -> list[tuple[str, int]]:
    """(id, version) of medallion's objects in its date_added order (file order on ties)."""
    added = {
        (m["id"], parse_timestamp(m["version"])): m["date_added"] for m in collection["manifest"]
    }
    keyed = [(o["id"], _version(o)) for o in collection["objects"]]
    return sorted(keyed, key=lambda k: parse_timestamp(added[k]))


needs_medallion = pytest.mark.skipif(
    importlib.util.find_spec("medallion") is None,
    reason="medallion is not installed (it is in the test extra: pip install -e '.[test]')",
)


@needs_medallion
def test_a_data_file_written_by_medallion_arrives_complete(
    cli: Runner, config: Path, tmp_path: Path
) -> None:
    objects = convert_package(EXAMPLE)["objects"]
    indicator = next(o for o in objects if o["type"] == "indicator")
    later = [
        dict(indicator, modified=f"2024-0{month}-01T00:00:00.000Z", name=f"version {month}")
        for month in (7, 8)
    ]
    posts = [
        [0, {"objects": objects}],
        [0, {"objects": [later[0]]}],
        [1, {"objects": objects[40:]}],
        [0, {"objects": [later[1]]}],
        [1, {"objects": objects[:40]}],
    ]
    (tmp_path / "posts.json").write_text(json.dumps(posts))
    data_file = tmp_path / "medallion.json"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.publish.medallion_data",
            str(data_file),
            str(tmp_path / "posts.json"),
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    data = json.loads(data_file.read_text())

    result = cli("import-medallion", str(data_file), "--config", str(config))

    assert result.status == 0, result.err
    first, second = data["trustgroup1"]["collections"]
    new_id = uuid4_for("trustgroup1", second["id"])
    lines = result.out.splitlines()
    assert lines[0] == "API root trustgroup1: created"
    assert lines[1] == (
        f"trustgroup1/'High Value Indicator Collection' {first['id']}: new collection, "
        f"{len(objects) + 2} object version(s) added, 0 already there, 0 refused"
    )
    assert lines[2] == (
        f"trustgroup1/'Adding objects' {second['id']}: new collection, {len(objects)} object "
        f"version(s) added, 0 already there, 0 refused; id {second['id']} is not a UUIDv4 "
        f"(Microsoft Sentinel accepts no other form): imported as {new_id}"
    )
    ours = stored(config, "trustgroup1")
    for title, collection, collection_id in (
        ("High Value Indicator Collection", first, first["id"]),
        ("Adding objects", second, new_id),
    ):
        # Every version arrived, with medallion's content, in medallion's date_added order.
        by_key = {(o["id"], _version(o)): o for o in collection["objects"]}
        expected = [
            {k: v for k, v in by_key[key].items() if k != "_date_added"}
            for key in medallion_order(collection)
        ]
        assert [o for _, _, o in ours[title]] == expected
        assert {c for _, c, _ in ours[title]} == {collection_id}

    again = cli("import-medallion", str(data_file), "--config", str(config))
    assert again.status == 0
    assert (
        "new collection" not in again.out
        and "API root trustgroup1: exists, kept as it is" in again.out
    )
    assert f"0 object version(s) added, {len(objects) + 2} already there" in again.out
    assert stored(config, "trustgroup1") == ours


def test_edge_cases(cli: Runner, config: Path) -> None:
    result = cli("import-medallion", str(EDGE_CASES), "--config", str(config))
    assert result.status == 1
    data = json.loads(EDGE_CASES.read_text())
    first, second = data["fraud"]["collections"]
    derived = uuid4_for("fraud", first["id"])
    assert result.out.splitlines() == [
        "API root fraud: created",
        f"fraud/'Refund scams' {first['id']}: new collection, 5 object version(s) added, "
        f"0 already there, 2 refused; id {first['id']} is not a UUIDv4 (Microsoft Sentinel "
        f"accepts no other form): imported as {derived}",
        f"fraud/'Refund scams' {second['id']}: new collection, 1 object version(s) added, "
        "0 already there, 0 refused; title already used: imported as 'Refund scams (2)'",
        "note: discovery title 'Old medallion' not imported: "
        "set [server] title in the configuration",
        "note: default API root 'http://localhost:5000/fraud/' not imported: "
        "set [server] default_api_root",
        "note: 1 status resource(s) not imported (they expire after a day)",
        "note: access is not imported (medallion's can_read/can_write apply to every user): "
        "grant it per user with 'atlas-taxii users grant'",
    ]
    refused = result.err.splitlines()
    assert refused[0] == (
        f"{EDGE_CASES}: $['fraud'].collections[0].objects[4] malware--c0931cc6-c75e-47e5-9036-"
        "78fabc95d4ec: a STIX 2.0 object (no spec_version): atlas-taxii stores STIX 2.1 only; "
        "upgrade it (for example with the OASIS stix2-elevator) and publish it again"
    )
    assert refused[1].startswith(
        f"{EDGE_CASES}: $['fraud'].collections[0].objects[5] indicator--6d2e8f0a-1b3c-4d5e-8f7a-"
        "9b0c1d2e3f4a: $['fraud'].collections[0].objects[5]"
    )
    assert "pattern" in refused[1]
    ours = stored(config, "fraud")
    order = [(i, o.get("modified")) for i, _, o in ours["Refund scams"]]
    indicator = "indicator--0b5c3a1e-7d2f-4c8a-9e6b-1f3d5a7c9e2b"
    assert order == [
        (indicator, "2024-03-01T00:00:00.000Z"),
        ("domain-name--ce99d92d-f062-5ef3-9e4a-a54d5cf8a54e", None),
        (indicator, "2024-05-01T00:00:00.000Z"),  # added before the April version
        (indicator, "2024-04-01T00:00:00.000Z"),
        ("identity--8a9b0c1d-2e3f-4a5b-8c6d-7e8f9a0b1c2d", "2024-02-01T00:00:00.000Z"),  # unlisted
    ]
    assert all("_date_added" not in o for _, _, o in ours["Refund scams"])
    assert [c for _, c, _ in ours["Refund scams (2)"]] == [second["id"]]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        pytest.param("{oops", "not JSON: ", id="not-json"),
        pytest.param("[]", "$: expected a JSON object (a medallion data file)", id="list"),
        pytest.param('{"/discovery": {}}', "$: no API roots", id="no-roots"),
        pytest.param(
            '{"a b": {"information": {"title": "x"}}}',
            "$['a b']: an API root name must be",
            id="name",
        ),
        pytest.param(
            '{"r": {"information": {"title": "x"}, "collections": [{"id": "x"}]}}',
            "$['r'].collections[0].title: expected a string",
            id="title",
        ),
    ],
)
def test_a_file_that_is_not_a_medallion_data_file_imports_nothing(
    cli: Runner, config: Path, tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "data.json"
    path.write_text(content)
    result = cli("import-medallion", str(path), "--config", str(config))
    assert result.status == 2
    (line,) = result.err.splitlines()
    assert line.startswith(f"atlas-taxii: error: {path}: ") and message in line
    assert line.endswith("(nothing was imported)")
    storage = open_storage(load_settings(config).storage_url, migrate=True)
    try:
        assert storage.list_api_roots() == []
    finally:
        storage.close()
