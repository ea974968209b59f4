"""``atlas-taxii publish --url``: to a real server over HTTP through taxii2-client."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import orjson
import pytest

from converters import convert_package
from taxii_server.publishing import Failure
from taxii_server.remote.push import envelopes
from taxii_server.storage.base import NewObject

from .conftest import EXAMPLE, MAX_CONTENT_LENGTH, Runner, Server
from .test_publish_local import revision, summary, without_modified


def publish(cli: Runner, server: Server, collection: str, *sources: str) -> Any:
    return cli(
        "publish",
        *sources,
        "--collection",
        collection,
        "--url",
        server.api_root_url,
        "--user",
        "analyst",
        "--password-stdin",
        stdin=server.analyst.password + "\n",
    )


def parsed(versions: dict[str, list[bytes]]) -> dict[str, list[dict[str, Any]]]:
    return {i: [json.loads(v) for v in vs] for i, vs in versions.items()}


def test_envelopes_fit_the_limit_and_keep_the_order() -> None:
    objects = [
        NewObject(
            f"x--{i}",
            "x",
            "2.1",
            None,
            0,
            orjson.dumps({"id": f"x--{i}", "pad": "p" * (i * 37 % 400)}),
        )
        for i in range(300)
    ]
    packed = list(envelopes(objects, max_bytes=2_000, max_objects=7))
    assert all(not isinstance(e, Exception) and hasattr(e, "body") for e in packed)
    assert [o.id for e in packed for o in e.objects] == [o.id for o in objects]  # type: ignore[union-attr]
    for envelope in packed:
        assert len(envelope.body) <= 2_000  # type: ignore[union-attr]
        assert len(envelope.objects) <= 7  # type: ignore[union-attr]
        assert json.loads(envelope.body)["objects"] == [
            json.loads(o.data) for o in envelope.objects
        ]  # type: ignore[union-attr]
    assert len(packed) > 300 // 7


def test_an_object_too_large_alone_is_a_failure() -> None:
    small = NewObject("x--1", "x", "2.1", None, 0, b'{"id":"x--1"}')
    large = NewObject("x--2", "x", "2.1", None, 0, b'{"id":"x--2","p":"' + b"p" * 500 + b'"}')
    failure, envelope = envelopes([small, large, small], max_bytes=100)
    assert isinstance(failure, Failure) and failure.object_id == "x--2"
    assert failure.message == (
        "534 bytes as an envelope: larger than the API root's max_content_length "
        "of 100 bytes; not posted"
    )
    assert not isinstance(envelope, Failure)
    assert envelope.body == b'{"objects":[{"id":"x--1"},{"id":"x--1"}]}'


def test_publishing_posts_envelopes_that_fit_and_stores_everything(
    cli: Runner, server: Server
) -> None:
    collection = server.new_collection()
    expected = convert_package(EXAMPLE)["objects"]
    assert sum(len(json.dumps(o)) for o in expected) > 3 * MAX_CONTENT_LENGTH  # must split
    result = publish(cli, server, collection, str(EXAMPLE))
    assert result.status == 0, result.err
    assert summary(result.out) == f"{len(expected)} new, 0 changed, 0 unchanged, 0 failed"
    assert parsed(server.versions(collection)) == {o["id"]: [o] for o in expected}


def test_a_new_revision_posts_only_what_changed(
    cli: Runner, server: Server, tmp_path: Path
) -> None:
    collection = server.new_collection()
    assert publish(cli, server, collection, str(EXAMPLE)).status == 0
    first = {o["id"]: o for o in convert_package(EXAMPLE)["objects"]}
    later = revision(
        tmp_path, published="2024-07-01T09:00:00Z", changes={"203.0.113[.]77": "203.0.113[.]78"}
    )
    second = {o["id"]: o for o in convert_package(later)["objects"]}
    new_ids = second.keys() - first.keys()
    changed_ids = {
        i
        for i in second.keys() & first.keys()
        if without_modified(first[i]) != without_modified(second[i])
    }
    unchanged = len(second) - len(new_ids) - len(changed_ids)

    result = publish(cli, server, collection, str(later))

    assert result.status == 0, result.err
    assert summary(result.out) == (
        f"{len(new_ids)} new, {len(changed_ids)} changed, {unchanged} unchanged, 0 failed"
    )
    stored = parsed(server.versions(collection))
    for object_id, obj in second.items():
        if object_id in new_ids:
            assert stored[object_id] == [obj]
        elif object_id in changed_ids:
            assert stored[object_id] == [first[object_id], obj]
        else:
            assert stored[object_id] == [first[object_id]]


def test_a_user_who_cannot_read_posts_everything_without_comparing(
    cli: Runner, server: Server
) -> None:
    collection = server.new_collection(writer_only=True)
    count = len(convert_package(EXAMPLE)["objects"])
    args = ("publish", str(EXAMPLE), "--collection", collection, "--url", server.api_root_url)
    # The writer is cleared for TLP:GREEN only: writing is not reading.
    for _ in range(2):
        result = cli(*args, "--api-key-stdin", stdin=server.writer.api_key + "\n")
        assert result.status == 0, result.err
        assert (
            summary(result.out)
            == f"0 new, 0 changed, 0 unchanged, {count} posted without comparison, 0 failed"
        )
    assert all(
        len(v) == 1 for v in server.versions(collection).values()
    )  # posted twice, stored once


def test_too_large_and_invalid_objects_fail_and_the_rest_is_published(
    cli: Runner, server: Server, tmp_path: Path
) -> None:
    collection = server.new_collection()
    objects = convert_package(EXAMPLE)["objects"]
    indicator = next(o for o in objects if o["type"] == "indicator")
    large = dict(indicator, description="x" * MAX_CONTENT_LENGTH)
    invalid = dict(objects[-1], id="not-an-id")
    rest = [o for o in objects if o["id"] != indicator["id"]]
    path = tmp_path / "bundle.json"
    path.write_text(
        json.dumps(
            {
                "type": "bundle",
                "id": "bundle--6f1c4e0a-0d9b-4c1e-9a7d-2b3c4d5e6f70",
                "objects": [large, invalid, *rest],
            }
        )
    )
    result = publish(cli, server, collection, str(path))
    assert result.status == 1
    assert summary(result.out) == f"{len(rest)} new, 0 changed, 0 unchanged, 2 failed"
    lines = result.err.splitlines()
    assert any(
        line.startswith(f"{indicator['id']}: ")
        and "larger than the API root's max_content_length" in line
        for line in lines
    )
    assert any(line.startswith("not-an-id: $.objects[1].id") for line in lines)
    assert set(server.versions(collection)) == {o["id"] for o in rest}


@pytest.mark.parametrize(
    ("extra", "stdin", "expected"),
    [
        pytest.param(
            ("--user", "analyst", "--password-stdin"), "wrong-password\n", "401", id="password"
        ),
        pytest.param(("--api-key", "atk_nope_nope"), "", "401", id="api-key"),
    ],
)
def test_refused_credentials_are_one_line_and_exit_2(
    cli: Runner, server: Server, extra: tuple[str, ...], stdin: str, expected: str
) -> None:
    collection = server.new_collection()
    result = cli(
        "publish",
        str(EXAMPLE),
        "--collection",
        collection,
        "--url",
        server.api_root_url,
        *extra,
        stdin=stdin,
    )
    assert result.status == 2
    (line,) = result.err.splitlines()[-1:]
    assert line.startswith("atlas-taxii: error: ") and expected in line
    assert "check the user and password or API key" in line
    assert "Traceback" not in result.err


def test_an_unknown_remote_collection_is_bad_input(cli: Runner, server: Server) -> None:
    result = publish(cli, server, "no-such-collection", str(EXAMPLE))
    assert result.status == 2
    assert "has no collection with id, alias or title 'no-such-collection'" in result.err


def test_a_read_only_collection_is_refused_before_posting(cli: Runner, server: Server) -> None:
    result = publish(cli, server, "seeded", str(EXAMPLE))
    assert result.status == 2
    assert "this user may not write to collection 'Seeded'" in result.err


def test_a_revision_keeps_created_over_http(cli: Runner, server: Server, tmp_path: Path) -> None:
    """As a local publish does (test_publish_local): a package without
    `first_published` converts with `created` following `published`; the revision
    posted over TAXII keeps the first version's `created` (and an indicator's
    `valid_from` with it), so the server accepts it as a new version (STIX 2.1 §3.6)."""
    text = EXAMPLE.read_text("utf-8").replace("first_published: 2024-05-02T09:00:00Z\n", "")
    changed_point = '{ref: d2, type: url, value: "hxxps://verify-examplebank[.]top/otp/relay.php",'
    assert changed_point in text
    one, two = tmp_path / "RP-2024-0007.yaml", tmp_path / "RP-2024-0007-r3.yaml"
    one.write_text(text, "utf-8")
    two.write_text(
        text.replace("revision: 2", "revision: 3")
        .replace("published: 2024-06-11T09:00:00Z", "published: 2024-07-01T09:00:00Z")
        .replace(changed_point, changed_point + " confidence: 40,"),
        "utf-8",
    )
    collection = server.new_collection()
    assert publish(cli, server, collection, str(one)).status == 0

    result = publish(cli, server, collection, str(two))

    assert result.status == 0, result.err
    stored = parsed(server.versions(collection))
    revised = {i: versions for i, versions in stored.items() if len(versions) > 1}
    assert sorted(v[0]["type"] for v in revised.values()) == ["indicator", "report"]
    for old, new in revised.values():
        assert new["created"] == old["created"]
        assert new["modified"] == "2024-07-01T09:00:00.000Z"
        if new["type"] == "indicator":
            assert (old["confidence"], new["confidence"]) == (80, 40)
            assert new["valid_from"] == old["valid_from"] == old["created"]
