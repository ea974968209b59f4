"""Reading a new password for ``atlas-taxii users``: never from the command line.

A password on the command line ends up in shell history and in ``ps`` output for every
local user to read, so there is no option that takes one.  ``--password`` prompts on
the terminal (twice, without echo); ``--password-stdin`` reads the first line of
standard input, for scripts and secret managers (``vault read … | atlas-taxii users
passwd alice --password-stdin``).  The plaintext is only ever handed to
:func:`taxii_server.credentials.hash_secret`.
"""

from __future__ import annotations

import getpass
import sys
from typing import TextIO

from taxii_server.cli.errors import CommandError

__all__ = ["MIN_PASSWORD_LENGTH", "prompt_password", "read_password_stdin"]

#: Long enough to resist guessing at the rate our 401 throttle allows, short enough to type.
MIN_PASSWORD_LENGTH = 12


def _checked(password: str, noun: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise CommandError(f"the {noun} needs at least {MIN_PASSWORD_LENGTH} characters")
    if password != password.strip():
        raise CommandError(f"the {noun} must not begin or end with whitespace")
    return password


def read_password_stdin(stream: TextIO | None = None, *, noun: str = "password") -> str:
    """The first line of standard input, without its line ending."""
    line = (stream if stream is not None else sys.stdin).readline()
    return _checked(line.rstrip("\r\n"), noun)


def prompt_password(user: str, *, noun: str = "password") -> str:
    """Ask for a new password (or passphrase) for ``user`` twice on the terminal."""
    if not sys.stdin.isatty():
        raise CommandError(
            f"--{noun} prompts on a terminal, but standard input is not one; "
            f"use --{noun}-stdin to pipe the {noun} in"
        )
    first = getpass.getpass(f"New {noun} for {user}: ")
    _checked(first, noun)
    if getpass.getpass("Repeat it: ") != first:
        raise CommandError(f"the two {noun}s differ; nothing was changed")
    return first
