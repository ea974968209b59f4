"""The three partners' packages: the shared cash-out path ranks first with every crew
that depends on it, then the shared hoster, the kit, the mule network; clusters show
their evidence; declared choke points show where they rank; --remove says who loses
what."""

from __future__ import annotations

from typing import Any

import pytest

from converters.ids import object_id
from ecosystem import EcosystemMap, build_map, rank, simulate_removal
from ecosystem.model import Evidence

from .conftest import owned

BANK, EXCHANGE, VENDOR = "NSB-2024-0412", "VLX-2024-0088", "BWS-2024-1107"

KESTREL = owned(BANK, "threat-actor", "kestrel")
SILVER_FOX = owned(EXCHANGE, "threat-actor", "silver-fox")
REEDBUCK = owned(EXCHANGE, "threat-actor", "reedbuck")
MALLARD = owned(VENDOR, "threat-actor", "mallard")
GANNET = owned(VENDOR, "threat-actor", "gannet")

CASH_OUT = sorted(
    [
        owned(BANK, "infrastructure", "orchid-desk"),
        owned(EXCHANGE, "infrastructure", "orchid-otc"),
        owned(VENDOR, "infrastructure", "orchid-tg"),
    ]
)
HOSTER = sorted(
    [owned(BANK, "infrastructure", "cloud-bph"), owned(VENDOR, "infrastructure", "stormcloud")]
)
KIT = owned(VENDOR, "tool", "mallard-kit")
MULES = owned(BANK, "infrastructure", "kestrel-mules")


@pytest.fixture(scope="module")
def emap(partner_objects: list[dict[str, Any]]) -> EcosystemMap:
    return build_map(partner_objects)


def test_the_shared_cash_out_path_ranks_first_with_every_dependent_actor(
    emap: EcosystemMap,
) -> None:
    ranked = rank(emap)
    top = [(c.entity.members, c.category, c.impact, c.losses) for c in ranked[:4]]
    assert top == [
        (
            tuple(CASH_OUT),
            "cash-out",
            5,
            {a: ("cash-out",) for a in sorted([KESTREL, SILVER_FOX, REEDBUCK, MALLARD, GANNET])},
        ),
        (
            tuple(HOSTER),
            "bulletproof-hosting",
            3,
            {a: ("bulletproof-hosting",) for a in sorted([KESTREL, MALLARD, GANNET])},
        ),
        ((KIT,), "phishing-kit", 2, {a: ("phishing-kit",) for a in sorted([MALLARD, GANNET])}),
        ((MULES,), "mule-network", 1, {KESTREL: ("mule-network",)}),
    ]
    assert [c.rank for c in ranked] == list(range(1, len(ranked) + 1))
    assert all(c.impact == 0 and c.entity.kind == "data-point" for c in ranked[4:])
    assert ranked[0].id == CASH_OUT[0]
    assert ranked[0].entity.name == "Orchid cash-out (Telegram) / Orchid exchange desk / Orchid OTC"


def test_candidates_say_which_packages_declared_them(emap: EcosystemMap) -> None:
    ranked = rank(emap)
    assert [c.declared for c in ranked[:4]] == [True, True, False, True]
    rank_of = {c.id: c.rank for c in ranked}
    wallets = {d.name: [rank_of[t] for t in d.targets] for d in emap.declarations}
    assert wallets["Block payments to the Orchid desk"] == [1]
    assert wallets["Have Stormcloud's upstream providers cut it off"] == [2]
    assert wallets["Freeze the Kestrel mule accounts before balances move on"] == [4]
    # The exchange froze the desk's deposit wallets: declared, but every crew reaches
    # the desk without them, so they rank among the data points of impact 0.
    frozen = wallets["Freeze the Orchid deposit addresses at the issuing exchanges"]
    assert len(frozen) == 2 and min(frozen) > 4


def test_clusters_show_their_evidence(emap: EcosystemMap) -> None:
    clusters = {c.entity: c for c in emap.clusters}
    assert set(clusters) == {CASH_OUT[0], HOSTER[0]}
    hoster = clusters[HOSTER[0]]
    assert hoster.evidence == (
        Evidence(
            "same_as", owned(VENDOR, "infrastructure", "stormcloud"), HOSTER[0], tuple(HOSTER)
        ),
    )
    cash_out = clusters[CASH_OUT[0]]
    assert sorted((e.reason, e.value) for e in cash_out.evidence) == [
        ("cryptocurrency-wallet", "TJC8L31jkAdrjw9HSaXizBXZcKs6FuiVtR"),
        ("cryptocurrency-wallet", "bc1qfmrzw8u54z50ucjjz2qmu4v9s9jwvluw42n0lv"),
    ]
    assert set(cash_out.names) == {
        "Orchid exchange desk",
        "Orchid OTC",
        "Orchid cash-out (Telegram)",
    }
    assert {e.members for e in cash_out.evidence} == {
        tuple(
            sorted(
                [
                    owned(BANK, "infrastructure", "orchid-desk"),
                    owned(EXCHANGE, "infrastructure", "orchid-otc"),
                ]
            )
        ),
        tuple(
            sorted(
                [
                    owned(EXCHANGE, "infrastructure", "orchid-otc"),
                    owned(VENDOR, "infrastructure", "orchid-tg"),
                ]
            )
        ),
    }


def test_entities_know_their_packages(emap: EcosystemMap) -> None:
    report = {p: object_id("report", p) for p in (BANK, EXCHANGE, VENDOR)}
    assert emap.entities[CASH_OUT[0]].packages == tuple(sorted(report.values()))
    assert emap.entities[KESTREL].packages == (report[BANK],)
    assert emap.packages[report[VENDOR]].startswith("Mallard phishing kit")


def test_removing_the_hoster(emap: EcosystemMap) -> None:
    disruption = simulate_removal(emap, [owned(VENDOR, "infrastructure", "stormcloud")])
    assert disruption.removed == (HOSTER[0],)
    assert disruption.losses == {
        a: ("bulletproof-hosting",) for a in sorted([KESTREL, MALLARD, GANNET])
    }
    orphans = sorted(emap.entities[i].name for i in disruption.orphaned)
    assert orphans == ["198.51.100.23", "198.51.100.24", "AS64500"]
    titles = sorted(emap.packages[p] for p in disruption.packages)
    assert len(titles) == 2 and not any("Orchid OTC" in t for t in titles)


def test_removing_an_actor_and_a_wallet(emap: EcosystemMap) -> None:
    wallet = next(e.id for e in emap.entities.values() if e.name.startswith("0x5f0ae"))
    disruption = simulate_removal(emap, [SILVER_FOX])
    assert disruption.losses == {SILVER_FOX: ("cash-out",)}
    assert disruption.orphaned == (wallet,)
    assert simulate_removal(emap, [wallet]).losses == {}


def test_victims_are_what_the_actors_target(emap: EcosystemMap) -> None:
    victims = sorted(e.name for e in emap.entities.values() if e.kind == "victim")
    assert victims == ["BE", "DE", "GB", "NL", "financial-services"]  # no author, no bank
    assert (KESTREL, emap.entity_of[object_id("location", "NL")]) in emap.targets
