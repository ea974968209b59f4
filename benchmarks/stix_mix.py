"""A seeded, realistic mix of valid STIX 2.1 objects, as the communities exchange them.

Shares follow what a cybercrime-mapping community publishes: indicators with STIX
patterns (IPs, domains, URLs, file hashes, e-mail senders), the observables behind
them (including the community SCOs of ``stix2extensions``: wallets, bank accounts,
phone numbers), relationships and sightings tying them to threat actors, malware,
infrastructure and campaigns, identities, reports and notes, with TLP markings,
external references, kill-chain phases, confidence and custom ``x_`` properties.
Every value is unique where real data is (ids, addresses, hashes, patterns), so a
validator gains nothing from objects repeating.

Used by ``python -m benchmarks validation`` and ``taxii`` and by the validation tests as a
corpus.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

__all__ = ["iter_realistic_objects", "realistic_objects"]

_TLP = (
    "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
    "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
    "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
)
_EXT_WALLET = "extension-definition--be78509e-6958-51b1-8b26-d17ee0eba2d7"
_EXT_BANK = "extension-definition--f19f3291-6a84-5674-b311-d75a925d5bd9"
_EXT_PHONE = "extension-definition--14a97ee2-e666-5ada-a6bd-b7177f79e211"
_WORDS = ("north", "star", "cobalt", "lotus", "river", "orbit", "ember", "falcon", "quartz")
_TLDS = ("com", "net", "org", "info", "xyz", "io", "co.uk", "ru", "top")


class _Maker:
    """One generator run: the random source and the ids made so far, to refer to."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.ids: dict[str, list[str]] = {}
        self.epoch = datetime(2023, 1, 1, tzinfo=UTC)

    def new_id(self, stix_type: str) -> str:
        object_id = f"{stix_type}--{uuid.UUID(int=self.rng.getrandbits(128), version=4)}"
        self.ids.setdefault(stix_type, []).append(object_id)
        return object_id

    def ref(self, *types: str) -> str:
        """A uniformly chosen id of one of ``types`` made so far (a new one when none is).

        Draws what ``rng.choice`` over the concatenated id lists would, without building
        that list: a million-object run would otherwise copy hundreds of thousands of
        ids per reference.
        """
        counts = [len(self.ids.get(t, ())) for t in types]
        index = sum(counts)
        if not index:
            return self.new_id(types[0])
        index = self.rng.randrange(index)  # choice(seq) draws seq[randrange(len(seq))]
        for stix_type, count in zip(types, counts, strict=True):
            if index < count:
                return self.ids[stix_type][index]
            index -= count
        raise AssertionError("unreachable: index < sum(counts)")

    def stamp(self, after: str | None = None) -> str:
        base = self.epoch if after is None else datetime.fromisoformat(after)
        moment = base + timedelta(seconds=self.rng.randrange(0, 90 * 86_400))
        return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"

    def domain(self) -> str:
        rng = self.rng
        return f"{rng.choice(_WORDS)}-{rng.randrange(10**6)}.{rng.choice(_TLDS)}"

    def ipv4(self) -> str:
        return ".".join(str(self.rng.randrange(1, 255)) for _ in range(4))

    def sha256(self) -> str:
        return f"{self.rng.getrandbits(256):064x}"

    def common(self, stix_type: str) -> dict[str, Any]:
        created = self.stamp()
        modified = self.stamp(created) if self.rng.random() < 0.3 else created
        obj: dict[str, Any] = {
            "type": stix_type,
            "spec_version": "2.1",
            "id": self.new_id(stix_type),
            "created": created,
            "modified": modified,
        }
        if self.rng.random() < 0.8:
            obj["created_by_ref"] = self.ref("identity")
        if self.rng.random() < 0.9:
            obj["object_marking_refs"] = [self.rng.choice(_TLP)]
        if self.rng.random() < 0.4:
            obj["confidence"] = self.rng.randrange(0, 101)
        if self.rng.random() < 0.2:
            obj["x_atlas_case"] = f"CASE-{self.rng.randrange(10**5):05d}"
        return obj

    def sco(self, stix_type: str, **properties: Any) -> dict[str, Any]:
        obj = {"type": stix_type, "spec_version": "2.1", "id": self.new_id(stix_type)}
        obj.update(properties)
        if self.rng.random() < 0.5:
            obj["object_marking_refs"] = [self.rng.choice(_TLP)]
        return obj


