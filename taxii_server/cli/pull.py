"""``atlas-taxii pull``: a collection of any TAXII 2.1 server into one bundle on disk.

::

    atlas-taxii pull https://taxii.example.org/community/ --collection ID \\
        --user alice -o evidence.json
    atlas-taxii pull https://taxii.example.org/taxii2/ --collection ID \\
        --api-key-stdin --since-last -o evidence.json     # later: only what is new
    atlas-taxii pull URL --collection ID -o cases.csv --format csv

``URL`` is an API root or a discovery URL (its default API root is used).  Pages are
followed with ``next`` (else ``X-TAXII-Date-Added-Last``) and recorded in
``OUTPUT.pull/`` as they arrive, so an interrupted pull (Ctrl-C, network error, killed
process) continues where it stopped when the same command is run again
(:mod:`taxii_server.remote.pull`).  A server that keeps saying ``more`` without
bringing anything new stops the pull, and so does ``--max-pages`` (the next run
continues).  The output is written once, atomically, at the
end: a STIX 2.1 bundle, or with ``--format csv`` a table of indicators and
observables (:mod:`taxii_server.case_table`).  ``--since-last`` fetches only what
was added since the last complete pull into the same output and rewrites the output
with everything.  ``--sign KEY`` writes ``OUTPUT.jws`` beside the bundle: its
signature, whose manifest holds the SHA-256 of every object and the chain of custody
record (:mod:`taxii_server.remote.custody`).

Exit status: 0 written; 1 the server failed or could not be reached (pages already
fetched are kept); 2 bad input (URL, collection, credentials, options).
"""

from __future__ import annotations

import argparse
import sys
import uuid
from pathlib import Path
from typing import Any

import orjson

from taxii_server.cli.errors import CommandError, guarded
from taxii_server.cli.progress import ProgressBar
from taxii_server.cli.remote_options import (
    add_credential_arguments,
    credentials_from_args,
    remote_errors,
)
from taxii_server.cli.signing_options import add_sign_argument, load_signer, write_signed
from taxii_server.remote.paging import DEFAULT_MAX_PAGES

__all__ = ["configure"]

_INTERRUPTED = 130


def configure(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``atlas-taxii pull``."""
    parser.add_argument("url", metavar="URL", help="API root URL (or a discovery URL)")
    parser.add_argument(
        "--collection", required=True, metavar="ID", help="collection id (or alias or title)"
    )
    parser.add_argument(
        "-o", "--output", required=True, metavar="FILE", help="where to write the result"
    )
    parser.add_argument(
        "--format",
        choices=("stix", "csv"),
        default="stix",
        help="stix: one STIX 2.1 bundle (default); csv: indicators and observables as a table",
    )
    since = parser.add_mutually_exclusive_group()
    since.add_argument(
        "--added-after",
        metavar="TIMESTAMP",
        help="only objects added after this time (RFC 3339, e.g. 2024-06-01T00:00:00Z)",
    )
    since.add_argument(
        "--since-last",
        action="store_true",
        help="only what was added since the last complete pull into this output",
    )
    parser.add_argument(
        "--all-versions",
        action="store_true",
        help="every version of every object (default: the latest version of each)",
    )
    parser.add_argument(
        "--limit",
        type=int,
        default=1000,
        metavar="N",
        help="objects per page to ask for (default 1000; servers may send fewer)",
    )
    parser.add_argument(
        "--max-pages",
        type=int,
        default=DEFAULT_MAX_PAGES,
        metavar="N",
        help=f"stop after this many pages in one run (default {DEFAULT_MAX_PAGES}); "
        "the next run continues",
    )
    add_sign_argument(parser, "the export and record its chain of custody (writes FILE.jws)")
    add_credential_arguments(parser)
    parser.set_defaults(run=guarded(_run))


def _writer(output: Path, fmt: str, collection_title: str, written: list[Any]) -> Any:
    """The pull's writer; the bundle it writes is kept in ``written`` for signing."""
    from taxii_server.case_table import case_table
    from taxii_server.remote.journal import write_atomically

    def write(objects: list[dict[str, Any]]) -> None:
        if fmt == "csv":
            data = case_table(objects, collection_title)
        else:
            bundle = {"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": objects}
            written.append(bundle)
            data = orjson.dumps(bundle) + b"\n"
        try:
            write_atomically(output, data)
        except OSError as exc:
            raise CommandError(f"cannot write {output}: {exc.strerror}") from None

    return write


def _check_options(args: argparse.Namespace, output: Path) -> None:
    from taxii_server.timestamps import TimestampError, parse_timestamp

    if args.limit < 1:
        raise CommandError("--limit must be at least 1")
    if args.max_pages < 1:
        raise CommandError("--max-pages must be at least 1")
    if args.added_after is not None:
        try:
            parse_timestamp(args.added_after)
        except TimestampError as exc:
            raise CommandError(f"--added-after: {exc}") from None
    if not output.parent.is_dir():
        raise CommandError(f"cannot write {output}: {output.parent} is not a directory")
    if args.sign and args.format != "stix":
        raise CommandError("--sign signs STIX bundles: drop --format csv")


def _run(args: argparse.Namespace) -> int:
    from taxii_server.remote.connection import open_collection
    from taxii_server.remote.journal import Journal, JournalError
    from taxii_server.remote.pull import pull_collection

    output = Path(args.output)
    _check_options(args, output)
    signer = load_signer(args.sign)  # a wrong passphrase fails before the pull
    credentials = credentials_from_args(args)
    journal = Journal(output)
    with remote_errors():
        collection = open_collection(args.url, args.collection, credentials, timeout=args.timeout)
    bar = ProgressBar(sys.stderr)
    kept = (
        f"; the pages fetched so far are kept in {journal.folder}: "
        "run the same command again to continue"
    )
    try:
        if not collection.can_read:
            raise CommandError(
                f"{collection.url}: this user may not read collection {collection.title!r}"
            )
        written: list[Any] = []
        with remote_errors(after=kept):
            outcome = pull_collection(
                collection,
                journal,
                _writer(output, args.format, collection.title, written),
                added_after=args.added_after,
                all_versions=args.all_versions,
                since_last=args.since_last,
                page_size=args.limit,
                max_pages=args.max_pages,
                progress=lambda objects, pages: bar.tally("pull", objects, "objects"),
            )
    except JournalError as exc:
        raise CommandError(str(exc)) from None
    except KeyboardInterrupt:
        bar.clear()
        print(
            f"interrupted{kept}",
            file=sys.stderr,
        )
        return _INTERRUPTED
    finally:
        bar.clear()
        collection.connection.close()
    if signer is not None:
        from taxii_server.remote.custody import custody_record

        custody = custody_record(
            collection,
            outcome.state.source,
            journal.receipts(outcome.state),
            credentials,
            outcome.objects,
        )
        signature = write_signed(output, written[-1], signer, custody)
        print(f"{signature}: signed by {signer.identity} with key {signer.kid}", file=sys.stderr)
    resumed = (
        f", resumed after {outcome.resumed_after} page(s) fetched earlier"
        if outcome.resumed_after
        else ""
    )
    print(
        f"{output}: {outcome.objects} objects from {collection.title!r} "
        f"({outcome.fetched} fetched in {outcome.pages} page(s){resumed})"
    )
    return 0
