"""Input mappings (MISP, feed files) are data checked in full when loaded."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from converters import MappingError
from converters.inputs.feeds import load_feeds
from converters.inputs.input_mapping import MAPPINGS_DIR
from converters.inputs.misp_mapping import DEFAULT_MISP_MAPPING, load_misp_mapping


@pytest.mark.parametrize("name", ["misp.schema.json", "feed.schema.json"])
def test_the_schemas_are_valid_schemas(name: str) -> None:
    jsonschema.Draft7Validator.check_schema(json.loads((MAPPINGS_DIR / name).read_bytes()))


def test_every_shipped_input_mapping_loads() -> None:
    assert load_misp_mapping().attributes["ip-dst"][0].type == "ip"
    assert {(f.name, f.format) for f in load_feeds()} == {
        ("urlhaus", "csv"), ("urlhaus", "json"), ("threatfox", "json"),
    }  # fmt: skip


def test_a_misp_mapping_is_checked_in_full(tmp_path: Path) -> None:
    text = DEFAULT_MISP_MAPPING.read_text("utf-8")
    text = text.replace("md5: {type: file-md5}", "md5: {type: file-md55}")
    text = text.replace("bank.swift: {from: [swift]}", "bank.swfit: {from: [swift]}")
    text = text.replace("default_tlp: amber", "default_tlp: orange")
    path = tmp_path / "misp.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(MappingError) as caught:
        load_misp_mapping(path)
    # The schema problem first (the rest is checked once the shape is right).
    assert [(p.path, p.line) for p in caught.value.problems] == [("$.package.default_tlp", 23)]
    path.write_text(text.replace("default_tlp: orange", "default_tlp: amber"), encoding="utf-8")
    with pytest.raises(MappingError) as caught:
        load_misp_mapping(path)
    messages = [f"{p.path}: {p.message}" for p in caught.value.problems]
    assert messages[0].startswith("$.attributes.md5.type: 'file-md55' is not a data-point type")
    assert messages[1].startswith(
        "$.objects.bank-account.fields.bank.swfit: 'bank.swfit' is not a data-point field"
    )


def test_a_feed_file_is_checked_in_full(tmp_path: Path) -> None:
    text = (MAPPINGS_DIR / "feeds" / "threatfox-json.yaml").read_text("utf-8")
    text = text.replace("role: {field: threat_type, table: roles}",
                        "role: {field: threat_type, table: rolez}")  # fmt: skip
    text = text.replace("sha256_hash: file-sha256", "sha256_hash: file-sha512")
    text = text.replace("confidence: {field:", "confidance: {field:")
    path = tmp_path / "feed.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(MappingError) as caught:
        load_feeds(path)
    messages = [f"{p.path} (line {p.line}): {p.message}" for p in caught.value.problems]
    assert any("$.record.role.table" in m and "no table 'rolez'" in m for m in messages)
    assert any("'confidance' is not a data-point field" in m for m in messages)
    assert any("'file-sha512' is not a data-point type" in m for m in messages)
