"""How a subcommand fails: one exception for "the operator asked for something wrong",
and one wrapper that turns every anticipated error into a message and an exit status.

Exit statuses follow :func:`taxii_server.cli.main`: 0 ok, 1 a check failed or the
store is unavailable, 2 bad input (unknown user, duplicate title, bad configuration).
No traceback reaches the operator for any of these; an unexpected exception still
does, because hiding a bug would be worse.
"""

from __future__ import annotations

import argparse
import functools
import sys
from collections.abc import Callable

from taxii_server.settings import ConfigError
from taxii_server.storage.base import StorageError, StorageUnavailable

__all__ = ["CommandError", "EXIT_BAD_INPUT", "EXIT_FAILED", "Run", "guarded"]

EXIT_FAILED = 1
EXIT_BAD_INPUT = 2

Run = Callable[[argparse.Namespace], int]


class CommandError(Exception):
    """The operator's request cannot be carried out; the message says why."""

    def __init__(self, message: str, status: int = EXIT_BAD_INPUT) -> None:
        super().__init__(message)
        self.status = status


def _status_of(exc: Exception) -> int:
    if isinstance(exc, CommandError):
        return exc.status
    if isinstance(exc, StorageUnavailable):
        return EXIT_FAILED
    return EXIT_BAD_INPUT


def guarded(run: Run) -> Run:
    """Wrap a subcommand's ``run`` so configuration, storage and command errors print
    ``atlas-taxii: error: <message>`` on stderr and return an exit status."""

    @functools.wraps(run)
    def wrapper(args: argparse.Namespace) -> int:
        try:
            return run(args)
        except (CommandError, ConfigError, StorageError) as exc:
            print(f"atlas-taxii: error: {exc}", file=sys.stderr)
            return _status_of(exc)

    return wrapper
