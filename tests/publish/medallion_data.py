"""``python -m tests.publish.medallion_data OUT IN``: a medallion data file written by
medallion's own code.

Starts medallion 3.0 (its Flask app and ``MemoryBackend``) on an empty data file with
one API root and two collections (one with a UUIDv4 id, one without), POSTs the
envelopes listed in the JSON file ``IN`` (``[[collection index, envelope], …]``)
through medallion's HTTP API, in order, and saves the backend with
``save_data_to_file``.  Run in its own process: medallion keeps a module-level Flask
app and starts a timer thread, neither of which belongs in the test process.
"""

from __future__ import annotations

import base64
import json
import sys
import tempfile
from pathlib import Path

API_ROOT = "trustgroup1"
COLLECTIONS = [
    {
        "id": "91a7b528-80eb-42ed-a74d-c6fbd5a26116",
        "title": "High Value Indicator Collection",
        "description": "a UUIDv4 id",
    },
    {
        "id": "365fed99-08fa-fdcd-a1b3-fb247eb41d01",
        "title": "Adding objects",
        "description": "an id that is not a UUIDv4",
    },
]
TAXII = "application/taxii+json;version=2.1"


def _skeleton() -> dict[str, object]:
    return {
        "/discovery": {
            "title": "medallion",
            "default": f"http://localhost:5000/{API_ROOT}/",
            "api_roots": [f"http://localhost:5000/{API_ROOT}/"],
        },
        API_ROOT: {
            "information": {
                "title": "Malware Research Group",
                "description": "A trust group",
                "versions": [TAXII],
                "max_content_length": 9765625,
            },
            "status": [],
            "collections": [
                {
                    **c,
                    "can_read": True,
                    "can_write": True,
                    "media_types": ["application/stix+json;version=2.1"],
                    "objects": [],
                    "manifest": [],
                }
                for c in COLLECTIONS
            ],
        },
    }


def medallion_config(data: Path, users: dict[str, str], **backend: object) -> dict[str, object]:
    """medallion's configuration: its memory backend on the data file ``data``."""
    return {
        "backend": {
            "module": "medallion.backends.memory_backend",
            "module_class": "MemoryBackend",
            "filename": str(data),
            **backend,
        },
        "users": users,
        "taxii": {"max_page_size": 100},
    }


def main(output: Path, posts: Path) -> None:
    from medallion import load_app  # only in this process

    with tempfile.TemporaryDirectory() as folder:
        data = Path(folder) / "data.json"
        data.write_text(json.dumps(_skeleton()))
        config = Path(folder) / "config.json"
        config.write_text(json.dumps(medallion_config(data, {"user": "pass"})))
        app = load_app(str(config))
        client = app.test_client()
        auth = "Basic " + base64.b64encode(b"user:pass").decode()
        headers = {"Accept": TAXII, "Content-Type": TAXII, "Authorization": auth}
        for index, envelope in json.loads(posts.read_text()):
            url = f"/{API_ROOT}/collections/{COLLECTIONS[index]['id']}/objects/"
            answer = client.post(url, data=json.dumps(envelope), headers=headers)
            if answer.status_code != 202:
                raise SystemExit(f"medallion answered {answer.status_code}: {answer.data!r}")
        app.medallion_backend.save_data_to_file(str(output))


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
