"""MISP events for the tests, made by PyMISP itself (nothing copied from elsewhere).

Every UUID and timestamp is fixed, so the same event (and the same package, the same
STIX ids) comes out at every run.
"""

from __future__ import annotations

import datetime
import json
from pathlib import Path

from pymisp import MISPEvent, MISPObject, MISPOrganisation

EVENT_UUID = "5f0c6a6e-0b5e-4a8c-9c43-2b1a7f3e9d10"
ACTOR_UUID = "7cdff317-a673-4474-84ec-4f1754947823"


def _uuid(n: int) -> str:
    return f"00000000-0000-4000-8000-{n:012d}"


def harbour_line_event() -> MISPEvent:
    """A phishing-kit event: attributes, objects, a threat-actor galaxy, tags, and
    things the default mapping does not map (a sigma rule, a text note, a malpedia
    galaxy, an object relation, a free tag)."""
    event = MISPEvent()
    event.uuid = EVENT_UUID
    event.info = "Harbour Line phishing kit and its cash-out chain"
    event.date = datetime.date(2024, 6, 1)
    orgc = MISPOrganisation()
    orgc.from_dict(name="Example Bank FIU", uuid=_uuid(900))
    event.Orgc = orgc
    event.add_tag("tlp:amber")
    event.add_tag("type:OSINT")
    event.add_attribute(
        "domain", "secure-login-examplebank[.]top", uuid=_uuid(1), to_ids=True,
        comment="kit landing page",
        first_seen=datetime.datetime(2024, 4, 30, tzinfo=datetime.UTC),
    )  # fmt: skip
    event.add_attribute("url", "hxxps://verify-examplebank[.]top/otp/relay.php", uuid=_uuid(2))
    red = event.add_attribute("ip-dst", "203.0.113.77", uuid=_uuid(3), to_ids=True)
    red.add_tag("tlp:red")
    event.add_attribute("domain|ip", "relay.harbourline.example|198.51.100.9", uuid=_uuid(4))
    event.add_attribute("email-src", "support@harbourline-kits.example", uuid=_uuid(5))
    digest = "0f3c8a7e1b2d4c6e8f0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f6a"
    event.add_attribute("sha256", digest, uuid=_uuid(6))
    event.add_attribute("AS", "AS64511", uuid=_uuid(7))
    event.add_attribute("btc", "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq", uuid=_uuid(8))
    event.add_attribute("phone-number", "+31 6 12345678", uuid=_uuid(9), to_ids=False)
    event.add_attribute("sigma", "title: Harbour Line kit landing", uuid=_uuid(10))
    event.add_attribute("text", "Seen in the weekly OSINT session", uuid=_uuid(11))
    event.add_attribute("text", "Second note", uuid=_uuid(12))

    account = MISPObject("bank-account", standalone=False)
    account.uuid = _uuid(20)
    account.add_attribute("iban", "NL91ABNA0417164300", uuid=_uuid(21))
    account.add_attribute("institution-name", "Example Bank", uuid=_uuid(22))
    account.add_attribute("balance", "1200", uuid=_uuid(23))
    event.add_object(account)
    coin = MISPObject("coin-address", standalone=False)
    coin.uuid = _uuid(30)
    coin.add_attribute("address", "TJRabPrwbZy45sbavfcjinPJC18kjpRTv8", uuid=_uuid(31))
    coin.add_attribute("symbol", "USDT-TRC20", uuid=_uuid(32))
    event.add_object(coin)
    telegram = MISPObject("telegram-account", standalone=False)
    telegram.uuid = _uuid(40)
    telegram.add_attribute("username", "Harbour Line Support", uuid=_uuid(41))
    event.add_object(telegram)
    pair = MISPObject("domain-ip", standalone=False)
    pair.uuid = _uuid(50)
    pair.add_attribute("domain", "kit.harbourline.example", uuid=_uuid(51))
    pair.add_attribute("ip", "192.0.2.5", uuid=_uuid(52))
    event.add_object(pair)

    actors = event.add_galaxy(type="threat-actor", name="Threat Actor", uuid=_uuid(60))
    actors.add_galaxy_cluster(
        value="Harbour Line", type="threat-actor", uuid=ACTOR_UUID,
        meta={"synonyms": ["HBL", "Harbourline"], "country": ["NL", "Unknown"]},
    )  # fmt: skip
    malware = event.add_galaxy(type="malpedia", name="Malpedia", uuid=_uuid(61))
    malware.add_galaxy_cluster(value="Harbour Kit", type="malpedia", uuid=_uuid(62))
    return event


#: When the event was last changed (MISP's ``timestamp``): PyMISP leaves the timestamp
#: of an event it edited out of its JSON, for the MISP server to set; exports have it.
LAST_CHANGE = datetime.datetime(2024, 6, 11, 9, 0, tzinfo=datetime.UTC)


def write_event(event: MISPEvent, path: Path) -> Path:
    """The event as MISP exports it (``{"Event": {...}}``), serialised by PyMISP."""
    data = json.loads(event.to_json())
    data["timestamp"] = str(int(LAST_CHANGE.timestamp()))
    path.write_text(json.dumps({"Event": data}, indent=1), encoding="utf-8")
    return path
