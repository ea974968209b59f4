"""``atlas-taxii users``: users, their TLP clearance, API keys and collection grants.

Users live only in the store (never in the configuration file).  Passwords are stored
as scrypt hashes, API key secrets as SHA-256 hashes (:mod:`taxii_server.credentials`);
an API key is printed once, when it is created, and cannot be shown again.  A user's
clearance is the highest TLP 2.0 level they receive (``clear`` < ``green`` < ``amber``
< ``amber+strict`` < ``red``): objects marked above it do not exist for them.  A grant
gives read and/or write access to one collection, read at the user's clearance; a
public collection's TLP:CLEAR objects are readable without one.

Every user who writes belongs to an organization (``users add NAME --organization
ORG``, ``users set-organization NAME ORG``): the objects they add are its, and only its
users change them later (STIX 2.1 §3.6).  Its STIX identity id is the one a research
package naming ORG as its author gets (:func:`converters.ids.organization_identity_id`),
so a partner's packages and its account agree.  Users without one read but cannot
write; admins act for every organization.
"""

from __future__ import annotations

import argparse
import re
from dataclasses import replace

from converters.ids import organization_identity_id
from converters.tlp import LEVELS, level_of_rank, rank_of_level
from taxii_server.cli.errors import CommandError, Run, guarded
from taxii_server.cli.passwords import prompt_password, read_password_stdin
from taxii_server.cli.store import add_store_arguments, open_store, resolve_collection
from taxii_server.cli.table import format_table
from taxii_server.credentials import hash_api_key, hash_secret, new_api_key, parse_api_key
from taxii_server.storage.base import ApiKey, Grant, Storage, User
from taxii_server.timestamps import format_timestamp, now_us

__all__ = ["configure", "parse_clearance", "parse_organization"]

# Letters, digits and a few separators; never ':' (HTTP Basic splits on it, RFC 7617).
_USER_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@+-]{0,63}")


def parse_clearance(text: str) -> int:
    """The rank of a TLP level name; ``TLP:AMBER`` and ``amber`` both work."""
    level = text.strip().lower().removeprefix("tlp:")
    try:
        return rank_of_level(level)
    except KeyError:
        raise CommandError(
            f"unknown TLP level {text!r}; valid levels: {', '.join(LEVELS)}"
        ) from None


# An organization's name as its packages spell their author: letters (any script),
# digits, spaces and a little punctuation; no control characters, no space at either end.
_ORGANIZATION = re.compile(r"[^\W_](?:[\w .,&'()+/@-]{0,126}(?:[^\W_]|[.)]))?")


def parse_organization(text: str) -> str:
    """An organization name, checked whole (``fullmatch``: a trailing newline is not
    silently accepted)."""
    if not _ORGANIZATION.fullmatch(text) or "  " in text:
        raise CommandError(
            f"{text!r} is not a valid organization name: use up to 128 letters, digits, "
            "single spaces and . , & ' ( ) + / @ -, starting with a letter or digit, as "
            "your research packages name their author"
        )
    return text


def _user_name(text: str) -> str:
    if not _USER_NAME.fullmatch(text):
        raise CommandError(
            f"{text!r} is not a valid user name: use up to 64 letters, digits and . _ @ + -, "
            "starting with a letter or digit"
        )
    return text


def _existing_user(storage: Storage, name: str) -> User:
    user = storage.get_user(name)
    if user is None:
        known = ", ".join(sorted(u.name for u in storage.list_users())) or "none"
        raise CommandError(f"unknown user {name!r} (users: {known})")
    return user


def _new_password(args: argparse.Namespace, name: str) -> str | None:
    if args.password_stdin:
        return read_password_stdin()
    if args.password:
        return prompt_password(name)
    return None


# --------------------------------------------------------------------------- commands


def _add(args: argparse.Namespace) -> int:
    name = _user_name(args.name)
    clearance = parse_clearance(args.clearance)
    organization = None if args.organization is None else parse_organization(args.organization)
    # Read (and check) the password before touching the store: a typo in the prompt
    # must not leave a half-created user behind.
    password = _new_password(args, name)
    with open_store(args) as ctx:
        if ctx.storage.get_user(name) is not None:
            raise CommandError(
                f"user {name!r} already exists; change it with `users set-clearance` "
                "or `users passwd`"
            )
        password_hash = hash_secret(password) if password is not None else None
        ctx.storage.put_user(
            User(name, clearance, password_hash, admin=args.admin, organization=organization)
        )
    how = "with a password" if password is not None else "without a password (API keys only)"
    role = " (admin)" if args.admin else ""
    print(f"added user {name}{role} at clearance {level_of_rank(clearance)}, {how}")
    if organization is not None:
        print(f"{name} writes for {organization} ({organization_identity_id(organization)})")
    elif not args.admin:
        print(
            f"{name} belongs to no organization: they can read but not write until you run "
            f"`atlas-taxii users set-organization {name} ORG`"
        )
    return 0


