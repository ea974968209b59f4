"""MISP events into packages: what is mapped, what is listed as not mapped, where problems are."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pymisp import MISPEvent

from converters import PackageError, Policy, convert_packages
from converters.inputs import read_input
from taxii_server.cli import main

from .misp_events import ACTOR_UUID, harbour_line_event, write_event


@pytest.fixture
def event_file(tmp_path: Path) -> Path:
    return write_event(harbour_line_event(), tmp_path / "event.json")


def test_an_event_becomes_one_checked_package(event_file: Path) -> None:
    read = read_input(event_file)
    assert read.kind == "misp"
    (package,) = read.packages
    assert package.id == "MISPIQYV-2024-185892"  # from the event UUID: the same every time
    assert (package.tlp, package.created, package.modified) == (
        "amber", "2024-06-01T00:00:00.000Z", "2024-06-11T09:00:00.000Z",
    )  # fmt: skip
    points = {item.fields["value"]: item.fields for item in package.sections["data_points"]}
    assert points["203.0.113.77"]["tlp"] == "red"  # the attribute's own tlp: tag
    assert points["secure-login-examplebank.top"]["x_misp_comment"] == "kit landing page"
    assert points["secure-login-examplebank.top"]["x_misp_to_ids"] is True
    assert points["31612345678"]["x_misp_to_ids"] is False
    assert points["relay.harbourline.example"]["type"] == "domain"  # domain|ip: both halves
    assert points["198.51.100.9"]["type"] == "ipv4"
    assert points["NL91ABNA0417164300"]["bank"] == {"name": "Example Bank"}  # an object
    assert points["TJRabPrwbZy45sbavfcjinPJC18kjpRTv8"]["currency"] == "USDT-TRC20"
    assert points["Harbour Line Support"]["platform"] == "telegram"  # a display name
    (actor,) = package.sections["actors"]
    assert actor.ref == f"actor-{ACTOR_UUID}"
    assert actor.fields["aliases"] == ["HBL", "Harbourline"]
    assert actor.fields["countries"] == ["NL"]


def test_what_is_not_mapped_is_listed_never_dropped(event_file: Path) -> None:
    unmapped = {(u.kind, u.name): (u.count, u.where) for u in read_input(event_file).unmapped}
    assert unmapped == {
        ("tag", "type:OSINT"): (1, "$.Event.Tag[1]"),
        ("galaxy country", "Unknown"): (1, "$.Event.Galaxy[0].GalaxyCluster[0]"),
        ("galaxy", "malpedia"): (1, "$.Event.Galaxy[1].GalaxyCluster[0]"),
        ("attribute type", "sigma"): (1, "$.Event.Attribute[9]"),
        ("attribute type", "text"): (2, "$.Event.Attribute[10]"),
        ("object relation", "bank-account.balance"): (1, "$.Event.Object[0].Attribute[2]"),
    }


def test_the_command_line_lists_what_is_not_mapped(
    event_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    output = tmp_path / "bundle.json"
    assert main(["convert", "--from", "misp", str(event_file), "-o", str(output)]) == 0
    err = capsys.readouterr().err.splitlines()
    assert f"{event_file}: $.Event.Attribute[10]: not mapped: attribute type 'text' ×2" in (err[4])
    assert err[-2] == "7 input item(s) of 6 kind(s) not mapped"
    assert json.loads(output.read_bytes())["type"] == "bundle"


def test_attributes_carrying_a_threat_actor_are_linked_to_it(tmp_path: Path) -> None:
    event = harbour_line_event()
    attribute = event.attributes[0]
    galaxy = attribute.add_galaxy(type="threat-actor", name="Threat Actor")
    galaxy.add_galaxy_cluster(value="Harbour Line", type="threat-actor", uuid=ACTOR_UUID)
    (package,) = read_input(write_event(event, tmp_path / "event.json")).packages
    assert package.items["misp-00000000-0000-4000-8000-000000000001"].fields["linked_to"] == [
        f"actor-{ACTOR_UUID}"
    ]
    assert len(package.sections["actors"]) == 1  # the same cluster, one actor


def test_problems_are_reported_where_they_are_in_the_event(tmp_path: Path) -> None:
    event = MISPEvent()
    event.info = "Broken"
    event.date = "2024-06-01"
    event.add_attribute("ip-dst", "203.0.113.300")
    event.add_attribute("btc", "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdr")
    with pytest.raises(PackageError) as caught:
        read_input(write_event(event, tmp_path / "event.json"))
    problems = [(p.path, p.file, p.message) for p in caught.value.problems]
    assert problems[0][:2] == ("$.Event.Attribute[0].value", str(tmp_path / "event.json"))
    assert "expected an IPv4 address" in problems[0][2]
    assert problems[1][0] == "$.Event.Attribute[1].value"
    assert "fails its bech32/bech32m checksum" in problems[1][2]
    with pytest.raises(PackageError) as lenient:
        read_input(tmp_path / "event.json", "misp", policy=Policy(lenient=True))
    assert [p.severity for p in lenient.value.problems] == ["error", "warning"]


def test_a_list_of_events_makes_one_package_each(tmp_path: Path) -> None:
    first, second = harbour_line_event(), harbour_line_event()
    second.uuid = "0b0e6a6e-0b5e-4a8c-9c43-2b1a7f3e9d11"
    second.info = "Second event"
    data = [{"Event": json.loads(e.to_json())} for e in (first, second)]
    path = tmp_path / "events.json"
    path.write_text(json.dumps({"response": data}), encoding="utf-8")
    converted = convert_packages([path], kind="auto")
    reports = [o for o in converted.bundle["objects"] if o["type"] == "report"]
    names = sorted(r["name"] for r in reports)
    assert names == ["Harbour Line phishing kit and its cash-out chain", "Second event"]


@pytest.mark.parametrize("shape", ["bare event", "list of events", "list of bare events"])
def test_every_documented_file_shape_is_read(shape: str, tmp_path: Path) -> None:
    """Besides ``{"Event": …}`` and the REST API's ``{"response": […]}``: an event
    without its wrapper, and a plain list of events (as exported by scripts)."""
    event = json.loads(harbour_line_event().to_json())
    data: object = {
        "bare event": event,
        "list of events": [{"Event": event}],
        "list of bare events": [event],
    }[shape]
    path = tmp_path / "event.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    read = read_input(path)
    assert read.kind == "misp"
    (package,) = read.packages
    assert package.id == "MISPIQYV-2024-185892"


def test_a_file_that_is_not_a_misp_event_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.json"
    path.write_text('{"objects": []}', encoding="utf-8")
    with pytest.raises(PackageError) as caught:
        read_input(path, "misp")
    assert "expected a MISP event" in str(caught.value)
