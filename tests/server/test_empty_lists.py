"""No TAXII response holds an empty list (TAXII 2.1 §2, the ``list`` type: "Empty
lists are prohibited in TAXII and MUST NOT be used as a substitute for omitting the
property if it is optional").

One scenario walks every endpoint the app serves, empty and not, paged and not, every
status state (complete with successes, with failures, pending, abandoned) and the
errors, and every JSON body it receives is searched for ``[]``.  The scenario must
reach every TAXII route of the app, so a new endpoint cannot be added without being
walked here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from flask import Flask, request_finished
from werkzeug.test import TestResponse

from taxii_server.app import create_app
from taxii_server.openapi import OPENAPI_PATH
from taxii_server.settings import load_settings

from . import data
from .conftest import (
    CLOSED_ROOT,
    EMPTY,
    ROOT,
    SHARED,
    Caller,
    FakeClock,
    World,
    basic,
    post_while_the_store_fails,
    url,
)

OBJECTS = url(SHARED, "objects")
JWKS_PATH = "/taxii2/jwks.json"


def empty_lists(value: Any, path: str = "$") -> Iterator[str]:
    """The JSON paths of every empty list in ``value``."""
    if isinstance(value, list):
        if not value:
            yield path
        for index, item in enumerate(value):
            yield from empty_lists(item, f"{path}[{index}]")
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from empty_lists(item, f"{path}.{key}")


def test_the_walker_finds_empty_lists() -> None:
    found = list(empty_lists({"a": [], "b": [{"c": []}, 1], "d": {"e": [[]]}}))
    assert found == ["$.a", "$.b[0].c", "$.d.e[0]"]


class _Recorder:
    """Every response the app sent, with the route (URL rule) that answered it."""

    def __init__(self, app: Flask) -> None:
        self.responses: list[tuple[str, str, int, bytes]] = []
        self.rules: set[str] = set()
        request_finished.connect(self._record, app)

    def _record(self, sender: Flask, response: Any, **extra: Any) -> None:
        from flask import request

        rule = request.url_rule.rule if request.url_rule is not None else "(no route)"
        self.rules.add(f"{request.method} {rule}")
        body = response.get_data()
        self.responses.append((request.method, request.full_path, response.status_code, body))


def _status_url(status_id: str) -> str:
    return f"/{ROOT}/status/{status_id}/"


def _json(response: TestResponse) -> Any:
    return orjson.loads(response.data)


def _walk_everything(
    app: Flask, world: World, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = app.test_client()
    alice = Caller(client, basic("alice", "alice-correct-horse"))
    bob = Caller(client, basic("bob", "bob-correct-horse"))
    anonymous = Caller(client)

    # Discovery, API roots, collections (an API root where alice sees none answers {}).
    alice.get("/taxii2/")
    alice.get(f"/{ROOT}/")
    alice.get(f"/{ROOT}/collections/")
    alice.get(f"/{CLOSED_ROOT}/collections/")
    alice.get(url(SHARED))
    anonymous.get(f"/{ROOT}/collections/")

    for kind in ("objects", "manifest"):
        first = _json(alice.get(url(SHARED, kind), {"limit": "2"}))
        assert first["more"] is True
        alice.get(url(SHARED, kind), {"next": first["next"]})
        alice.get(url(SHARED, kind), {"limit": "100"})
        alice.get(url(EMPTY, kind))  # an empty collection
        alice.get(url(SHARED, kind), {"match[type]": "x-nothing"})  # nothing matches
        bob.get(url(SHARED, kind), {"match[id]": data.IND_RED["id"]})  # hidden from bob

    malware = data.MALWARE_V1["id"]
    alice.get(url(SHARED, "objects", malware))
    alice.get(url(SHARED, "objects", malware), {"match[spec_version]": "2.0"})
    alice.get(url(SHARED, "objects", malware, "versions"))
    alice.get(url(SHARED, "objects", malware, "versions"), {"limit": "1"})
    alice.get(url(SHARED, "objects", malware, "versions"), {"match[spec_version]": "2.0"})

    # Statuses: successes only; failures only; both; and from the POST answer too.
    good = _json(alice.post(OBJECTS, {"objects": [data.indicator("walk-1")]}))
    bad = _json(
        alice.post(OBJECTS, {"objects": [{"type": "indicator", "id": data.indicator("x")["id"]}]})
    )
    both = _json(
        alice.post(
            OBJECTS,
            {"objects": [data.indicator("walk-2"), data.IND_GREEN | {"name": "conflict"}]},
        )
    )
    for status in (good, bad, both):
        alice.get(_status_url(status["id"]))
    assert "failures" not in good and "successes" not in bad and "pendings" not in both

    # A status whose worker died half-way: pending, then abandoned (pendings → failures).
    dying_objects = [data.indicator(f"dying-{i}") for i in range(3)]
    _, dying = post_while_the_store_fails(alice, world, monkeypatch, dying_objects, chunk=1)
    assert _json(alice.get(_status_url(dying)))["status"] == "pending"
    clock.advance(2 * 120 + 60)  # past twice request_timeout, whatever the store's clock
    assert "pendings" not in _json(alice.get(_status_url(dying)))

    # Delete (an empty body), errors of every kind.
    alice.delete(url(SHARED, "objects", data.indicator("walk-1")["id"]))
    alice.get(url(SHARED, "objects"), {"limit": "0"})  # 400
    alice.post(OBJECTS, {"objects": []})  # 400
    anonymous.get(OBJECTS)  # 401
    Caller(client, basic("walt", "walt-correct-horse")).get(OBJECTS)  # 403
    alice.get(url("00000000-0000-4000-8000-000000000000"))  # 404
    alice.get(_status_url("00000000-0000-4000-8000-000000000000"))  # 404
    Caller(client, basic("alice", "alice-correct-horse"), accept="text/html").get(OBJECTS)  # 406
    alice.post(OBJECTS, b"{}", content_type="text/plain")  # 415
    client.get(OPENAPI_PATH)
    client.get(JWKS_PATH)


def test_no_response_holds_an_empty_list(
    app: Flask, world: World, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    recorder = _Recorder(app)
    _walk_everything(app, world, clock, monkeypatch)
    statuses = {code for _, _, code, _ in recorder.responses}
    assert {200, 202, 400, 401, 403, 404, 406, 415, 503} <= statuses
    walked = 0
    for method, path, code, body in recorder.responses:
        if not body or path.startswith((OPENAPI_PATH, JWKS_PATH)):
            # A delete's empty body; the OpenAPI document and the JWK Set (RFC 7517,
            # whose "keys" may be empty) are not TAXII resources.
            continue
        found = list(empty_lists(orjson.loads(body)))
        assert not found, f"{method} {path} -> {code}: empty list at {found}: {body[:500]!r}"
        walked += 1
    assert walked >= 40
    every_route = {
        f"{method} {rule.rule}"
        for rule in app.url_map.iter_rules()
        # The workbench's pages are HTML (tests/server/test_workbench.py), not TAXII.
        if rule.endpoint != "static" and not rule.endpoint.startswith("workbench.")
        for method in rule.methods or ()
        if method not in {"HEAD", "OPTIONS"}
    }
    assert every_route <= recorder.rules, f"routes never walked: {every_route - recorder.rules}"


def test_discovery_without_api_roots_has_no_api_roots_list(tmp_path: Path) -> None:
    """A server whose store has no API root yet: discovery says only its title."""
    settings = load_settings(environ={}, storage_url=f"sqlite:///{tmp_path / 'empty.db'}")
    from taxii_server.storage import open_storage

    storage = open_storage(settings.storage_url, migrate=True)
    try:
        app = create_app(settings, storage=storage)
        response = app.test_client().get(
            "/taxii2/", headers={"Accept": "application/taxii+json;version=2.1"}
        )
        assert response.status_code == 200
        body = orjson.loads(response.data)
        assert "api_roots" not in body and not list(empty_lists(body))
    finally:
        storage.close()


def test_the_openapi_document_says_lists_are_never_empty(
    taxii: Callable[..., Caller],
) -> None:
    schemas = _json(taxii(None).get(OPENAPI_PATH))["components"]["schemas"]
    arrays = [
        (name, prop)
        for name, schema in schemas.items()
        for prop, spec in schema.get("properties", {}).items()
        if spec.get("type") == "array"
    ]
    assert arrays and all(schemas[n]["properties"][p].get("minItems") == 1 for n, p in arrays)
