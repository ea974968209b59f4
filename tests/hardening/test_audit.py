"""The audit log from the HTTP side: every read and write of objects leaves exactly one
record saying who, from where, which collection, which endpoint, how many objects and
when; refused requests leave none; a record that cannot be stored means no objects are
served; and a record identifies exactly which objects a page held."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson
import pytest
from flask import Flask

from converters.tlp import LEVELS
from taxii_server.storage import sql_audit
from taxii_server.storage.base import (
    AuditQuery,
    AuditRecord,
    ObjectQuery,
    StorageUnavailable,
    VersionSelector,
)
from taxii_server.timestamps import parse_timestamp
from tests.server import data
from tests.server.conftest import PUBLIC, SHARED, Caller, World, basic, password_of, url

OBJECTS = url(SHARED, "objects")
TAXII = "application/taxii+json;version=2.1"


def _records(world: World) -> list[AuditRecord]:
    return world.storage.query_audit(AuditQuery(limit=10_000))


@pytest.mark.parametrize(
    ("action", "path", "object_id"),
    [
        ("objects", OBJECTS, None),
        ("manifest", url(SHARED, "manifest"), None),
        ("object", url(SHARED, "objects", data.MALWARE_V1["id"]), data.MALWARE_V1["id"]),
        (
            "versions",
            url(SHARED, "objects", data.MALWARE_V1["id"], "versions"),
            data.MALWARE_V1["id"],
        ),
    ],
)
def test_every_read_endpoint_is_recorded(
    taxii: Callable[..., Caller],
    world: World,
    clock: Any,
    action: str,
    path: str,
    object_id: str | None,
) -> None:
    response = taxii("bob").get(path, {"limit": "2"})
    assert response.status_code == 200
    (record,) = _records(world)
    first = parse_timestamp(response.headers["X-TAXII-Date-Added-First"])
    last = parse_timestamp(response.headers["X-TAXII-Date-Added-Last"])
    body = orjson.loads(response.data)
    served = len(body.get("objects", body.get("versions", [])))
    assert record == AuditRecord(
        time=clock.now,
        user="bob",
        address="127.0.0.1",
        api_root="community",
        collection_id=SHARED,
        action=action,
        count=served,
        object_id=object_id,
        first=first,
        last=last,
        query="tlp=green",
        seq=record.seq,
    )


def test_each_page_of_a_walk_is_a_record(taxii: Callable[..., Caller], world: World) -> None:
    caller = taxii("alice")
    pages = [caller.get(OBJECTS, {"limit": "3", "match[type]": "indicator,malware"})]
    while orjson.loads(pages[-1].data)["more"]:
        pages.append(caller.get(OBJECTS, {"next": orjson.loads(pages[-1].data)["next"]}))
    records = _records(world)
    assert len(records) == len(pages) > 1
    assert [r.count for r in records] == [len(orjson.loads(p.data)["objects"]) for p in pages]
    assert all(r.query == "tlp=red&match[type]=indicator,malware" for r in records)
    assert all(a.last is not None and b.first is not None and a.last < b.first
               for a, b in zip(records, records[1:], strict=False))  # fmt: skip


def test_a_record_says_exactly_which_objects_a_page_held(
    taxii: Callable[..., Caller], world: World
) -> None:
    response = taxii("amy").get(OBJECTS, {"limit": "3", "added_after": "2000-01-01T00:00:00Z"})
    served = [o["id"] for o in orjson.loads(response.data)["objects"]]
    (record,) = _records(world)
    assert record.first is not None and record.last is not None
    # Replay: the collection, the date_added range and the clearance name the objects.
    clearance = LEVELS.index(record.query.split("&")[0].removeprefix("tlp="))
    replay = world.storage.query_objects(
        record.collection_id,
        ObjectQuery(clearance=clearance, limit=1000, after=record.first - 1),
    )
    assert [o.id for o in replay.items if o.date_added <= record.last] == served


def test_anonymous_reads_are_recorded_without_a_user(
    taxii: Callable[..., Caller], world: World
) -> None:
    assert taxii(None).get(url(PUBLIC, "objects")).status_code == 200
    (record,) = _records(world)
    assert record.user is None and record.collection_id == PUBLIC
    assert record.query == "tlp=clear" and record.count == 2


def test_posts_and_deletes_are_recorded(taxii: Callable[..., Caller], world: World) -> None:
    bad = {"type": "bad", "id": data.indicator("audited-bad")["id"]}
    new = [data.indicator("audited-1"), data.indicator("audited-2"), bad]
    posted = orjson.loads(taxii("alice").post(OBJECTS, {"objects": new}).data)
    deleted = taxii("alice").delete(url(SHARED, "objects", data.MALWARE_V1["id"]))
    assert deleted.status_code == 200
    add, delete = _records(world)
    assert (add.action, add.user, add.count, add.status_id) == ("add", "alice", 3, posted["id"])
    assert (delete.action, delete.count, delete.object_id) == (
        "delete",
        3,
        data.MALWARE_V1["id"],
    )
    assert add.first is None and delete.status_id is None


@pytest.mark.parametrize(
    ("user", "method", "path", "status"),
    [
        (None, "GET", OBJECTS, 401),
        ("carol", "GET", OBJECTS, 404),
        ("walt", "GET", OBJECTS, 403),
        ("bob", "GET", OBJECTS + "?limit=0", 400),
        ("bob", "GET", url(SHARED, "objects", data.IND_RED["id"]), 404),
        ("bob", "POST", OBJECTS, 403),
        ("bob", "DELETE", url(SHARED, "objects", data.IND_GREEN["id"]), 403),
        (
            "alice",
            "DELETE",
            url(SHARED, "objects", "indicator--" + "0" * 8 + "-0000-4000-8000-" + "0" * 12),
            404,
        ),
        ("bob", "GET", url(SHARED), 200),
        ("bob", "GET", "/community/collections/", 200),
    ],
)
def test_refused_requests_and_other_resources_are_not_recorded(
    client: Any, world: World, user: str | None, method: str, path: str, status: int
) -> None:
    headers = {"Accept": TAXII, "Content-Type": TAXII}
    if user is not None:
        headers["Authorization"] = basic(user, password_of(user))
    response = client.open(path, method=method, headers=headers, data=b'{"objects": []}')
    assert response.status_code == status
    assert _records(world) == []


def test_no_record_no_objects(
    taxii: Callable[..., Caller], world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*args: object) -> None:
        raise StorageUnavailable("the audit table is locked")

    # Where every record is written: on its own for a read, in the transaction that
    # stores an envelope's objects for a POST.
    monkeypatch.setattr(sql_audit, "insert_audit", refuse)
    response = taxii("alice").get(OBJECTS)
    assert response.status_code == 503
    assert b"objects" not in response.data
    posted = taxii("alice").post(OBJECTS, {"objects": [data.indicator("unrecorded")]})
    assert posted.status_code == 503
    monkeypatch.undo()
    stored = world.storage.query_manifest(
        SHARED,
        ObjectQuery(clearance=4, limit=100, ids=(data.indicator("unrecorded")["id"],),
                    versions=VersionSelector(all=True)),
    )  # fmt: skip
    assert stored.items == []


def test_records_hold_no_secrets_or_contents(make_app: Callable[..., Flask], world: World) -> None:
    secret_name = "Operation nightjar: do not disclose"
    client = make_app().test_client()
    alice = Caller(client, basic("alice", password_of("alice")))
    assert alice.post(OBJECTS, {"objects": [data.indicator(secret_name)]}).status_code == 202
    alice.get(OBJECTS, {"match[type]": "indicator"})
    Caller(client, f"Bearer {world.api_keys['bob']}").get(OBJECTS)
    text = repr(_records(world))
    for secret in (secret_name, password_of("alice"), world.api_keys["bob"], "[ipv4-addr"):
        assert secret not in text


def test_records_past_retention_are_purged_as_the_server_runs(
    make_app: Callable[..., Flask], world: World, clock: Any
) -> None:
    client = make_app(audit_retain_days=1).test_client()
    bob = {"Authorization": basic("bob", password_of("bob")), "Accept": TAXII}

    def read() -> None:
        assert client.get(OBJECTS, headers=bob).status_code == 200

    read()
    first = _records(world)
    clock.advance(2 * 86_400)
    read()  # its record is written, then the purge that is due runs
    assert [r.seq for r in _records(world)] == [first[-1].seq + 1]
    clock.advance(1800)  # within the hour: no purge, even if one were due
    read()
    assert len(_records(world)) == 2


def test_nothing_is_purged_when_retention_is_zero(
    make_app: Callable[..., Flask], world: World, clock: Any
) -> None:
    client = make_app(audit_retain_days=0).test_client()
    bob = {"Authorization": basic("bob", password_of("bob")), "Accept": TAXII}
    for _ in range(2):
        assert client.get(OBJECTS, headers=bob).status_code == 200
        clock.advance(20 * 365 * 86_400)
    assert len(_records(world)) == 2
