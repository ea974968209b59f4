"""``atlas-taxii convert``: output, exit statuses, no partial files, progress."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import pytest

from converters import convert_package, serialize_bundle
from converters.spec import DEFAULT_MAPPING
from taxii_server.cli import main
from taxii_server.cli.progress import ProgressBar

from .conftest import PACKAGES

EXAMPLE = PACKAGES / "RP-2024-0007.yaml"
#: A package with a withheld source (a warning) and an unverified data point.
WARNED = PACKAGES / "RP-2024-0031.yaml"


def test_writes_the_bundle_to_stdout(capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    assert main(["convert", str(EXAMPLE), "-o", "-"]) == 0
    captured = capsysbinary.readouterr()
    assert captured.out == serialize_bundle(convert_package(EXAMPLE)) + b"\n"
    assert captured.err.decode() == ""


def test_stdout_is_the_default(capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    assert main(["convert", str(EXAMPLE)]) == 0
    assert json.loads(capsysbinary.readouterr().out)["type"] == "bundle"


def test_writes_a_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    output = tmp_path / "bundle.json"
    assert main(["convert", str(EXAMPLE), "-o", str(output)]) == 0
    bundle = json.loads(output.read_bytes())
    assert capsys.readouterr().err.splitlines() == [
        f"{output}: {len(bundle['objects'])} STIX objects"
    ]
    umask = os.umask(0)
    os.umask(umask)
    assert output.stat().st_mode & 0o777 == 0o666 & ~umask
    assert [p.name for p in tmp_path.iterdir()] == ["bundle.json"]  # no temporary left


def test_several_packages_make_one_bundle(capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    packages = [str(PACKAGES / "RP-2024-0031.yaml"), str(PACKAGES / "RP-2024-0075.json")]
    assert main(["convert", "--allow-unverified", *packages]) == 0
    objects = json.loads(capsysbinary.readouterr().out)["objects"]
    assert len([o for o in objects if o["type"] == "report"]) == 2
    assert len({o["id"] for o in objects}) == len(objects)


def test_strict_refuses_warnings(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    output = tmp_path / "bundle.json"
    assert main(["convert", "--allow-unverified", str(WARNED), "-o", str(output)]) == 0
    warning = capsys.readouterr().err.splitlines()[0]
    assert ": warning: source 'le-liaison' is tlp red" in warning
    assert main(["convert", "--allow-unverified", "--strict", str(WARNED), "-o", "x"]) == 2
    assert capsys.readouterr().err.splitlines()[0] == warning
    assert not Path("x").exists()


def _broken_mapping(tmp_path: Path) -> Path:
    """A mapping whose indicators carry a pattern that does not parse."""
    text = DEFAULT_MAPPING.read_text("utf-8").replace(
        "pattern: {object: observable, transform: stix_pattern}", "pattern: {value: '[broken'}"
    )
    path = tmp_path / "broken.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_bundle_that_does_not_validate_is_not_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    output = tmp_path / "bundle.json"
    output.write_text("previous bundle", encoding="utf-8")
    mapping = _broken_mapping(tmp_path)
    assert main(["convert", str(EXAMPLE), "--mapping", str(mapping), "-o", str(output)]) == 1
    assert output.read_text("utf-8") == "previous bundle"  # untouched
    lines = capsys.readouterr().err.splitlines()
    assert lines[-1] == "atlas-taxii: error: the bundle does not validate as STIX 2.1 (5 problems)"
    assert all(".pattern: indicator--" in line for line in lines[1:-1])
    assert "Traceback" not in "\n".join(lines)


def test_no_validate_writes_it_anyway(tmp_path: Path) -> None:
    output = tmp_path / "bundle.json"
    mapping = _broken_mapping(tmp_path)
    args = ["convert", str(EXAMPLE), "--mapping", str(mapping), "--no-validate", "-o", str(output)]
    assert main(args) == 0
    assert "[broken" in output.read_text("utf-8")


def test_an_invalid_mapping_is_bad_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text("schema_version: 2\n", encoding="utf-8")
    assert main(["convert", str(EXAMPLE), "--mapping", str(mapping)]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err == [
        f"{mapping}: $ (line 1): missing required field 'package_kind'",
        f"{mapping}: $ (line 1): missing required field 'created_by'",
        f"{mapping}: $ (line 1): missing required field 'objects'",
        f"{mapping}: $.schema_version (line 1): expected one of 1; got 2",
        f"atlas-taxii: error: {mapping}: not a valid mapping file (4 problems)",
    ]


def test_an_unwritable_output_is_reported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    output = tmp_path / "missing-directory" / "bundle.json"
    assert main(["convert", str(EXAMPLE), "-o", str(output)]) == 2
    assert capsys.readouterr().err.splitlines()[-1] == (
        f"atlas-taxii: error: cannot write {output}: No such file or directory"
    )


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bar_only_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ProgressBar, "_DELAY", 0.0)
    terminal = _Terminal()
    bar = ProgressBar(terminal)
    bar("map RP-2024-0007", 3, 12)
    assert terminal.getvalue() == "\rmap RP-2024-0007         [#######.......................] 3/12"
    bar.clear()
    assert terminal.getvalue().endswith("\r")
    pipe = io.StringIO()
    quiet = ProgressBar(pipe)
    quiet("map RP-2024-0007", 3, 12)
    quiet.clear()
    assert pipe.getvalue() == ""


def test_progress_bar_waits_before_drawing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ProgressBar, "_DELAY", 3600.0)
    terminal = _Terminal()
    bar = ProgressBar(terminal)  # a conversion that ends within the delay
    bar("check", 1, 1)
    assert terminal.getvalue() == ""
