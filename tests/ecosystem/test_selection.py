"""What the map reads: the latest visible version, revoked objects dropped, TLP
clearance as the server applies it, objects it does not use ignored."""

from __future__ import annotations

from typing import Any

from converters.tlp import rank_of_level
from ecosystem import build_map, rank

from .conftest import link, marked, sco, sdo
from .test_partners import GANNET, MALLARD


def _crew_and_desk() -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    crew = sdo("threat-actor", "Crew")
    desk = sdo("infrastructure", "Desk", infrastructure_types=["unknown"], labels=["cash-out"])
    return crew, desk, link(crew, "uses", desk)


def test_the_latest_version_counts_whatever_the_order() -> None:
    crew, desk, uses = _crew_and_desk()
    renamed = {**desk, "name": "Desk (renamed)", "modified": "2024-01-01T00:00:00.5Z"}
    for objects in ([crew, desk, renamed, uses], [renamed, uses, desk, crew]):
        emap = build_map(objects)
        assert emap.entities[desk["id"]].name == "Desk (renamed)"


def test_a_revoked_latest_version_drops_the_object() -> None:
    crew, desk, uses = _crew_and_desk()
    revoked = {**desk, "modified": "2024-02-01T00:00:00.000Z", "revoked": True}
    emap = build_map([crew, desk, uses, revoked])
    assert desk["id"] not in emap.entities
    assert emap.stats.revoked == 1
    assert rank(emap) == []


def test_objects_above_the_clearance_do_not_exist() -> None:
    crew, desk, uses = _crew_and_desk()
    emap = build_map([crew, marked(desk, "amber"), uses], clearance=rank_of_level("green"))
    assert desk["id"] not in emap.entities
    assert emap.stats.above_clearance == 1
    assert emap.graph.number_of_edges() == 0


def test_a_version_above_the_clearance_leaves_the_visible_one() -> None:
    crew, desk, uses = _crew_and_desk()
    secret = marked({**desk, "name": "Desk (red)", "modified": "2024-03-01T00:00:00Z"}, "red")
    emap = build_map([crew, desk, secret, uses], clearance=rank_of_level("amber"))
    assert emap.entities[desk["id"]].name == "Desk"


def test_the_vendor_alone_at_green(partner_objects: list[dict[str, Any]]) -> None:
    emap = build_map(partner_objects, clearance=rank_of_level("green"))
    assert {e.name for e in emap.of_kind("actor")} == {"Mallard", "Gannet"}
    top = rank(emap)[0]
    assert top.entity.name == "Orchid cash-out (Telegram)"
    assert top.actors == tuple(sorted([MALLARD, GANNET]))
    assert emap.clusters == ()  # the bank's Stormcloud is amber: same_as points nowhere


def test_what_the_map_does_not_use_is_ignored() -> None:
    crew, desk, uses = _crew_and_desk()
    noise: list[Any] = [
        "not an object",
        {"type": "note", "id": "note--1"},
        {"id": "x"},
        {"type": "attack-pattern", "id": "attack-pattern--1", "name": "Phishing"},
        link(crew, "uses", {"id": "attack-pattern--1"}),
        link(crew, "uses", {"id": "infrastructure--not-there"}),
        sco("domain-name", "orphan.example"),
    ]
    emap = build_map([crew, desk, uses, *noise])
    assert emap.stats.objects == 10
    assert set(emap.graph.edges) == {(crew["id"], desk["id"])}
    assert rank(emap)[0].losses == {crew["id"]: ("cash-out",)}
