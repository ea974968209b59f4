"""Signing against a real server on 127.0.0.1: ``verify --jwks URL`` on its JWK Set, a
``pull --sign`` whose custody record matches the server's audit log for that pull,
and ``publish --sign`` to it, verified from a pull of the collection."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from converters.signing import create_key, encode_key_file, read_signature
from taxii_server.storage.base import AuditQuery, Grant
from taxii_server.timestamps import format_timestamp, now_us
from taxii_server.trust import JWKS_PATH
from tests.interop.dataset import build_objects
from tests.publish.conftest import (
    EXAMPLE,
    SEEDED_COUNT,
    SEEDED_ID,
    Server,
    start_server,
)

from .conftest import IDENTITY, Runner


@pytest.fixture(scope="module")
def signer_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("signing")
    key = create_key(IDENTITY)
    (directory / "signer.jwk").write_bytes(encode_key_file(key))
    (directory / "signer.pub.jwk").write_bytes(orjson.dumps(key.public().to_jwk()))
    return directory


#: A collection in an API root with the default max_content_length (10 MB): the
#: community API root of the publish tests takes only 12,000-byte envelopes, less than
#: the signature of the example package (about 230 bytes per object signed).
EVIDENCE = "9a4c2f1e-3b5d-4e6f-8a7b-0c1d2e3f4a5b"
EXTRA_CONFIG = f"""
[[api_roots]]
name = "evidence"
title = "Evidence"

[[collections]]
api_root = "evidence"
title = "Signed"
id = "{EVIDENCE}"

[[trusted_keys]]
file = "signer.pub.jwk"
"""


@pytest.fixture(scope="module")
def server(signer_dir: Path) -> Iterator[Server]:
    running = start_server(signer_dir, build_objects(SEEDED_COUNT), EXTRA_CONFIG)
    storage = running.storage()
    try:
        storage.set_grant(Grant("analyst", EVIDENCE, can_read=True, can_write=True))
    finally:
        storage.close()
    try:
        yield running
    finally:
        running.process.stop()


def _credentials(server: Server) -> tuple[str, ...]:
    return ("--user", "analyst", "--password-stdin")


def _pages(server: Server, since: int) -> list[Any]:
    storage = server.storage()
    try:
        records = storage.query_audit(
            AuditQuery(user="analyst", collection_id=SEEDED_ID, since=since, limit=10_000)
        )
    finally:
        storage.close()
    return [r for r in records if r.action == "objects"]


def test_pull_sign_custody_matches_the_audit_log(
    cli: Runner, server: Server, signer_dir: Path, tmp_path: Path
) -> None:
    output = tmp_path / "case-17.json"
    since = now_us()
    pulled = cli(
        "pull", server.api_root_url, "--collection", SEEDED_ID, "-o", str(output),
        "--limit", "70", "--sign", str(signer_dir / "signer.jwk"), *_credentials(server),
        stdin=server.analyst.password + "\n",
    )  # fmt: skip
    assert pulled.status == 0, pulled.err
    jwks_url = f"{server.process.base_url}{JWKS_PATH}"
    verified = cli("verify", str(output), "--jwks", jwks_url)
    assert verified.status == 0, verified.out
    assert "custody: pulled from 'Seeded'" in verified.out

    signature = read_signature((tmp_path / "case-17.json.jws").read_bytes(), "case-17.json.jws")
    manifest = signature.manifest()
    custody = manifest["custody"]
    bundle = json.loads(output.read_text())
    assert len(manifest["objects"]) == len(bundle["objects"]) == custody["objects"]
    assert custody["source"] == {
        "api_root": server.api_root_url,
        "collection_id": SEEDED_ID,
        "collection_title": "Seeded",
    }
    assert custody["query"] == {"added_after": None, "match[version]": "last"}
    records = _pages(server, since)
    assert len(records) == len(custody["pages"]) >= 3
    assert {r.user for r in records} == {custody["pulled_by"]["account"]} == {"analyst"}
    for record, page in zip(records, custody["pages"], strict=True):
        assert page["objects"] == record.count
        if record.count:
            assert page["date_added_first"] == format_timestamp(record.first)
            assert page["date_added_last"] == format_timestamp(record.last)
    served = [r for r in records if r.count]
    assert custody["date_added"] == {
        "first": format_timestamp(min(r.first for r in served)),
        "last": format_timestamp(max(r.last for r in served)),
    }
    assert custody["started"] <= custody["completed"]


def test_verify_jwks_url_names_an_unknown_key(cli: Runner, server: Server, tmp_path: Path) -> None:
    other = tmp_path / "other.jwk"
    cli("keys", "create", "--out", str(other), "--identity", IDENTITY)
    output = tmp_path / "b.json"
    assert cli("convert", str(EXAMPLE), "-o", str(output), "--sign", str(other)).status == 0
    result = cli("verify", str(output), "--jwks", f"{server.process.base_url}{JWKS_PATH}")
    assert result.status == 1 and result.out.startswith("unknown kid ")
    gone = cli("verify", str(output), "--jwks", f"{server.process.base_url}/nowhere.json")
    assert gone.status == 1 and "cannot fetch the JWK Set" in gone.err


def test_publish_sign_to_a_server_then_verify_a_pull(
    cli: Runner, server: Server, signer_dir: Path, tmp_path: Path
) -> None:
    collection, url = EVIDENCE, f"{server.process.base_url}/evidence/"
    password = server.analyst.password + "\n"
    published = cli(
        "publish", str(EXAMPLE), "--url", url, "--collection", collection,
        "--sign", str(signer_dir / "signer.jwk"), *_credentials(server), stdin=password,
    )  # fmt: skip
    assert published.status == 0, published.err
    artifact = published.out.split("signature stored as ")[1].strip()
    output = tmp_path / "pulled.json"
    pulled = cli(
        "pull", url, "--collection", collection, "-o", str(output), "--all-versions",
        *_credentials(server), stdin=password,
    )  # fmt: skip
    assert pulled.status == 0, pulled.err
    jwks_url = f"{server.process.base_url}{JWKS_PATH}"
    verified = cli("verify", str(output), "--sig", artifact, "--jwks", jwks_url)
    assert verified.status == 0, verified.out
    assert "valid: 84 objects" in verified.out
