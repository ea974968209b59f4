"""Options shared by the commands that read analyst inputs (``convert``, ``publish``):
what the package checks tolerate.

Checksums of wallet addresses and IBANs are errors by default (a typo would point a
freeze at someone else's account); ``--lenient`` makes them warnings.  ``--strict``
makes every warning an error (it predates checksums being errors, and still covers
the other warnings, such as a source withheld from an item).  Data points whose
vetting status is ``unverified`` are refused unless ``--allow-unverified``.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from converters import Policy

__all__ = ["add_policy_arguments", "policy_from_args"]


def add_policy_arguments(parser: argparse.ArgumentParser) -> None:
    """Add ``--strict``, ``--lenient`` and ``--allow-unverified``."""
    checks = parser.add_argument_group("checks of the input")
    severity = checks.add_mutually_exclusive_group()
    severity.add_argument(
        "--strict",
        action="store_true",
        help="treat every package warning (e.g. a withheld source) as an error",
    )
    severity.add_argument(
        "--lenient",
        action="store_true",
        help="report wallet and IBAN checksum failures as warnings instead of errors",
    )
    checks.add_argument(
        "--allow-unverified",
        action="store_true",
        help="convert data points whose vetting status is 'unverified' (labelled so in "
        "STIX, with low confidence) instead of refusing them",
    )


def policy_from_args(args: argparse.Namespace) -> Policy:
    """The :class:`converters.Policy` the options ask for."""
    from converters import Policy

    return Policy(strict=args.strict, lenient=args.lenient, allow_unverified=args.allow_unverified)
