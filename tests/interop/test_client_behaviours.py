"""What real clients do on the wire (shared/clients.md), against the real server:
header and auth variants, Elastic's and OpenCTI's habits around ``next`` and
``added_after``, and a ``next`` token followed after a wait, on another worker."""

from __future__ import annotations

import base64
import time
import uuid
from typing import Any

import pytest
import requests

from taxii_server.timestamps import format_timestamp, parse_timestamp

from .conftest import INBOX_ID, INDICATORS_ID, LiveServer
from .dataset import visible_ids
from .server import WORKER_HEADER

TAXII = "application/taxii+json;version=2.1"
STIX = "application/stix+json;version=2.1"
# Attempts at landing a request on another worker; each uses a new connection.
_WORKER_ATTEMPTS = 200


def _basic(user: str, secret: str, scheme: str = "Basic") -> str:
    return f"{scheme} " + base64.b64encode(f"{user}:{secret}".encode()).decode()


def _get(
    live: LiveServer, url: str, auth: str, params: dict[str, str] | None = None, **headers: str
) -> requests.Response:
    """One GET on a fresh connection (no session): any worker may answer it."""
    merged = {"Accept": TAXII, "Authorization": auth, **headers}
    return requests.get(url, params=params, headers=merged, timeout=30)


def _objects_url(live: LiveServer, collection_id: str = INDICATORS_ID) -> str:
    return f"{live.collection_url(collection_id)}objects/"


def _manifest(live: LiveServer, auth: str) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = []
    params: dict[str, str] = {"limit": "500"}
    while True:
        body = _get(live, f"{live.collection_url(INDICATORS_ID)}manifest/", auth, params).json()
        entries.extend(body.get("objects", []))
        if not body.get("more"):
            return entries
        params = {"limit": "500", "next": body["next"]}


@pytest.mark.parametrize(
    "accept",
    [
        pytest.param("application/taxii+json", id="unversioned"),
        pytest.param("application/taxii+json; version=2.1", id="with-space"),
        pytest.param("*/*", id="anything"),
        pytest.param("application/json, application/taxii+json;q=0.9", id="q-values"),
    ],
)
def test_accept_variants_get_the_versioned_media_type(live: LiveServer, accept: str) -> None:
    auth = _basic("alice", live.alice.password)
    response = _get(live, live.discovery_url, auth, Accept=accept)
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"] == TAXII


@pytest.mark.parametrize(
    ("scheme", "secret"),
    [
        pytest.param("basic", "password", id="basic-lower-case-misp"),
        pytest.param("BASIC", "password", id="basic-upper-case"),
        pytest.param("Basic", "api_key", id="basic-with-api-key-as-password"),
        pytest.param("Bearer", "api_key", id="bearer-key"),
        pytest.param("Token", "api_key", id="token-key-taxii2-client"),
    ],
)
def test_every_auth_form_clients_use(live: LiveServer, scheme: str, secret: str) -> None:
    value = getattr(live.alice, secret)
    auth = _basic("alice", value, scheme) if scheme.lower() == "basic" else f"{scheme} {value}"
    response = _get(live, _objects_url(live), auth, {"limit": "1"})
    assert response.status_code == 200, response.text
    assert len(response.json()["objects"]) == 1


@pytest.mark.parametrize(
    "auth",
    [
        pytest.param("wrong-password", id="wrong-password"),
        pytest.param("Bearer atk_aaaaaaaaaaaa_" + "A" * 32, id="unknown-key"),
        pytest.param("Digest foo", id="unsupported-scheme"),
    ],
)
def test_bad_credentials_get_a_taxii_401(live: LiveServer, auth: str) -> None:
    if auth == "wrong-password":
        auth = _basic("alice", "not the password at all")
    response = _get(live, _objects_url(live), auth)
    assert response.status_code == 401
    assert "WWW-Authenticate" in response.headers
    assert response.headers["Content-Type"] == TAXII
    assert response.json()["http_status"] in ("401", 401)


