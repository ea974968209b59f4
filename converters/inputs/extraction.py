"""Free text -> a draft research package: observables found in prose, for an analyst to vet.

Reports and chat posts from OSINT sessions name domains, URLs, addresses, hashes —
often defanged — and the identifiers this community acts on: crypto wallets, IBANs,
phone numbers, Telegram handles.  The text is cut into sentences; each is refanged
(:func:`converters.normalize.refang`) and searched:

* network observables and hashes (URL, domain, IPv4/IPv6, e-mail, MD5, SHA-256) with
  iocsearcher (MIT; maintained by the IMDEA Software Institute's MaliciaLab; its
  domains are checked against IANA's TLD list and its hosts inside URLs and e-mail
  addresses are not reported twice).  Documentation addresses and reserved TLDs
  (RFC 5737, RFC 3849, RFC 2606), which iocsearcher drops as unroutable, are kept:
  the community's own examples and training material use them;
* what generic extractors miss or silently drop when a checksum fails, with this
  module's own patterns: Bitcoin (legacy, P2SH, bech32/bech32m), Ethereum, TRON and
  Monero addresses, IBANs, E.164 phone numbers (libphonenumber's matcher) and
  Telegram handles (``t.me/…`` links, ``@name`` in a sentence that says Telegram).

Wallets and IBANs are checked (:mod:`converters.checksums`): one whose checksum fails
is not offered as a data point but listed as rejected, with why.  Values are
deduplicated by type and normalised value; each data point keeps the first sentence
it was found in (``x_context``; in a long one, such as a pasted list, its line or the
part of it around the value: :class:`_Context`) and ``vetting: {status: unverified}``,
so neither ``convert`` nor ``publish`` takes it before an analyst has vetted it.
"""

from __future__ import annotations

import bisect
import functools
import gc
import hashlib
import ipaddress
import re
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from ..checksums import iban_problem, wallet_problem
from ..normalize import InvalidValue, normalize_value, refang
from .imported import Imported, Origin

__all__ = ["DraftOptions", "Extracted", "Rejected", "extract_text"]

#: iocsearcher target -> data-point type.
_GENERIC: Final = {
    "url": "url",
    "fqdn": "domain",
    "ip4": "ipv4",
    "ip6": "ipv6",
    "email": "email",
    "md5": "file-md5",
    "sha256": "file-sha256",
}
_DOCUMENTATION_NETS: Final = tuple(
    ipaddress.ip_network(n)
    for n in ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "2001:db8::/32")  # fmt: skip
)
_RESERVED_TLDS: Final = frozenset({"example", "test", "invalid"})

