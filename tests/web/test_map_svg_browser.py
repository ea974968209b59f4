"""``atlas-taxii map --format svg`` opened in a real browser (Debian's Chromium): the
picture renders, and with the browser's own fonts every label fits its box and no two
boxes overlap, for the three partners' map in the docs and for a 200-node map.
(tests/ecosystem/test_outputs.py checks the same from the SVG's numbers, with an
estimated character width; this measures what a reader sees.)"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page

from benchmarks.ecosystem_data import write_packages
from converters import convert_package
from ecosystem import build_map, rank
from ecosystem.svg import draw_svg

ROOT = Path(__file__).resolve().parents[2]

# Per node group: its box and its label's rendered extent, in SVG user units.
_MEASURE = """() => [...document.querySelectorAll('g')].flatMap(g => {
  const rect = g.querySelector('rect'), text = g.querySelector('text');
  if (!rect || !text) return [];
  const r = rect.getBBox(), t = text.getBBox();
  return [{label: text.textContent, rect: [r.x, r.y, r.width, r.height],
           text: [t.x, t.y, t.width, t.height]}];
})"""


def _overlap(a: list[float], b: list[float]) -> bool:
    return a[0] < b[0] + b[2] and b[0] < a[0] + a[2] and a[1] < b[1] + b[3] and b[1] < a[1] + a[3]


def _check(page: Page, svg: Path, screenshot: Path) -> list[dict[str, Any]]:
    page.goto(svg.as_uri())
    nodes: list[dict[str, Any]] = page.evaluate(_MEASURE)
    assert nodes, "no node was drawn"
    for node in nodes:
        (rx, _, rw, _), (tx, _, tw, _) = node["rect"], node["text"]
        assert tw > 0, f"label {node['label']!r} is not rendered"
        assert rx <= tx and tx + tw <= rx + rw + 0.5, f"label {node['label']!r} overflows its box"
    boxes = [n["rect"] for n in nodes]
    for i, a in enumerate(boxes):
        assert not any(_overlap(a, b) for b in boxes[i + 1 :]), f"{nodes[i]['label']!r} overlaps"
    page.screenshot(path=str(screenshot))
    return nodes


def test_the_docs_picture_renders_readably(page: Page, screenshots: Path) -> None:
    nodes = _check(page, ROOT / "docs" / "map.svg", screenshots / "map-svg-partners.png")
    labels = " ".join(n["label"] for n in nodes)
    assert "cash-out" in labels.lower() or "Orchid" in labels


def test_a_200_node_picture_renders_readably(page: Page, screenshots: Path, tmp_path: Path) -> None:
    objects = [o for p in write_packages(tmp_path, 8) for o in convert_package(p)["objects"]]
    emap = build_map(objects)
    svg = tmp_path / "map.svg"
    svg.write_bytes(draw_svg(emap, rank(emap), top=10))
    nodes = _check(page, svg, screenshots / "map-svg-200-nodes.png")
    assert len(nodes) >= 150


@pytest.fixture(autouse=True)
def _viewport(page: Page) -> None:
    page.set_viewport_size({"width": 1600, "height": 1000})
