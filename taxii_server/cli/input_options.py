"""Options shared by the commands that read analyst inputs (``convert``, ``publish``):
what kind of input each file is, and what the package checks tolerate.

``--from`` names the kind (``package``, ``misp``, a feed such as ``urlhaus`` or
``threatfox``); by default it is told from each file's content.  ``--input-mapping``
replaces the default MISP mapping or feed file.

Checksums of wallet addresses and IBANs are errors by default (a typo would point a
freeze at someone else's account); ``--lenient`` makes them warnings.  ``--strict``
makes every warning an error (it predates checksums being errors, and still covers
the other warnings, such as a source withheld from an item).  Data points whose
vetting status is ``unverified`` are refused unless ``--allow-unverified``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from converters import Policy
    from converters.inputs import Unmapped

__all__ = ["add_input_arguments", "policy_from_args", "report_unmapped"]


def add_input_arguments(parser: argparse.ArgumentParser) -> None:
    """Add ``--from``, ``--input-mapping``, ``--strict``, ``--lenient`` and
    ``--allow-unverified``."""
    parser.add_argument(
        "--from",
        dest="input_kind",
        default="auto",
        metavar="KIND",
        help="what the inputs are: package, misp, urlhaus, threatfox (a feed file in "
        "mappings/inputs/feeds/) or auto (the default: told by each file's content)",
    )
    parser.add_argument(
        "--input-mapping",
        metavar="FILE",
        help="MISP input mapping or feed file to use instead of the default one",
    )
    add_policy_arguments(parser)


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


def report_unmapped(unmapped: Sequence[Unmapped]) -> None:
    """Print what the inputs' mappings left out, one line per kind of thing, on stderr."""
    for entry in unmapped:
        print(entry, file=sys.stderr)
    if unmapped:
        total = sum(entry.count for entry in unmapped)
        print(f"{total} input item(s) of {len(unmapped)} kind(s) not mapped", file=sys.stderr)