def _indicator(m: _Maker) -> dict[str, Any]:
    obj = m.common("indicator")
    rng = m.rng
    kind = rng.randrange(5)
    if kind == 0:
        value = m.ipv4()
        pattern, name = f"[ipv4-addr:value = '{value}']", f"C2 server {value}"
    elif kind == 1:
        value = m.domain()
        pattern, name = f"[domain-name:value = '{value}']", f"Phishing domain {value}"
    elif kind == 2:
        value = f"https://{m.domain()}/login/{rng.randrange(10**6)}"
        pattern, name = f"[url:value = '{value}']", "Credential harvesting page"
    elif kind == 3:
        value = m.sha256()
        pattern = f"[file:hashes.'SHA-256' = '{value}']"
        name = "Banking trojan dropper"
    else:
        sender = f"billing{rng.randrange(10**4)}@{m.domain()}"
        pattern = (
            f"[email-message:from_ref.value = '{sender}' AND "
            f"email-message:subject LIKE '%invoice%'] WITHIN 3600 SECONDS"
        )
        name = "Invoice fraud sender"
    obj.update(
        name=name,
        indicator_types=[rng.choice(("malicious-activity", "compromised", "attribution"))],
        pattern=pattern,
        pattern_type="stix",
        pattern_version="2.1",
        valid_from=obj["created"],
    )
    if rng.random() < 0.3:
        obj["valid_until"] = m.stamp(obj["created"])
    if rng.random() < 0.3:
        obj["kill_chain_phases"] = [
            {"kill_chain_name": "mitre-attack", "phase_name": "command-and-control"}
        ]
    if rng.random() < 0.2:
        obj["external_references"] = [
            {
                "source_name": "atlas-case-tracker",
                "url": f"https://cases.example.org/{rng.randrange(10**6)}",
            }
        ]
    return obj


def _observable(m: _Maker) -> dict[str, Any]:
    rng = m.rng
    kind = rng.randrange(9)
    if kind < 2:
        return m.sco("ipv4-addr", value=m.ipv4())
    if kind < 4:
        return m.sco("domain-name", value=m.domain())
    if kind == 4:
        return m.sco("url", value=f"https://{m.domain()}/pay/{rng.randrange(10**6)}")
    if kind == 5:
        return m.sco(
            "file", name=f"invoice_{rng.randrange(10**4)}.exe", hashes={"SHA-256": m.sha256()}
        )
    if kind == 6:
        return m.sco("email-addr", value=f"support{rng.randrange(10**4)}@{m.domain()}")
    if kind == 7:
        wallet = "bc1q" + "".join(rng.choice("023456789acdefghjklmnpqrstuvwxyz") for _ in range(38))
        return m.sco(
            "cryptocurrency-wallet",
            value=wallet,
            extensions={_EXT_WALLET: {"extension_type": "new-sco"}},
        )
    if rng.random() < 0.5:
        return m.sco(
            "bank-account",
            iban=f"GB{rng.randrange(10, 99)}BUKB{rng.randrange(10**13, 10**14)}",
            currency="GBP",
            extensions={_EXT_BANK: {"extension_type": "new-sco"}},
        )
    return m.sco(
        "phone-number",
        value=f"44{rng.randrange(10**9, 10**10)}",
        extensions={_EXT_PHONE: {"extension_type": "new-sco"}},
    )


