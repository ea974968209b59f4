"""What the map writes: the JSON document's fields, GraphML that networkx reads back,
an SVG that is well-formed, escapes names and stays readable at 200 nodes."""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import networkx as nx
import pytest

from benchmarks.ecosystem_data import write_packages
from converters import convert_package
from ecosystem import build_map, rank, simulate_removal
from ecosystem.document import map_document
from ecosystem.graphml import graphml_bytes
from ecosystem.svg import draw_svg

from .conftest import link, sdo
from .test_partners import CASH_OUT, HOSTER, KESTREL

_SVG = "{http://www.w3.org/2000/svg}"


def _parse(data: bytes) -> ET.Element:
    return ET.fromstring(data)  # noqa: S314 - our own output, parsed to check it


def test_the_json_document(partner_objects: list[dict[str, Any]]) -> None:
    emap = build_map(partner_objects)
    candidates = rank(emap)
    document = map_document(emap, candidates, simulate_removal(emap, [HOSTER[1]]))
    first = document["candidates"][0]
    assert set(first) >= {"id", "members", "name", "category", "impact", "actors", "declared"}
    assert (first["id"], first["members"], first["category"], first["impact"]) == (
        CASH_OUT[0],
        CASH_OUT,
        "cash-out",
        5,
    )
    assert first["declared"] is True and len(first["actors"]) == 5
    impacts = [c["impact"] for c in document["candidates"]]
    assert impacts == sorted(impacts, reverse=True)
    kestrel = next(a for a in document["actors"] if a["id"] == KESTREL)
    assert kestrel["capabilities"] == ["bulletproof-hosting", "cash-out", "mule-network"]
    assert {c["id"] for c in document["clusters"]} == {CASH_OUT[0], HOSTER[0]}
    assert document["removal"]["removed"][0]["id"] == HOSTER[0]
    ranks = {t["rank"] for d in document["declared"] for t in d["targets"]}
    assert {1, 2, 4} <= ranks
    assert document["stats"]["objects"] == len(partner_objects)


def test_graphml_reads_back_with_networkx(partner_objects: list[dict[str, Any]]) -> None:
    emap = build_map(partner_objects)
    data = graphml_bytes(emap, rank(emap))
    assert data.startswith(b'<?xml version="1.0" encoding="utf-8"?>')
    graph = nx.read_graphml(io.BytesIO(data))
    assert graph.nodes[CASH_OUT[0]]["rank"] == 1
    assert graph.nodes[CASH_OUT[0]]["kind"] == "service"
    kinds = {k for _, _, k in graph.edges(data="kind")}
    assert kinds == {"depends-on", "targets", "declared"}


def test_svg_escapes_what_producers_wrote() -> None:
    crew = sdo("threat-actor", '<script>alert("x")</script>')
    desk = sdo("infrastructure", "Desk & Co </text>", labels=["cash-out"])
    emap = build_map([crew, desk, link(crew, "uses", desk)])
    data = draw_svg(emap, rank(emap))
    root = _parse(data)  # well-formed
    assert b"<script>" not in data
    texts = [t.text for t in root.iter(f"{_SVG}text")]
    assert "Desk & Co </text>" in texts


def _boxes(root: ET.Element) -> list[tuple[float, float, float]]:
    return [
        (float(r.get("x", 0)), float(r.get("y", 0)), float(r.get("width", 0)))
        for r in root.iter(f"{_SVG}rect")
        if r.get("rx")
    ]


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    folder = tmp_path_factory.mktemp("generated")
    return [o for p in write_packages(folder, 8) for o in convert_package(p)["objects"]]


def test_svg_is_readable_at_200_nodes(generated: list[dict[str, Any]]) -> None:
    emap = build_map(generated)
    candidates = rank(emap)
    root = _parse(draw_svg(emap, candidates, top=10))
    boxes = _boxes(root)
    assert 150 <= len(boxes) <= 260  # thousands of data points grouped per service
    by_column: dict[float, list[float]] = {}
    for x, y, _ in boxes:
        by_column.setdefault(x, []).append(y)
    for ys in by_column.values():  # no two boxes of a column overlap
        ys.sort()
        assert all(b - a >= 22 for a, b in zip(ys, ys[1:], strict=False))
    for group in root.iter(f"{_SVG}g"):
        rect, text = group.find(f"{_SVG}rect"), group.find(f"{_SVG}text")
        assert rect is not None and text is not None and text.text
        assert len(text.text) * 7.2 <= float(rect.get("width", 0))  # labels fit their box
    badges = [t.text or "" for t in root.iter(f"{_SVG}text") if t.get("class") == "badge"]
    assert sum(1 for b in badges if re.match(r"#\d+ impact \d+", b)) >= 10


def test_a_picture_of_the_partners(partner_objects: list[dict[str, Any]]) -> None:
    emap = build_map(partner_objects)
    root = _parse(draw_svg(emap, rank(emap), removed=[HOSTER[0]]))
    classes = [g.get("class") for g in root.iter(f"{_SVG}g")]
    assert classes.count("actor") == 5
    assert "service top removed" in classes


def test_the_picture_in_the_docs_is_what_the_command_draws(
    partner_objects: list[dict[str, Any]],
) -> None:
    # Regenerate with: atlas-taxii map fixtures/packages/NSB-2024-0412.yaml
    #   fixtures/packages/VLX-2024-0088.json fixtures/packages/BWS-2024-1107.yaml
    #   --format svg -o docs/map.svg
    emap = build_map(partner_objects)
    picture = Path(__file__).resolve().parents[2] / "docs" / "map.svg"
    assert draw_svg(emap, rank(emap), top=20) == picture.read_bytes()


def test_svg_draws_the_actors_depending_on_most_services() -> None:
    desk = sdo("infrastructure", "Desk", labels=["cash-out"])
    host = sdo("infrastructure", "Host", labels=["bulletproof-hosting"])
    crews = [sdo("threat-actor", f"Crew {n:03d}") for n in range(200)]
    objects = [desk, host, *crews, *(link(c, "uses", desk) for c in crews)]
    objects += [link(c, "uses", host) for c in crews[:10]]
    emap = build_map(objects)
    root = _parse(draw_svg(emap, rank(emap)))
    drawn = {g.findtext(f"{_SVG}title") for g in root.iter(f"{_SVG}g") if g.get("class") == "actor"}
    assert len(drawn) == 150
    assert {f"Crew {n:03d}" for n in range(10)} <= drawn  # they depend on both
    assert any(
        "50 actors depending on fewer of them not drawn" in (t.text or "")
        for t in root.iter(f"{_SVG}text")
    )
