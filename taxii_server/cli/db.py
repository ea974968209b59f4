"""``atlas-taxii db``: the store's schema version, and upgrading it.

``db version`` reports the schema version recorded in the store next to the one this
atlas-taxii needs, and exits 1 when they differ, so a deployment script can check
before it starts the server.  ``db upgrade`` applies the missing migrations (creating
the schema in an empty database); it is safe to run while other processes do the same,
and refuses a store written by a newer atlas-taxii.  Back the database up first: a
migration changes it for every server sharing it.
"""

from __future__ import annotations

import argparse

from taxii_server.cli.errors import EXIT_FAILED, guarded
from taxii_server.cli.store import add_store_arguments, settings_from_args

__all__ = ["configure"]


def _describe(current: int, needed: int) -> str:
    if current == needed:
        return f"schema version {current}: up to date"
    if current == 0:
        return (
            f"no schema yet (this atlas-taxii needs version {needed}): run `atlas-taxii db upgrade`"
        )
    if current < needed:
        return (
            f"schema version {current}, this atlas-taxii needs version {needed}: "
            "run `atlas-taxii db upgrade`"
        )
    return (
        f"schema version {current} was written by a newer atlas-taxii (this one knows "
        f"versions up to {needed}): upgrade atlas-taxii"
    )


@guarded
def _version(args: argparse.Namespace) -> int:
    # Imported here so `atlas-taxii --help` does not load database drivers.
    from taxii_server.storage import inspect_schema

    current, needed = inspect_schema(settings_from_args(args).storage_url)
    print(_describe(current, needed))
    return 0 if current == needed else EXIT_FAILED


@guarded
def _upgrade(args: argparse.Namespace) -> int:
    from taxii_server.storage import inspect_schema, open_storage
    from taxii_server.storage.base import StorageError, StorageUnavailable

    url = settings_from_args(args).storage_url
    try:
        before, _ = inspect_schema(url)
    except StorageUnavailable:
        raise
    except StorageError:  # a SQLite file not created yet: the upgrade creates it
        before = 0
    open_storage(url, migrate=True).close()
    after, _ = inspect_schema(url)
    if before == after:
        print(f"schema version {after}: already up to date")
    else:
        print(f"schema upgraded from version {before} to {after}")
    return 0


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the ``db`` subcommands."""
    commands = parser.add_subparsers(dest="db_command", metavar="COMMAND")
    commands.required = True
    version = commands.add_parser(
        "version",
        help="show the store's schema version (exit 1 when it is not the one needed)",
        description="Show the store's schema version and the one this atlas-taxii needs.",
    )
    add_store_arguments(version)
    version.set_defaults(run=_version)
    upgrade = commands.add_parser(
        "upgrade",
        help="create or upgrade the store's schema",
        description=(
            "Apply the schema migrations the store is missing (creating the schema in an "
            "empty database).  Back the database up first."
        ),
    )
    add_store_arguments(upgrade)
    upgrade.set_defaults(run=_upgrade)