def _relationship(m: _Maker) -> dict[str, Any]:
    obj = m.common("relationship")
    kind = m.rng.choice(("indicates", "uses", "attributed-to", "related-to"))
    if kind == "indicates":
        source, target = m.ref("indicator"), m.ref("malware", "threat-actor", "campaign")
    elif kind == "uses":
        source, target = m.ref("threat-actor", "campaign"), m.ref("malware", "infrastructure")
    elif kind == "attributed-to":
        source, target = m.ref("campaign"), m.ref("threat-actor")
    else:
        source, target = m.ref("ipv4-addr", "domain-name", "url"), m.ref("infrastructure")
    obj.update(relationship_type=kind, source_ref=source, target_ref=target)
    return obj


def _sighting(m: _Maker) -> dict[str, Any]:
    obj = m.common("sighting")
    first = m.stamp()
    obj.update(
        sighting_of_ref=m.ref("indicator"),
        first_seen=first,
        last_seen=m.stamp(first),
        count=m.rng.randrange(1, 500),
        where_sighted_refs=[m.ref("identity")],
    )
    return obj


def _identity(m: _Maker) -> dict[str, Any]:
    obj = m.common("identity")
    obj.pop("created_by_ref", None)
    sector = m.rng.choice(("financial-services", "technology", "government", "non-profit"))
    obj.update(
        name=f"{m.rng.choice(_WORDS).title()} {m.rng.choice(('Bank', 'Exchange', 'CERT', 'Labs'))}",
        identity_class="organization",
        sectors=[sector],
        contact_information=f"soc@{m.domain()}",
    )
    return obj


def _named(stix_type: str, **extra: Callable[[_Maker], Any]) -> Callable[[_Maker], dict[str, Any]]:
    def make(m: _Maker) -> dict[str, Any]:
        obj = m.common(stix_type)
        obj["name"] = f"{m.rng.choice(_WORDS).title()} {m.rng.choice(_WORDS).title()}"
        obj["description"] = "Observed in fraud campaigns against retail banking customers."
        for name, value in extra.items():
            obj[name] = value(m)
        return obj

    return make


def _report(m: _Maker) -> dict[str, Any]:
    obj = m.common("report")
    refs = [m.ref("indicator", "malware", "threat-actor") for _ in range(m.rng.randrange(1, 8))]
    obj.update(
        name=f"Weekly fraud digest {m.rng.randrange(1, 53)}",
        report_types=["threat-report"],
        published=obj["modified"],
        object_refs=refs,
    )
    return obj


def _note(m: _Maker) -> dict[str, Any]:
    obj = m.common("note")
    obj.update(
        content="Wallet cashed out through the same exchange.", object_refs=[m.ref("indicator")]
    )
    return obj


_KINDS: tuple[tuple[float, Callable[[_Maker], dict[str, Any]]], ...] = (
    (0.05, _identity),
    (0.04, _named("threat-actor", threat_actor_types=lambda m: ["crime-syndicate"])),
    (0.04, _named("malware", is_family=lambda m: True, malware_types=lambda m: ["trojan"])),
    (0.03, _named("infrastructure", infrastructure_types=lambda m: ["command-and-control"])),
    (0.02, _named("campaign")),
    (0.25, _indicator),
    (0.28, _observable),
    (0.20, _relationship),
    (0.05, _sighting),
    (0.02, _report),
    (0.02, _note),
)


def iter_realistic_objects(count: int, seed: int = 1) -> Iterator[dict[str, Any]]:
    """:func:`realistic_objects` one at a time, for runs too large to hold as a list
    (the first ``n`` are the same whatever ``count`` is)."""
    maker = _Maker(seed)
    weights = [weight for weight, _ in _KINDS]
    makers = [make for _, make in _KINDS]
    # Identities first: most objects name their creator.
    first = min(count, 5)
    for _ in range(first):
        yield _identity(maker)
    for _ in range(count - first):
        yield maker.rng.choices(makers, weights)[0](maker)


def realistic_objects(count: int, seed: int = 1) -> list[dict[str, Any]]:
    """``count`` valid STIX 2.1 objects in a realistic mix, the same for the same seed."""
    return list(iter_realistic_objects(count, seed))
