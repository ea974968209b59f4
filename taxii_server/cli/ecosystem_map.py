"""``atlas-taxii map``: the ecosystem map and its choke points, from everything read.

::

    atlas-taxii map NSB-2024-0412.yaml vlx.json bws.json          # packages and bundles
    atlas-taxii map --collection community --config /etc/atlas-taxii.toml
    atlas-taxii map --collection ID --url https://taxii.example.org/taxii2/ --user alice
    atlas-taxii map bundles/*.json --format svg -o atlas.svg
    atlas-taxii map bundles/*.json --remove infrastructure--2bfc… indicator--…

Inputs are research packages (converted together, as ``publish`` converts them),
STIX bundles or TAXII envelopes, a collection of the local store (``--collection``
with ``--config``/``--storage``) or of any TAXII 2.1 server (``--collection`` with
``--url``, fetched with ``pull``'s client); all are mapped together.  What a
reader of ``--clearance`` may not see is left out, as the server leaves it out
(default ``red``: everything this operator holds; a remote server applies the
credentials' own clearance).  The analysis is :mod:`ecosystem`; docs/map.md says
what impact means.

Output (standard output, or ``-o FILE`` written atomically): a ranked table
(``--top`` rows), ``--format json`` (every candidate, the clusters and their
evidence, the declared choke points and their ranks), ``--format graphml``
(Gephi, yEd, networkx) or ``--format svg`` (a picture, the top choke points
highlighted).  ``--remove ID …`` adds what that disruption costs.

Exit status: 0 written; 1 a remote server or the store failed; 2 bad input.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from taxii_server.cli.errors import CommandError, guarded
from taxii_server.cli.input_options import add_input_arguments
from taxii_server.cli.progress import ProgressBar
from taxii_server.cli.remote_options import (
    add_credential_arguments,
    credentials_from_args,
    remote_errors,
)
from taxii_server.cli.store import add_store_arguments

if TYPE_CHECKING:
    from ecosystem import Candidate, Disruption, EcosystemMap

__all__ = ["configure"]

_FORMATS = ("table", "json", "graphml", "svg")
_LEVELS = ("clear", "green", "amber", "amber+strict", "red", "all")
_PAGE = 5000  # objects per store query


def configure(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``atlas-taxii map``."""
    parser.add_argument(
        "inputs",
        nargs="*",
        metavar="INPUT",
        help="research package (.yaml, .yml, .json) or STIX bundle / TAXII envelope (.json)",
    )
    parser.add_argument(
        "--collection",
        metavar="ID",
        help="map a collection too: of the local store, or with --url of a TAXII server",
    )
    parser.add_argument("--api-root", metavar="NAME", help="API root of a local collection")
    parser.add_argument(
        "--url", metavar="URL", help="TAXII 2.1 API root (or discovery URL) of --collection"
    )
    parser.add_argument(
        "--mapping", metavar="FILE", help="mapping file for packages instead of the default one"
    )
    parser.add_argument(
        "--clearance",
        choices=_LEVELS,
        default="all",
        help="map only what a reader of this TLP level may read (default all: everything, "
        "objects whose markings cannot be ranked included)",
    )
    parser.add_argument(
        "--cluster-by",
        metavar="TYPES",
        help="SCO types that identify their owner, comma-separated "
        "(default cryptocurrency-wallet,bank-account,phone-number; '' for none)",
    )
    parser.add_argument(
        "--remove",
        nargs="+",
        action="extend",
        metavar="ID",
        help="simulate disrupting these (STIX ids of any member): what each actor loses",
    )
    parser.add_argument("--format", choices=_FORMATS, default="table", help="default: table")
    parser.add_argument(
        "--top", type=int, default=20, metavar="N", help="rows of the table, highlights in svg"
    )
    parser.add_argument(
        "-o", "--output", default="-", metavar="FILE", help="where to write; '-' is stdout"
    )
    add_input_arguments(parser)
    add_store_arguments(parser)
    add_credential_arguments(parser)
    parser.set_defaults(run=guarded(_run))


def _store_objects(args: argparse.Namespace, clearance: int, bar: ProgressBar) -> Iterator[Any]:
    """The latest version of every object of a local collection visible at
    ``clearance``, parsed page by page (never the whole collection at once)."""
    import orjson

    from taxii_server.cli.store import open_store, resolve_collection
    from taxii_server.storage.base import ObjectQuery

    with open_store(args) as ctx:
        collection = resolve_collection(ctx.storage, args.collection, args.api_root)
        after: int | None = None
        read = 0
        while True:
            query = ObjectQuery(clearance=clearance, limit=_PAGE, after=after)
            page = ctx.storage.query_objects(collection.id, query)
            for item in page.items:
                yield orjson.loads(item.data)
            read += len(page.items)
            bar.tally("read", read, "objects")
            if not page.more or not page.items:
                return
            after = page.items[-1].date_added