def test_elastic_first_poll_and_dropped_filters(live: LiveServer) -> None:
    """Elastic: objects URL directly, Content-Type on GET, ``added_after`` without
    fractional seconds, then only ``next`` on follow-up pages."""
    auth = _basic("alice", live.alice.password)
    entries = _manifest(live, auth)
    middle = parse_timestamp(entries[len(entries) // 2]["date_added"])
    # Whole seconds, as Elastic sends: truncation moves the bound down, never up.
    added_after = format_timestamp(middle - middle % 1_000_000)[:19] + "Z"
    bound = parse_timestamp(added_after)
    expected = {
        e["id"]
        for e in entries
        if parse_timestamp(e["date_added"]) > bound and e["id"].startswith("indicator--")
    }

    params = {"added_after": added_after, "match[type]": "indicator", "limit": "100"}
    seen: list[str] = []
    while True:
        response = _get(live, _objects_url(live), auth, params, **{"Content-Type": TAXII})
        assert response.status_code == 200, response.text
        body = response.json()
        seen.extend(o["id"] for o in body.get("objects", []))
        assert all(o["type"] == "indicator" for o in body.get("objects", []))
        if "next" not in body:  # Elastic follows `next` when present and ignores `more`
            break
        params = {"next": body["next"]}
    assert len(seen) == len(set(seen))
    assert set(seen) == expected


def test_opencti_resumes_from_a_millisecond_truncated_header(live: LiveServer) -> None:
    """OpenCTI keeps ``X-TAXII-Date-Added-Last`` truncated to milliseconds and polls
    with it as ``added_after``: nothing may be missed (a re-sent object is tolerable,
    it deduplicates by id)."""
    auth = _basic("alice", live.alice.password)
    entries = _manifest(live, auth)
    first = _get(live, _objects_url(live), auth, {"limit": "250"})
    last_header = first.headers["X-TAXII-Date-Added-Last"]
    assert len(last_header) == len("2024-01-01T00:00:00.000000Z")
    truncated = last_header[:23] + "Z"

    resumed: set[str] = set()
    params: dict[str, str] = {"added_after": truncated, "limit": "500"}
    while True:
        body = _get(live, _objects_url(live), auth, params).json()
        resumed.update(o["id"] for o in body.get("objects", []))
        if not body.get("more"):
            break
        params = {"next": body["next"]}  # OpenCTI drops added_after when following next
    after_last = {
        e["id"] for e in entries if parse_timestamp(e["date_added"]) > parse_timestamp(last_header)
    }
    assert after_last <= resumed
    assert {o["id"] for o in first.json()["objects"]} | resumed == {e["id"] for e in entries}


def test_opencti_sees_an_object_added_after_its_last_poll(live: LiveServer) -> None:
    auth = _basic("alice", live.alice.password)
    inbox = _objects_url(live, INBOX_ID)
    before = _get(live, inbox, auth)
    truncated = before.headers["X-TAXII-Date-Added-Last"][:23] + "Z"
    new_id = f"identity--{uuid.uuid4()}"
    posted = requests.post(
        inbox,
        json={
            "objects": [
                {
                    "type": "identity",
                    "spec_version": "2.1",
                    "id": new_id,
                    "created": "2024-06-01T00:00:00.000Z",
                    "modified": "2024-06-01T00:00:00.000Z",
                    "name": "Posted by a MISP-like client",
                }
            ]
        },
        # MISP: lower-case scheme, posts without waiting for the status.
        headers={
            "Accept": TAXII,
            "Content-Type": TAXII,
            "Authorization": _basic("alice", live.alice.password, "basic"),
        },
        timeout=30,
    )
    assert posted.status_code == 202, posted.text
    status_url = f"{live.base_url}/community/status/{posted.json()['id']}/"
    deadline = time.monotonic() + 30
    while _get(live, status_url, auth).json()["status"] != "complete":
        assert time.monotonic() < deadline, "the status never completed"
        time.sleep(0.1)
    after = _get(live, inbox, auth, {"added_after": truncated}).json()
    assert new_id in {o["id"] for o in after["objects"]}


def test_next_survives_a_wait_and_a_different_worker(live: LiveServer) -> None:
    """A token minted by one worker, followed seconds later with the filters dropped,
    is honoured by another worker: ``next`` carries its own state."""
    auth = _basic("alice", live.alice.password)
    first = _get(live, _objects_url(live), auth, {"match[type]": "malware", "limit": "20"})
    assert first.status_code == 200, first.text
    minted_by = first.headers[WORKER_HEADER]
    body = first.json()
    assert body["more"] is True
    first_ids = {o["id"] for o in body["objects"]}

    time.sleep(1.5)  # a client that waits between pages; no clock is injected here
    answers: dict[str, list[dict[str, Any]]] = {}
    for _ in range(_WORKER_ATTEMPTS):
        response = _get(live, _objects_url(live), auth, {"next": body["next"]})
        assert response.status_code == 200, response.text
        answers[response.headers[WORKER_HEADER]] = response.json()["objects"]
        if set(answers) - {minted_by}:
            break
    assert set(answers) - {minted_by}, "every request landed on the minting worker"
    # Every worker gives the same next page (its own `next` differs: a fresh expiry),
    # malware only, continuing after page one.
    pages = list(answers.values())
    assert all(page == pages[0] for page in pages)
    assert pages[0] and {o["type"] for o in pages[0]} == {"malware"}
    assert not first_ids & {o["id"] for o in pages[0]}


def test_next_is_reauthorised_against_the_caller(live: LiveServer) -> None:
    """A token minted for a red reader gives an amber reader only what amber may see."""
    red = _get(live, _objects_url(live), _basic("root", live.root.password), {"limit": "10"})
    token = red.json()["next"]
    amber = _get(live, _objects_url(live), _basic("alice", live.alice.password), {"next": token})
    assert amber.status_code == 200, amber.text
    allowed = visible_ids(live.objects, live.alice.clearance)
    assert {o["id"] for o in amber.json()["objects"]} <= allowed
    outsider = _get(live, _objects_url(live), _basic("bob", live.bob.password), {"next": token})
    assert outsider.status_code == 404


def test_objects_carry_the_stix_media_type_and_headers(live: LiveServer) -> None:
    auth = _basic("alice", live.alice.password)
    response = _get(live, _objects_url(live), auth, {"limit": "3"})
    assert response.headers["Content-Type"] == TAXII
    for name in ("X-TAXII-Date-Added-First", "X-TAXII-Date-Added-Last"):
        stamp = response.headers[name]
        assert stamp.endswith("Z") and len(stamp.split(".")[1]) == 7  # six digits and Z
    empty = _get(live, _objects_url(live), auth, {"match[type]": "no-such-type"})
    assert empty.status_code == 200 and empty.json().get("objects", []) == []
    assert "X-TAXII-Date-Added-Last" in empty.headers
