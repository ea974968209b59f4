"""The demo installation ``atlas-taxii serve --demo`` starts: try the server in a minute.

A SQLite file in a folder of its own (``./atlas-demo/atlas.db`` by default, kept
between runs), an API root ``demo``, one collection with a fixed UUIDv4 id and the alias
``demo`` filled from the converter's golden bundles (``fixtures/bundles/*.json``), and
two users:

* ``demo``, cleared for TLP:AMBER, with read and write access: what a typical partner
  gets; it does not see the TLP:AMBER+STRICT and TLP:RED objects of the collection;
* ``demo-red``, cleared for TLP:RED, with read and write access: sees everything.

Both write for :data:`DEMO_ORGANIZATION`, the author of the example packages
``RP-2024-0007``, ``RP-2024-0052`` and ``RP-2024-0075``: those packages' objects are
theirs to change (STIX 2.1 §3.6); the other bundles' belong to their own authors (the
demo loads the bundles as an operator, an admin, so each object belongs to the
organization its ``created_by_ref`` names).

Secrets: each start of the demo gives both users a new random password and a new API
key and prints them.  Plaintext secrets are never written anywhere (the store keeps
scrypt hashes, as for any user), so the only way to "show them again" is to issue new
ones; a demo that is restarted therefore invalidates the old demo credentials.

Objects are added through the same path a TAXII POST takes (validation, then the
store's ``add_objects``), so an invalid fixture is reported, not stored, and adding
the same bundles again at the next start stores nothing twice (TAXII 2.1 §5.5).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from converters.tlp import level_of_rank, rank_of_level
from taxii_server.bootstrap import ensure_declared
from taxii_server.credentials import hash_api_key, hash_secret, new_api_key
from taxii_server.settings import (
    ENV_PREFIX,
    ApiRootConfig,
    CollectionConfig,
    Settings,
    load_settings,
)
from taxii_server.storage.base import AddOutcome, ApiKey, Collection, Grant, Storage, User
from taxii_server.storage.versions import result_message
from taxii_server.timestamps import now_us

__all__ = [
    "DEMO_API_ROOT",
    "DEMO_COLLECTION_ALIAS",
    "DEMO_COLLECTION_ID",
    "DEMO_DIRECTORY",
    "Demo",
    "DemoUser",
    "demo_settings",
    "LoadOutcome",
    "fixture_bundles",
    "load_bundle",
    "set_up_demo",
]

DEMO_DIRECTORY = Path("atlas-demo")
DEMO_API_ROOT = "demo"
#: Fixed, so the documentation and a partner's saved connector settings stay valid across runs.
DEMO_COLLECTION_ID = "6a1f7c0e-5b2d-4e8a-9c3f-0d4b8e2a7f15"
DEMO_COLLECTION_ALIAS = "demo"
DEMO_COLLECTION_TITLE = "Demo"

#: The organization the demo users write for: the example packages' author.
DEMO_ORGANIZATION = "Example Bank FIU"

# (user name, clearance level): a typical partner, and someone who sees everything.
_DEMO_USERS: tuple[tuple[str, str], ...] = (("demo", "amber"), ("demo-red", "red"))
_KEY_LABEL = "demo (replaced at every start of the demo)"
# Objects per add_objects transaction: one bundle may be large; keep each write short.
_CHUNK = 1000


@dataclass(frozen=True, slots=True)
class DemoUser:
    """A demo user's fresh credentials, to print once."""

    name: str
    clearance: int
    password: str
    api_key: str

    @property
    def level(self) -> str:
        """The clearance as a TLP level name."""
        return level_of_rank(self.clearance)


@dataclass(frozen=True, slots=True)
class Demo:
    """What :func:`set_up_demo` prepared."""

    collection: Collection
    users: tuple[DemoUser, ...]
    bundles: tuple[Path, ...]
    added: int
    unchanged: int
    rejected: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class LoadOutcome:
    """What adding one bundle did: counts, and why objects were refused."""

    added: int
    unchanged: int
    rejected: tuple[str, ...]


def fixture_bundles(directory: Path | None = None) -> list[Path]:
    """The converter's golden bundles, sorted by name (none when there are none yet)."""
    if directory is None:
        directory = Path(__file__).resolve().parent.parent / "fixtures" / "bundles"
    return sorted(directory.glob("*.json")) if directory.is_dir() else []


