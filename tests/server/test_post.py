"""Add Objects (TAXII 2.1 §5.5): every object validated and accounted for in the
status; the body's size, media type and shape checked first."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import orjson
import pytest
from flask import Flask
from flask.testing import FlaskClient

from converters.ids import sco_id
from taxii_server import ingest
from taxii_server import service as service_module
from taxii_server.media import MEDIA_TYPE_TAXII_V21
from taxii_server.storage.versions import CONFLICT_MESSAGE
from taxii_server.timestamps import format_timestamp

from . import data
from .conftest import (
    SHARED,
    SMALL,
    SMALL_MAX_CONTENT_LENGTH,
    SMALL_ROOT,
    Caller,
    FakeClock,
    World,
    basic,
    objects_of,
    password_of,
    url,
)
from .test_negotiation import assert_taxii_error

OBJECTS = url(SHARED, "objects")


def post(caller: Caller, objects: list[Any], path: str = OBJECTS) -> dict[str, Any]:
    response = caller.post(path, {"objects": objects})
    assert response.status_code == 202, response.data
    assert response.headers["Content-Type"] == MEDIA_TYPE_TAXII_V21
    status: dict[str, Any] = orjson.loads(response.data)
    assert status["total_count"] == len(objects)
    assert status["success_count"] + status["failure_count"] + status["pending_count"] == len(
        objects
    )
    # TAXII 2.1 §2: a list without entries is left out, never sent empty.
    assert [] not in status.values()
    assert status["success_count"] == len(status.get("successes", []))
    assert status["failure_count"] == len(status.get("failures", []))
    return status


def versions_of(caller: Caller, object_id: str) -> list[str]:
    response = caller.get(url(SHARED, "objects", object_id, "versions"))
    return list(orjson.loads(response.data)["versions"])


def test_valid_objects_are_stored_and_reported(taxii: Callable[..., Caller]) -> None:
    new = [
        data.indicator("n1", "green"),
        data.indicator("n2"),
        data.IP_SCO
        | {"value": "192.0.2.9", "id": sco_id({"type": "ipv4-addr", "value": "192.0.2.9"})},
    ]
    status = post(taxii("alice"), new)
    assert status["status"] == "complete"
    assert status["success_count"] == 3 and status["failure_count"] == 0
    assert {s["id"] for s in status["successes"]} == {o["id"] for o in new}
    assert {"id": new[0]["id"], "version": "2024-05-01T10:00:00.000000Z"} in status["successes"]
    stored = objects_of(taxii("alice").get(OBJECTS, {"match[id]": ",".join(o["id"] for o in new)}))
    assert sorted(stored, key=lambda o: o["id"]) == sorted(new, key=lambda o: o["id"])


def test_invalid_objects_are_failures_that_say_why_and_do_not_stop_the_rest(
    taxii: Callable[..., Caller], clock: FakeClock
) -> None:
    good = data.indicator("good")
    no_pattern = {k: v for k, v in data.indicator("no-pattern").items() if k != "pattern"}
    bad_time = data.indicator("bad-time") | {"modified": "2024-13-45T00:00:00Z"}
    bad_sco = {"type": "ipv4-addr", "id": "ipv4-addr--4b6f0a5e-0f35-5f2a-8e0e-3b3d9a6f1c21"}
    status = post(taxii("alice"), [no_pattern, good, bad_time, bad_sco])
    assert status["status"] == "complete"
    assert [s["id"] for s in status["successes"]] == [good["id"]]
    failures = {f["id"]: f for f in status["failures"]}
    assert set(failures) == {no_pattern["id"], bad_time["id"], bad_sco["id"]}
    assert "$.objects[0]" in failures[no_pattern["id"]]["message"]
    assert "pattern" in failures[no_pattern["id"]]["message"]
    assert "$.objects[2].modified" in failures[bad_time["id"]]["message"]
    assert "$.objects[3]" in failures[bad_sco["id"]]["message"]
    # Every entry names a STIX id and a timestamp (§4.3.1): the object's own version,
    # else (an unusable `modified`, an SCO) the time of the request.
    assert failures[no_pattern["id"]]["version"] == "2024-05-01T10:00:00.000000Z"
    assert failures[bad_time["id"]]["version"] == status["request_timestamp"]
    assert failures[bad_sco["id"]]["version"] == status["request_timestamp"]
    assert status["request_timestamp"] == format_timestamp(clock.now)
    assert objects_of(taxii("alice").get(OBJECTS, {"match[id]": no_pattern["id"]})) == []


@pytest.mark.parametrize(
    ("objects", "message"),
    [
        pytest.param([], "$.objects: empty", id="empty"),
        pytest.param([1, 2], "$.objects[0]: expected a STIX object (a JSON object), got a number",
                     id="numbers"),
        pytest.param([data.indicator("ok"), "text"], "$.objects[1]: expected a STIX object "
                     "(a JSON object), got a string", id="string"),
        pytest.param([data.indicator("ok"), [data.indicator("nested")]],
                     "$.objects[1]: expected a STIX object (a JSON object), got a list",
                     id="list"),
        pytest.param([data.indicator("ok"), None], "$.objects[1]: expected a STIX object "
                     "(a JSON object), got null", id="null"),
        pytest.param([{"type": "indicator"}], "$.objects[0].id: missing", id="no-id"),
        pytest.param([data.indicator("ok") | {"id": "$.objects[0]"}],
                     "$.objects[0].id: '$.objects[0]' is not a STIX identifier", id="path-id"),
        pytest.param([data.indicator("ok") | {"id": 7}], "$.objects[0].id: a number is not",
                     id="number-id"),
        pytest.param([data.indicator("ok") | {"id": "indicator--not-a-uuid"}],
                     "$.objects[0].id: 'indicator--not-a-uuid' is not a STIX identifier",
                     id="bad-id"),
    ],
)  # fmt: skip
def test_an_envelope_of_anything_but_identified_objects_is_refused(
    taxii: Callable[..., Caller], objects: list[Any], message: str
) -> None:
    """Items a status could not name (§4.3.1: a STIX id and a timestamp) make the
    request malformed: 400 naming the first one, and nothing stored."""
    response = taxii("alice").post(OBJECTS, {"objects": objects})
    assert_taxii_error(response, 400)
    body = orjson.loads(response.data)
    assert body["description"].startswith(message), body
    assert objects_of(taxii("alice").get(OBJECTS, {"match[id]": data.indicator("ok")["id"]})) == []


def test_reposting_an_identical_object_is_a_success_stored_once(
    taxii: Callable[..., Caller],
) -> None:
    caller = taxii("alice")
    again = post(caller, [data.IND_GREEN, data.MALWARE_V2, data.IP_SCO])
    assert again["success_count"] == 3 and again["failure_count"] == 0
    assert len(versions_of(caller, data.IND_GREEN["id"])) == 1
    assert len(versions_of(caller, data.IP_SCO["id"])) == 1
    assert len(versions_of(caller, data.MALWARE_V1["id"])) == 3


def test_the_same_object_twice_in_one_envelope_is_stored_once(
    taxii: Callable[..., Caller],
) -> None:
    twice = data.indicator("twice")
    status = post(taxii("alice"), [twice, twice])
    assert status["success_count"] == 2
    assert len(versions_of(taxii("alice"), twice["id"])) == 1


def test_a_changed_body_under_a_stored_version_is_a_conflict(
    taxii: Callable[..., Caller],
) -> None:
    changed = data.IND_GREEN | {"name": "rewritten without a new modified"}
    status = post(taxii("alice"), [changed])
    assert status["failures"] == [
        {"id": changed["id"], "version": "2024-05-01T10:00:00.000000Z", "message": CONFLICT_MESSAGE}
    ]
    stored = objects_of(taxii("alice").get(OBJECTS, {"match[id]": changed["id"]}))
    assert stored == [data.IND_GREEN]


def test_a_new_version_becomes_the_latest(taxii: Callable[..., Caller]) -> None:
    newer = data.IND_GREEN | {"modified": "2024-06-01T00:00:00.000Z", "name": "updated"}
    post(taxii("alice"), [newer])
    assert objects_of(taxii("bob").get(url(SHARED, "objects", newer["id"]))) == [newer]


def test_posted_markings_set_visibility(taxii: Callable[..., Caller]) -> None:
    secret = data.indicator("posted-red", "red")
    post(taxii("alice"), [secret])
    assert objects_of(taxii("alice").get(url(SHARED, "objects", secret["id"]))) == [secret]
    assert_taxii_error(taxii("bob").get(url(SHARED, "objects", secret["id"])), 404)


def test_a_stix_bundle_body_is_accepted(taxii: Callable[..., Caller]) -> None:
    bundle = {
        "type": "bundle",
        "id": "bundle--7d3c1a4e-5b6f-4c8d-9e0a-1b2c3d4e5f60",
        "objects": [data.indicator("from-bundle")],
    }
    response = taxii("alice").post(OBJECTS, bundle)
    assert response.status_code == 202
    assert orjson.loads(response.data)["success_count"] == 1


@pytest.mark.parametrize(
    ("body", "says"),
    [
        pytest.param(b'{"objects": [', "line 1, column 14", id="truncated-json"),
        pytest.param(b'{\n  "objects": [\n    {"type": }\n  ]\n}', "line 3", id="bad-json-line"),
        pytest.param(b"", "not valid JSON", id="empty-body"),
        pytest.param(b"\xff\xfe", "not valid JSON", id="not-utf8"),
        pytest.param(b"[]", "$: expected a TAXII envelope", id="list"),
        pytest.param(b'"objects"', "$: expected a TAXII envelope", id="string"),
        pytest.param(b'{"more": false}', "$.objects: missing", id="no-objects"),
        pytest.param(b'{"objects": {"a": 1}}', "$.objects: expected a list", id="objects-dict"),
    ],
)
def test_bodies_that_are_not_envelopes_are_400(
    taxii: Callable[..., Caller], body: bytes, says: str
) -> None:
    response = taxii("alice").post(OBJECTS, body)
    assert says in assert_taxii_error(response, 400)["description"]


_ITEM_ID = b"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"


@pytest.mark.parametrize(
    ("item", "says"),
    [
        pytest.param(b'"\\ud800"', "no low surrogate in string at line 1", id="lone-surrogate"),
        pytest.param(b'"\xff"', "$.objects[1]", id="invalid-utf8-in-a-string"),
        pytest.param(b"1e400", "$.objects[1]", id="number-out-of-range"),
        # In a member of an identified object: the ids are read skipping the rest.
        pytest.param(b'{"id": "%s", "x": "\xff"}' % _ITEM_ID, "$.objects[1]", id="utf8-member"),
        pytest.param(b'{"id": "%s", "x": 1e400}' % _ITEM_ID, "$.objects[1]", id="number-member"),
    ],
)
def test_an_item_that_is_not_json_refuses_the_envelope_naming_it(
    taxii: Callable[..., Caller], item: bytes, says: str
) -> None:
    body = b'{"objects": [' + orjson.dumps(data.indicator("before")) + b", " + item + b"]}"
    response = taxii("alice").post(OBJECTS, body)
    assert says in assert_taxii_error(response, 400)["description"]
    assert (
        objects_of(taxii("alice").get(OBJECTS, {"match[id]": data.indicator("before")["id"]})) == []
    )


def test_integers_are_kept_exact_or_refused_naming_their_path(
    taxii: Callable[..., Caller],
) -> None:
    """orjson parsed an integer above 2**64 as a float: 2**70 came back as
    1.1805916207174113e+21.  Integers the store can write are kept exact; larger ones
    are a failure saying where (STIX 2.1 §2.7 integers fit in 54 bits)."""
    largest = data.indicator("largest") | {"x_counter": 2**64 - 1, "x_low": -(2**63)}
    too_big = data.indicator("too-big") | {"x_nested": {"values": [1, 2**70]}}
    body = (
        orjson.dumps({"objects": [largest]})[:-2]
        + b","
        + orjson.dumps(too_big | {"x_nested": {"values": [1, 0]}}).replace(
            b"[1,0]", str([1, 2**70]).replace(" ", "").encode()
        )
        + b"]}"
    )
    response = taxii("alice").post(OBJECTS, body)
    assert response.status_code == 202, response.data
    status = orjson.loads(response.data)
    assert [s["id"] for s in status["successes"]] == [largest["id"]]
    (failure,) = status["failures"]
    assert failure["id"] == too_big["id"]
    assert failure["message"].startswith(
        "$.objects[1].x_nested.values[1]: the integer 1180591620717411303424 is out of range"
    )
    (stored,) = objects_of(taxii("alice").get(OBJECTS, {"match[id]": largest["id"]}))
    assert stored["x_counter"] == 2**64 - 1 and isinstance(stored["x_counter"], int)
    assert stored["x_low"] == -(2**63)


def _padded(size: int) -> dict[str, Any]:
    return {"objects": [data.indicator("padded") | {"description": "x" * size}]}


def test_body_above_max_content_length_is_413(taxii: Callable[..., Caller]) -> None:
    small = url(SMALL, "objects", root=SMALL_ROOT)
    response = taxii("alice").post(small, _padded(SMALL_MAX_CONTENT_LENGTH))
    body = assert_taxii_error(response, 413)
    assert str(SMALL_MAX_CONTENT_LENGTH) in body["description"]
    assert taxii("alice").post(small, _padded(100)).status_code == 202


def _chunked(client: FlaskClient, path: str, raw: bytes) -> Any:
    # No Content-Length, as with Transfer-Encoding: chunked behind gunicorn.
    return client.post(
        path,
        input_stream=io.BytesIO(raw),
        headers={
            "Accept": MEDIA_TYPE_TAXII_V21,
            "Content-Type": MEDIA_TYPE_TAXII_V21,
            "Authorization": basic("alice", password_of("alice")),
        },
        environ_overrides={"wsgi.input_terminated": True},
    )


def test_chunked_bodies_are_limited_too(client: FlaskClient) -> None:
    small = url(SMALL, "objects", root=SMALL_ROOT)
    too_big = _chunked(client, small, orjson.dumps(_padded(SMALL_MAX_CONTENT_LENGTH)))
    assert_taxii_error(too_big, 413)
    fine = _chunked(client, small, orjson.dumps(_padded(100)))
    assert fine.status_code == 202


def test_too_many_objects_is_413_saying_the_limit(make_app: Callable[..., Flask]) -> None:
    caller = Caller(
        make_app(max_objects_per_request=3).test_client(), basic("alice", password_of("alice"))
    )
    objects = [data.indicator(f"many-{i}") for i in range(4)]
    body = assert_taxii_error(caller.post(OBJECTS, {"objects": objects}), 413)
    assert "at most 3" in body["description"]
    assert post(caller, objects[:3])["success_count"] == 3


def test_large_envelopes_are_stored_in_chunks_with_a_truthful_status(
    taxii: Callable[..., Caller], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(service_module, "ADD_CHUNK", 2)
    objects = [data.indicator(f"chunk-{i}") for i in range(5)] + [
        {"type": "indicator", "id": data.indicator("chunk-bad")["id"]}
    ]
    status = post(taxii("alice"), objects)
    assert status["success_count"] == 5 and status["failure_count"] == 1
    assert status["status"] == "complete"


@pytest.mark.parametrize("chunk", [2, ingest.ADD_CHUNK], ids=["chunked", "one-transaction"])
def test_a_status_lists_the_same_entries_whether_chunked_or_not(
    taxii: Callable[..., Caller], monkeypatch: pytest.MonkeyPatch, chunk: int
) -> None:
    monkeypatch.setattr(service_module, "ADD_CHUNK", chunk)
    clash = data.IND_RED | {"name": "conflicting"}
    invalid = {"type": "indicator", "id": "indicator--6f1c2a5e-93c4-4d8e-a0b7-2c5d8e1f4a90"}
    objects = [data.indicator("first"), invalid, clash, data.indicator("last")]
    status = post(taxii("alice"), objects)
    assert [s["id"] for s in status["successes"]] == [objects[0]["id"], objects[3]["id"]]
    assert [f["id"] for f in status["failures"]] == [invalid["id"], clash["id"]]
    assert status["status"] == "complete" and status["total_count"] == 4


def test_posting_does_not_alter_what_is_stored(taxii: Callable[..., Caller], world: World) -> None:
    before = taxii("alice").get(OBJECTS, {"match[version]": "all", "limit": "6"}).data
    taxii("alice").post(OBJECTS, b"{broken")
    taxii("alice").post(OBJECTS, {"objects": [data.indicator("refused"), "junk"]})
    post(taxii("alice"), [data.IND_RED | {"name": "conflicting"}])
    after = taxii("alice").get(OBJECTS, {"match[version]": "all", "limit": "6"}).data
    assert before == after


class _Dribble(io.RawIOBase):
    """A WSGI input that returns at most a few bytes per read, as some servers do."""

    def __init__(self, raw: bytes) -> None:
        self._data = io.BytesIO(raw)

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = 0) -> int:
        return self._data.seek(offset, whence)

    def tell(self) -> int:
        return self._data.tell()

    def readinto(self, buffer: Any) -> int:
        chunk = self._data.read(min(len(buffer), 7))
        buffer[: len(chunk)] = chunk
        return len(chunk)


def test_bodies_read_in_small_pieces_are_read_whole(client: FlaskClient) -> None:
    objects = [data.indicator(f"dribbled-{i}") for i in range(3)]
    raw = orjson.dumps({"objects": objects})
    response = client.post(
        OBJECTS,
        input_stream=_Dribble(raw),
        content_length=len(raw),
        headers={
            "Accept": MEDIA_TYPE_TAXII_V21,
            "Content-Type": MEDIA_TYPE_TAXII_V21,
            "Authorization": basic("alice", password_of("alice")),
        },
    )
    assert response.status_code == 202, response.data
    assert orjson.loads(response.data)["success_count"] == 3


def test_post_without_trailing_slash_is_not_redirected(taxii: Callable[..., Caller]) -> None:
    response = taxii("alice").post(OBJECTS.rstrip("/"), {"objects": [data.indicator("no-slash")]})
    assert response.status_code == 202


def test_a_duplicate_key_is_stored_once_as_it_was_validated(
    taxii: Callable[..., Caller],
) -> None:
    """The last of two equal keys counts, as in every mainstream parser, and the body is
    stored re-serialised: readers get each key once, the value that was validated."""
    indicator = data.indicator("duplicate")
    raw = orjson.dumps(indicator)[:-1] + b',"name":"second"}'
    response = taxii("alice").post(OBJECTS, b'{"objects": [' + raw + b"]}")
    assert response.status_code == 202 and orjson.loads(response.data)["success_count"] == 1
    page = taxii("alice").get(OBJECTS, {"match[id]": indicator["id"]}).data
    assert page.count(b'"name"') == 1
    assert objects_of(taxii("alice").get(OBJECTS, {"match[id]": indicator["id"]}))[0]["name"] == (
        "second"
    )
