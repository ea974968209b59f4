"""The default mapping applied: what research-package.md says each item becomes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from converters import (
    MappingError,
    Policy,
    convert_package,
    convert_packages,
    load_mapping,
    serialize_bundle,
)
from converters.extensions import ATLAS_EXTENSION_ID
from converters.ids import object_id, relationship_id
from converters.relationships import defined_by_stix
from converters.spec import DEFAULT_MAPPING
from converters.timestamps import PROJECT_EPOCH
from converters.tlp import MARKING_IDS, TLP_EXTENSION_ID

from .conftest import PACKAGE_FILES, PACKAGES

CLEAR, AMBER, RED = MARKING_IDS["clear"], MARKING_IDS["amber"], MARKING_IDS["red"]


@pytest.fixture(scope="module")
def example() -> dict[str, dict[str, Any]]:
    """The example package's objects by id."""
    bundle = convert_package(PACKAGES / "RP-2024-0007.yaml")
    return {obj["id"]: obj for obj in bundle["objects"]}


def _of_type(objects: dict[str, dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [o for o in objects.values() if o["type"] == kind]


def _links(objects: dict[str, dict[str, Any]], kind: str) -> set[tuple[str, str]]:
    return {
        (o["source_ref"], o["target_ref"])
        for o in _of_type(objects, "relationship")
        if o["relationship_type"] == kind
    }


def _owned(package_id: str, kind: str, ref: str) -> str:
    return object_id(kind, package_id, ref)


def test_report(example: dict[str, dict[str, Any]]) -> None:
    report = example[object_id("report", "RP-2024-0007")]
    assert report["name"] == "Harbourline phishing-as-a-service and its cash-out chain"
    assert report["published"] == "2024-06-11T09:00:00.000Z"
    assert (
        report["report_types"] == report["labels"] == ["phishing", "bank-fraud", "money-laundering"]
    )
    assert (report["created"], report["modified"]) == (
        "2024-05-02T09:00:00.000Z",
        "2024-06-11T09:00:00.000Z",
    )
    meta = {"marking-definition", "extension-definition", "report"}
    assert report["object_refs"] == [i for i, o in example.items() if o["type"] not in meta]
    assert report["object_marking_refs"] == [AMBER]


def test_identities_and_created_by(example: dict[str, dict[str, Any]]) -> None:
    producer = object_id("identity", "organisation", "Example Bank FIU")
    other = object_id("identity", "organisation", "Example Exchange Security")
    assert example[producer]["identity_class"] == "organization"
    assert other in example[object_id("report", "RP-2024-0007")]["object_refs"]
    for obj in example.values():
        shared = obj.get("created") == PROJECT_EPOCH
        if obj["type"] in ("marking-definition", "extension-definition") or "created" not in obj:
            continue
        assert ("created_by_ref" in obj) is not shared, obj["id"]
        if not shared:
            assert obj["created_by_ref"] == producer


def test_actors(example: dict[str, dict[str, Any]]) -> None:
    actor = example[_owned("RP-2024-0007", "threat-actor", "harbourline")]
    assert actor["threat_actor_types"] == ["crime-syndicate"]
    assert actor["aliases"] == ["HBL", "Harbour Line Team"]
    assert actor["primary_motivation"] == "personal-gain"
    assert actor["external_references"] == [
        {
            "source_name": "Underground forum advertisement (archived)",
            "description": "osint, retrieved 2024-04-12T00:00:00.000Z",
        },
        {"source_name": "urlscan.io", "description": "osint", "url": "https://urlscan.io/"},
    ]
    technique = example[object_id("attack-pattern", "T1566.002")]
    assert (technique["created"], technique["modified"]) == (PROJECT_EPOCH, PROJECT_EPOCH)
    assert (actor["id"], technique["id"]) in _links(example, "uses")
    russia = object_id("location", "RU")
    assert (actor["id"], russia) in _links(example, "located-at")
    herder = _owned("RP-2024-0007", "threat-actor", "mule-herder")
    person = _owned("RP-2024-0007", "identity", "mule-herder")
    assert example[person]["identity_class"] == "individual"
    assert example[person]["object_marking_refs"] == [RED]  # the actor's TLP, not the package's
    assert (herder, person) in _links(example, "attributed-to")
    for sector_or_country in (
        object_id("identity", "sector", "financial-services"),
        object_id("location", "NL"),
    ):
        assert (actor["id"], sector_or_country) in _links(example, "targets")


def test_services(example: dict[str, dict[str, Any]]) -> None:
    kit = example[_owned("RP-2024-0007", "infrastructure", "hbl-kit")]
    assert kit["infrastructure_types"] == ["phishing", "hosting-malware"]
    actor = _owned("RP-2024-0007", "threat-actor", "harbourline")
    assert (actor, kit["id"]) in _links(example, "owns")
    assert (actor, _owned("RP-2024-0007", "infrastructure", "bp-host")) in _links(example, "uses")


def test_data_points(example: dict[str, dict[str, Any]]) -> None:
    indicators = {o["name"]: o for o in _of_type(example, "indicator")}
    domain = indicators["secure-login-examplebank.top"]
    assert domain["pattern"] == "[domain-name:value = 'secure-login-examplebank.top']"
    assert domain["pattern_type"] == "stix"
    assert domain["valid_from"] == "2024-04-30T00:00:00.000Z"  # first_seen
    # Without first_seen: first_published (the indicator's created), not the revision's
    # published, so a later revision does not change it.
    assert indicators["203.0.113.77"]["valid_from"] == "2024-05-02T09:00:00.000Z"
    assert indicators["203.0.113.77"]["valid_from"] == indicators["203.0.113.77"]["created"]
    assert domain["extensions"][ATLAS_EXTENSION_ID] == {
        "extension_type": "property-extension",
        "role": "phishing",
        "vetting": {"status": "vetted"},
    }
    sco = next(o for o in _of_type(example, "domain-name"))
    assert "extensions" not in sco  # its role and vetting are on its indicator
    assert (domain["id"], sco["id"]) in _links(example, "based-on")
    assert (domain["id"], _owned("RP-2024-0007", "infrastructure", "hbl-kit")) in _links(
        example, "indicates"
    )
    wallet = next(
        o for o in _of_type(example, "cryptocurrency-wallet") if o["value"].startswith("T")
    )
    assert wallet["object_marking_refs"] == [RED]
    assert wallet["extensions"][ATLAS_EXTENSION_ID]["currency"] == "USDT-TRC20"
    assert wallet["extensions"]["extension-definition--be78509e-6958-51b1-8b26-d17ee0eba2d7"] == {
        "extension_type": "new-sco"
    }
    mules = _owned("RP-2024-0007", "infrastructure", "mules")
    assert (mules, wallet["id"]) in _links(example, "consists-of")
    account = next(o for o in _of_type(example, "user-account"))
    assert (account["id"], _owned("RP-2024-0007", "threat-actor", "harbourline")) in _links(
        example, "related-to"
    )
    bank = next(o for o in _of_type(example, "bank-account"))
    assert example[bank["issuer_ref"]]["name"] == "Example Bank"
    assert example[bank["country_ref"]]["country"] == "NL"


def test_chokepoints_mitigate_only_where_stix_allows(example: dict[str, dict[str, Any]]) -> None:
    action = example[_owned("RP-2024-0007", "course-of-action", "cp-host")]
    assert action["extensions"][ATLAS_EXTENSION_ID] == {
        "extension_type": "property-extension",
        "priority": "high",
        "actions": ["takedown-request", "domain-suspension"],
        "stakeholders": ["registrar", "hosting-provider", "cert"],
    }
    targets = {
        example[t]["type"]: kind
        for kind in ("mitigates", "related-to")
        for s, t in _links(example, kind)
        if s == action["id"]
    }
    assert targets == {"indicator": "mitigates", "infrastructure": "related-to"}
    for source, target in _links(example, "mitigates"):
        assert defined_by_stix(example[source]["type"], "mitigates", example[target]["type"])


def test_markings(example: dict[str, dict[str, Any]]) -> None:
    definitions = [o["id"] for o in example.values() if o["type"] == "marking-definition"]
    assert definitions == [CLEAR, AMBER, RED]  # the levels used, by rank
    assert TLP_EXTENSION_ID in example
    herder = _owned("RP-2024-0007", "threat-actor", "mule-herder")
    for relationship in _of_type(example, "relationship"):
        ends = (relationship["source_ref"], relationship["target_ref"])
        if herder in ends:  # a red end makes the relationship red
            assert relationship["object_marking_refs"] == [RED]
    # Shared by every package (public names, countries, techniques): identical
    # everywhere, so TLP:CLEAR rather than the package's level.
    for kind in ("location", "attack-pattern"):
        assert all(o["object_marking_refs"] == [CLEAR] for o in _of_type(example, kind))
    identities = _of_type(example, "identity")
    authors = [o for o in identities if "created_by_ref" not in o]
    assert authors and all(o["object_marking_refs"] == [CLEAR] for o in authors)
    report = _of_type(example, "report")[0]
    assert report["object_marking_refs"] == [AMBER]  # the package's own object


@pytest.mark.parametrize("path", PACKAGE_FILES, ids=lambda p: p.name)
def test_conversion_is_deterministic(path: Path) -> None:
    allowed = Policy(allow_unverified=True)
    first = serialize_bundle(convert_package(path, policy=allowed))
    assert serialize_bundle(convert_package(path, policy=allowed)) == first


def test_changing_what_a_category_or_role_becomes_is_a_yaml_edit(tmp_path: Path) -> None:
    text = DEFAULT_MAPPING.read_text("utf-8")
    # A mule network becomes a tool (moved between the two tables), and a phishing
    # data point's indicator says "anomalous-activity".
    edited = text.replace("    mule-network: [unknown]\n", "").replace(
        "    crypter: [unknown]\n", "    crypter: [unknown]\n    mule-network: [unknown]\n"
    )
    edited = edited.replace(
        "    phishing: [malicious-activity]\n", "    phishing: [anomalous-activity]\n"
    )
    assert edited != text
    path = tmp_path / "mapping.yaml"
    path.write_text(edited, encoding="utf-8")
    bundle = convert_package(PACKAGES / "RP-2024-0007.yaml", mapping=load_mapping(path))
    objects = {o["id"]: o for o in bundle["objects"]}
    mules = objects[_owned("RP-2024-0007", "tool", "mules")]
    assert mules["tool_types"] == ["unknown"]
    assert _owned("RP-2024-0007", "infrastructure", "mules") not in objects
    domain = next(o for o in objects.values() if o.get("name") == "secure-login-examplebank.top")
    assert domain["indicator_types"] == ["anomalous-activity"]
    # the wallet of the mule network is now related-to the tool (no consists-of from a tool)
    wallet = next(
        o for o in objects.values() if o.get("value") == "TLNWXMdHNv8GkLeCmMrNi4op852835vKmG"
    )
    assert objects[relationship_id(wallet["id"], "related-to", mules["id"])]


def test_a_mapping_gap_is_reported_with_item_and_rule(tmp_path: Path) -> None:
    text = DEFAULT_MAPPING.read_text("utf-8").replace(
        "    bulletproof-hosting: [hosting-malware]\n", ""
    )
    path = tmp_path / "mapping.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(MappingError) as caught:
        convert_package(PACKAGES / "RP-2024-0007.yaml", mapping=load_mapping(path))
    problems = [p.located() for p in caught.value.problems]
    package = PACKAGES / "RP-2024-0007.yaml"
    assert problems[0] == (
        f"{package}: $.data_points[2].linked_to[0] (line 61): item 'bp-host' has no object "
        "tagged actor, service (mapping mapping.yaml $.relationships[8])"
    )
    assert len(problems) == 4 and all("'bp-host'" in p for p in problems)


def test_several_packages_make_one_bundle(tmp_path: Path) -> None:
    amber = PACKAGES / "RP-2024-0007.yaml"
    green = tmp_path / "green.yaml"
    green.write_text(
        amber.read_text("utf-8")
        .replace("id: RP-2024-0007", "id: RP-2024-0008")
        .replace("tlp: amber", "tlp: green"),
        encoding="utf-8",
    )
    converted = convert_packages([amber, green])
    objects = converted.bundle["objects"]
    ids = [o["id"] for o in objects]
    assert len(ids) == len(set(ids))
    russia = next(o for o in objects if o["id"] == object_id("location", "RU"))
    assert russia["object_marking_refs"] == [CLEAR]  # shared: the same in both packages
    domain = next(o for o in objects if o.get("value") == "secure-login-examplebank.top")
    assert domain["object_marking_refs"] == [MARKING_IDS["green"]]  # the least restrictive copy
    reports = [o for o in objects if o["type"] == "report"]
    assert len(reports) == 2
    # SCO extensions differ between the two packages only by nothing: no warning but the IBAN's
    assert [w.message for w in converted.warnings if "differs" in w.message] == []


def test_custom_fields_travel_in_the_project_extension(tmp_path: Path) -> None:
    path = tmp_path / "package.yaml"
    path.write_text(
        "format: atlas-package/1\nid: RP-2024-0998\nrevision: 1\ntitle: Custom fields\n"
        "published: 2024-06-11\ntlp: green\nauthors: [{name: Example Bank FIU}]\n"
        "x_case: C-1\n"
        "actors:\n"
        "  - {ref: a, name: A, kind: individual, x_rank: 2, identity: {name: J, x_checked: true}}\n"
        "data_points:\n"
        "  - {ref: d, type: domain, value: a.example, x_seen_in: [mail], vetting: {x_tkt: T-9}}\n"
        "  - {ref: b, type: bank-account, value: NL64EXMP0417728391, bank: {x_branch: 7}}\n"
        "chokepoints:\n"
        "  - {ref: c, title: T, targets: [a], actions: [arrest-referral], x_owner: LE}\n",
        encoding="utf-8",
    )
    objects = convert_package(path)["objects"]

    def carried(kind: str) -> dict[str, Any]:
        obj = next(o for o in objects if o["type"] == kind)
        return dict(obj["extensions"][ATLAS_EXTENSION_ID])

    assert carried("report")["x_case"] == "C-1"
    assert carried("threat-actor")["x_rank"] == 2
    assert carried("course-of-action")["x_owner"] == "LE"
    indicator = carried("indicator")
    assert indicator["x_seen_in"] == ["mail"]
    assert indicator["vetting"] == {"x_tkt": "T-9", "status": "vetted"}
    assert carried("bank-account")["x_branch"] == 7
    person = next(o for o in objects if o["type"] == "identity" and o["name"] == "J")
    assert person["extensions"][ATLAS_EXTENSION_ID]["x_checked"] is True
