"""Deterministic identifiers: SCO ids as stix2 and stix2extensions compute them."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
import stix2
from hypothesis import given
from hypothesis import strategies as st
from stix2.canonicalization.Canonicalize import canonicalize
from stix2extensions.definitions.scos import bank_account, cryptocurrency_wallet, phone_number

from converters.ids import (
    PROJECT_NAMESPACE,
    SCO_NAMESPACE,
    canonical_json,
    object_id,
    organization_identity_id,
    relationship_id,
    sco_id,
    sco_id_problem,
    uuid5,
)

_VALUES = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=40)


def _stix2_object(kind: str, props: dict[str, Any]) -> Any:
    classes = {
        "domain-name": stix2.DomainName,
        "ipv4-addr": stix2.IPv4Address,
        "ipv6-addr": stix2.IPv6Address,
        "url": stix2.URL,
        "email-addr": stix2.EmailAddress,
        "file": stix2.File,
        "autonomous-system": stix2.AutonomousSystem,
        "user-account": stix2.UserAccount,
        "cryptocurrency-wallet": cryptocurrency_wallet.CryptocurrencyWallet,
        "bank-account": bank_account.BankAccount,
        "phone-number": phone_number.Phonenumber,
    }
    return classes[kind](**props)


@pytest.mark.parametrize(
    ("kind", "props"),
    [
        ("domain-name", {"value": "secure-login-examplebank.top"}),
        ("ipv4-addr", {"value": "203.0.113.77"}),
        ("ipv6-addr", {"value": "2001:db8::4c"}),
        ("url", {"value": "https://verify-examplebank.top/otp/relay.php?a='b'"}),
        ("email-addr", {"value": "support@harbourline-kits.example"}),
        ("file", {"hashes": {"SHA-256": "0f" * 32}}),
        ("file", {"hashes": {"MD5": "5d41402abc4b2a76b9719d911017c592"}}),
        ("file", {"hashes": {"SHA-256": "0f" * 32, "MD5": "5d41402abc4b2a76b9719d911017c592"}}),
        ("autonomous-system", {"number": 64511}),
        ("user-account", {"account_type": "telegram", "user_id": "@harbourline_support"}),
        ("cryptocurrency-wallet", {"value": "bc1qexampleexampleexampleexample0hbl7"}),
        ("bank-account", {"iban": "NL00EXMP0123456789"}),
        ("bank-account", {"account_number": "123-4567890-12"}),
        ("phone-number", {"value": "31600000000"}),
    ],
)
def test_sco_ids_equal_the_libraries(kind: str, props: dict[str, Any]) -> None:
    expected = _stix2_object(kind, props)["id"]
    assert sco_id({"type": kind, **props}) == expected


@given(_VALUES)
def test_value_sco_ids_equal_stix2_for_any_text(value: str) -> None:
    for kind in ("domain-name", "url", "email-addr", "cryptocurrency-wallet", "phone-number"):
        assert sco_id({"type": kind, "value": value}) == _stix2_object(kind, {"value": value})["id"]


def test_the_community_extension_is_not_id_contributing() -> None:
    extension = {
        "extension-definition--be78509e-6958-51b1-8b26-d17ee0eba2d7": {"extension_type": "new-sco"}
    }
    plain = sco_id({"type": "cryptocurrency-wallet", "value": "bc1qx"})
    assert (
        sco_id({"type": "cryptocurrency-wallet", "value": "bc1qx", "extensions": extension})
        == plain
    )


def test_an_sco_without_id_properties_is_refused() -> None:
    with pytest.raises(ValueError, match="none of its id-contributing properties"):
        sco_id({"type": "bank-account", "bic": "EXMPNL2A"})


@given(
    st.recursive(
        st.one_of(_VALUES, st.integers(-(2**53), 2**53)),
        lambda inner: st.one_of(
            st.lists(inner, max_size=4),
            st.dictionaries(st.from_regex(r"\A[a-zA-Z0-9_-]{1,8}\Z"), inner, max_size=4),
        ),
        max_leaves=10,
    )
)
def test_canonical_json_is_jcs(value: Any) -> None:
    assert canonical_json(value).decode("utf-8") == canonicalize(value, utf8=False)


@given(_VALUES)
def test_uuid5_equals_the_standard_library(name: str) -> None:
    for namespace in (SCO_NAMESPACE, PROJECT_NAMESPACE):
        assert uuid5(namespace.bytes, name.encode("utf-8")) == str(uuid.uuid5(namespace, name))


def test_object_ids_are_deterministic_and_in_the_project_namespace() -> None:
    report = object_id("report", "RP-2024-0007")
    name = '["report","RP-2024-0007"]'
    assert report == object_id("report", "RP-2024-0007")
    assert report == f"report--{uuid.uuid5(PROJECT_NAMESPACE, name)}"
    assert report != f"report--{uuid.uuid5(SCO_NAMESPACE, name)}"
    # the same key under another type is another object
    assert (
        object_id("identity", "RP-2024-0007", "x").split("--")[1]
        != object_id("threat-actor", "RP-2024-0007", "x").split("--")[1]
    )


def test_relationship_ids_depend_on_source_type_and_target() -> None:
    a, b = (
        "threat-actor--0e6d11c6-b6e9-5bc6-bf37-d8fafced65bc",
        "location--2d024836-da5c-5c38-9f8d-022c09282e76",
    )
    assert relationship_id(a, "located-at", b) == relationship_id(a, "located-at", b)
    assert relationship_id(a, "located-at", b) != relationship_id(b, "located-at", a)
    assert relationship_id(a, "located-at", b) != relationship_id(a, "targets", b)


# -- checking posted SCO ids (STIX 2.1 §2.9; issue 9, finding 2) --------------------------


def test_an_sco_id_its_properties_give_passes() -> None:
    domain = {"type": "domain-name", "value": "bank.example"}
    assert sco_id_problem({**domain, "id": sco_id(domain)}) is None
    wallet = {
        "type": "cryptocurrency-wallet",
        "value": "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq",
    }
    assert sco_id_problem({**wallet, "id": sco_id(wallet)}) is None


def test_another_values_uuid5_is_refused_naming_the_right_one() -> None:
    squat = {
        "type": "domain-name",
        "value": "attacker.example",
        "id": sco_id({"type": "domain-name", "value": "bank.example"}),
    }
    problem = sco_id_problem(squat)
    assert problem is not None
    assert sco_id({"type": "domain-name", "value": "attacker.example"}) in problem


def test_a_uuid4_is_allowed_and_custom_types_are_not_checked() -> None:
    assert (
        sco_id_problem(
            {"type": "domain-name", "value": "x.example", "id": f"domain-name--{uuid.uuid4()}"}
        )
        is None
    )
    assert (
        sco_id_problem(
            {
                "type": "x-thing",
                "value": "x",
                "id": f"x-thing--{uuid.uuid5(uuid.NAMESPACE_DNS, 'y')}",
            }
        )
        is None
    )


def test_a_uuid5_without_id_contributing_properties_is_refused() -> None:
    bare = {"type": "file", "id": f"file--{uuid.uuid5(uuid.NAMESPACE_DNS, 'x')}", "size": 10}
    problem = sco_id_problem(bare)
    assert problem is not None and "requires a UUIDv4" in problem


def test_an_organizations_identity_is_its_authors() -> None:
    from pathlib import Path

    from converters import convert_package

    package = Path(__file__).resolve().parents[2] / "fixtures/packages/NSB-2024-0412.yaml"
    objects = convert_package(package)["objects"]
    producer = organization_identity_id("Northsea Bank FIU")
    (identity,) = [o for o in objects if o["id"] == producer]
    assert identity["name"] == "Northsea Bank FIU"
    assert {o["created_by_ref"] for o in objects if "created_by_ref" in o} >= {producer}
