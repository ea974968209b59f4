"""``atlas-taxii import-medallion FILE``: move from medallion in one command.

Loads a medallion memory-backend data file (the JSON its ``MemoryBackend`` loads and
saves) into the store the configuration names: API roots, collections, and every
version of every object, in medallion's ``date_added`` order
(:mod:`taxii_server.medallion_import` says what maps to what).

Prints one line per collection, one per refused object (where it is in the file and
why), and what was not imported.  Exit status: 0 everything imported; 1 some
objects or collections were refused (the rest is imported); 2 the file is not a
medallion data file (nothing is imported).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from taxii_server.cli.errors import EXIT_FAILED, CommandError, guarded
from taxii_server.cli.progress import ProgressBar
from taxii_server.cli.store import add_store_arguments, open_store

if TYPE_CHECKING:
    from taxii_server.medallion_import import CollectionImport, ImportReport

__all__ = ["configure"]


def configure(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``atlas-taxii import-medallion``."""
    parser.add_argument("file", metavar="FILE", help="medallion memory-backend data file (JSON)")
    add_store_arguments(parser)
    parser.set_defaults(run=guarded(_run))


def _describe(result: CollectionImport) -> str:
    source = f"{result.api_root}/{result.source_title!r} {result.source_id}"
    if result.collection is None:
        return f"{source}: not imported: {result.problem}"
    parts = []
    if result.id_replaced:
        parts.append(
            f"id {result.source_id} is not a UUIDv4 (Microsoft Sentinel accepts no other "
            f"form): imported as {result.collection.id}"
        )
    if result.collection.title != result.source_title:
        parts.append(f"title already used: imported as {result.collection.title!r}")
    state = "new collection" if result.created else "existing collection"
    counts = (
        f"{result.added} object version(s) added, {result.unchanged} already there, "
        f"{len(result.refusals)} refused"
    )
    return "; ".join([f"{source}: {state}, {counts}", *parts])


def _print(report: ImportReport, path: Path) -> None:
    for name in report.api_roots_created:
        print(f"API root {name}: created")
    for name in report.api_roots_kept:
        print(f"API root {name}: exists, kept as it is")
    for result in report.collections:
        print(_describe(result))
        for refusal in result.refusals:
            print(
                f"{path}: {refusal.location} {refusal.object_id}: {refusal.message}",
                file=sys.stderr,
            )
    for note in report.notes:
        print(f"note: {note}")


def _run(args: argparse.Namespace) -> int:
    from converters.validation import get_validator
    from taxii_server.medallion_import import (
        MedallionFormatError,
        import_medallion,
        read_medallion_file,
    )

    path = Path(args.file)
    try:
        data = read_medallion_file(path)
    except MedallionFormatError as exc:
        raise CommandError(f"{exc} (nothing was imported)") from None
    bar = ProgressBar(sys.stderr)
    with open_store(args) as ctx:
        try:
            report = import_medallion(data, ctx.storage, get_validator(), bar)
        finally:
            bar.clear()
    _print(report, path)
    return EXIT_FAILED if report.failed else 0
