"""How a marking ranks (converters.tlp): every TLP form in use, ids compared as STIX
defines them, and anything else above RED (issue 9, finding 1)."""

from __future__ import annotations

import json
from typing import Any

import pytest
import stix2

from converters.signing.artifact import signature_artifact
from converters.tlp import (
    ADMIN_ONLY,
    BUILT_IN_DEFINITIONS,
    MARKING_DEFINITIONS,
    MARKING_IDS,
    OPENCTI_IDS,
    TLP_EXTENSION_ID,
    defined_ranks,
    definition_rank,
    is_genuine,
    marking_refs,
    object_rank,
)
from ecosystem.records import Selection

PARTNER = "marking-definition--3a1c4c0e-7f1b-4d8e-9a57-0b6f2f1e5d11"
UNKNOWN = "marking-definition--0d6e3a2f-9b1c-4f7e-8a5d-3c2b1a0f9e87"


def _definition(**content: Any) -> dict[str, Any]:
    return {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": PARTNER,
        "created": "2024-01-01T00:00:00.000Z",
        **content,
    }


def _tlp_2_0(level: str) -> dict[str, Any]:
    return {
        "extensions": {TLP_EXTENSION_ID: {"extension_type": "property-extension", "tlp_2_0": level}}
    }


@pytest.mark.parametrize(
    ("content", "rank"),
    [
        pytest.param(_tlp_2_0("red"), 4, id="tlp-2.0-extension-red"),
        pytest.param(_tlp_2_0("amber+strict"), 3, id="tlp-2.0-extension-amber-strict"),
        pytest.param(_tlp_2_0("clear"), 0, id="tlp-2.0-extension-clear"),
        pytest.param(_tlp_2_0("RED"), ADMIN_ONLY, id="tlp-2.0-level-not-a-level"),
        pytest.param(_tlp_2_0("pink"), ADMIN_ONLY, id="tlp-2.0-unknown-level"),
        pytest.param(
            {"definition_type": "tlp", "definition": {"tlp": "amber"}}, 2, id="tlp-definition-type"
        ),
        pytest.param(
            {"definition_type": "tlp", "definition": {"tlp": "white"}}, 0, id="tlp-1.0-white"
        ),
        pytest.param(
            {"definition_type": "tlp", "definition": {"tlp": "green"}, **_tlp_2_0("red")},
            4,
            id="both-the-higher",
        ),
        pytest.param(
            {"definition_type": "statement", "definition": {"statement": "Copyright"}},
            0,
            id="statement",
        ),
        pytest.param(
            {"definition_type": "statement", "definition": {"statement": "x"}, **_tlp_2_0("red")},
            4,
            id="statement-with-tlp",
        ),
        pytest.param(
            {"definition_type": "PAP", "definition": {"PAP": "PAP:RED"}}, ADMIN_ONLY, id="pap"
        ),
        pytest.param(
            {"extensions": {"extension-definition--1e6f1e1c-0000-4000-8000-000000000001": {}}},
            ADMIN_ONLY,
            id="other-extension",
        ),
        pytest.param({}, ADMIN_ONLY, id="nothing"),
    ],
)
def test_a_marking_definition_ranks_by_its_content(content: dict[str, Any], rank: int) -> None:
    assert definition_rank(_definition(**content)) == rank


def test_built_in_ids_rank_by_id_whatever_the_content_says() -> None:
    for mid, rank in OPENCTI_IDS.items():
        assert definition_rank(_definition(id=mid, **_tlp_2_0("clear"))) == rank
    assert definition_rank(_definition(id=MARKING_IDS["red"], **_tlp_2_0("clear"))) == 4


