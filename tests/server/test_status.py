"""Status resources (TAXII 2.1 §4.3): for the poster's eyes, kept at least 24 h,
and truthful about requests whose worker died."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson
import pytest
from flask import Flask

from taxii_server.app import get_storage
from taxii_server.service import ABANDONED_MESSAGE

from . import data
from .conftest import (
    ROOT,
    SHARED,
    SMALL_ROOT,
    Caller,
    FakeClock,
    World,
    basic,
    password_of,
    post_while_the_store_fails,
    url,
)
from .test_negotiation import assert_taxii_error

OBJECTS = url(SHARED, "objects")


def posted(caller: Caller, objects: list[Any] | None = None) -> dict[str, Any]:
    response = caller.post(
        OBJECTS, {"objects": objects or [data.indicator("s1"), {"id": data.indicator("x")["id"]}]}
    )
    assert response.status_code == 202, response.data
    status: dict[str, Any] = orjson.loads(response.data)
    return status


def status_url(status_id: str, root: str = ROOT) -> str:
    return f"/{root}/status/{status_id}/"


def test_the_poster_reads_the_status_it_got(taxii: Callable[..., Caller]) -> None:
    status = posted(taxii("alice"))
    for path in (status_url(status["id"]), status_url(status["id"]).rstrip("/")):
        response = taxii("alice").get(path)  # taxii2-client polls without the slash
        assert response.status_code == 200
        assert orjson.loads(response.data) == status
    # No "pendings": an empty list is left out (TAXII 2.1 §2).
    assert set(status) == {
        "id",
        "status",
        "request_timestamp",
        "total_count",
        "success_count",
        "successes",
        "failure_count",
        "failures",
        "pending_count",
    }
    assert (status["success_count"], status["failure_count"], status["pending_count"]) == (1, 1, 0)
    assert status["request_timestamp"].endswith("Z") and len(status["request_timestamp"]) == 27


@pytest.mark.parametrize(
    ("reader", "code"),
    [
        pytest.param("bob", 404, id="another-user"),
        pytest.param("carol", 404, id="user-of-another-collection"),
        pytest.param(None, 401, id="anonymous"),
        pytest.param("root", 200, id="admin"),
    ],
)
def test_only_the_poster_and_admins_see_a_status(
    taxii: Callable[..., Caller], reader: str | None, code: int
) -> None:
    status = posted(taxii("alice"))
    response = taxii(reader).get(status_url(status["id"]))
    if code == 200:
        assert orjson.loads(response.data) == status
    else:
        assert_taxii_error(response, code)


@pytest.mark.parametrize(
    "path",
    [
        pytest.param(status_url("3f1f5c4e-0000-4000-8000-000000000000"), id="unknown"),
        pytest.param(status_url("not-a-uuid"), id="malformed"),
    ],
)
def test_unknown_status_is_404(taxii: Callable[..., Caller], path: str) -> None:
    assert_taxii_error(taxii("alice").get(path), 404)


def test_status_belongs_to_its_api_root(taxii: Callable[..., Caller]) -> None:
    status = posted(taxii("alice"))
    assert_taxii_error(taxii("alice").get(status_url(status["id"], SMALL_ROOT)), 404)


def test_status_is_kept_for_its_ttl_then_purged(
    make_app: Callable[..., Flask], clock: FakeClock
) -> None:
    app = make_app(status_ttl=86_400)
    alice = Caller(app.test_client(), basic("alice", password_of("alice")))
    status = posted(alice)
    clock.advance(86_400 - 60)
    assert alice.get(status_url(status["id"])).status_code == 200
    clock.advance(120)
    assert_taxii_error(alice.get(status_url(status["id"])), 404)
    posted(alice, [data.indicator("triggers-purge")])
    with app.app_context():
        assert get_storage().get_status(ROOT, status["id"]) is None


def test_status_of_a_request_whose_worker_died_is_reported_truthfully(
    taxii: Callable[..., Caller],
    world: World,
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    objects = [data.indicator(f"dying-{i}") for i in range(5)]
    response, status_id = post_while_the_store_fails(
        taxii("alice"), world, monkeypatch, objects, chunk=2
    )
    assert_taxii_error(response, 503)

    listing = taxii("alice").get(
        f"/{ROOT}/collections/{SHARED}/manifest/", {"match[id]": objects[0]["id"]}
    )
    assert len(orjson.loads(listing.data)["objects"]) == 1  # the first chunk is stored

    # While the request might still be running, the status says "pending".
    pending = orjson.loads(taxii("alice").get(status_url(status_id)).data)
    assert pending["status"] == "pending"
    assert (pending["success_count"], pending["pending_count"]) == (2, 3)

    # Long after any worker could still be on it, pendings are reported as failures.
    clock.advance(2 * 120 + 1)  # twice settings.request_timeout
    settled = orjson.loads(taxii("alice").get(status_url(status_id)).data)
    assert settled["status"] == "complete"
    assert (settled["success_count"], settled["failure_count"], settled["pending_count"]) == (
        2,
        3,
        0,
    )
    assert {f["message"] for f in settled["failures"]} == {ABANDONED_MESSAGE}
    assert {f["id"] for f in settled["failures"]} == {o["id"] for o in objects[2:]}