_B58 = "1-9A-HJ-NP-Za-km-z"
_WALLETS: Final = (
    ("BTC", re.compile(rf"(?<![\w/.-])[13][{_B58}]{{25,34}}(?![\w])")),
    ("BTC", re.compile(r"(?<![\w/.-])(?:bc1|BC1)[02-9ac-hj-np-zAC-HJ-NP-Z]{8,87}(?![\w])")),
    ("ETH", re.compile(r"(?<![\w/.-])0x[0-9a-fA-F]{40}(?![\w])")),
    ("TRX", re.compile(rf"(?<![\w/.-])T[{_B58}]{{33}}(?![\w])")),
    ("XMR", re.compile(rf"(?<![\w/.-])(?:[48][{_B58}]{{94}}|4[{_B58}]{{105}})(?![\w])")),
)
_IBAN = re.compile(r"(?<![\w])[A-Z]{2}[0-9]{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?(?![\w])")
_TELEGRAM_LINK = re.compile(r"(?:https?://)?(?:t|telegram)\.me/([A-Za-z][A-Za-z0-9_]{4,31})\b/?")
_HANDLE = re.compile(r"(?<![\w@.])@([A-Za-z][A-Za-z0-9_]{4,31})\b")
_SAYS_TELEGRAM = re.compile(r"\btelegram\b", re.IGNORECASE)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(\[@+#])|\n\s*\n")
#: A sentence up to this long is a data point's whole context; a longer one gives
#: the data point's line, or this much of it.
_CONTEXT = 300
_LONG_RUN = 512
_LONG_WORD = re.compile(rf"(?<!\S)\S{{{_LONG_RUN},}}")
_WORD_RUN = re.compile(r"[A-Za-z0-9_]+")


@dataclass(frozen=True, slots=True)
class Rejected:
    """A value that looked like a wallet or an IBAN but fails its checksum."""

    line: int
    kind: str  # "BTC address", "IBAN", …
    value: str
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.kind} {self.value}: {self.reason}"


@dataclass(frozen=True, slots=True)
class DraftOptions:
    """The package fields of a draft that the text cannot give."""

    id: str | None = None
    title: str | None = None
    author: str = "unknown organisation"
    tlp: str = "amber"
    published: str = "1970-01-01"


@dataclass(frozen=True, slots=True)
class Extracted:
    """A draft package made from text, and the values rejected on the way."""

    imported: Imported
    rejected: tuple[Rejected, ...]


@dataclass(frozen=True, slots=True)
class _Found:
    type: str
    value: str
    extra: tuple[tuple[str, str], ...] = ()


def extract_text(text: str, source: Path, options: DraftOptions | None = None) -> Extracted:
    """The draft package of ``text`` (read from ``source``), with its rejected values."""
    settings = options or DraftOptions()
    points: list[dict[str, Any]] = []
    origins: dict[str, Origin] = {}
    seen: set[tuple[str, str | int]] = set()
    rejected: list[Rejected] = []
    for line, sentence in _sentences(text):
        plain = refang(sentence)
        context = _Context(sentence, plain, line)
        for offset, found in _search(plain, context.line_of, rejected):
            try:
                key = (found.type, normalize_value(found.type, found.value))
            except InvalidValue:
                continue  # not what it looked like (an extractor's false positive)
            if key in seen:
                continue
            seen.add(key)
            point: dict[str, Any] = {
                "ref": f"{found.type.replace('file-', '')}-{len(points) + 1}",
                "type": found.type,
                "value": found.value,
                **dict(found.extra),
                "vetting": {"status": "unverified"},
                "sources": ["report"],
                "x_context": context.around(offset),
            }
            origins[f"$.data_points[{len(points)}]"] = Origin(f"{source}:{context.line_of(offset)}")
            points.append(point)
    document = _document(text, source, settings, points)
    origins["$"] = Origin(f"{source}:1")
    return Extracted(Imported("text", source, document, origins), tuple(rejected))


def _document(
    text: str, source: Path, options: DraftOptions, points: list[dict[str, Any]]
) -> dict[str, Any]:
    year = options.published[:4]
    digits = int(hashlib.sha256(text.encode()).hexdigest(), 16) % 1_000_000
    document: dict[str, Any] = {
        "format": "atlas-package/1",
        "id": options.id or f"DRAFT-{year}-{digits:06d}",
        "revision": 1,
        "title": options.title or f"Draft from {source.name}",
        "published": options.published,
        "tlp": options.tlp,
        "authors": [{"name": options.author}],
        "data_points": points,
        "sources": [{"ref": "report", "name": source.name, "kind": "osint"}],
    }
    if not points:
        del document["data_points"]
    return document


def _sentences(text: str) -> Iterator[tuple[int, str]]:
    """``(line, sentence)`` for each sentence of ``text`` (line: where it starts)."""
    start = 0
    for match in _SENTENCE_END.finditer(text):
        yield from _sentence(text, start, match.start())
        start = match.end()
    yield from _sentence(text, start, len(text))


def _sentence(text: str, start: int, end: int) -> Iterator[tuple[int, str]]:
    piece = text[start:end]
    if piece.strip():
        offset = start + len(piece) - len(piece.lstrip())
        yield text.count("\n", 0, offset) + 1, piece.strip()


def _search(
    sentence: str, line_of: Callable[[int], int], rejected: list[Rejected]
) -> list[tuple[int, _Found]]:
    """Everything found in one refanged sentence, with its offset, in the order it
    appears; ``line_of`` gives the line of an offset, for rejections."""
    found: list[tuple[int, _Found]] = []
    searcher = _searcher()
    matches = searcher.search_matches(_unrun(sentence), targets=list(_GENERIC))
    for match in searcher.remove_overlaps(matches):
        if match.name == "url" and _TELEGRAM_LINK.fullmatch(match.value):
            continue  # a Telegram link is the handle it names (below)
        found.append((match.start_offset, _Found(_GENERIC[match.name], match.value)))
    urls = [(m.start(), m.end()) for m in _spans(sentence)]  # in order, apart
    says_usdt = "USDT" in sentence.upper()
    for currency, pattern in _WALLETS:
        for match in pattern.finditer(sentence):
            value = match.group(0)
            before = bisect.bisect_right(urls, (match.start(), len(sentence))) - 1
            if before >= 0 and match.start() < urls[before][1]:
                continue  # inside a URL: a path segment, not an address
            ticker = _ticker(currency, says_usdt)
            problem = wallet_problem(value, ticker)
            if problem is not None:
                rejected.append(
                    Rejected(line_of(match.start()), f"{ticker} address", value, problem)
                )
                continue
            found.append((match.start(), _Found("crypto-wallet", value, (("currency", ticker),))))
    for match in _IBAN.finditer(sentence):
        compact = match.group(0).replace(" ", "")
        if not _iban_length_fits(compact):
            continue
        problem = iban_problem(compact)
        if problem is not None:
            rejected.append(Rejected(line_of(match.start()), "IBAN", compact, problem))
            continue
        found.append((match.start(), _Found("bank-account", compact)))
    found += _phones(sentence)
    found += _telegram(sentence)
    found.sort(key=lambda pair: pair[0])
    return found


def _spans(sentence: str) -> Iterator[re.Match[str]]:
    yield from re.finditer(r"\b(?:https?|ftp)://\S+", sentence)


def _unrun(sentence: str) -> str:
    """``sentence`` with blanks for each word that holds a run of :data:`_LONG_RUN`
    letters and digits and is not a URL: a hex dump, a long identifier.

    iocsearcher's URL and e-mail patterns take time quadratic in such a run (10,000
    hex digits: 12 s), and no value it finds can hold one (labels stop at 63
    characters, e-mail local parts at 64).  Offsets are kept.
    """
    if len(sentence) < _LONG_RUN:
        return sentence

    def blank(word: re.Match[str]) -> str:
        text = word.group()
        if "://" in text or max(map(len, _WORD_RUN.findall(text)), default=0) < _LONG_RUN:
            return text
        return " " * len(text)

    return _LONG_WORD.sub(blank, sentence)


class _Context:
    """A data point's ``x_context``: the sentence it was found in, as written
    (defanged); in a long one (a list, a log) the line it is on, cut to
    :data:`_CONTEXT` characters around it.  Offsets are in the refanged sentence,
    which has the same lines."""

    def __init__(self, sentence: str, plain: str, first_line: int) -> None:
        self._whole = " ".join(sentence.split()) if len(sentence) <= _CONTEXT else None
        self._lines = sentence.split("\n")
        self._starts = [0, *(m.end() for m in re.finditer("\n", plain))]
        self._first_line = first_line

    def line_of(self, offset: int) -> int:
        """The line of the text that ``offset`` is on."""
        return self._first_line + self._index(offset)

    def around(self, offset: int) -> str:
        if self._whole is not None:
            return self._whole
        index = self._index(offset)
        text = self._lines[index]
        if len(text) <= _CONTEXT:
            return " ".join(text.split())
        start = max(0, offset - self._starts[index] - _CONTEXT // 3)
        end = start + _CONTEXT
        cut = " ".join(text[start:end].split())
        return ("…" if start else "") + cut + ("…" if end < len(text) else "")

    def _index(self, offset: int) -> int:
        return bisect.bisect_right(self._starts, offset) - 1


def _ticker(currency: str, says_usdt: bool) -> str:
    """``USDT-TRC20`` / ``USDT-ERC20`` when the sentence speaks of USDT, else the chain's."""
    if says_usdt and currency in ("TRX", "ETH"):
        return "USDT-TRC20" if currency == "TRX" else "USDT-ERC20"
    return currency


def _iban_length_fits(compact: str) -> bool:
    from schwifty import registry
    from schwifty.exceptions import InvalidCountryCode

    try:
        spec = registry.get_iban_spec(compact[:2])
    except InvalidCountryCode:
        return False  # two letters and two digits, but no IBAN country
    return bool(spec.iban_length == len(compact))


def _phones(sentence: str) -> list[tuple[int, _Found]]:
    import phonenumbers

    found = []
    for match in phonenumbers.PhoneNumberMatcher(sentence, None):
        e164 = phonenumbers.format_number(match.number, phonenumbers.PhoneNumberFormat.E164)
        found.append((match.start, _Found("phone", e164)))
    return found


def _telegram(sentence: str) -> list[tuple[int, _Found]]:
    found = [
        (m.start(), _Found("social-account", f"@{m.group(1)}", (("platform", "telegram"),)))
        for m in _TELEGRAM_LINK.finditer(sentence)
    ]
    if _SAYS_TELEGRAM.search(_HANDLE.sub("", sentence)):
        found += [
            (m.start(), _Found("social-account", m.group(0), (("platform", "telegram"),)))
            for m in _HANDLE.finditer(sentence)
        ]
    return found


@functools.cache
def _searcher() -> Any:
    """iocsearcher's searcher, built once, keeping documentation addresses and TLDs."""
    try:
        from iocsearcher.searcher import Searcher
    except ImportError as exc:  # pragma: no cover - the extra is installed with the tests
        raise ImportError(
            "extracting from text needs iocsearcher: pip install 'atlas-taxii[extract]'"
        ) from exc

    class _Searcher(Searcher):  # type: ignore[misc]
        @classmethod
        def is_valid_ip4(cls, s: str, *args: Any, **kwargs: Any) -> bool:
            return _documentation(s) or bool(Searcher.is_valid_ip4(s, *args, **kwargs))

        @classmethod
        def is_valid_ip6(cls, s: str, *args: Any, **kwargs: Any) -> bool:
            return _documentation(s) or bool(Searcher.is_valid_ip6(s, *args, **kwargs))

        def is_valid_fqdn(self, s: str) -> bool:
            reserved = s.rstrip(".").rpartition(".")[2].lower() in _RESERVED_TLDS
            return reserved or bool(super().is_valid_fqdn(s))

    # iocsearcher leaves its patterns file for the garbage collector to close.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        searcher = _Searcher()
        gc.collect()
    return searcher


def _documentation(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in net for net in _DOCUMENTATION_NETS)
