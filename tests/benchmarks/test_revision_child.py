"""The child of ``python -m benchmarks before-after`` runs on this tree's interpreter the
way it runs on an earlier revision's: by path, printing one JSON line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from benchmarks.convert import generate_package
from benchmarks.stix_mix import realistic_objects

_CHILD = Path(__file__).resolve().parents[2] / "benchmarks" / "revision_child.py"


def _run(measure: str, source: Path) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, str(_CHILD), measure, str(source), "1"],
        capture_output=True, text=True, cwd=source.parent, check=True,
    )  # fmt: skip
    result: dict[str, float] = json.loads(done.stdout)
    return result


def test_validation_counts_the_objects_it_checked(tmp_path: Path) -> None:
    source = tmp_path / "objects.json"
    source.write_text(json.dumps(realistic_objects(50, 3)))
    result = _run("validation", source)
    assert result["objects"] == 50 and result["wall_s"] > 0 and result["cpu_s"] >= 0


def test_convert_counts_the_objects_of_the_bundle(tmp_path: Path) -> None:
    result = _run("convert", generate_package(tmp_path, 20, 3))
    assert result["objects"] > 20 and result["wall_s"] > 0