def demo_settings(
    directory: Path = DEMO_DIRECTORY,
    *,
    environ: Mapping[str, str] | None = None,
    **overrides: object,
) -> Settings:
    """Settings for the demo: its SQLite file, API root and collection.

    ``ATLAS_TAXII_*`` variables still apply (a port, page limits…), except
    ``ATLAS_TAXII_CONFIG`` and the storage URL: the demo never touches a configured
    store.
    """
    env = dict(os.environ if environ is None else environ)
    env.pop(f"{ENV_PREFIX}CONFIG", None)
    database = directory.resolve() / "atlas.db"
    return load_settings(
        None,
        environ=env,
        storage_url=f"sqlite:///{database}",
        default_api_root=DEMO_API_ROOT,
        api_roots=(ApiRootConfig(name=DEMO_API_ROOT, title="Demo API root"),),
        collections=(
            CollectionConfig(
                api_root=DEMO_API_ROOT,
                title=DEMO_COLLECTION_TITLE,
                id=DEMO_COLLECTION_ID,
                alias=DEMO_COLLECTION_ALIAS,
                description="Objects converted from the example research packages.",
            ),
        ),
        **overrides,
    )


def set_up_demo(storage: Storage, settings: Settings, bundles: Sequence[Path]) -> Demo:
    """Ensure the demo API root and collection, load ``bundles`` and issue new
    credentials to the demo users."""
    report = ensure_declared(storage, settings)
    (collection,) = report.collections
    users = tuple(_reset_user(storage, collection, name, level) for name, level in _DEMO_USERS)
    added = unchanged = 0
    rejected: list[str] = []
    for path in bundles:
        outcome = load_bundle(storage, collection, path)
        added += outcome.added
        unchanged += outcome.unchanged
        rejected.extend(outcome.rejected)
    return Demo(
        collection=collection,
        users=users,
        bundles=tuple(bundles),
        added=added,
        unchanged=unchanged,
        rejected=tuple(rejected),
    )


def _reset_user(storage: Storage, collection: Collection, name: str, level: str) -> DemoUser:
    password = new_api_key().secret  # 192 random bits, URL-safe: easy to paste
    clearance = rank_of_level(level)
    storage.put_user(User(name, clearance, hash_secret(password), organization=DEMO_ORGANIZATION))
    for old in storage.list_api_keys(name):
        storage.delete_api_key(old.key_id)
    token = new_api_key()
    storage.add_api_key(
        ApiKey(token.key_id, name, hash_api_key(token.secret), _KEY_LABEL, created=now_us())
    )
    storage.set_grant(Grant(name, collection.id, can_read=True, can_write=True))
    return DemoUser(name, clearance, password, token.token)


def load_bundle(storage: Storage, collection: Collection, path: Path) -> LoadOutcome:
    """Add a STIX bundle's objects to ``collection`` as a TAXII POST would: each object
    is validated, valid ones are stored (in chunks of ``_CHUNK``), invalid ones are
    reported with the file, object id and what is wrong."""
    from converters.validation import get_validator
    from taxii_server.errors import TaxiiError
    from taxii_server.ingest import parse_envelope, prepare_objects

    try:
        objects = parse_envelope(path.read_bytes())
    except (OSError, TaxiiError) as exc:
        return LoadOutcome(0, 0, (f"{path}: {exc}",))
    prepared = prepare_objects(objects, get_validator(), storage.marking_ranks)
    added = unchanged = 0
    rejected = [f"{path}: {f.id}: {f.message}" for f in prepared.failures]
    for start in range(0, len(prepared.valid), _CHUNK):
        chunk = prepared.valid[start : start + _CHUNK]
        for new, result in zip(chunk, storage.add_objects(collection.id, chunk), strict=True):
            if result.outcome is AddOutcome.ADDED:
                added += 1
            elif result.outcome is AddOutcome.UNCHANGED:
                unchanged += 1
            else:
                rejected.append(f"{path}: {new.id}: {result_message(result)}")
    return LoadOutcome(added, unchanged, tuple(rejected))
