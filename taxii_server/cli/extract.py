"""``atlas-taxii extract``: a draft research package from a report, for an analyst to vet.

::

    atlas-taxii extract report.txt -o draft.yaml             # free text (or Markdown)
    atlas-taxii extract event.json -o draft.yaml             # a MISP event, a feed export

Free text is searched for observables (:mod:`converters.inputs.extraction`): every data
point found is ``unverified``, with the sentence it was found in, and values whose
checksum fails are listed as rejected instead.  A MISP event or a feed export gives the
package ``convert`` would make of it, to review before converting.  Either way the
draft starts with comments saying what was left out.  An analyst vets the draft by
editing it (``vetting.status: vetted``), then converts or publishes it.

Exit status: 0 written; 2 the input cannot be read, or the extractor is not installed.
"""

from __future__ import annotations

import argparse
import datetime
import sys
from pathlib import Path

from taxii_server.cli.errors import CommandError, guarded
from taxii_server.files import write_atomically

__all__ = ["configure"]

_STRUCTURED = ("misp", "urlhaus", "threatfox", "package")


def configure(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``atlas-taxii extract``."""
    parser.add_argument("input", metavar="INPUT", help="a report (text), MISP event or feed export")
    parser.add_argument(
        "-o", "--output", metavar="FILE", default="-", help="the draft package ('-': stdout)"
    )
    parser.add_argument(
        "--from",
        dest="input_kind",
        default="auto",
        metavar="KIND",
        help="text, misp, urlhaus, threatfox, or auto (the default: JSON and CSV exports "
        "by their content, anything else as text)",
    )
    draft = parser.add_argument_group("fields of a draft made from text")
    draft.add_argument("--id", metavar="ID", help="package id (default DRAFT-<year>-<digits>)")
    draft.add_argument("--title", metavar="TEXT", help="title (default 'Draft from <file>')")
    draft.add_argument(
        "--author", metavar="NAME", default="unknown organisation", help="producing organisation"
    )
    draft.add_argument(
        "--tlp",
        default="amber",
        choices=["clear", "green", "amber", "amber+strict", "red"],
        help="marking of the package (default amber)",
    )
    draft.add_argument("--published", metavar="DATE", help="publication date (default: today, UTC)")
    parser.set_defaults(run=guarded(_run))


def _run(args: argparse.Namespace) -> int:
    from converters import ConversionError
    from converters.inputs.drafts import draft_yaml

    source = Path(args.input)
    try:
        document, header = _draft(source, args)
    except ConversionError as exc:
        for problem in exc.problems:
            print(problem.located(), file=sys.stderr)
        raise CommandError(exc.summary) from None
    except ImportError as exc:
        raise CommandError(str(exc)) from None
    text = draft_yaml(document, header)
    if args.output == "-":
        sys.stdout.write(text)
        return 0
    try:
        write_atomically(Path(args.output), text.encode("utf-8"))
    except OSError as exc:
        raise CommandError(f"cannot write {args.output}: {exc.strerror}") from None
    points = document.get("data_points", [])
    count = len(points) if isinstance(points, list) else 0
    print(f"{args.output}: draft package with {count} data point(s)", file=sys.stderr)
    return 0


def _draft(source: Path, args: argparse.Namespace) -> tuple[dict[str, object], list[str]]:
    from converters.inputs import detect_kind, parse_input, to_packages
    from converters.inputs.extraction import DraftOptions, extract_text

    kind = args.input_kind
    if kind == "auto" or kind in _STRUCTURED:
        document = parse_input(source, text_fallback=kind == "auto")
        if document is not None:
            found = kind if kind != "auto" else detect_kind(source, document)
            if found == "package":
                raise CommandError(f"{source} is a research package already")
            if found:
                (imported, *more) = to_packages(source, document, found)
                header = [f"Draft research package made from {source.name} ({found})."]
                header += [f"{u.where}: {u.describe()}" for u in imported.unmapped]
                if more:
                    header.append(f"{len(more)} more event(s) in the input: convert it whole")
                for unmapped in imported.unmapped:
                    print(unmapped, file=sys.stderr)
                return imported.document, header
    if kind not in ("auto", "text"):
        raise CommandError(
            f"unknown kind of input {kind!r}; expected text, {', '.join(_STRUCTURED)}"
        )
    try:
        text = source.read_text("utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise CommandError(f"cannot read {source} as UTF-8 text: {exc}") from None
    published = args.published or datetime.datetime.now(datetime.UTC).date().isoformat()
    options = DraftOptions(args.id, args.title, args.author, args.tlp, published)
    extracted = extract_text(text, source, options)
    header = [
        f"Draft research package extracted from {source.name} by atlas-taxii extract.",
        "Every data point is unverified: check each one, then set its vetting.status to",
        "vetted (and vetting.by, vetting.at), or delete it; convert and publish refuse",
        "unverified data points.  x_context is the sentence it was found in.",
    ]
    if extracted.rejected:
        header.append("Rejected (a checksum fails, so they are not offered as data points):")
        header += [f"  {r}" for r in extracted.rejected]
        for rejected in extracted.rejected:
            print(f"{source}: rejected: {rejected}", file=sys.stderr)
    return extracted.imported.document, header
