"""Credentials and error handling shared by the commands that talk to another TAXII
server (``publish --url``, ``pull``).

Secrets stay off the command line where possible (shell history, ``ps``): with
``--user`` the password is asked for on the terminal, or read from the first line of
standard input with ``--password-stdin``; an API key is sent as ``Authorization:
Bearer``, given with ``--api-key KEY`` or, better, ``--api-key-stdin``.  Many
servers also take an API key as the Basic password of the user (atlas-taxii does).
"""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from taxii_server.cli.errors import EXIT_BAD_INPUT, EXIT_FAILED, CommandError
from taxii_server.remote.connection import DEFAULT_TIMEOUT, Credentials
from taxii_server.remote.errors import RemoteError, RemoteRefused

__all__ = ["add_credential_arguments", "credentials_from_args", "remote_errors"]


def add_credential_arguments(parser: argparse.ArgumentParser) -> None:
    """Add ``--user``, ``--password-stdin``, ``--api-key``, ``--api-key-stdin`` and
    ``--timeout``."""
    auth = parser.add_argument_group("authentication on the remote server")
    auth.add_argument("--user", metavar="NAME", help="HTTP Basic user (password prompted)")
    auth.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the --user password (or API key) from the first line of standard input",
    )
    auth.add_argument(
        "--api-key", metavar="KEY", help="API key, sent as 'Authorization: Bearer KEY'"
    )
    auth.add_argument(
        "--api-key-stdin",
        action="store_true",
        help="read the API key from the first line of standard input",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT,
        metavar="SECONDS",
        help=f"give up on a request after this long without an answer ({DEFAULT_TIMEOUT:g})",
    )


def _stdin_line(what: str) -> str:
    line = sys.stdin.readline().rstrip("\r\n")
    if not line:
        raise CommandError(f"standard input is empty; expected the {what} on its first line")
    return line


def credentials_from_args(args: argparse.Namespace) -> Credentials:
    """The credentials the options give (none: anonymous)."""
    if args.api_key_stdin and args.api_key:
        raise CommandError("give --api-key or --api-key-stdin, not both")
    api_key = _stdin_line("API key") if args.api_key_stdin else args.api_key
    if args.user and api_key:
        raise CommandError(
            "give --user or an API key, not both (to send the key as the user's "
            "password, use --user NAME --password-stdin)"
        )
    if args.password_stdin and not args.user:
        raise CommandError("--password-stdin needs --user")
    if api_key:
        return Credentials(api_key=api_key)
    if not args.user:
        return Credentials()
    if args.password_stdin:
        return Credentials(user=args.user, password=_stdin_line("password"))
    if not sys.stdin.isatty():
        raise CommandError(
            "--user prompts for the password on a terminal, but standard input is not one; "
            "use --password-stdin to pipe it in"
        )
    return Credentials(user=args.user, password=getpass.getpass(f"Password for {args.user}: "))


@contextmanager
def remote_errors(after: str = "") -> Iterator[None]:
    """Turn a :class:`RemoteError` into a :class:`CommandError`: exit 2 when the
    server refused what was asked (URL, collection, credentials), 1 when it failed or
    could not be reached.  ``after`` is appended to the message (what was kept)."""
    try:
        yield
    except RemoteError as exc:
        status = EXIT_BAD_INPUT if isinstance(exc, RemoteRefused) else EXIT_FAILED
        raise CommandError(f"{exc}{after}", status) from exc
