"""A real medallion 3.0 (the OASIS reference TAXII server, a test dependency) under
gunicorn on 127.0.0.1, as its users run it: the memory backend, one sync worker (its
paging sessions live in that process), gunicorn's own request-line limit.

Started with an empty data file; objects are added over HTTP (medallion builds its
manifests itself).  Only the test process's virtualenv is used: medallion and
gunicorn are both installed there.
"""

from __future__ import annotations

import base64
import json
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from tests.live_server import ServerProcess, free_port
from tests.publish.medallion_data import medallion_config

TAXII = "application/taxii+json;version=2.1"
USER, PASSWORD = "medallion-user", "medallion-password"
API_ROOT = "api1"


@dataclass(frozen=True, slots=True)
class Medallion:
    """The running medallion and its collections (title -> id)."""

    process: ServerProcess
    collections: dict[str, str]

    @property
    def api_root_url(self) -> str:
        return f"{self.process.base_url}/{API_ROOT}/"

    def headers(self) -> dict[str, str]:
        token = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
        return {"Accept": TAXII, "Content-Type": TAXII, "Authorization": f"Basic {token}"}

    def post(self, title: str, objects: list[dict[str, Any]]) -> None:
        """Add ``objects`` to a collection through medallion's own API."""
        url = f"{self.api_root_url}collections/{self.collections[title]}/objects/"
        for start in range(0, len(objects), 100):
            answer = requests.post(
                url,
                data=json.dumps({"objects": objects[start : start + 100]}),
                headers=self.headers(),
                timeout=60,
            )
            status = answer.json()
            assert answer.status_code == 202 and status["failure_count"] == 0, answer.text


def start_medallion(directory: Path, titles: list[str], *extra: str) -> Medallion:
    """medallion with one API root holding empty collections named ``titles``;
    ``extra`` goes to gunicorn (e.g. ``--limit-request-line``)."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    collections = {title: str(uuid.uuid4()) for title in titles}
    data = directory / "medallion-data.json"
    data.write_text(
        json.dumps(
            {
                "/discovery": {
                    "title": "medallion",
                    "default": f"{base}/{API_ROOT}/",
                    "api_roots": [f"{base}/{API_ROOT}/"],
                },
                API_ROOT: {
                    "information": {
                        "title": "Medallion API root",
                        "versions": [TAXII],
                        "max_content_length": 10_000_000,
                    },
                    "status": [],
                    "collections": [
                        {
                            "id": collection_id,
                            "title": title,
                            "can_read": True,
                            "can_write": True,
                            "media_types": ["application/stix+json;version=2.1"],
                            "objects": [],
                            "manifest": [],
                        }
                        for title, collection_id in collections.items()
                    ],
                },
            }
        )
    )
    config = directory / "medallion.json"
    config.write_text(json.dumps(medallion_config(data, {USER: PASSWORD}, session_timeout=600)))
    gunicorn = Path(sys.executable).parent / "gunicorn"
    argv = [
        str(gunicorn), "--workers", "1", "--bind", f"127.0.0.1:{port}", "--no-control-socket",
        *extra, f"medallion:load_app({str(config)!r})",
    ]  # fmt: skip
    process = ServerProcess(argv, port, directory, "medallion")
    process.start()
    return Medallion(process, collections)
