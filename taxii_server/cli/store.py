"""The store an admin command works on: ``--config FILE`` / ``$ATLAS_TAXII_CONFIG``
for the storage URL, or ``--storage URL`` (or ``$ATLAS_TAXII_STORAGE_URL``) to name it
directly.  With none of them, the store ``atlas-taxii serve`` uses here without a
configuration: the demo's (``./atlas-demo/atlas.db``), when it exists; otherwise the
command refuses rather than create a database nobody serves.  Every command says on
standard error which store it opened.

Admin commands open the store the way the server does (migrating an empty or older
database, refusing a newer one) and ensure the API roots and collections the
configuration declares (:mod:`taxii_server.bootstrap`), so an operator can create users
and grants on a fresh installation before the server has ever run.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from taxii_server.bootstrap import ensure_declared
from taxii_server.cli.errors import CommandError
from taxii_server.settings import ENV_PREFIX, Settings, load_settings
from taxii_server.storage.base import Collection, Storage

__all__ = [
    "AdminContext",
    "add_store_arguments",
    "display_url",
    "open_store",
    "resolve_collection",
    "settings_from_args",
]


@dataclass(frozen=True, slots=True)
class AdminContext:
    """The loaded settings and the open store of one admin command."""

    settings: Settings
    storage: Storage


def add_store_arguments(parser: argparse.ArgumentParser) -> None:
    """Add ``--config`` and ``--storage`` to a subcommand's parser."""
    parser.add_argument(
        "--config",
        metavar="FILE",
        help="TOML configuration file (default: $ATLAS_TAXII_CONFIG, else the demo's store, "
        "./atlas-demo/atlas.db, if there is one)",
    )
    parser.add_argument(
        "--storage",
        metavar="URL",
        help="storage URL, overriding the configuration (sqlite:///path.db, postgresql://…)",
    )


def settings_from_args(args: argparse.Namespace) -> Settings:
    """Load the settings named by ``--config``/``$ATLAS_TAXII_CONFIG``, with ``--storage``
    overriding the storage URL, or the demo's when nothing names a store; say on
    standard error which store that is."""
    overrides = {"storage_url": args.storage} if getattr(args, "storage", None) else {}
    named = (
        args.config
        or overrides
        or os.environ.get(f"{ENV_PREFIX}CONFIG")
        or os.environ.get(f"{ENV_PREFIX}STORAGE_URL")
    )
    if named:
        settings = load_settings(args.config, **overrides)
        print(f"store: {display_url(settings.storage_url)}", file=sys.stderr)
        return settings
    from taxii_server.demo import DEMO_DIRECTORY, demo_settings

    database = DEMO_DIRECTORY / "atlas.db"
    if not database.is_file():
        raise CommandError(
            "no store named: give --config FILE (or set $ATLAS_TAXII_CONFIG) or --storage "
            f"URL; without them, admin commands use the demo's store, {database}, which "
            "does not exist here (`atlas-taxii serve --demo` creates it)"
        )
    settings = demo_settings(DEMO_DIRECTORY)
    print(
        f"store: {display_url(settings.storage_url)} (the demo's: no --config, "
        f"${ENV_PREFIX}CONFIG or --storage given)",
        file=sys.stderr,
    )
    return settings


def display_url(url: str) -> str:
    """A storage URL without its password (postgresql://user:secret@host/db)."""
    scheme, sep, rest = url.partition("://")
    credentials, at, host = rest.rpartition("@")
    if not sep or not at or ":" not in credentials:
        return url
    return f"{scheme}://{credentials.split(':', 1)[0]}:***@{host}"


@contextmanager
def open_store(args: argparse.Namespace) -> Iterator[AdminContext]:
    """Open the store for an admin command; close it afterwards."""
    # Imported here so `atlas-taxii --help` does not load database drivers.
    from taxii_server.storage import open_storage

    settings = settings_from_args(args)
    storage = open_storage(settings.storage_url, migrate=True)
    try:
        ensure_declared(storage, settings)
        yield AdminContext(settings=settings, storage=storage)
    finally:
        storage.close()


def resolve_collection(storage: Storage, name: str, api_root: str | None = None) -> Collection:
    """Find the collection an operator named by id, alias or title.

    Searches ``api_root`` or every API root.  An id match wins over alias and title
    matches; a name that fits collections in several API roots is refused with the
    candidates listed, so a grant never lands on the wrong collection.
    """
    if api_root is not None and storage.get_api_root(api_root) is None:
        known = ", ".join(sorted(r.name for r in storage.list_api_roots())) or "none"
        raise CommandError(f"unknown API root {api_root!r} (API roots: {known})")
    roots = [api_root] if api_root is not None else [r.name for r in storage.list_api_roots()]
    every = [c for root in roots for c in storage.list_collections(root)]
    by_id = [c for c in every if c.id == name.lower()]
    matches = by_id or [c for c in every if name in (c.alias, c.title)]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        where = f"API root {api_root!r}" if api_root is not None else "any API root"
        known = ", ".join(_describe(c) for c in every) or "none"
        raise CommandError(
            f"no collection with id, alias or title {name!r} in {where} (collections: {known})"
        )
    candidates = ", ".join(_describe(c) for c in matches)
    raise CommandError(
        f"{name!r} names several collections ({candidates}); give the id or --api-root"
    )


def _describe(collection: Collection) -> str:
    return f"{collection.api_root}/{collection.title!r} {collection.id}"
