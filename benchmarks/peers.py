"""The peers a run compares with: medallion 3.0.0 and OpenTAXII 0.9.3, from PyPI.

Nothing of theirs is in this repository.  Each runs from its own virtualenv outside
it: ``--medallion-venv`` / ``--opentaxii-venv`` when those hold the package, else one
created under ``~/.cache/atlas-taxii-bench/`` with ``pip install`` on first use.  A
peer that cannot be installed or started is reported as unavailable, with the reason,
and the run goes on without it.

How each is run, and why:

* **medallion** (the OASIS reference server): memory backend, gunicorn, one sync
  worker.  Its collections and its ``next`` cursors live in the memory of one process,
  so a second worker would answer from a different collection.  It does not validate
  what it stores.
* **OpenTAXII** (EclecticIQ): its SQL backend on a SQLite file, TAXII 2.1 only,
  gunicorn sync workers (as many as atlas-taxii gets).  Two changes to how it is
  reached, both in its favour: it authenticates with its own JWT (``Authorization:
  Bearer``; with Basic it re-hashes the password on every request), and its WSGI app
  is loaded through a shim that applies the fix proposed in its issue #243 (its status
  resources hold UUID objects that ``json.dumps`` refuses, so every POST answers 500
  after storing the objects).  It cannot store objects without ``modified`` (SCOs: a
  ``KeyError`` rolls back the whole envelope), so it is given the same data without
  them, and says so.
"""

from __future__ import annotations

import base64
import contextlib
import json
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

from benchmarks.servers import PASSWORD, Server, Target, free_port

__all__ = [
    "MEDALLION",
    "OPENTAXII",
    "PeerUnavailable",
    "add_opentaxii_accounts",
    "launch_medallion",
    "launch_opentaxii",
]

MEDALLION = "medallion==3.0.0"
OPENTAXII = "opentaxii==0.9.3"
CACHE = Path.home() / ".cache" / "atlas-taxii-bench"
#: What medallion and atlas-taxii both answer when a client sends no ``limit``.
PAGE = 1000


class PeerUnavailable(Exception):
    """A peer could not be installed or started; the message says why."""


