"""Property: any valid package converts to a bundle both validators accept."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from bip_utils import Base58Encoder
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from stix2validator import ValidationOptions, validate_string

from converters import convert_package, serialize_bundle

_TLP = st.sampled_from(["clear", "green", "amber", "amber+strict", "red"])
_WORD = st.from_regex(r"\A[a-z][a-z0-9]{0,8}\Z")
_VALUES: dict[str, st.SearchStrategy[dict[str, Any]]] = {
    "domain": st.builds(lambda a, b: {"value": f"{a}[.]{b}.Example."}, _WORD, _WORD),
    "ipv4": st.ip_addresses(v=4).map(lambda a: {"value": str(a)}),
    "ipv6": st.ip_addresses(v=6).map(lambda a: {"value": a.exploded}),
    "url": st.builds(
        lambda a, q: {"value": f"hxxps://{a}[.]example/p?q={q}"},
        _WORD,
        st.from_regex(r"\A[A-Za-z0-9'()*!~._-]{0,12}\Z"),
    ),
    "email": st.builds(lambda a, b: {"value": f"{a}[@]{b}.example"}, _WORD, _WORD),
    "file-sha256": st.from_regex(r"\A[0-9a-fA-F]{64}\Z").map(lambda v: {"value": v}),
    "file-md5": st.from_regex(r"\A[0-9a-fA-F]{32}\Z").map(lambda v: {"value": v}),
    "asn": st.integers(0, 2**32 - 1).map(lambda n: {"value": f"AS{n}"}),
    # Base58Check legacy and P2SH addresses of random payloads: valid checksums.
    "crypto-wallet": st.builds(
        lambda version, payload: {
            "value": Base58Encoder.CheckEncode(version + payload),
            "currency": "BTC",
        },
        st.sampled_from([b"\x00", b"\x05"]),
        st.binary(min_size=20, max_size=20),
    ),
    "bank-account": st.sampled_from(["NL64EXMP0417728391", "123-4567890-12"]).map(
        lambda v: {"value": v, "bank": {"name": "Example Bank", "country": "NL"}}
    ),
    "phone": st.from_regex(r"\A\+[1-9][0-9]{7,13}\Z").map(lambda v: {"value": v}),
    "social-account": st.one_of(
        _WORD.map(lambda v: {"value": f"@{v}", "platform": "telegram"}),
        _WORD.map(lambda v: {"value": f"{v.title()}  Support Page", "platform": "facebook"}),
    ),
}


_OBSERVABLE = ("type", "value", "currency", "bank", "platform")


@st.composite
def packages(draw: st.DrawFn) -> dict[str, Any]:
    actors = [
        {
            "ref": f"a{i}",
            "name": draw(_WORD),
            "kind": draw(st.sampled_from(["group", "individual", "organisation"])),
            "countries": draw(
                st.lists(st.sampled_from(["NL", "NO", "RU"]), unique=True, max_size=2)
            ),
            "techniques": draw(
                st.lists(st.sampled_from(["T1566", "T1566.002", "T1486"]), unique=True, max_size=2)
            ),
            "tlp": draw(_TLP),
        }
        for i in range(draw(st.integers(1, 3)))
    ]
    owners = [a["ref"] for a in actors]
    services = [
        {
            "ref": f"s{i}",
            "name": draw(_WORD),
            "category": draw(
                st.sampled_from(["phishing-kit", "botnet", "mule-network", "crypter"])
            ),
            "operated_by": draw(st.lists(st.sampled_from(owners), unique=True, max_size=1)),
            "tlp": draw(_TLP),
        }
        for i in range(draw(st.integers(0, 3)))
    ]
    linkable = owners + [s["ref"] for s in services]
    points = []
    for i in range(draw(st.integers(0, 8))):
        kind = draw(st.sampled_from(sorted(_VALUES)))
        observed = {"type": kind, **draw(_VALUES[kind])}
        if points and draw(st.integers(0, 3)) == 0:  # the previous observable, seen again
            observed = {k: v for k, v in points[-1].items() if k in _OBSERVABLE}
        points.append(
            {
                "ref": f"d{i}",
                **observed,
                "tlp": draw(_TLP),
                "linked_to": draw(st.lists(st.sampled_from(linkable), unique=True, max_size=2)),
            }
        )
    targets = linkable + [p["ref"] for p in points]
    chokepoints = [
        {
            "ref": f"c{i}",
            "title": draw(_WORD),
            "targets": draw(
                st.lists(st.sampled_from(targets), min_size=1, unique=True, max_size=3)
            ),
            "actions": ["takedown-request"],
            "priority": "high",
        }
        for i in range(draw(st.integers(0, 2)))
    ]
    return {
        "format": "atlas-package/1", "id": "RP-2024-0500", "revision": 1, "title": draw(_WORD),
        "published": "2024-06-11T09:00:00Z", "tlp": draw(_TLP),
        "authors": [{"name": "Example Bank FIU"}],
        "targets": {"sectors": ["healthcare"], "countries": ["NL"]},
        "actors": actors, "services": services, "data_points": points, "chokepoints": chokepoints,
    }  # fmt: skip


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(packages())
def test_every_package_converts_to_a_valid_bundle(package: dict[str, Any]) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "package.json"
        path.write_text(json.dumps(package), encoding="utf-8")
        bundle = convert_package(path)  # validated by the project's validator
    results = validate_string(serialize_bundle(bundle).decode(), ValidationOptions(version="2.1"))
    assert [str(error) for error in results.errors] == []
