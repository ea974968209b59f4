"""Entity resolution beyond the partners' fixtures: duplicate-of, kinds kept apart,
one package's own services kept apart, --cluster-by."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from converters import convert_package
from ecosystem import build_map, rank

from .conftest import PACKAGES, link, sco, sdo


def test_duplicate_of_merges_the_same_kind_only() -> None:
    one, two = sdo("threat-actor", "One"), sdo("intrusion-set", "Two")
    host = sdo("infrastructure", "Host", infrastructure_types=["hosting-malware"])
    objects = [one, two, host, link(one, "duplicate-of", two), link(one, "duplicate-of", host)]
    emap = build_map(objects)
    (cluster,) = emap.clusters
    assert cluster.members == tuple(sorted([one["id"], two["id"]]))
    assert [e.reason for e in cluster.evidence] == ["duplicate-of"]
    assert emap.entities[cluster.entity].name in ("One / Two", "Two / One")


def _tied(wallet_type: str) -> list[dict[str, Any]]:
    crew = sdo("threat-actor", "Crew")
    desk_a = sdo("infrastructure", "Desk A", labels=["cash-out"])
    desk_b = sdo("infrastructure", "Desk B", labels=["cash-out"])
    wallet = sco(wallet_type, "TWallet")
    return [
        crew,
        desk_a,
        desk_b,
        wallet,
        link(crew, "uses", desk_a),
        link(crew, "uses", desk_b),
        link(desk_a, "consists-of", wallet),
        link(desk_b, "consists-of", wallet),
        link(wallet, "related-to", crew),  # an actor and a service: never merged
    ]


def test_a_shared_wallet_merges_services_not_the_actor_paying_into_it() -> None:
    emap = build_map(_tied("cryptocurrency-wallet"))
    (cluster,) = emap.clusters
    assert set(cluster.names) == {"Desk A", "Desk B"}
    assert rank(emap)[0].impact == 1


def test_weak_data_points_and_cluster_by() -> None:
    assert build_map(_tied("domain-name")).clusters == ()
    assert build_map(_tied("cryptocurrency-wallet"), strong_types=()).clusters == ()
    assert len(build_map(_tied("domain-name"), strong_types=["domain-name"]).clusters) == 1


def test_one_package_keeps_its_own_services_apart(tmp_path: Path) -> None:
    # RP-2024-0068 ties its OTC desk and its mule network to the same accounts: its
    # author listed them as two services, so they stay two.
    emap = build_map(convert_package(PACKAGES / "RP-2024-0068.yaml")["objects"])
    assert emap.clusters == ()
    names = [c.entity.name for c in rank(emap)[:3]]
    assert "Informal OTC desk" in names
