"""``atlas-taxii publish``: research packages or STIX bundles into a collection.

::

    atlas-taxii publish RP-2024-0007.yaml --collection indicators          # this store
    atlas-taxii publish RP-2024-0007.yaml bundle.json --collection ID \\
        --url https://taxii.example.org/community/ --user alice           # another server

Each argument is a research package (YAML or JSON, converted with the default mapping
or ``--mapping``) or a STIX bundle / TAXII envelope (JSON with an ``objects`` list).
Objects are validated as a TAXII POST validates them, compared with the latest
version the collection holds (without ``modified``), and only new and changed objects
are stored (:mod:`taxii_server.publishing`).  Without ``--url`` they go into the store
the configuration names; with ``--url`` (an API root or discovery URL) they are
posted through taxii2-client in envelopes that fit the API root's
``max_content_length``, waiting for each status (:mod:`taxii_server.remote.push`).

Prints each failure (object id and why) on stderr and one summary line on stdout:
``… 12 new, 3 changed, 40 unchanged, 0 failed``.  Exit status: 0 all published (or
unchanged); 1 some objects failed, or the server or store failed; 2 bad input (an
invalid package or bundle, an unknown collection, refused credentials).

``--sign KEY`` signs the revision as the collection then holds it (each object's
latest version: the one just stored, or the unchanged one held before) and stores
the signature in the same collection as a STIX ``artifact``
(:mod:`converters.signing.artifact`); ``atlas-taxii verify PULLED --sig artifact--…``
checks it against a pull of the collection.  Signing needs read access (to read back
what the collection holds) and is skipped when an object failed.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

import orjson

from taxii_server.cli.errors import EXIT_FAILED, CommandError, guarded
from taxii_server.cli.input_options import (
    add_input_arguments,
)
from taxii_server.cli.progress import ProgressBar
from taxii_server.cli.remote_options import (
    add_credential_arguments,
    credentials_from_args,
    remote_errors,
)
from taxii_server.cli.signing_options import add_sign_argument, load_signer, signature_document
from taxii_server.cli.sources import ConversionOptions, objects_from_files
from taxii_server.cli.store import add_store_arguments, open_store, resolve_collection

if TYPE_CHECKING:
    from converters.signing import SigningKey
    from taxii_server.publishing import PublishReport, Target

__all__ = ["configure"]

# Failures printed one by one; beyond this, a count (a broken bundle can have thousands).
_MAX_FAILURES_SHOWN = 50
_AGAIN = "; run the same command again to finish: what was published is then unchanged"


def configure(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``atlas-taxii publish``."""
    parser.add_argument(
        "sources",
        nargs="+",
        metavar="PACKAGE|BUNDLE",
        help="research package (.yaml, .yml, .json) or STIX bundle / TAXII envelope (.json)",
    )
    parser.add_argument(
        "--collection", required=True, metavar="ID", help="collection id, alias or title"
    )
    parser.add_argument(
        "--api-root", metavar="NAME", help="API root of the collection (local store only)"
    )
    parser.add_argument(
        "--url",
        metavar="URL",
        help="publish to this remote TAXII 2.1 API root (or discovery URL) instead of the store",
    )
    parser.add_argument(
        "--mapping", metavar="FILE", help="mapping file for packages instead of the default one"
    )
    parser.add_argument(
        "--status-timeout",
        type=float,
        default=300.0,
        metavar="SECONDS",
        help="how long to wait for a remote status to complete (default 300)",
    )
    add_sign_argument(parser, "the revision and store the signature in the collection")
    add_input_arguments(parser)
    add_store_arguments(parser)
    add_credential_arguments(parser)
    parser.set_defaults(run=guarded(_run))


