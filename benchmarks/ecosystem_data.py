"""Seeded research packages of one large criminal ecosystem, as many partners would
publish them week after week, for ``python -m benchmarks map`` and the map's tests.

Each package is one partner's view (a bank, an exchange or a security vendor): a
dozen crews of its own, ten services, about 300 data points, three choke points
(about 1,100 objects).
Most services are the package's own; some are *shared*: one of a pool of services
(cash-out desks, hosters, kits, mule networks …) that several partners meet, each
time under its own name, recognised through the wallets, accounts and phone numbers
it is known by (so the map merges them), or named by ``same_as`` to the package
that described it first.  Values are fictional: documentation IP ranges, ``.example``
domains, invented wallets and IBANs with valid check digits.
"""

from __future__ import annotations

import json
import random
import string
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final

from bip_utils.bech32 import SegwitBech32Encoder

from converters.ids import object_id

__all__ = ["PACKAGE_OBJECTS", "write_packages"]

#: Roughly how many STIX objects one generated package converts to.
PACKAGE_OBJECTS: Final = 1100

_PARTNERS: Final = [
    ("Northsea Bank FIU", "bank"),
    ("Example Savings Bank", "bank"),
    ("Vaultline Exchange Compliance", "exchange"),
    ("Coinharbour Exchange", "exchange"),
    ("Brightwater Security", "vendor"),
    ("Lanternfish Labs", "vendor"),
]
_CATEGORIES: Final = [
    "cash-out", "mule-network", "bulletproof-hosting", "phishing-kit", "phishing-as-a-service",
    "money-laundering", "marketplace", "forum", "botnet", "crypter", "initial-access-broker",
]  # fmt: skip
_TOOLS: Final = ("phishing-kit", "crypter")  # the default mapping makes these tools
_SHARED_POOL: Final = 400  # services several partners meet


def _word(rng: random.Random, size: int) -> str:
    return "".join(rng.choices(string.ascii_lowercase, k=size))


def _iban(rng: random.Random) -> str:
    bban = "EXMP" + "".join(rng.choices(string.digits, k=10))
    digits = "".join(str(int(c, 36)) for c in bban + "NL00")
    return f"NL{98 - int(digits) % 97:02d}{bban}"


def _strong(rng: random.Random) -> dict[str, str]:
    """A strongly identifying data point (wallet, bank account or phone number)."""
    roll = rng.random()
    if roll < 0.5:
        # A P2WPKH address of random bytes: a valid BIP 173 checksum, no one's key.
        address = SegwitBech32Encoder.Encode("bc", 0, rng.randbytes(20))
        return {"type": "crypto-wallet", "currency": "BTC", "value": address}
    if roll < 0.8:
        return {"type": "bank-account", "value": _iban(rng)}
    return {"type": "phone", "value": f"+31 6 {rng.randrange(10**7, 10**8)}"}


def _weak(rng: random.Random, n: int) -> dict[str, str]:
    roll = rng.random()
    if roll < 0.45:
        return {"type": "domain", "value": f"{_word(rng, 7)}{n}.example"}
    if roll < 0.75:
        return {"type": "url", "value": f"https://{_word(rng, 6)}{n}.example/{_word(rng, 4)}"}
    if roll < 0.9:
        net = rng.choice(["192.0.2", "198.51.100", "203.0.113"])
        return {"type": "ipv4", "value": f"{net}.{rng.randrange(1, 255)}"}
    return {"type": "email", "value": f"{_word(rng, 6)}{n}@{_word(rng, 5)}.example"}


class _Ecosystem:
    """The shared services: category, their strong data points, who described them first."""

    def __init__(self, rng: random.Random) -> None:
        self.category = [rng.choice(_CATEGORIES) for _ in range(_SHARED_POOL)]
        self.points = [[_strong(rng) for _ in range(3)] for _ in range(_SHARED_POOL)]
        self.first: dict[int, str] = {}  # shared service -> STIX id in its first package

    def stix_id(self, shared: int, package: str, ref: str) -> str:
        kind = "tool" if self.category[shared] in _TOOLS else "infrastructure"
        return object_id(kind, package, ref)


def _package(eco: _Ecosystem, index: int, rng: random.Random) -> dict[str, Any]:
    package_id = f"BM-2024-{index:05d}"
    partner, _ = _PARTNERS[index % len(_PARTNERS)]
    actors = [
        {"ref": f"a{i}", "name": f"Crew {_word(rng, 5).title()} {index}-{i}", "kind": "group"}
        for i in range(12)
    ]
    services: list[dict[str, Any]] = []
    points: list[dict[str, Any]] = []
    for i in range(10):
        ref = f"s{i}"
        service: dict[str, Any] = {
            "ref": ref,
            "used_by": sorted(rng.sample([a["ref"] for a in actors], rng.randint(1, 4))),
        }
        if i < 4:  # a shared service, seen through some of its wallets and accounts
            shared = rng.randrange(_SHARED_POOL)
            service["category"] = eco.category[shared]
            service["name"] = f"{eco.category[shared].title()} {shared} ({partner})"
            for point in rng.sample(eco.points[shared], 2):
                points.append({**point, "role": "cash-out", "linked_to": [ref]})
            first = eco.first.setdefault(shared, eco.stix_id(shared, package_id, ref))
            if first != eco.stix_id(shared, package_id, ref) and rng.random() < 0.3:
                service["same_as"] = [first]
        else:
            service["category"] = rng.choice(_CATEGORIES)
            service["name"] = f"Service {_word(rng, 6)} {index}-{i}"
        if rng.random() < 0.3:
            service["operated_by"] = [rng.choice(actors)["ref"]]
        services.append(service)
    for n in range(280):
        owner = rng.choice(services)["ref"] if rng.random() < 0.7 else rng.choice(actors)["ref"]
        point = _weak(rng, index * 1000 + n) if rng.random() < 0.85 else _strong(rng)
        points.append({**point, "role": "other", "linked_to": [owner]})
    for n, point in enumerate(points):
        point["ref"] = f"d{n}"
    return {
        "format": "atlas-package/1",
        "id": package_id,
        "revision": 1,
        "title": f"{partner}: week {index}",
        "published": "2024-06-01T00:00:00Z",
        "tlp": rng.choice(["green", "amber"]),
        "authors": [{"name": partner}],
        "targets": {"sectors": ["financial-services"], "countries": ["NL"]},
        "actors": actors,
        "services": services,
        "data_points": points,
        "chokepoints": [
            {
                "ref": f"c{i}",
                "title": f"Disrupt {services[i]['name']}",
                "targets": [services[i]["ref"]],
                "actions": ["takedown-request"],
            }
            for i in range(3)
        ],
    }


def _packages(count: int, seed: int) -> Iterator[dict[str, Any]]:
    rng = random.Random(seed)
    eco = _Ecosystem(rng)
    for index in range(count):
        yield _package(eco, index, rng)


def write_packages(directory: Path, count: int, seed: int = 11) -> list[Path]:
    """Write ``count`` packages as JSON files into ``directory``; return their paths."""
    paths = []
    for package in _packages(count, seed):
        path = directory / f"{package['id']}.json"
        path.write_text(json.dumps(package), encoding="utf-8")
        paths.append(path)
    return paths