@pytest.mark.parametrize(
    ("refs", "rank"),
    [
        pytest.param([], 0, id="unmarked"),
        pytest.param([MARKING_IDS["green"]], 1, id="tlp-2.0"),
        pytest.param(["marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed"], 4, id="1.0"),
        pytest.param(["marking-definition--826578e1-40ad-459f-bc73-ede076f81f37"], 3, id="octi"),
        pytest.param(
            ["marking-definition--5E57C739-391A-4EB3-B6BE-7D15CA92D5ED"], 4, id="upper-uuid"
        ),
        pytest.param([MARKING_IDS["red"].upper()], 4, id="all-upper"),
        pytest.param([UNKNOWN], ADMIN_ONLY, id="unknown"),
        pytest.param([MARKING_IDS["red"], UNKNOWN], ADMIN_ONLY, id="red-and-unknown"),
        pytest.param([PARTNER], 1, id="defined"),
        pytest.param([PARTNER.upper()], 1, id="defined-upper"),
        pytest.param([7], ADMIN_ONLY, id="not-a-string"),
    ],
)
def test_an_object_ranks_by_its_highest_marking(refs: list[Any], rank: int) -> None:
    obj = {"type": "indicator", "id": "indicator--1", "object_marking_refs": refs}
    assert object_rank(obj, {PARTNER: 1}) == rank


def test_granular_markings_count_and_language_markings_do_not() -> None:
    obj = {
        "type": "indicator",
        "granular_markings": [
            {"lang": "en", "selectors": ["name"]},
            {"marking_ref": UNKNOWN, "selectors": ["pattern"]},
        ],
    }
    assert marking_refs(obj) == [UNKNOWN]
    assert object_rank(obj) == ADMIN_ONLY
    assert object_rank({"granular_markings": [{"lang": "en", "selectors": ["name"]}]}) == 0


def test_the_built_in_definitions_are_the_official_ones() -> None:
    """TLP 1.0 as the stix2 library (STIX 2.1 §7.2.1.4) writes them, TLP 2.0 as OASIS
    publishes them; both accepted as genuine, with ``created`` written either way."""
    for official in (
        stix2.v21.TLP_WHITE,
        stix2.v21.TLP_GREEN,
        stix2.v21.TLP_AMBER,
        stix2.v21.TLP_RED,
    ):
        posted = json.loads(official.serialize())
        assert BUILT_IN_DEFINITIONS[posted["id"]] == posted
        assert is_genuine({**posted, "created": "2017-01-20T00:00:00Z"})
    for definition in MARKING_DEFINITIONS.values():
        assert is_genuine(dict(definition))
        assert not is_genuine({**definition, "name": "TLP:NONE"})
        assert not is_genuine({**definition, "x_opencti_color": "#fff"})
        assert not is_genuine({**definition, "created": "2022-10-01T00:00:01.000Z"})
    assert len(BUILT_IN_DEFINITIONS) == 9


def test_the_first_definition_of_an_id_counts() -> None:
    first, second = _definition(**_tlp_2_0("red")), _definition(**_tlp_2_0("clear"))
    assert defined_ranks([first, {"type": "indicator"}, second]) == {PARTNER: 4}


def test_a_signature_over_objects_with_unknown_markings_carries_them() -> None:
    signed = [
        {"type": "indicator", "id": "indicator--1", "object_marking_refs": [UNKNOWN]},
        {"type": "indicator", "id": "indicator--2", "object_marking_refs": [MARKING_IDS["green"]]},
    ]
    artifact = signature_artifact(b"{}", signed)
    assert artifact["object_marking_refs"] == [MARKING_IDS["red"], UNKNOWN]
    assert object_rank(artifact) == ADMIN_ONLY
    defined = [*signed, _definition(id=UNKNOWN, **_tlp_2_0("amber"))]
    assert signature_artifact(b"{}", defined)["object_marking_refs"] == [MARKING_IDS["amber"]]


def test_the_map_ranks_markings_as_the_server_does() -> None:
    selection = Selection(clearance=4)
    selection.add(_definition(**_tlp_2_0("green")))
    selection.add(
        {"type": "threat-actor", "id": "threat-actor--1", "object_marking_refs": [PARTNER]}
    )
    selection.add(
        {"type": "threat-actor", "id": "threat-actor--2", "object_marking_refs": [UNKNOWN]}
    )
    assert selection.above_clearance == 1
    everything = Selection()
    everything.add(
        {"type": "threat-actor", "id": "threat-actor--2", "object_marking_refs": [UNKNOWN]}
    )
    assert everything.above_clearance == 0
