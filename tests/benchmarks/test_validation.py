"""``python -m benchmarks validation`` on a small mix: every row measured, and the
rows that bypass the pattern recogniser leave the validator as they found it."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from benchmarks import validation
from converters.validation import pattern_grammar, patterns


def test_pattern_rows_measure_the_sample_and_restore_the_recogniser(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    results = tmp_path / "validation.json"
    monkeypatch.setattr(validation, "RESULTS", results)
    args = argparse.Namespace(objects=200, seed=2, repeat=1, peer_objects=60, peers=True)
    assert validation.run(args) == 0
    rows = {row["validator"]: row for row in json.loads(results.read_text())["rows"]}
    for name in ("atlas-taxii, patterns by stix2patterns", "  after the one-comparison shortcut"):
        assert rows[name]["objects"] == 60 and rows[name]["cpu_seconds"] > 0
    assert patterns.quick_verdict is pattern_grammar.quick_verdict
