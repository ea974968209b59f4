"""``atlas-taxii map`` on files and on a collection of the local store: the ranked
table, JSON, GraphML and SVG to a file, --remove, --clearance, clear refusals."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import networkx as nx
import pytest

from tests.ecosystem.conftest import PARTNERS, link, sdo
from tests.ecosystem.test_partners import CASH_OUT, HOSTER, KESTREL

from .conftest import Runner

ROOT = Path(__file__).resolve().parents[2]
FILES = [str(p) for p in PARTNERS]


def _row(out: str, rank: int) -> str:
    return next(line for line in out.splitlines() if line.startswith(f"{rank} "))


def test_the_table_ranks_the_shared_cash_out_path_first(cli: Runner) -> None:
    result = cli("map", *FILES)
    assert result.status == 0, result.err
    first = _row(result.out, 1)
    assert "cash-out" in first and "(3 merged)" in first and " yes " in first
    for crew in ("Gannet", "Kestrel crew", "Mallard", "Reedbuck", "Silver Fox"):
        assert crew in first
    assert "Stormcloud" in _row(result.out, 2)
    assert "same_as infrastructure--" in result.out  # the clusters' evidence
    assert "Block payments to the Orchid desk: Orchid" in result.out
    assert "#1" in result.out


def test_json_to_a_file(cli: Runner, tmp_path: Path) -> None:
    output = tmp_path / "map.json"
    result = cli("map", *FILES, "--format", "json", "-o", str(output))
    assert result.status == 0, result.err
    assert result.out == "" and "18 candidates, 2 clusters" in result.err
    document = json.loads(output.read_bytes())
    first = document["candidates"][0]
    assert (first["id"], first["members"], first["impact"]) == (CASH_OUT[0], CASH_OUT, 5)


def test_remove(cli: Runner) -> None:
    result = cli("map", *FILES, "--remove", HOSTER[1])
    assert result.status == 0, result.err
    assert "Removing Stormcloud hosting / Stormcloud BPH" in result.out
    assert "Kestrel crew loses bulletproof-hosting" in result.out
    assert "data points left without an owner: " in result.out
    unknown = cli("map", *FILES, "--remove", "infrastructure--nope")
    assert unknown.status == 2
    assert "--remove: not in the map: infrastructure--nope" in unknown.err


@pytest.mark.parametrize("fmt", ["graphml", "svg"])
def test_drawings_to_a_file(cli: Runner, tmp_path: Path, fmt: str) -> None:
    output = tmp_path / f"map.{fmt}"
    assert cli("map", *FILES, "--format", fmt, "-o", str(output)).status == 0
    data = output.read_bytes()
    if fmt == "graphml":
        assert nx.read_graphml(output).nodes[CASH_OUT[0]]["rank"] == 1
    else:
        assert data.startswith(b"<?xml") and b"Orchid" in data


def test_a_collection_of_the_store_gives_the_same_map(cli: Runner) -> None:
    published = cli("publish", *FILES, "--collection", "indicators")
    assert published.status == 0, published.err
    result = cli("map", "--collection", "indicators", "--format", "json")
    assert result.status == 0, result.err
    document = json.loads(result.out)
    assert document["candidates"][0]["members"] == CASH_OUT
    reasons = {e["reason"] for c in document["clusters"] for e in c["evidence"]}
    assert reasons == {"same_as", "cryptocurrency-wallet"}  # same_as survived the store
    green = json.loads(
        cli("map", "--collection", "indicators", "--format", "json", "--clearance", "green").out
    )
    assert {a["name"] for a in green["actors"]} == {"Mallard", "Gannet"}
    assert KESTREL not in {a["id"] for a in green["actors"]}


def test_names_cannot_drive_the_terminal(cli: Runner, tmp_path: Path) -> None:
    crew = sdo("threat-actor", "Crew\x1b[2J\x1b[31m")
    desk = sdo("infrastructure", "Desk\r\nforged line", labels=["cash-out"])
    bundle = tmp_path / "bundle.json"
    bundle.write_text(
        json.dumps(
            {"type": "bundle", "id": "bundle--1", "objects": [crew, desk, link(crew, "uses", desk)]}
        )
    )
    result = cli("map", str(bundle))
    assert result.status == 0
    assert "\x1b" not in result.out and "\r" not in result.out
    assert "Crew\\x1b[2J\\x1b[31m" in result.out and "Desk\\r\\nforged line" in result.out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ([], "nothing to map"),
        (["--url", "http://127.0.0.1:9/taxii2/"], "--url needs --collection"),
        ([*FILES, "--top", "0"], "--top must be at least 1"),
        (["missing.json"], "missing.json: no such file"),
        (["--collection", "nope"], "no collection with id, alias or title 'nope'"),
    ],
)
def test_bad_requests_are_refused(cli: Runner, argv: list[str], message: str) -> None:
    result = cli("map", *argv)
    assert result.status == 2
    assert message in result.err


def test_the_same_input_gives_the_same_bytes() -> None:
    bundles = [str(ROOT / "fixtures" / "bundles" / f"{p.stem}.json") for p in PARTNERS]
    command = [str(Path(sys.executable).parent / "atlas-taxii"), "map", *bundles]
    outputs = set()
    for seed in ("1", "2"):  # set and dict orders differ between the two processes
        for fmt in ("json", "svg"):
            env = {**os.environ, "PYTHONHASHSEED": seed}
            done = subprocess.run(
                [*command, "--format", fmt], env=env, capture_output=True, check=True
            )
            outputs.add((fmt, done.stdout))
    assert len(outputs) == 2
