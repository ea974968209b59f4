"""``atlas-taxii convert``: research packages (and other inputs) to one STIX 2.1 bundle.

Each input becomes a research package first: a package as written, a MISP event or
feed export through its input mapping (``--from``, told by the content by default;
what the mapping leaves out is listed).  Reads each package (YAML or JSON, with its
CSV side file), checks it in full,
applies the mapping (the default one, or ``--mapping FILE``), validates the bundle
against STIX 2.1 and writes it as compact JSON to ``-o FILE`` or stdout.  Several
packages make one bundle, with the objects they share written once.

Exit status: 0 written; 2 invalid input (a package, its CSV file or the mapping;
every problem is listed with its path or line, and nothing is written); 1 the
produced bundle does not validate (a defect of the mapping — nothing is written).
A file is replaced only once the whole bundle is ready, never left half-written.

``--sign KEY`` also writes ``FILE.jws``, the bundle's detached signature
(:mod:`converters.signing`; ``atlas-taxii verify FILE`` checks it).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from taxii_server.cli.errors import EXIT_BAD_INPUT, EXIT_FAILED, CommandError, guarded
from taxii_server.cli.input_options import (
    add_input_arguments,
    policy_from_args,
    report_unmapped,
)
from taxii_server.cli.progress import ProgressBar
from taxii_server.cli.signing_options import add_sign_argument, load_signer, write_signed
from taxii_server.files import write_atomically

if TYPE_CHECKING:
    from converters import ConversionError, SourceProblem

__all__ = ["configure"]


def configure(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``atlas-taxii convert``."""
    parser.add_argument(
        "packages",
        nargs="+",
        metavar="INPUT",
        help="research package (.yaml, .yml, .json), MISP event (.json) or feed export "
        "(URLhaus CSV/JSON, ThreatFox JSON)",
    )
    parser.add_argument(
        "-o",
        "--output",
        metavar="FILE",
        default="-",
        help="where to write the bundle; '-' (the default) for stdout",
    )
    parser.add_argument(
        "--mapping", metavar="FILE", help="mapping file to use instead of the default one"
    )
    parser.add_argument(
        "--no-validate",
        dest="validate",
        action="store_false",
        help="skip STIX 2.1 validation of the bundle (for debugging a mapping)",
    )
    add_input_arguments(parser)
    add_sign_argument(parser, "the bundle (writes FILE.jws beside it)")
    parser.set_defaults(run=guarded(_run))


def _run(args: argparse.Namespace) -> int:
    # Imported here so that `atlas-taxii --help` does not load the converter.
    from converters import (
        BundleInvalid,
        ConversionError,
        convert_packages,
        load_mapping,
        serialize_bundle,
    )

    if args.sign and args.output == "-":
        raise CommandError("--sign writes FILE.jws beside the bundle: give -o FILE")
    signer = load_signer(args.sign)  # a wrong passphrase fails before the work
    bar = ProgressBar(sys.stderr)
    try:
        mapping = load_mapping(args.mapping) if args.mapping else None
        converted = convert_packages(
            args.packages,
            mapping=mapping,
            validate=args.validate,
            policy=policy_from_args(args),
            progress=bar,
            kind=args.input_kind,
            input_mapping=args.input_mapping,
        )
    except BundleInvalid as exc:
        bar.clear()
        _report(exc)
        return EXIT_FAILED
    except ConversionError as exc:
        bar.clear()
        _report(exc)
        return EXIT_BAD_INPUT
    bar.clear()
    for warning in converted.warnings:
        print(warning.located(), file=sys.stderr)
    report_unmapped(converted.unmapped)
    data = serialize_bundle(converted.bundle)
    if args.output == "-":
        sys.stdout.buffer.write(data + b"\n")
        sys.stdout.flush()
        return 0
    try:
        write_atomically(Path(args.output), data + b"\n")
    except OSError as exc:
        print(f"atlas-taxii: error: cannot write {args.output}: {exc.strerror}", file=sys.stderr)
        return EXIT_BAD_INPUT
    count = len(converted.bundle["objects"])
    print(f"{args.output}: {count} STIX objects", file=sys.stderr)
    if signer is not None:
        signature = write_signed(Path(args.output), converted.bundle, signer)
        print(f"{signature}: signed by {signer.identity} with key {signer.kid}", file=sys.stderr)
    return 0


def _report(exc: ConversionError) -> None:
    problems: tuple[SourceProblem, ...] = exc.problems
    for problem in problems:
        print(problem.located(), file=sys.stderr)
    print(f"atlas-taxii: error: {exc.summary}", file=sys.stderr)
