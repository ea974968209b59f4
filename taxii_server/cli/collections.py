"""``atlas-taxii collections``: add, list, update and remove collections (TAXII 2.1 §5.2).

Collections get a random UUIDv4 id (Microsoft Sentinel refuses any other form), a title
unique within their API root (OpenCTI picks collections by title), and optionally an
alias, a short name usable in URLs instead of the id.  API roots come from the
configuration file (``[[api_roots]]``).

Collections declared in the configuration file are managed by the file: the server
puts the file's title, alias, description and ``public`` flag back at its next start,
so change those in the file; these commands warn when they touch one.
"""

from __future__ import annotations

import argparse
import sys
import uuid
from dataclasses import replace

from taxii_server.cli.errors import CommandError, Run, guarded
from taxii_server.cli.store import (
    AdminContext,
    add_store_arguments,
    open_store,
    resolve_collection,
)
from taxii_server.cli.table import format_table
from taxii_server.settings import Settings
from taxii_server.storage.base import Collection, Storage

__all__ = ["configure"]


def _api_root(storage: Storage, name: str) -> str:
    if storage.get_api_root(name) is None:
        known = ", ".join(sorted(r.name for r in storage.list_api_roots())) or "none yet"
        raise CommandError(
            f"unknown API root {name!r} (API roots: {known}); declare API roots in the "
            "configuration file's [[api_roots]]"
        )
    return name


def _declared(settings: Settings, collection: Collection) -> bool:
    return any(
        c.api_root == collection.api_root and (c.id == collection.id or c.title == collection.title)
        for c in settings.collections
    )


def _warn_if_declared(ctx: AdminContext, collection: Collection) -> None:
    if _declared(ctx.settings, collection):
        print(
            f"atlas-taxii: warning: {collection.title!r} is declared in the configuration "
            "file, which the server applies again at its next start; change it there too",
            file=sys.stderr,
        )


def _check_alias(alias: str | None) -> str | None:
    if alias is None:
        return None
    # An alias stands in for the id in URLs: it must not look like someone else's id.
    try:
        uuid.UUID(alias)
    except ValueError:
        pass
    else:
        raise CommandError(f"alias {alias!r} looks like a collection id; choose a name")
    if not alias or "/" in alias or alias != alias.strip():
        raise CommandError(f"alias {alias!r} must be a non-empty URL path segment without '/'")
    return alias


def _add(args: argparse.Namespace) -> int:
    alias = _check_alias(args.alias)
    with open_store(args) as ctx:
        api_root = _api_root(ctx.storage, args.api_root)
        for other in ctx.storage.list_collections(api_root):
            if other.title == args.title:
                raise CommandError(
                    f"API root {api_root!r} already has a collection titled "
                    f"{args.title!r} ({other.id})"
                )
            if alias is not None and alias in (other.alias, other.id):
                raise CommandError(
                    f"API root {api_root!r} already uses alias {alias!r} for {other.title!r}"
                )
        collection = Collection(
            id=str(uuid.uuid4()),
            api_root=api_root,
            title=args.title,
            description=args.description,
            alias=alias,
            public=args.public,
        )
        # The checks above give friendly messages; the store's uniqueness rules still
        # decide when two operators race (StorageConflict is reported by `guarded`).
        ctx.storage.create_collection(collection)
    print(f"added collection {collection.title!r} to API root {api_root}")
    print(f"id: {collection.id}")
    if alias is not None:
        print(f"alias: {alias}")
    if args.public:
        print(
            "public: anyone may read its TLP:CLEAR objects, without logging in; users with "
            "a read grant read it at their clearance"
        )
    return 0


def _list(args: argparse.Namespace) -> int:
    with open_store(args) as ctx:
        roots = (
            [_api_root(ctx.storage, args.api_root)]
            if args.api_root
            else sorted(r.name for r in ctx.storage.list_api_roots())
        )
        rows = [
            [
                c.api_root,
                c.id,
                c.alias or "-",
                "yes" if c.public else "no",
                "yes" if _declared(ctx.settings, c) else "no",
                c.title,
            ]
            for root in roots
            for c in sorted(ctx.storage.list_collections(root), key=lambda c: c.title)
        ]
    if rows:
        print(format_table(["API ROOT", "ID", "ALIAS", "PUBLIC", "IN CONFIG", "TITLE"], rows))
    else:
        print("no collections yet: add one with `atlas-taxii collections add`")
    return 0