def _report(report: PublishReport, destination: str) -> int:
    for failure in report.failures[:_MAX_FAILURES_SHOWN]:
        print(f"{failure.object_id}: {failure.message}", file=sys.stderr)
    hidden = len(report.failures) - _MAX_FAILURES_SHOWN
    if hidden > 0:
        print(f"… and {hidden} more failures", file=sys.stderr)
    if report.unnamed_failures:
        print(
            f"the server reported {report.unnamed_failures} failure(s) without naming the objects",
            file=sys.stderr,
        )
    print(f"{destination}: {report.summary()}")
    return EXIT_FAILED if report.failed else 0


def _sign(objects: list[Any], target: Target, signer: SigningKey, bar: ProgressBar) -> None:
    """Sign what the collection now holds of ``objects`` and store the signature there."""
    import uuid

    from converters.signing import signature_artifact
    from converters.validation import get_validator
    from taxii_server.publishing import publish_objects

    ids = list(dict.fromkeys(o["id"] for o in objects if isinstance(o, dict) and "id" in o))
    held = target.latest(ids, lambda stage, done, total: None) or {}
    signed = [orjson.loads(held[i]) for i in ids if i in held]
    bundle = {"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": signed}
    artifact = signature_artifact(signature_document(bundle, signer, indent=False), signed)
    report = publish_objects([artifact], target, get_validator(), bar)
    bar.clear()
    if report.failed:
        message = report.failures[0].message if report.failures else "refused"
        raise CommandError(f"the signature was not stored: {message}", EXIT_FAILED)
    print(
        f"signed {len(signed)} objects with key {signer.kid}; signature stored as {artifact['id']}"
    )


def _sign_unless_failed(
    report: PublishReport, objects: list[Any], target: Target, signer: SigningKey, bar: ProgressBar
) -> None:
    if report.failed:
        print("not signed: some objects failed; publish again to sign", file=sys.stderr)
        return
    _sign(objects, target, signer, bar)


def _run(args: argparse.Namespace) -> int:
    from converters.validation import get_validator
    from taxii_server.publishing import LocalTarget, publish_objects

    if args.url and args.api_root:
        raise CommandError("--api-root names a collection in the local store; drop it with --url")
    signer = load_signer(args.sign)
    bar = ProgressBar(sys.stderr)
    objects = objects_from_files(args.sources, ConversionOptions.from_args(args), bar)
    if args.url:
        return _publish_remote(args, objects, bar, signer)
    with open_store(args) as ctx:
        collection = resolve_collection(ctx.storage, args.collection, args.api_root)
        target = LocalTarget(ctx.storage, collection)
        report = publish_objects(objects, target, get_validator(), bar)
        bar.clear()
        status = _report(report, f"{collection.api_root}/{collection.title!r} {collection.id}")
        if signer is not None:
            _sign_unless_failed(report, objects, target, signer, bar)
    return status


def _publish_remote(
    args: argparse.Namespace, objects: list[Any], bar: ProgressBar, signer: SigningKey | None
) -> int:
    from converters.validation import get_validator
    from taxii_server.publishing import publish_objects
    from taxii_server.remote.connection import open_collection
    from taxii_server.remote.push import RemoteTarget

    credentials = credentials_from_args(args)
    with remote_errors():
        collection = open_collection(args.url, args.collection, credentials, timeout=args.timeout)
    try:
        if not collection.can_write:
            raise CommandError(
                f"{collection.url}: this user may not write to collection {collection.title!r}"
            )
        if signer is not None and not collection.can_read:
            raise CommandError(
                f"{collection.url}: --sign reads back what the collection holds, and this "
                f"user may not read collection {collection.title!r}"
            )
        target = RemoteTarget(collection, status_timeout=args.status_timeout)
        try:
            with remote_errors(after=_AGAIN):
                report = publish_objects(objects, target, get_validator(), bar)
                status = _report(report, f"{collection.url} {collection.title!r}")
                if signer is not None:
                    _sign_unless_failed(report, objects, target, signer, bar)
        finally:
            bar.clear()
    finally:
        collection.connection.close()
    return status
