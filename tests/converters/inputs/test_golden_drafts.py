"""Every fixture input gives its golden draft package (``atlas-taxii extract``), and
converts (``convert --from auto``) to a bundle the OASIS stix2-validator accepts.

Regenerate the drafts after a deliberate change (fixtures/inputs/README.md)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from stix2validator import ValidationOptions, validate_string

from taxii_server.cli import main

from ..conftest import FIXTURES
from .misp_events import harbour_line_event, write_event

INPUTS = FIXTURES / "inputs"
#: input file -> its golden draft, and the extract options a text report needs.
FILES = {
    "report-harbour-line.txt": ("report-harbour-line.draft.yaml", ["--published", "2024-06-11"]),
    "urlhaus-recent.csv": ("urlhaus-recent-csv.draft.yaml", []),
    "urlhaus-recent.json": ("urlhaus-recent-json.draft.yaml", []),
    "threatfox-recent.json": ("threatfox-recent.draft.yaml", []),
    "misp-harbour-line.json": ("misp-harbour-line.draft.yaml", []),
}


def _input(name: str, directory: Path) -> Path:
    """The fixture input; the MISP event is made by PyMISP, here and now."""
    if name == "misp-harbour-line.json":
        return write_event(harbour_line_event(), directory / name)
    return INPUTS / name


@pytest.mark.parametrize("name", FILES)
def test_input_gives_its_golden_draft(name: str, tmp_path: Path) -> None:
    golden, options = FILES[name]
    output = tmp_path / golden
    assert main(["extract", str(_input(name, tmp_path)), *options, "-o", str(output)]) == 0
    assert output.read_text("utf-8") == (INPUTS / golden).read_text("utf-8"), (
        f"regenerate {golden}?"
    )


@pytest.mark.parametrize("name", [n for n in FILES if not n.endswith(".txt")])
def test_input_converts_to_a_valid_bundle(name: str, tmp_path: Path) -> None:
    bundle = tmp_path / "bundle.json"
    assert main(["convert", str(_input(name, tmp_path)), "-o", str(bundle)]) == 0
    results = validate_string(bundle.read_text("utf-8"), ValidationOptions(version="2.1"))
    assert [str(e) for e in results.errors] == []
    assert results.is_valid


def test_a_vetted_draft_converts(tmp_path: Path) -> None:
    draft = tmp_path / "draft.yaml"
    report = INPUTS / "report-harbour-line.txt"
    assert main(["extract", str(report), "--published", "2024-06-11", "-o", str(draft)]) == 0
    assert main(["convert", str(draft), "-o", str(tmp_path / "refused.json")]) == 2
    draft.write_text(draft.read_text("utf-8").replace("status: unverified", "status: vetted"))
    bundle = tmp_path / "bundle.json"
    assert main(["convert", str(draft), "-o", str(bundle)]) == 0
    objects = json.loads(bundle.read_bytes())["objects"]
    values = {o.get("value") or o.get("iban") for o in objects}
    assert {"bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq", "NL91ABNA0417164300"} <= values
    results = validate_string(bundle.read_text("utf-8"), ValidationOptions(version="2.1"))
    assert [str(e) for e in results.errors] == []
    assert results.is_valid