def _update(args: argparse.Namespace) -> int:
    with open_store(args) as ctx:
        current = resolve_collection(ctx.storage, args.collection, args.api_root)
        if (
            args.title is None
            and args.description is None
            and args.alias is None
            and not args.no_alias
            and args.public is None
        ):
            raise CommandError(
                "nothing to change: give --title, --description, --alias/--no-alias "
                "or --public/--private"
            )
        updated = replace(
            current,
            title=current.title if args.title is None else args.title,
            description=current.description if args.description is None else args.description,
            alias=None if args.no_alias else _check_alias(args.alias) or current.alias,
            public=current.public if args.public is None else args.public,
        )
        ctx.storage.update_collection(updated)
        _warn_if_declared(ctx, current)
    print(f"updated collection {updated.title!r} ({updated.id})")
    return 0


def _remove(args: argparse.Namespace) -> int:
    with open_store(args) as ctx:
        collection = resolve_collection(ctx.storage, args.collection, args.api_root)
        if _declared(ctx.settings, collection):
            raise CommandError(
                f"{collection.title!r} is declared in the configuration file and would be "
                "created again at the next start; remove it from the file first"
            )
        if not args.yes:
            _confirm(collection)
        ctx.storage.delete_collection(collection.api_root, collection.id)
    print(f"removed collection {collection.title!r} ({collection.id}) with its objects")
    return 0


def _confirm(collection: Collection) -> None:
    """Deleting a collection deletes its objects: make the operator type its title."""
    if not sys.stdin.isatty():
        raise CommandError(
            f"removing {collection.title!r} deletes all its objects, grants and statuses; "
            "add --yes to confirm"
        )
    answer = input(
        f"Removing {collection.title!r} ({collection.id}) deletes all its objects, grants "
        "and statuses.\nType its title to confirm: "
    )
    if answer != collection.title:
        raise CommandError("the title did not match; nothing was removed")


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the ``collections`` subcommands."""
    store = argparse.ArgumentParser(add_help=False)
    add_store_arguments(store)
    sub = parser.add_subparsers(dest="collections_command", metavar="ACTION")
    sub.required = True

    def action(name: str, help_text: str, run: Run) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text, description=help_text, parents=[store])
        p.set_defaults(run=guarded(run))
        return p

    p = action("add", "add a collection (a random UUIDv4 id)", _add)
    p.add_argument("--api-root", required=True, metavar="R", help="API root name")
    p.add_argument("--title", required=True, metavar="T", help="unique within the API root")
    p.add_argument("--alias", metavar="A", help="short name usable in URLs instead of the id")
    p.add_argument("--description", default="", metavar="D")
    p.add_argument(
        "--public",
        action="store_true",
        help="anyone may read its TLP:CLEAR objects, signed in or not (more needs a read grant)",
    )

    p = action("list", "list collections", _list)
    p.add_argument("--api-root", metavar="R", help="only this API root")

    p = action("update", "change a collection's title, alias, description or access", _update)
    p.add_argument("collection", metavar="COLLECTION", help="collection id, alias or title")
    p.add_argument("--api-root", metavar="R", help="where to look for COLLECTION")
    p.add_argument("--title", metavar="T")
    p.add_argument("--description", metavar="D")
    alias = p.add_mutually_exclusive_group()
    alias.add_argument("--alias", metavar="A")
    alias.add_argument("--no-alias", action="store_true", help="remove the alias")
    public = p.add_mutually_exclusive_group()
    public.add_argument(
        "--public",
        dest="public",
        action="store_const",
        const=True,
        help="anyone may read its TLP:CLEAR objects, signed in or not (more needs a read grant)",
    )
    public.add_argument(
        "--private",
        dest="public",
        action="store_const",
        const=False,
        help="only users with a grant (and admins) may use it",
    )

    p = action("remove", "remove a collection with all its objects", _remove)
    p.add_argument("collection", metavar="COLLECTION", help="collection id, alias or title")
    p.add_argument("--api-root", metavar="R", help="where to look for COLLECTION")
    p.add_argument("--yes", action="store_true", help="do not ask for confirmation")
