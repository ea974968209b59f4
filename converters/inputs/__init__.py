"""Foreign analyst inputs -> research packages: one pipeline, one set of checks.

Every input becomes a research package first (the community's reviewed unit); the
mapping engine then makes STIX of it as of any package.  One module per input:

* :mod:`.misp` — MISP events, read with PyMISP's model classes, mapped by
  ``mappings/inputs/misp.yaml``;
* :mod:`.feeds` — abuse.ch exports (URLhaus CSV and JSON, ThreatFox JSON), each
  described by a feed file ``mappings/inputs/feeds/*.yaml`` (a new feed is a new file);
* :mod:`.extraction` — free text: observables found in prose, for a draft package
  an analyst finishes (``atlas-taxii extract``).

:func:`read_input` is the entry point for any caller (the command line, the web
workbench): a file, or bytes with a name, of any kind, to checked packages.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..documents import DocumentError, NotJson, parse_json, read_document
from ..errors import PackageError, SourceProblem
from ..package import Package, Policy, check_package
from .feeds import CsvText, detect_feed, feed_names, load_feeds, read_feed
from .imported import Imported, Origin, Unmapped
from .misp import is_misp, read_misp
from .misp_mapping import load_misp_mapping

__all__ = [
    "Imported",
    "Origin",
    "Read",
    "Unmapped",
    "detect_kind",
    "input_kinds",
    "parse_input",
    "read_input",
    "to_packages",
]


def input_kinds() -> tuple[str, ...]:
    """What ``--from`` accepts: ``auto`` (told by the content), ``package``, ``misp``
    and the name of every feed file in ``mappings/inputs/feeds/``."""
    return ("auto", "package", "misp", *feed_names())


@dataclass(frozen=True, slots=True)
class Read:
    """The checked packages one input file gave, and what its mapping left out."""

    kind: str
    packages: tuple[Package, ...]
    unmapped: tuple[Unmapped, ...]


def read_input(
    path: str | Path,
    kind: str = "auto",
    *,
    policy: Policy | None = None,
    input_mapping: str | Path | None = None,
) -> Read:
    """Read one input file of ``kind`` (``auto``: told by its content) into checked packages.

    ``input_mapping`` replaces the default MISP mapping or feed file.  Raises
    :class:`~converters.errors.PackageError` with every problem, each where it is in the
    input; :class:`~converters.errors.MappingError` for a bad input mapping.
    """
    source = Path(path)
    if kind not in input_kinds():
        problem = SourceProblem("$", f"unknown kind of input {kind!r}; expected one of "
                                f"{', '.join(input_kinds())}", str(source))  # fmt: skip
        raise PackageError(f"{source}: cannot read the input", [problem])
    if kind == "auto" and source.suffix.lower() in (".yaml", ".yml"):
        kind = "package"  # no other input is YAML
    if kind == "package":
        from ..package import load_package

        return Read("package", (load_package(source, policy=policy),), ())
    document = parse_input(source)
    if kind == "auto":
        kind = detect_kind(source, document)
    if kind == "package":
        return Read("package", (check_package(document, source, policy=policy),), ())
    imported = to_packages(source, document, kind, input_mapping)
    packages = tuple(item.check(policy) for item in imported)
    return Read(kind, packages, tuple(u for item in imported for u in item.unmapped))


def to_packages(
    source: Path, document: object, kind: str, input_mapping: str | Path | None = None
) -> list[Imported]:
    """The package documents (not yet checked) a parsed input of ``kind`` makes."""
    if kind == "misp":
        mapping = load_misp_mapping(input_mapping)
        if not is_misp(document):
            raise _not_a(source, 'a MISP event ({"Event": {...}}) or a list of them')
        return read_misp(source, document, mapping)
    feeds = load_feeds(input_mapping) if input_mapping else load_feeds()
    candidates = [f for f in feeds if f.name == kind or input_mapping is not None]
    for feed in candidates:
        if feed.matches(document):
            return [read_feed(source, document, feed)]
    shapes = " or ".join(f.title for f in candidates) or f"{kind} export"
    raise _not_a(source, f"a {shapes}")


def detect_kind(source: Path, document: object) -> str:
    """The kind of a parsed input, told by its content."""
    if isinstance(document, dict) and "format" in document:
        return "package"
    if is_misp(document):
        return "misp"
    feed = detect_feed(document)
    if feed is not None:
        return feed.name
    if isinstance(document, dict):
        return "package"  # checked as a package: its problems say what is missing
    kinds = ", ".join(k for k in input_kinds() if k != "auto")
    raise _not_a(source, f"one of: {kinds} (name the kind with --from)")


def _not_a(source: Path, what: str) -> PackageError:
    problem = SourceProblem("$", f"expected {what}", str(source))
    return PackageError(f"{source}: cannot tell what this input is", [problem])


def parse_input(source: Path, *, text_fallback: bool = False) -> object:
    """The parsed input: a JSON or YAML document, or a :class:`CsvText` (feed files read
    CSV themselves).

    With ``text_fallback``, ``None`` for what is none of those but prose: a file that is
    not valid JSON, a CSV no feed file recognises, any other file not named .yaml, .yml
    or .json.
    """
    try:
        data = source.read_bytes()
    except OSError as exc:
        problem = SourceProblem("$", f"cannot read file: {exc.strerror}", str(source))
        raise PackageError(f"{source}: cannot read the input", [problem]) from None
    head = data[:4096].lstrip()
    if head[:1] in (b"{", b"["):
        try:
            return parse_json(data, str(source))
        except DocumentError as exc:
            if text_fallback and isinstance(exc, NotJson):
                return None
            raise PackageError(f"{source}: cannot read the input", [exc.problem]) from None
    suffix = source.suffix.lower()
    if suffix == ".csv" or (head[:1] == b"#" and suffix not in (".yaml", ".yml")):
        try:
            text = CsvText(source)
        except UnicodeDecodeError as exc:
            problem = SourceProblem("$", f"not UTF-8 text (byte {exc.start})", str(source))
            raise PackageError(f"{source}: cannot read the input", [problem]) from None
        if text_fallback and detect_feed(text) is None:
            return None
        return text
    if text_fallback and suffix not in (".yaml", ".yml", ".json"):
        return None
    try:
        return read_document(source)
    except DocumentError as exc:
        raise PackageError(f"{source}: cannot read the input", [exc.problem]) from None
