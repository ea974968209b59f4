"""``python -m benchmarks fleet`` end to end on a tiny fleet: a real server, every
path polled once per user over new connections, every answer checked."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks.__main__ import main


@pytest.mark.slow
def test_a_tiny_fleet_run_measures_every_path(tmp_path: Path) -> None:
    output = tmp_path / "fleet.json"
    argv = ["fleet", "--users", "3", "--objects", "120", "--store", "sqlite", "--peers", "none",
            "--clients", "2", "--output", str(output)]  # fmt: skip
    assert main(argv) == 0
    result = json.loads(output.read_text())
    (run,) = result["runs"]
    assert run["server"] == "atlas-taxii SQLite"
    paths = {r["path"]: r for r in run["results"]}
    assert list(paths) == [
        "API key, Bearer",
        "API key as Basic password",
        "password, Basic (scrypt, cold)",
    ]
    for measured in paths.values():
        assert measured["polls"] == 3 and measured["problems"] == []
        assert measured["p50_ms"] <= measured["p99_ms"]
    assert "load average" in result["table"] and result["load_average"]["start"]
