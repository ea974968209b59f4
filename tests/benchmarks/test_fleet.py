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
    floor, run = result["runs"]
    # The machine's own cost first: a minimal server polled the same way.
    assert floor["server"] == "floor: a minimal threaded HTTP server"
    assert [(r["path"], r["polls"], r["problems"]) for r in floor["results"]] == [
        ("no credentials", 3, []),
        ("no credentials", 3, []),
    ]
    assert run["server"] == "atlas-taxii SQLite"
    measured = [(r["path"], r["offered_per_s"]) for r in run["results"]]
    # Each path paced at the default 100 polls/s, then flat out.
    assert measured == [
        (path, rate)
        for path in (
            "API key, Bearer",
            "API key as Basic password",
            "password, Basic (scrypt, cold)",
        )
        for rate in (100.0, None)
    ]
    for one in run["results"]:
        assert one["polls"] == 3 and one["problems"] == []
        assert one["p50_ms"] <= one["p99_ms"]
    assert "p50 / p99 at 100/s (ms)" in result["table"] and "capacity (polls/s)" in result["table"]
    assert "load average" in result["table"] and result["load_average"]["start"]