def _remote_objects(args: argparse.Namespace, bar: ProgressBar) -> list[Any]:
    """The latest version of every object of a remote collection (pull's client)."""
    from taxii_server.remote.connection import open_collection
    from taxii_server.remote.journal import Journal
    from taxii_server.remote.pull import pull_collection

    credentials = credentials_from_args(args)
    with remote_errors():
        collection = open_collection(args.url, args.collection, credentials, timeout=args.timeout)
    fetched: list[Any] = []
    try:
        if not collection.can_read:
            raise CommandError(
                f"{collection.url}: this user may not read collection {collection.title!r}"
            )
        with tempfile.TemporaryDirectory(prefix="atlas-map-") as folder, remote_errors():
            pull_collection(
                collection,
                Journal(Path(folder) / "collection"),
                fetched.extend,
                progress=lambda objects, pages: bar.tally("fetch", objects, "objects"),
            )
    finally:
        collection.connection.close()
    return fetched


def _objects(args: argparse.Namespace, clearance: int, bar: ProgressBar) -> Iterator[Any]:
    from taxii_server.cli.sources import ConversionOptions, objects_from_files

    if args.inputs:
        yield from objects_from_files(args.inputs, ConversionOptions.from_args(args), bar)
    if args.collection and args.url:
        yield from _remote_objects(args, bar)
    elif args.collection:
        yield from _store_objects(args, clearance, bar)


def _check(args: argparse.Namespace) -> None:
    if args.url and not args.collection:
        raise CommandError("--url needs --collection (the collection to map)")
    if not args.inputs and not args.collection:
        raise CommandError("nothing to map: give INPUT files, --collection, or both")
    if args.url and args.api_root:
        raise CommandError("--api-root names a collection in the local store; drop it with --url")
    if args.top < 1:
        raise CommandError("--top must be at least 1")
    if args.output != "-" and not Path(args.output).parent.is_dir():
        raise CommandError(f"cannot write {args.output}: no such directory")


def _render(
    fmt: str,
    emap: EcosystemMap,
    candidates: list[Candidate],
    disruption: Disruption | None,
    top: int,
) -> bytes:
    if fmt == "json":
        import orjson

        from ecosystem.document import map_document

        options = orjson.OPT_INDENT_2 if len(candidates) <= 1000 else 0
        return orjson.dumps(map_document(emap, candidates, disruption), option=options) + b"\n"
    if fmt == "graphml":
        from ecosystem.graphml import graphml_bytes

        return graphml_bytes(emap, candidates)
    if fmt == "svg":
        from ecosystem.svg import draw_svg

        return draw_svg(emap, candidates, top=top, removed=disruption.removed if disruption else ())
    from taxii_server.cli.map_table import map_table

    return map_table(emap, candidates, disruption, top).encode("utf-8")


def _run(args: argparse.Namespace) -> int:
    from converters.tlp import ADMIN_ONLY, rank_of_level
    from ecosystem import STRONG_TYPES, UnknownEntity, build_map, rank, simulate_removal
    from taxii_server.files import write_atomically
    from taxii_server.gc_pause import gc_paused

    _check(args)
    clearance = ADMIN_ONLY if args.clearance == "all" else rank_of_level(args.clearance)
    strong = STRONG_TYPES
    if args.cluster_by is not None:
        strong = tuple(t.strip() for t in args.cluster_by.split(",") if t.strip())
    bar = ProgressBar(sys.stderr)
    progress: Callable[[str, int, int], None] = bar
    # Millions of small objects that all live until the end: see build_map.
    with gc_paused():
        try:
            emap = build_map(
                _objects(args, clearance, bar),
                clearance=clearance,
                strong_types=strong,
                progress=progress,
            )
            candidates = rank(emap, progress=progress)
            disruption = simulate_removal(emap, args.remove) if args.remove else None
        except UnknownEntity as exc:
            raise CommandError(f"--remove: {exc}") from None
        finally:
            bar.clear()
        data = _render(args.format, emap, candidates, disruption, args.top)
    if args.output == "-":
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return 0
    output = Path(args.output)
    try:
        write_atomically(output, data)
    except OSError as exc:
        raise CommandError(f"cannot write {output}: {exc.strerror}") from None
    stats = emap.stats
    print(
        f"{output}: {len(candidates)} candidates, {len(emap.clusters)} clusters from "
        f"{stats.kept} of {stats.objects} objects",
        file=sys.stderr,
    )
    return 0
