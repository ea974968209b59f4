"""``atlas-taxii validate``, driven through ``taxii_server.cli.main``."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path
from typing import Any

import pytest

from taxii_server.cli import main

from .reference import schema_examples

_ID = "8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"
_STAMP = "2024-05-01T10:00:00.000Z"
INDICATOR: dict[str, Any] = {
    "type": "indicator",
    "spec_version": "2.1",
    "id": f"indicator--{_ID}",
    "created": _STAMP,
    "modified": _STAMP,
    "pattern": "[ipv4-addr:value = '198.51.100.7']",
    "pattern_type": "stix",
    "valid_from": _STAMP,
}


def _bundle(*objects: dict[str, Any]) -> dict[str, Any]:
    return {"type": "bundle", "id": f"bundle--{_ID}", "objects": list(objects)}


def _write(directory: Path, name: str, content: object) -> str:
    path = directory / name
    path.write_text(content if isinstance(content, str) else json.dumps(content), "utf-8")
    return str(path)


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    status = main(["validate", *argv])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_a_valid_bundle_exits_0_with_a_summary(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    name = _write(tmp_path, "ok.json", _bundle(INDICATOR, INDICATOR))
    assert _run(capsys, name) == (0, f"{name}: valid, 2 objects\n", "")


def test_each_problem_is_one_line_with_file_object_path_and_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = {**INDICATOR, "valid_from": "2024-13-01T00:00:00Z"}
    name = _write(tmp_path, "bad.json", _bundle(INDICATOR, bad))
    status, out, err = _run(capsys, name)
    assert status == 1 and err == ""
    lines = out.splitlines()
    assert lines[0] == (
        f"{name}: indicator--{_ID} $.objects[1].valid_from: '2024-13-01T00:00:00Z' is not a "
        "valid timestamp: expected RFC 3339 in UTC such as 2024-05-01T10:00:00Z"
    )
    assert lines[-1] == f"{name}: 1 problem in 1 of 2 objects"


def test_several_files_one_bad_exit_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = _write(tmp_path, "good.json", _bundle(INDICATOR))
    bad = _write(tmp_path, "bad.json", {**INDICATOR, "pattern": 5})
    status, out, _ = _run(capsys, good, bad)
    assert status == 1
    assert f"{good}: valid, 1 object" in out
    assert f"{bad}: indicator--{_ID} $.pattern: expected a string, got an integer (5)" in out


@pytest.mark.parametrize(
    ("content", "where"),
    [
        ('{"type": "bundle",\n  "objects": [}', "line 2, column 15"),
        ("", "line 1, column 1"),
        ("[1, NaN]", "line 1, column 5"),
    ],
)
def test_not_json_exits_2_with_line_and_column(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, where: str
) -> None:
    good = _write(tmp_path, "good.json", _bundle(INDICATOR))
    broken = _write(tmp_path, "broken.json", content)
    status, out, err = _run(capsys, broken, good)
    assert status == 2
    assert err.startswith(f"{broken}: not JSON: ") and where in err
    assert f"{good}: valid" in out  # the other files are still checked
    assert "Traceback" not in out + err


def test_an_unreadable_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = _run(capsys, str(tmp_path / "missing.json"))
    assert status == 2 and "missing.json: cannot read: No such file or directory" in err
    status, _, err = _run(capsys, str(tmp_path))
    assert status == 2 and "cannot read" in err


def test_stdin_and_byte_order_mark(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    data = b"\xef\xbb\xbf" + json.dumps(_bundle(INDICATOR)).encode()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
    assert _run(capsys, "-") == (0, "<stdin>: valid, 1 object\n", "")


@pytest.mark.parametrize(
    ("document", "path"),
    [
        ({**INDICATOR, "pattern_type": 1}, "$.pattern_type"),
        ({"objects": [INDICATOR, {**INDICATOR, "pattern_type": 1}]}, "$.objects[1].pattern_type"),
        ([INDICATOR, {**INDICATOR, "pattern_type": 1}], "$[1].pattern_type"),
    ],
    ids=["object", "envelope", "array"],
)
def test_objects_envelopes_and_arrays(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], document: object, path: str
) -> None:
    name = _write(tmp_path, "doc.json", document)
    status, out, _ = _run(capsys, name)
    assert status == 1
    assert f"{name}: indicator--{_ID} {path}: expected a string" in out


def test_json_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = _write(tmp_path, "good.json", _bundle(INDICATOR))
    bad = _write(tmp_path, "bad.json", _bundle({**INDICATOR, "id": "indicator--1"}))
    broken = _write(tmp_path, "broken.json", "{")
    status, out, err = _run(capsys, "--json", good, bad, broken)
    assert status == 2 and err == ""
    report = json.loads(out)
    assert report["valid"] is False
    by_file = {entry["file"]: entry for entry in report["files"]}
    assert by_file[good] == {"file": good, "valid": True, "objects": 1, "problems": []}
    assert by_file[bad]["problems"] == [
        {
            "object_id": "indicator--1",
            "path": "$.objects[0].id",
            "message": "'indicator--1' is not a valid STIX identifier: expected <type>--<UUID>, "
            "such as indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
        }
    ]
    assert by_file[broken]["error"]["line"] == 1 and by_file[broken]["valid"] is False


def test_the_oasis_examples_are_valid(capsys: pytest.CaptureFixture[str]) -> None:
    files = sorted(str(p) for p in schema_examples().rglob("*.json"))
    assert any(f.endswith("poisonivy.json") for f in files)
    status, out, _ = _run(capsys, *files)
    assert status == 0, out
    assert out.count(": valid, ") == len(files)