def _list(args: argparse.Namespace) -> int:
    with open_store(args) as ctx:
        storage = ctx.storage
        titles = {
            c.id: c.title
            for root in storage.list_api_roots()
            for c in storage.list_collections(root.name)
        }
        rows = []
        for user in sorted(storage.list_users(), key=lambda u: u.name):
            grants = ", ".join(
                f"{titles.get(g.collection_id, g.collection_id)}({_rights(g)})"
                for g in storage.list_grants(user.name)
            )
            rows.append(
                [
                    user.name,
                    level_of_rank(user.clearance),
                    user.organization or "-",
                    "yes" if user.admin else "no",
                    "yes" if user.password_hash else "no",
                    str(len(storage.list_api_keys(user.name))),
                    grants or "-",
                ]
            )
    if rows:
        print(
            format_table(
                ["NAME", "CLEARANCE", "ORGANIZATION", "ADMIN", "PASSWORD", "KEYS", "GRANTS"], rows
            )
        )
    else:
        print("no users yet: add one with `atlas-taxii users add NAME`")
    return 0


def _rights(grant: Grant) -> str:
    return ("r" if grant.can_read else "") + ("w" if grant.can_write else "")


def _remove(args: argparse.Namespace) -> int:
    with open_store(args) as ctx:
        _existing_user(ctx.storage, args.name)
        ctx.storage.delete_user(args.name)
    print(f"removed user {args.name} with their API keys and grants")
    return 0


def _set_clearance(args: argparse.Namespace) -> int:
    clearance = parse_clearance(args.level)
    with open_store(args) as ctx:
        user = _existing_user(ctx.storage, args.name)
        ctx.storage.put_user(replace(user, clearance=clearance))
    print(f"{args.name} now receives objects up to TLP:{level_of_rank(clearance).upper()}")
    return 0


def _set_organization(args: argparse.Namespace) -> int:
    organization = parse_organization(args.organization)
    identity = organization_identity_id(organization)
    with open_store(args) as ctx:
        _existing_user(ctx.storage, args.name)
        claimed = ctx.storage.set_organization(args.name, organization, identity)
    print(f"{args.name} now writes for {organization} ({identity})")
    if claimed:
        print(
            f"{organization} now owns {claimed} object version(s) whose first version "
            f"{args.name} posted before objects had owners"
        )
    return 0


def _passwd(args: argparse.Namespace) -> int:
    with open_store(args) as ctx:
        user = _existing_user(ctx.storage, args.name)
        password = read_password_stdin() if args.password_stdin else prompt_password(args.name)
        ctx.storage.put_user(replace(user, password_hash=hash_secret(password)))
    print(f"changed the password of {args.name}")
    return 0


def _key_create(args: argparse.Namespace) -> int:
    with open_store(args) as ctx:
        _existing_user(ctx.storage, args.name)
        token = new_api_key()
        ctx.storage.add_api_key(
            ApiKey(
                key_id=token.key_id,
                user=args.name,
                secret_hash=hash_api_key(token.secret),
                label=args.label,
                created=now_us(),
            )
        )
    print(f"API key {token.key_id} for {args.name} (shown once; store it now):")
    print(token.token)
    return 0


def _key_list(args: argparse.Namespace) -> int:
    with open_store(args) as ctx:
        _existing_user(ctx.storage, args.name)
        keys = sorted(ctx.storage.list_api_keys(args.name), key=lambda k: k.created)
    if not keys:
        print(f"{args.name} has no API keys")
        return 0
    rows = [[k.key_id, format_timestamp(k.created), k.label or "-"] for k in keys]
    print(format_table(["KEY ID", "CREATED", "LABEL"], rows))
    return 0


def _key_revoke(args: argparse.Namespace) -> int:
    # Accept the whole key too: operators often have only that at hand.
    parsed = parse_api_key(args.key_id)
    key_id = parsed.key_id if parsed is not None else args.key_id
    with open_store(args) as ctx:
        key = ctx.storage.get_api_key(key_id)
        if key is None:
            raise CommandError(f"no API key with id {key_id!r} (see `users key list NAME`)")
        ctx.storage.delete_api_key(key_id)
    print(f"revoked API key {key_id} of {key.user}")
    return 0


def _grant(args: argparse.Namespace) -> int:
    read = args.read or not args.write  # no flag at all means read
    with open_store(args) as ctx:
        _existing_user(ctx.storage, args.name)
        collection = resolve_collection(ctx.storage, args.collection, args.api_root)
        old = ctx.storage.get_grant(args.name, collection.id)
        grant = Grant(
            user=args.name,
            collection_id=collection.id,
            can_read=read or (old is not None and old.can_read),
            can_write=args.write or (old is not None and old.can_write),
        )
        ctx.storage.set_grant(grant)
    print(f"{args.name} may now {_verbs(grant)} {collection.api_root}/{collection.title}")
    return 0


