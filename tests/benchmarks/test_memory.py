"""``python -m benchmarks memory`` runs end to end on a small load."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks import memory
from benchmarks.__main__ import main


@pytest.mark.slow
def test_the_memory_benchmark_reports_every_variant(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    results = tmp_path / "memory.json"
    monkeypatch.setattr(memory, "RESULTS", results)
    argv = ["memory", "--posts", "2", "--objects", "200", "--workers", "1", "--threads", "2"]
    assert main(argv) == 0
    written = json.loads(results.read_text())
    for variant in ("no-release", "malloc-trim", "max-requests"):
        assert written[variant]["largest_worker_after_last_mb"] > 0
        assert len(written[variant]["rss_after_each_mb"]) == 2
    assert "max_requests=4" in capsys.readouterr().out
