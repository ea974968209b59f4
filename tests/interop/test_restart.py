"""A ``next`` token and a status outlive the server: stop it, start it again on the same
store (no signing secret configured: the workers share the one kept in the store), and
the client carries on where it was."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests

from .conftest import INDICATORS_ID, start_server
from .dataset import build_objects, visible_ids

pytestmark = pytest.mark.slow  # starts its own server twice

TAXII = "application/taxii+json;version=2.1"


def test_paging_resumes_after_a_restart(tmp_path: Path) -> None:
    server = start_server(tmp_path, build_objects(60))
    url = f"{server.collection_url(INDICATORS_ID)}objects/"
    auth = ("alice", server.alice.password)
    headers = {"Accept": TAXII}
    try:
        first = requests.get(url, params={"limit": "25"}, auth=auth, headers=headers, timeout=30)
        assert first.status_code == 200, first.text
        before = requests.get(
            url, params={"next": first.json()["next"]}, auth=auth, headers=headers, timeout=30
        ).json()["objects"]
    finally:
        assert server.process.stop() == 0, server.process.output

    server.process.start()
    try:
        seen = [o["id"] for o in first.json()["objects"]]
        params = {"next": first.json()["next"]}
        after: list[dict[str, object]] | None = None
        while True:
            response = requests.get(url, params=params, auth=auth, headers=headers, timeout=30)
            assert response.status_code == 200, response.text
            body = response.json()
            after = body["objects"] if after is None else after
            seen.extend(o["id"] for o in body["objects"])
            if not body["more"]:
                break
            params = {"next": body["next"]}
        assert after == before
        assert len(seen) == len(set(seen))
        assert set(seen) == visible_ids(server.objects, server.alice.clearance)
    finally:
        server.process.stop()
