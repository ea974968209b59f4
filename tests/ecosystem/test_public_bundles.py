"""Real public STIX 2.1 bundles: the OASIS threat-report examples (APT1, Poison Ivy)
that the stix2-validator package ships.  They are read from the installed package at
test time, not copied into this repository."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

import pytest

from ecosystem import build_map, rank
from ecosystem.document import map_document
from ecosystem.svg import draw_svg


def _example(name: str) -> list[dict[str, Any]]:
    path = resources.files("stix2validator").joinpath(
        "schemas-2.1", "examples", "threat-reports", name
    )
    objects: list[dict[str, Any]] = json.loads(path.read_bytes())["objects"]
    return objects


def test_apt1_ranks_the_only_dropper_of_ugly_gorilla_first() -> None:
    emap = build_map(_example("apt1.json"))
    names = {e.id: e.name for e in emap.entities.values()}
    assert {e.name for e in emap.of_kind("actor")} >= {"APT1", "Ugly Gorilla", "SuperHard"}
    top = rank(emap)[0]
    # Ugly Gorilla uses WEBC2-UGX and MANITSME, both backdoors; only MANITSME drops.
    assert top.entity.name == "MANITSME"
    assert {names[a]: lost for a, lost in top.losses.items()} == {"Ugly Gorilla": ("dropper",)}
    # An indicator of HTRAN is one of its data points, reached by no actor.
    assert any(e.name == "HTRAN Hop Point Accessor" for e in emap.of_kind("data-point"))


@pytest.mark.parametrize("name", ["apt1.json", "poisonivy.json"])
def test_public_bundles_build_and_draw(name: str) -> None:
    emap = build_map(_example(name))
    candidates = rank(emap)
    document = map_document(emap, candidates)
    assert len(document["candidates"]) == len(candidates) > 0
    assert draw_svg(emap, candidates).startswith(b"<?xml")
