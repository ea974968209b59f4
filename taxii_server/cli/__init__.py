"""The ``atlas-taxii`` command: one subcommand per module in this package.

Each subcommand module exposes ``configure(parser)`` (adds its arguments and sets
``parser.set_defaults(run=...)``) and keeps its top-level imports light: heavy imports
(the converter, Flask, database drivers) happen inside the run function, so
``atlas-taxii --help`` stays fast and a missing optional driver only affects the
command that needs it.  This package is the one place where ``converters`` and
``taxii_server`` meet.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence

from taxii_server import __version__

__all__ = ["main", "COMMANDS"]

# subcommand name -> (module, one-line help).  Order is the order of ``--help``.
COMMANDS: dict[str, tuple[str, str]] = {
    "serve": ("taxii_server.cli.serve", "run the TAXII 2.1 server (gunicorn); --demo to try it"),
    "users": ("taxii_server.cli.users", "manage users, TLP clearance, API keys and grants"),
    "collections": ("taxii_server.cli.collections", "manage collections"),
    "db": ("taxii_server.cli.db", "show or upgrade the store's schema version"),
    "convert": ("taxii_server.cli.convert", "convert research packages to a STIX 2.1 bundle"),
    "extract": ("taxii_server.cli.extract", "draft a research package from a report or an export"),
    "validate": ("taxii_server.cli.validate", "check STIX 2.1 bundles against the OASIS schemas"),
    "publish": ("taxii_server.cli.publish", "publish packages or bundles: store what changed"),
    "pull": ("taxii_server.cli.pull", "pull a collection from a TAXII 2.1 server into a file"),
    "import-medallion": (
        "taxii_server.cli.import_medallion",
        "load a medallion memory-backend data file into the store",
    ),
    "audit": ("taxii_server.cli.audit", "print the audit log: who read or wrote which objects"),
    "keys": ("taxii_server.cli.keys", "create Ed25519 signing keys; print a key's public JWK"),
    "verify": ("taxii_server.cli.verify", "verify a signed bundle and name what changed"),
    "map": (
        "taxii_server.cli.ecosystem_map",
        "map the ecosystem in packages, bundles or collections and rank its choke points",
    ),
}


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="atlas-taxii",
        description="STIX 2.1 / TAXII 2.1 server and research-package converter.",
    )
    parser.add_argument("--version", action="version", version=f"atlas-taxii {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name, (module, help_text) in COMMANDS.items():
        mod = importlib.import_module(module)
        configure: Callable[[argparse.ArgumentParser], None] = mod.configure
        configure(sub.add_parser(name, help=help_text, description=help_text))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status (0 ok, 1 failed check, 2 bad input)."""
    parser = _build_parser()
    args = parser.parse_args(argv)
    run: Callable[[argparse.Namespace], int] = args.run
    try:
        return run(args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
