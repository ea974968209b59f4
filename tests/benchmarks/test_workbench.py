"""The workbench benchmark runs, and measures every page it names."""

from __future__ import annotations

from benchmarks.workbench import _measure


def test_the_workbench_benchmark_measures_every_page() -> None:
    results = _measure(300, 1)
    assert set(results) == {
        "list: first page",
        "list: deep page",
        "list: type",
        "list: TLP",
        "search: common",
        "search: rare",
        "search: none",
        "object page",
    }
    assert all(r["median_ms"] > 0 and r["cpu_ms"] >= 0 for r in results.values())
