"""Every row of the default MISP mapping (mappings/inputs/misp.yaml), one attribute or
object each: the data point it makes, and the STIX observable that comes of that.

The harbour-line event of the other MISP tests holds the common types; this one holds
one of each mapped type and object, so that a row edited by mistake (a wrong part of a
composite value, a lost ``currency`` or ``platform``) fails here.  A row added to the
mapping without one here fails :func:`test_the_rows_cover_the_default_mapping`.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pymisp import MISPEvent, MISPObject

from converters import convert_packages
from converters.inputs import read_input
from converters.inputs.misp_mapping import load_misp_mapping

from .misp_events import write_event

MD5 = "9e107d9d372bb6826bd81d3542a419d6"
SHA256 = "d7a8fbb307d7809469ca9abcb0082e4f8d5651e46d3cdb762d02d0bf37c9e592"
OTHER_MD5 = "0cc175b9c0f1b6a831c399e269772661"
OTHER_SHA256 = "ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb"
# Monero addresses (95 characters).
XMR = (
    "44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7"
    "SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A"
)
OTHER_XMR = (
    "48edfHu7V9Z84YzzMa6fUueoELZ9ZRXq9VetWzYGzKt52XU5xvqgzYnDK9"
    "URnRoJMk1j8nLwEVsaSWJ4fhdUyZijBGUicoD"
)

Point = tuple[str, str | int, dict[str, Any]]  # data-point type, value, further fields

#: MISP attribute type -> (the attribute's value, the data points it makes).
ATTRIBUTES: dict[str, tuple[str, list[Point]]] = {
    "ip-src": ("203.0.113.10", [("ipv4", "203.0.113.10", {})]),
    "ip-dst": ("2001:DB8:0:0::1", [("ipv6", "2001:db8::1", {})]),
    "ip-src|port": ("203.0.113.11|443", [("ipv4", "203.0.113.11", {})]),
    "ip-dst|port": ("198.51.100.12|8080", [("ipv4", "198.51.100.12", {})]),
    "domain": ("Pay-ExampleBank[.]top", [("domain", "pay-examplebank.top", {})]),
    "hostname": ("cdn.harbourline.example.", [("domain", "cdn.harbourline.example", {})]),
    "hostname|port": ("mail.harbourline.example|587", [("domain", "mail.harbourline.example", {})]),
    "domain|ip": (
        "relay2.harbourline.example|192.0.2.44",
        [("domain", "relay2.harbourline.example", {}), ("ipv4", "192.0.2.44", {})],
    ),
    "url": (
        "hxxps://harbourline[.]example/login?next=/otp",
        [("url", "https://harbourline.example/login?next=/otp", {})],
    ),
    "email": ("ops@HarbourLine.example", [("email", "ops@harbourline.example", {})]),
    "email-src": ("kits@harbourline.example", [("email", "kits@harbourline.example", {})]),
    "email-dst": ("victim@examplebank.example", [("email", "victim@examplebank.example", {})]),
    "email-reply-to": ("reply@harbourline.example", [("email", "reply@harbourline.example", {})]),
    "whois-registrant-email": (
        "registrant@harbourline.example",
        [("email", "registrant@harbourline.example", {})],
    ),
    "md5": (MD5.upper(), [("file-md5", MD5, {})]),
    "sha256": (SHA256, [("file-sha256", SHA256, {})]),
    "filename|md5": (f"kit.zip|{OTHER_MD5}", [("file-md5", OTHER_MD5, {})]),
    "filename|sha256": (f"kit.apk|{OTHER_SHA256}", [("file-sha256", OTHER_SHA256, {})]),
    "AS": ("AS64512", [("asn", 64512, {})]),
    "btc": (
        "1BoatSLRHtKNngkdXEeobR76b53LETtpyT",
        [("crypto-wallet", "1BoatSLRHtKNngkdXEeobR76b53LETtpyT", {"currency": "BTC"})],
    ),
    "xmr": (XMR, [("crypto-wallet", XMR, {"currency": "XMR"})]),
    "iban": ("DE89 3704 0044 0532 0130 00", [("bank-account", "DE89370400440532013000", {})]),
    "bank-account-nr": ("0532013000", [("bank-account", "0532013000", {})]),
    "phone-number": ("+44 20 7946 0958", [("phone", "442079460958", {})]),
    "whois-registrant-phone": ("+1 202-555-0143", [("phone", "12025550143", {})]),
    "twitter-id": ("harbourline_ops", [("social-account", "harbourline_ops", {"platform": "x"})]),
    "github-username": (
        "harbourline-dev",
        [("social-account", "harbourline-dev", {"platform": "github"})],
    ),
    "jabber-id": (
        "ops@jabber.harbourline.example",
        [("social-account", "ops@jabber.harbourline.example", {"platform": "jabber"})],
    ),
}

#: MISP object name -> (its attributes: relation and value, the data point it makes).
OBJECTS: dict[str, tuple[list[tuple[str, str]], Point]] = {
    "bank-account": (
        [("account", "NL-7788-99"), ("institution-name", "Harbour Savings"), ("swift", "HBSVNL2A")],
        ("bank-account", "NL-7788-99", {"bank": {"name": "Harbour Savings", "swift": "HBSVNL2A"}}),
    ),
    "coin-address": (  # no symbol: the relation that gave the value names the currency
        [("address-xmr", OTHER_XMR)],
        ("crypto-wallet", OTHER_XMR, {"currency": "XMR"}),
    ),
    "btc-wallet": (
        [("wallet-address", "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy")],
        ("crypto-wallet", "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy", {"currency": "BTC"}),
    ),
    "phone-number": ([("phone-number", "+31 20 123 4567")], ("phone", "31201234567", {})),
    "telegram-account": (
        [("id", "5551234567")],
        ("social-account", "5551234567", {"platform": "telegram"}),
    ),
    "twitter-account": (
        [("name", "hbl_support")],
        ("social-account", "hbl_support", {"platform": "x"}),
    ),
    "facebook-account": (
        [("account-name", "harbour.line.support")],
        ("social-account", "harbour.line.support", {"platform": "facebook"}),
    ),
    "facebook-page": (
        [("page-name", "HarbourLineDeals")],
        ("social-account", "HarbourLineDeals", {"platform": "facebook"}),
    ),
    "instagram-account": (
        [("account-name", "harbourline.deals")],
        ("social-account", "harbourline.deals", {"platform": "instagram"}),
    ),
}


def _uuid(n: int) -> str:
    return f"00000000-0000-4000-8000-{n:012d}"


def _ref(n: int) -> str:
    return f"misp-{_uuid(n)}"


@pytest.fixture
def event_file(tmp_path: Path) -> Path:
    """One attribute of each mapped type (UUIDs from 100), one object of each mapped
    name (UUIDs from 300, ten apart)."""
    event = MISPEvent()
    event.uuid = "5f0c6a6e-0b5e-4a8c-9c43-2b1a7f3e9d11"
    event.info = "One of each mapped attribute type and object"
    event.date = datetime.date(2024, 6, 1)
    event.add_tag("tlp:green")
    for n, (kind, (value, _)) in enumerate(ATTRIBUTES.items()):
        event.add_attribute(kind, value, uuid=_uuid(100 + n))
    for n, (name, (relations, _)) in enumerate(OBJECTS.items()):
        obj = MISPObject(name, standalone=False)
        obj.uuid = _uuid(300 + 10 * n)
        for offset, (relation, value) in enumerate(relations, start=1):
            obj.add_attribute(relation, value, uuid=_uuid(300 + 10 * n + offset))
        event.add_object(obj)
    return write_event(event, tmp_path / "event.json")


def _expected() -> dict[str, Point]:
    """Each data point the event should make, by its ref."""
    points: dict[str, Point] = {}
    for n, (_, made) in enumerate(ATTRIBUTES.values()):
        for index, point in enumerate(made):
            suffix = f"-{index}" if len(made) > 1 else ""
            points[_ref(100 + n) + suffix] = point
    for n, (_, point) in enumerate(OBJECTS.values()):
        points[_ref(300 + 10 * n)] = point
    return points


def test_the_rows_cover_the_default_mapping() -> None:
    mapping = load_misp_mapping()
    assert set(ATTRIBUTES) == set(mapping.attributes)
    assert set(OBJECTS) == set(mapping.objects)


def test_every_row_makes_its_data_point(event_file: Path) -> None:
    read = read_input(event_file)
    assert read.unmapped == ()  # every attribute, object and relation here is mapped
    (package,) = read.packages
    made = {item.ref: item.fields for item in package.sections["data_points"]}
    expected = _expected()
    for ref, (kind, value, fields) in expected.items():
        assert ref in made, f"{ref}: no data point"
        got = made[ref]
        assert (got["type"], got["value"]) == (kind, value), ref
        assert {name: got.get(name) for name in fields} == fields, ref
        assert got["tlp"] == "green", ref  # the event's marking
    assert len(made) == len(expected)


#: The STIX observable each data-point type becomes, and where in it the value is (the
#: property paths tried, in order).
_OBSERVABLES: dict[str, tuple[str, tuple[tuple[str, ...], ...]]] = {
    "ipv4": ("ipv4-addr", (("value",),)),
    "ipv6": ("ipv6-addr", (("value",),)),
    "domain": ("domain-name", (("value",),)),
    "url": ("url", (("value",),)),
    "email": ("email-addr", (("value",),)),
    "file-md5": ("file", (("hashes", "MD5"),)),
    "file-sha256": ("file", (("hashes", "SHA-256"),)),
    "asn": ("autonomous-system", (("number",),)),
    "crypto-wallet": ("cryptocurrency-wallet", (("value",),)),
    "bank-account": ("bank-account", (("iban",), ("account_number",))),
    "phone": ("phone-number", (("value",),)),
    "social-account": ("user-account", (("user_id",),)),
}


def _observed(obj: dict[str, Any]) -> Iterator[tuple[str, Any]]:
    """(STIX type, value) for every data-point value an observable holds."""
    for stix_type, paths in _OBSERVABLES.values():
        if obj["type"] != stix_type:
            continue
        for path in paths:
            value: Any = obj
            for step in path:
                value = value.get(step) if isinstance(value, dict) else None
            if value is not None:
                yield stix_type, value


def test_every_row_becomes_an_observable_in_a_valid_bundle(event_file: Path) -> None:
    # convert_packages validates the bundle: it raises if any object is invalid.
    objects = convert_packages([event_file], kind="auto").bundle["objects"]
    observed = {found for obj in objects for found in _observed(obj)}
    expected = _expected()
    for ref, (kind, value, _) in expected.items():
        stix_type = _OBSERVABLES[kind][0]
        assert (stix_type, value) in observed, f"{ref}: no {stix_type} with {value!r}"
    accounts = {o["user_id"]: o["account_type"] for o in objects if o["type"] == "user-account"}
    for _, value, fields in expected.values():
        if "platform" in fields:
            assert accounts[str(value)] == fields["platform"]
    wallets = [o for o in objects if o["type"] == "cryptocurrency-wallet"]
    currencies = {
        o["value"]: ext["currency"]
        for o in wallets
        for ext in o["extensions"].values()
        if "currency" in ext
    }
    assert currencies == {
        str(value): fields["currency"]
        for kind, value, fields in expected.values()
        if kind == "crypto-wallet"
    }
