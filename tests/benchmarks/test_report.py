"""The benchmark tables: ratios against the better peer in both directions, peers that
were stopped or given fewer objects marked, problems listed."""

from __future__ import annotations

from benchmarks.figures import Figure, Measure
from benchmarks.report import TargetRun, size_table


def _run(name: str, kind: str, figures: list[Figure], size: int = 1000) -> TargetRun:
    run = TargetRun(name, kind, "sqlite" if kind == "atlas" else "memory", size)
    run.measures.append(Measure("m", "method", figures))
    return run


def _row(table: str, label: str) -> list[str]:
    line = next(line for line in table.splitlines() if line.startswith(label))
    return line[len(label) :].split()


def test_ratios_favour_higher_rates_and_lower_latencies() -> None:
    ours = _run(
        "atlas-taxii sqlite",
        "atlas",
        [
            Figure("rate", "rate", 1000.0, "objects/s", True),
            Figure("p99", "latency", 2.0, "ms", False),
        ],
    )
    slow = _run(
        "peer A",
        "medallion",
        [
            Figure("rate", "rate", 50.0, "objects/s", True),
            Figure("p99", "latency", 40.0, "ms", False),
        ],
    )
    better = _run(
        "peer B",
        "opentaxii",
        [
            Figure("rate", "rate", 200.0, "objects/s", True, "stopped at the limit"),
            Figure("p99", "latency", 10.0, "ms", False),
        ],
    )
    table = size_table([ours], [slow, better])
    assert _row(table, "rate") == ["1,000", "50", "200*", "x5.0"]
    assert _row(table, "latency") == ["2.00", "ms", "40.00", "ms", "10.00", "ms", "x5.0"]
    assert "* peer B, rate: stopped at the limit" in table


def test_a_figure_no_peer_has_gets_no_ratio_and_problems_are_listed() -> None:
    ours = _run("atlas-taxii sqlite", "atlas", [Figure("rate", "rate", 10.0, "objects/s", True)])
    ours.measures[0].problems.append("read 9 objects, expected 10")
    peer = _run("peer", "medallion", [], size=100)
    peer.unavailable = "cannot install medallion==3.0.0: no network"
    table = size_table([ours], [peer])
    assert _row(table, "rate") == ["10", "—", "—"]
    assert "! atlas-taxii sqlite: m: read 9 objects, expected 10" in table
    assert "! peer: unavailable: cannot install medallion==3.0.0: no network" in table
    assert "peer (100)" in table.splitlines()[0]
