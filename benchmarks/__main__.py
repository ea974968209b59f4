"""``python -m benchmarks SUBCOMMAND``: run one benchmark suite."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable

# subcommand -> (module, one-line help)
SUITES: dict[str, tuple[str, str]] = {
    "taxii": ("benchmarks.taxii", "the server over HTTP beside medallion and OpenTAXII (issue 6)"),
    "serve": ("benchmarks.serve", "the server over HTTP: worker classes, page reads, medallion"),
    "pages": ("benchmarks.taxii_pages", "one TAXII page read in-process, by endpoint and filter"),
    "storage": ("benchmarks.storage", "the SQL store alone: reads and adds, SQLite and PostgreSQL"),
    "convert": ("benchmarks.convert", "research package to a validated bundle, beside stix2"),
    "misp": ("benchmarks.misp", "MISP event to a validated bundle, beside misp-stix (issue 14)"),
    "validation": ("benchmarks.validation", "STIX 2.1 validation objects/s, beside the peers"),
    "audit": ("benchmarks.audit", "what the audit record costs a poll, SQLite and PostgreSQL"),
    "audit-size": ("benchmarks.audit_size", "bytes an audit record takes and writes, by store"),
    "signing": ("benchmarks.signing", "sign and verify a large export, beside jwcrypto"),
    "fleet": (
        "benchmarks.fleet",
        "many users polling once each over new connections: API keys, passwords, OpenTAXII",
    ),
    "before-after": (
        "benchmarks.before_after",
        "validation, convert and ingest: this tree against an earlier revision, alternately",
    ),
    "map": (
        "benchmarks.ecosystem_map",
        "atlas-taxii map on a 100,000-object collection (issue 11)",
    ),
    "memory": ("benchmarks.memory", "workers' resident memory after large POSTs"),
    "workbench": (
        "benchmarks.workbench",
        "workbench pages (lists, filters, search, object) as the collection grows",
    ),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    sub = parser.add_subparsers(dest="suite", metavar="SUITE")
    sub.required = True
    for name, (module, help_text) in SUITES.items():
        configure: Callable[[argparse.ArgumentParser], None] = importlib.import_module(
            module
        ).configure
        configure(sub.add_parser(name, help=help_text, description=help_text))
    args = parser.parse_args(argv)
    run: Callable[[argparse.Namespace], int] = args.run
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
