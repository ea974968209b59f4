"""Fixtures for the signing tests: keys, a converted bundle, and signing helpers."""

from __future__ import annotations

import copy
from collections.abc import Callable
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

# ``cli`` runs atlas-taxii in-process, as in the publish tests.
from tests.publish.conftest import Runner, cli  # noqa: F401 - a fixture, and its type

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


@pytest.fixture(autouse=True)
def _no_passphrase(monkeypatch: pytest.MonkeyPatch) -> None:
    """Signing commands read the passphrase from the environment: start without one."""
    monkeypatch.delenv("ATLAS_TAXII_KEY_PASSPHRASE", raising=False)