def _revoke(args: argparse.Namespace) -> int:
    everything = not args.read and not args.write
    with open_store(args) as ctx:
        _existing_user(ctx.storage, args.name)
        collection = resolve_collection(ctx.storage, args.collection, args.api_root)
        old = ctx.storage.get_grant(args.name, collection.id)
        if old is None:
            raise CommandError(f"{args.name} has no grant on {collection.title!r}")
        grant = Grant(
            user=args.name,
            collection_id=collection.id,
            can_read=old.can_read and not (everything or args.read),
            can_write=old.can_write and not (everything or args.write),
        )
        # A grant with neither right is removed by the store.
        ctx.storage.set_grant(grant)
    where = f"{collection.api_root}/{collection.title}"
    if grant.can_read or grant.can_write:
        print(f"{args.name} may now only {_verbs(grant)} {where}")
    else:
        print(f"{args.name} has no more access to {where}")
    return 0


def _verbs(grant: Grant) -> str:
    return " and ".join(v for v, ok in (("read", grant.can_read), ("write", grant.can_write)) if ok)


# --------------------------------------------------------------------------- parser


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the ``users`` subcommands."""
    store = argparse.ArgumentParser(add_help=False)
    add_store_arguments(store)
    sub = parser.add_subparsers(dest="users_command", metavar="ACTION")
    sub.required = True

    def action(name: str, help_text: str, run: Run) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text, description=help_text, parents=[store])
        p.set_defaults(run=guarded(run))
        return p

    levels = ", ".join(LEVELS)
    p = action("add", "add a user", _add)
    p.add_argument("name", metavar="NAME", help="the user's name")
    p.add_argument(
        "--clearance",
        default="clear",
        metavar="LEVEL",
        help=f"highest TLP level the user receives ({levels}; default: clear)",
    )
    password = p.add_mutually_exclusive_group()
    password.add_argument(
        "--password", action="store_true", help="prompt for a password on the terminal"
    )
    password.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )
    p.add_argument(
        "--admin",
        action="store_true",
        help="may read every status resource and act for every organization",
    )
    p.add_argument(
        "--organization",
        metavar="ORG",
        help="the organization the user writes for, as its packages name their author "
        "(without one the user cannot write)",
    )

    action("list", "list users with their clearance, organization, keys and grants", _list)

    p = action("remove", "remove a user with their API keys and grants", _remove)
    p.add_argument("name", metavar="NAME", help="the user's name")

    p = action("set-clearance", "change the highest TLP level a user receives", _set_clearance)
    p.add_argument("name", metavar="NAME", help="the user's name")
    p.add_argument("level", metavar="LEVEL", help=levels)

    p = action(
        "set-organization",
        "set the organization a user writes for (objects they add are its)",
        _set_organization,
    )
    p.add_argument("name", metavar="NAME", help="the user's name")
    p.add_argument(
        "organization", metavar="ORG", help="the organization's name, as packages name the author"
    )

    p = action("passwd", "set a user's password (prompted, or --password-stdin)", _passwd)
    p.add_argument("name", metavar="NAME", help="the user's name")
    p.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )

    key = sub.add_parser("key", help="API keys", description="Create, list and revoke API keys.")
    key_sub = key.add_subparsers(dest="key_command", metavar="ACTION")
    key_sub.required = True

    def key_action(name: str, help_text: str, details: str, run: Run) -> argparse.ArgumentParser:
        description = f"{help_text[0].upper()}{help_text[1:]}. {details}"
        p = key_sub.add_parser(name, help=help_text, description=description, parents=[store])
        p.set_defaults(run=guarded(run))
        return p

    p = key_action(
        "create",
        "create an API key (printed once)",
        "Only its hash is stored, so it cannot be shown again. Clients send it as "
        "'Authorization: Bearer KEY' or 'Token KEY', or as the user's password in HTTP "
        "Basic.",
        _key_create,
    )
    p.add_argument("name", metavar="NAME", help="the user the key acts for")
    p.add_argument("--label", default="", help="what the key is for, e.g. 'sentinel-prod'")
    p = key_action(
        "list",
        "list a user's API keys",
        "Shows each key's id, creation time and label, never its secret.",
        _key_list,
    )
    p.add_argument("name", metavar="NAME", help="the user whose keys to list")
    p = key_action(
        "revoke",
        "revoke an API key by id",
        "The key stops working at once, on every server sharing the store.",
        _key_revoke,
    )
    p.add_argument("key_id", metavar="KEY_ID", help="the key id (or the whole key)")

    for name, help_text, run in (
        ("grant", "let a user read and/or write a collection (default: read)", _grant),
        ("revoke", "take rights on a collection away (default: all)", _revoke),
    ):
        p = action(name, help_text, run)
        p.add_argument("name", metavar="NAME", help="the user's name")
        p.add_argument("collection", metavar="COLLECTION", help="collection id, alias or title")
        p.add_argument("--read", action="store_true", help="the right to read objects")
        p.add_argument("--write", action="store_true", help="the right to add objects")
        p.add_argument("--api-root", metavar="R", help="where to look for COLLECTION")
