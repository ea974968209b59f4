"""Fixtures for the signing tests: keys, a converted bundle, and signing helpers."""

from __future__ import annotations

import copy
import io
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pytest

from converters.ids import object_id
from converters.signing import (
    KeySet,
    Signature,
    SigningKey,
    Verdict,
    create_key,
    read_signature,
    sign_bundle,
    verify_bundle,
)
from taxii_server.cli import main

ROOT = Path(__file__).resolve().parent.parent.parent
BUNDLE = ROOT / "fixtures" / "bundles" / "RP-2024-0007.json"
PACKAGE = ROOT / "fixtures" / "packages" / "RP-2024-0007.yaml"
IDENTITY = object_id("identity", "organisation", "Example Bank FIU")
#: 2024-06-01T00:00:00Z
SIGNED_AT = 1_717_200_000


@pytest.fixture(scope="session")
def key() -> SigningKey:
    return create_key(IDENTITY)


@pytest.fixture(scope="session")
def other_key() -> SigningKey:
    return create_key(IDENTITY)


@pytest.fixture
def bundle() -> dict[str, Any]:
    data: dict[str, Any] = orjson.loads(BUNDLE.read_bytes())
    return data


Check = Callable[..., Verdict]


def signed(bundle: dict[str, Any], key: SigningKey, **kwargs: Any) -> Signature:
    """Sign a copy of ``bundle`` and read the document back as a verifier would."""
    document = sign_bundle(copy.deepcopy(bundle), key, at=kwargs.pop("at", SIGNED_AT), **kwargs)
    return read_signature(orjson.dumps(document), "test.jws")


@pytest.fixture
def check(key: SigningKey) -> Check:
    """``check(bundle, signature, keys=…)``: the verdict, with ``key`` trusted by default."""

    def run(bundle: dict[str, Any], signature: Signature, keys: KeySet | None = None) -> Verdict:
        return verify_bundle(bundle, signature, keys or KeySet((key.public(),)))

    return run


@dataclass(frozen=True, slots=True)
class Result:
    status: int
    out: str
    err: str


Runner = Callable[..., Result]


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Runner:
    monkeypatch.delenv("ATLAS_TAXII_CONFIG", raising=False)
    monkeypatch.delenv("ATLAS_TAXII_KEY_PASSPHRASE", raising=False)

    def run(*argv: str, stdin: str = "") -> Result:
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        capsys.readouterr()
        status = main(list(argv))
        captured = capsys.readouterr()
        return Result(status, captured.out, captured.err)

    return run