def _has(venv: Path, requirement: str) -> bool:
    name, _, version = requirement.partition("==")
    python = venv / "bin" / "python"
    if not (python.exists() and (venv / "bin" / "gunicorn").exists()):
        return False
    probe = subprocess.run(
        [str(python), "-c", f"import importlib.metadata as m; print(m.version({name!r}))"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    return probe.returncode == 0 and probe.stdout.strip() == version


def peer_venv(requirement: str, preferred: Path | None) -> Path:
    """A virtualenv holding ``requirement`` and gunicorn: ``preferred`` when it does,
    else one in the cache, created (from PyPI) when missing."""
    if preferred is not None and _has(preferred, requirement):
        return preferred
    venv = CACHE / f"{requirement.partition('==')[0]}-venv"
    if _has(venv, requirement):
        return venv
    print(f"installing {requirement} into {venv} (once) ...", flush=True)
    steps = [
        [sys.executable, "-m", "venv", "--clear", str(venv)],
        [str(venv / "bin" / "pip"), "install", "--quiet", requirement, "gunicorn"],
    ]
    for step in steps:
        done = subprocess.run(step, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            reason = (done.stderr.strip().splitlines() or ["no output"])[-1]
            raise PeerUnavailable(f"cannot install {requirement}: {reason}")
    return venv


def _gunicorn(venv: Path, port: int, workers: int, app: str, *extra: str) -> list[str]:
    return [
        str(venv / "bin" / "gunicorn"), "--workers", str(workers), "--timeout", "3600",
        "--bind", f"127.0.0.1:{port}", "--no-control-socket", *extra, app,
    ]  # fmt: skip


def _basic() -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"bench:{PASSWORD}".encode()).decode()}


@contextlib.contextmanager
def launch_medallion(directory: Path, venv: Path) -> Iterator[Target]:
    """medallion on its memory backend with an empty collection and one user."""
    port = free_port()
    collection = str(uuid.uuid4())
    data = directory / "medallion-data.json"
    data.write_text(
        json.dumps(
            {
                "/discovery": {
                    "title": "medallion",
                    "api_roots": [f"http://127.0.0.1:{port}/bench/"],
                },
                "bench": {
                    "information": {
                        "title": "Benchmark",
                        "versions": ["application/taxii+json;version=2.1"],
                        "max_content_length": 200 * 2**20,
                    },
                    "status": [],
                    "collections": [
                        {
                            "id": collection,
                            "title": "Bench",
                            "can_read": True,
                            "can_write": True,
                            "media_types": ["application/stix+json;version=2.1"],
                            "objects": [],
                            "manifest": [],
                        }
                    ],
                },
            }
        )
    )
    config = directory / "medallion.json"
    config.write_text(
        json.dumps(
            {
                "backend": {
                    "module": "medallion.backends.memory_backend",
                    "module_class": "MemoryBackend",
                    "filename": str(data),
                    "session_timeout": 3600,
                },
                "users": {"bench": PASSWORD},
                "taxii": {"max_page_size": PAGE},
            }
        )
    )
    server = Server(
        "medallion", _gunicorn(venv, port, 1, f"medallion:load_app({str(config)!r})"), port,
        directory,
    )  # fmt: skip
    target = Target(
        name="medallion 3.0.0",
        server=server,
        api_root="/bench/",
        collection_id=collection,
        headers=_basic(),
        notes=["memory backend, 1 sync worker (its state lives in one process)",
               "stores what it is sent: no STIX validation"],
    )  # fmt: skip
    server.start()
    try:
        yield target
    finally:
        server.stop()


_OPENTAXII_CONFIG = """\
support_basic_auth: yes
auth_api:
  class: opentaxii.auth.sqldb.SQLDatabaseAPI
  parameters:
    db_connection: sqlite:///{directory}/opentaxii-auth.db
    create_tables: yes
    secret: {secret}
    token_ttl_secs: 86400
taxii1:
taxii2:
  persistence_api:
    class: opentaxii.persistence.sqldb.Taxii2SQLDatabaseAPI
    parameters:
      db_connection: sqlite:///{directory}/opentaxii-data.db
      create_tables: yes
  max_content_length: 209715200
  title: Benchmark
  public_discovery: yes
  allow_custom_properties: yes
logging:
  opentaxii: warning
  root: warning
"""

# Run in OpenTAXII's virtualenv: one admin account, one API root, one collection.
_OPENTAXII_SETUP = """\
import json, sys
from opentaxii.cli import app
with app.app_context():
    server = app.taxii_server
    server.auth.api.create_account(username="bench", password=sys.argv[1], is_admin=True)
    api = server.servers.taxii2.persistence.api
    root = api.add_api_root(title="Benchmark", default=True)
    collection = api.add_collection(api_root_id=str(root.id), title="Bench")
    token = server.auth.authenticate("bench", sys.argv[1])
    print(json.dumps({"root": str(root.id), "collection": str(collection.id), "token": token}))
"""

# Run in OpenTAXII's virtualenv: accounts from stdin ([[name, password], ...]), each an
# admin (OpenTAXII 0.9.3 cannot grant a non-admin read on a TAXII 2 collection: its
# account model stores one permission string per collection, and its TAXII 2 check
# looks for "read" among the characters of that string), and the JWT of each, the one
# its /management/auth answers (made directly: no second password check per account).
_OPENTAXII_ACCOUNTS = """\
import json, sys
from opentaxii.cli import app
tokens = {}
with app.app_context():
    api = app.taxii_server.auth.api
    for name, password in json.load(sys.stdin):
        account = api.create_account(username=name, password=password, is_admin=True)
        tokens[name] = api._generate_token(account.id)
print(json.dumps(tokens))
"""

# The WSGI app, with the fix proposed in OpenTAXII issue #243: its TAXII 2.1 responses
# are serialised by `json.dumps` without a fallback for the UUIDs its status holds.
_OPENTAXII_APP = """\
import json

import opentaxii.taxii2.http as taxii2_http


class _Json:
    @staticmethod
    def dumps(data, **options):
        return json.dumps(data, default=str, **options)


taxii2_http.json = _Json
from opentaxii.http import app  # noqa: E402
"""


@contextlib.contextmanager
def launch_opentaxii(directory: Path, venv: Path, *, workers: int) -> Iterator[Target]:
    """OpenTAXII with its SQL backend on a SQLite file, TAXII 2.1 only."""
    port = free_port()
    config = directory / "opentaxii.yml"
    config.write_text(
        _OPENTAXII_CONFIG.format(directory=directory, secret=uuid.uuid4().hex + uuid.uuid4().hex)
    )
    (directory / "bench_opentaxii_setup.py").write_text(_OPENTAXII_SETUP)
    (directory / "bench_opentaxii_app.py").write_text(_OPENTAXII_APP)
    env = {"OPENTAXII_CONFIG": str(config)}
    done = subprocess.run(
        [str(venv / "bin" / "python"), str(directory / "bench_opentaxii_setup.py"), PASSWORD],
        capture_output=True, text=True, env=env, cwd=directory, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        reason = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise PeerUnavailable(f"OpenTAXII set-up failed: {reason}")
    created = json.loads(done.stdout.strip().splitlines()[-1])
    argv = _gunicorn(venv, port, workers, "bench_opentaxii_app:app", "--pythonpath", str(directory))
    server = Server("opentaxii", argv, port, directory, env=env)
    (directory / "bench_opentaxii_accounts.py").write_text(_OPENTAXII_ACCOUNTS)
    target = Target(
        name="OpenTAXII 0.9.3",
        server=server,
        api_root=f"/taxii2/{created['root']}/",
        collection_id=created["collection"],
        headers={"Authorization": f"Bearer {created['token']}"},
        notes=[f"SQL backend on SQLite, {workers} sync worker(s)",
               "JWT auth; issue #243 fix applied at run time (POST answered 500)"],
    )  # fmt: skip
    server.start()
    try:
        yield target
    finally:
        server.stop()


def add_opentaxii_accounts(
    directory: Path, venv: Path, accounts: list[tuple[str, str]]
) -> dict[str, str]:
    """Create ``accounts`` (name, password) in the OpenTAXII that
    :func:`launch_opentaxii` runs from ``directory``; return each one's JWT."""
    done = subprocess.run(
        [str(venv / "bin" / "python"), str(directory / "bench_opentaxii_accounts.py")],
        input=json.dumps(accounts), capture_output=True, text=True, cwd=directory,
        env={"OPENTAXII_CONFIG": str(directory / "opentaxii.yml")}, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        reason = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise PeerUnavailable(f"OpenTAXII accounts could not be created: {reason}")
    tokens: dict[str, str] = json.loads(done.stdout.strip().splitlines()[-1])
    return tokens
