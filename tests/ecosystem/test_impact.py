"""Impact on hand-made maps: last remaining provider through any path, dominators
through chains and shared data points, ties by centrality, disruptions."""

from __future__ import annotations

from typing import Any

import pytest

from ecosystem import UnknownEntity, build_map, rank, simulate_removal

from .conftest import link, sco, sdo


def _service(name: str, category: str) -> dict[str, Any]:
    return sdo("infrastructure", name, infrastructure_types=["unknown"], labels=[category])


def _impacts(objects: list[dict[str, Any]]) -> dict[str, dict[str, tuple[str, ...]]]:
    emap = build_map(objects)
    named = {e.id: e.name for e in emap.entities.values()}
    return {
        c.entity.name: {named[a]: lost for a, lost in c.losses.items()}
        for c in rank(emap)
        if c.impact
    }


def test_a_second_provider_of_the_same_capability_protects_the_actor() -> None:
    crew, one, two = (
        sdo("threat-actor", "Crew"),
        _service("One", "cash-out"),
        _service("Two", "cash-out"),
    )
    hoster = _service("Host", "bulletproof-hosting")
    objects = [
        crew,
        one,
        two,
        hoster,
        link(crew, "uses", one),
        link(crew, "uses", two),
        link(crew, "uses", hoster),
    ]
    assert _impacts(objects) == {"Host": {"Crew": ("bulletproof-hosting",)}}


def test_a_shared_wallet_is_the_only_path_to_the_desk() -> None:
    crew, desk = sdo("threat-actor", "Crew"), _service("Desk", "cash-out")
    wallet = sco("cryptocurrency-wallet", "TWallet1")
    objects = [
        crew,
        desk,
        wallet,
        link(wallet, "related-to", crew),
        link(desk, "consists-of", wallet),
    ]
    assert _impacts(objects) == {
        "TWallet1": {"Crew": ("cash-out",)},
        "Desk": {"Crew": ("cash-out",)},
    }


def test_an_indicator_joins_its_sco_and_reaches_through_it() -> None:
    crew, kit = (
        sdo("threat-actor", "Crew"),
        sdo("tool", "Kit", tool_types=["credential-exploitation"]),
    )
    domain = sco("domain-name", "kit.example")
    indicator = sdo(
        "indicator",
        "kit.example",
        pattern="[domain-name:value = 'kit.example']",
        pattern_type="stix",
        valid_from="2024-01-01T00:00:00Z",
    )
    objects = [
        crew,
        kit,
        domain,
        indicator,
        link(indicator, "based-on", domain),
        link(indicator, "indicates", crew),
        link(indicator, "indicates", kit),
    ]
    emap = build_map(objects)
    point = emap.entities[emap.entity_of[indicator["id"]]]
    assert point.id == domain["id"] and point.members == tuple(
        sorted([domain["id"], indicator["id"]])
    )
    assert _impacts(objects)["kit.example"] == {"Crew": ("credential-exploitation",)}


def test_the_actor_behind_an_intrusion_set_depends_on_what_it_uses() -> None:
    person, group = sdo("threat-actor", "Person"), sdo("intrusion-set", "Group")
    backdoor = sdo("malware", "Backdoor", malware_types=["backdoor"], is_family=True)
    objects = [
        person,
        group,
        backdoor,
        link(group, "attributed-to", person),
        link(group, "uses", backdoor),
    ]
    assert _impacts(objects) == {"Backdoor": {"Group": ("backdoor",), "Person": ("backdoor",)}}


def test_a_service_hosted_on_another_runs_through_it() -> None:
    crew, panel = (
        sdo("threat-actor", "Crew"),
        sdo("malware", "Panel", malware_types=["ransomware"], is_family=True),
    )
    host = _service("Host", "bulletproof-hosting")
    objects = [crew, panel, host, link(crew, "uses", panel), link(host, "hosts", panel)]
    assert _impacts(objects) == {
        "Panel": {"Crew": ("bulletproof-hosting", "ransomware-as-a-service")},
        "Host": {"Crew": ("bulletproof-hosting",)},
    }


def test_ties_are_broken_by_centrality() -> None:
    a, b, c = sdo("threat-actor", "A"), sdo("threat-actor", "B"), sdo("threat-actor", "C")
    forum, shop = _service("Forum", "forum"), _service("Shop", "marketplace")
    other_shop = _service("Other shop", "marketplace")
    # Each is the last provider for one actor; C also buys at the shop (and elsewhere),
    # so more actor-to-capability paths run through the shop.
    objects = [a, b, c, forum, shop, other_shop]
    objects += [link(a, "uses", forum), link(b, "uses", shop)]
    objects += [link(c, "uses", shop), link(c, "uses", other_shop)]
    ranked = rank(build_map(objects))
    assert [(x.entity.name, x.impact, x.centrality) for x in ranked] == [
        ("Shop", 1, 1.5),
        ("Forum", 1, 1.0),
        ("Other shop", 0, 0.5),
    ]


def test_removing_unknown_ids_is_refused() -> None:
    crew = sdo("threat-actor", "Crew")
    with pytest.raises(UnknownEntity) as caught:
        simulate_removal(build_map([crew]), ["infrastructure--nope", crew["id"]])
    assert caught.value.ids == ("infrastructure--nope",)
