"""Request parameters into decided filters, and the signed ``next`` tokens that resume them.

TAXII 2.1 §3.4 (query parameters) and §3.4.1 (``match[...]`` filters): comma lists and
repeated keys are both accepted (a union); malformed values are a 400 naming the
parameter; a filter an endpoint does not define is ignored, like any unknown
parameter (cache busters, vendor extras).

``next`` (§3.4, Appendix B) is stateless: a token carries the API root, collection,
endpoint, object id, the filters that were decided for the first page, the page size,
the resume position (the ``date_added`` of the last item served) and an expiry, and is
signed with HMAC-SHA256.  Any worker on any host sharing the signing secret resumes
it, minutes or hours later.  Clients that drop their filters on follow-up pages
(Elastic, OpenCTI) get the token's; clients that repeat them must repeat the same
ones.  The token holds no rights: clearance and grants come from the caller each time.
"""

from __future__ import annotations

import base64
import binascii
import enum
import hashlib
import hmac
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from taxii_server.errors import BadRequest, quoted
from taxii_server.storage.base import ObjectQuery, VersionSelector
from taxii_server.timestamps import TimestampError, format_timestamp, parse_timestamp

__all__ = [
    "ID_PATTERN",
    "ID_RE",
    "SPACES",
    "SPEC_VERSION_PATTERN",
    "TYPE_PATTERN",
    "Endpoint",
    "Filters",
    "NextToken",
    "NextTokenCodec",
    "PageRequest",
    "build_query",
    "check_object_id",
    "parse_delete_filters",
    "parse_page_request",
]

Args = Mapping[str, Sequence[str]]

# The values parameters may take, as regular expressions in the syntax Python and JSON
# Schema (ECMA 262) share: taxii_server.openapi publishes them.
TYPE_PATTERN = r"[a-z0-9](?:[a-z0-9-]{0,248}[a-z0-9])?"  # STIX 2.1 §3.1: at most 250
_UUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
ID_PATTERN = rf"{TYPE_PATTERN}--{_UUID}"
SPEC_VERSION_PATTERN = r"[0-9]+\.[0-9]+"
#: White space stripped around parameter values and list items: ASCII only, which
#: every regular-expression engine agrees on (Python's str.strip() also strips
#: U+001C-U+001F, which JSON Schema's \s does not match).
SPACES = " \t\n\r\f\v"
_TYPE_RE = re.compile(rf"^{TYPE_PATTERN}\Z")
#: :data:`ID_PATTERN`, anchored, as Python matches it fastest: the same strings, with
#: the type's middle part lazy.  Greedy, it first runs on into the UUID (whose digits
#: and hyphens it also admits) and backs out one character at a time: twice the cost,
#: and a POST matches the id of every object.
ID_RE = re.compile(rf"^{ID_PATTERN.replace('{0,248}', '{0,248}?', 1)}\Z")
_SPEC_VERSION_RE = re.compile(rf"^{SPEC_VERSION_PATTERN}\Z")
_LIMIT_RE = re.compile(r"^[0-9]+\Z")
_LIMIT_DIGITS = 18  # below 2**63: any longer limit is capped at max_limit unread


class Endpoint(enum.Enum):
    """The paged TAXII endpoints (§5.3 manifest, §5.4 objects, §5.6 object, §5.8 versions)."""

    OBJECTS = "objects"
    MANIFEST = "manifest"
    OBJECT = "object"
    VERSIONS = "versions"


# The filters each endpoint defines (TAXII 2.1 §5.3–§5.8); others are ignored.
_FILTERS: Mapping[Endpoint, frozenset[str]] = {
    Endpoint.OBJECTS: frozenset(
        {"added_after", "match[id]", "match[type]", "match[version]", "match[spec_version]"}
    ),
    Endpoint.MANIFEST: frozenset(
        {"added_after", "match[id]", "match[type]", "match[version]", "match[spec_version]"}
    ),
    Endpoint.OBJECT: frozenset({"added_after", "match[version]", "match[spec_version]"}),
    Endpoint.VERSIONS: frozenset({"added_after", "match[spec_version]"}),
}


@dataclass(frozen=True, slots=True)
class Filters:
    """The filters of one request, normalised (sorted, de-duplicated); ``None`` = not sent."""

    added_after: int | None = None
    ids: tuple[str, ...] | None = None
    types: tuple[str, ...] | None = None
    versions: VersionSelector | None = None
    spec_versions: tuple[str, ...] | None = None

    def resumed_from(self, token: Filters) -> Filters:
        """The filters of a follow-up page: the token's, which any filter the client
        repeats must equal (Appendix B: the token is re-checked against the query)."""
        for name in ("added_after", "ids", "types", "versions", "spec_versions"):
            sent = getattr(self, name)
            if sent is not None and sent != getattr(token, name):
                raise BadRequest(
                    f"{_PARAM_OF[name]} differs from the query this next token continues; "
                    "repeat the original filters or leave them out",
                    details={"parameter": _PARAM_OF[name]},
                )
        return token


_PARAM_OF = {
    "added_after": "added_after",
    "ids": "match[id]",
    "types": "match[type]",
    "versions": "match[version]",
    "spec_versions": "match[spec_version]",
}


@dataclass(frozen=True, slots=True)
class PageRequest:
    """A paged request as parsed: its filters, the page size asked for, its ``next``."""

    filters: Filters
    limit: int | None
    next: str | None


def _values(args: Args, name: str) -> list[str]:
    """All comma-separated values of a repeatable parameter, or [] when absent."""
    raw = args.get(name)
    if not raw:
        return []
    values = [item.strip(SPACES) for text in raw for item in text.split(",")]
    values = [item for item in values if item]
    if not values:
        raise BadRequest(f"{name} is empty", details={"parameter": name})
    return values


def _single(args: Args, name: str) -> str | None:
    raw = args.get(name)
    if not raw:
        return None
    if len(raw) > 1:
        raise BadRequest(f"{name} may be given once, got {len(raw)} values")
    return raw[0].strip(SPACES)


def _timestamp(text: str, name: str) -> int:
    try:
        return parse_timestamp(text)
    except TimestampError as exc:
        raise BadRequest(f"{name}: {exc}", details={"parameter": name}) from None


def _checked(values: list[str], pattern: re.Pattern[str], name: str, what: str) -> tuple[str, ...]:
    for value in values:
        if not pattern.match(value):
            raise BadRequest(f"{name}: {quoted(value)} is not {what}", details={"parameter": name})
    return tuple(sorted(set(values)))


def _version_selector(values: list[str]) -> VersionSelector:
    """``match[version]`` (§3.4.1): ``first``, ``last``, ``all`` and timestamps, combined."""
    words = {v for v in values if v in ("first", "last", "all")}
    stamps = tuple(sorted({_timestamp(v, "match[version]") for v in values if v not in words}))
    return VersionSelector(
        first="first" in words, last="last" in words, all="all" in words, at=stamps
    )


def check_object_id(object_id: str) -> str:
    """The object id from a URL path, or 400 when it is not ``type--UUID`` (STIX 2.1 §2.9)."""
    if not ID_RE.match(object_id):
        raise BadRequest(f"{quoted(object_id)} is not a STIX identifier (type--UUID)")
    return object_id


def _filters(args: Args, allowed: frozenset[str]) -> Filters:
    added_after = _single(args, "added_after") if "added_after" in allowed else None
    ids = _values(args, "match[id]") if "match[id]" in allowed else []
    types = _values(args, "match[type]") if "match[type]" in allowed else []
    versions = _values(args, "match[version]") if "match[version]" in allowed else []
    specs = _values(args, "match[spec_version]") if "match[spec_version]" in allowed else []
    return Filters(
        added_after=_timestamp(added_after, "added_after") if added_after else None,
        ids=_checked(ids, ID_RE, "match[id]", "a STIX identifier (type--UUID)") if ids else None,
        types=_checked(types, _TYPE_RE, "match[type]", "a STIX type name") if types else None,
        versions=_version_selector(versions) if versions else None,
        spec_versions=(
            _checked(specs, _SPEC_VERSION_RE, "match[spec_version]", "a version such as 2.1")
            if specs
            else None
        ),
    )


def parse_page_request(args: Args, endpoint: Endpoint, *, max_limit: int) -> PageRequest:
    """Parse the query string of a paged endpoint; ``limit`` above ``max_limit`` is
    lowered to it (the spec lets a server return fewer items than asked)."""
    raw_limit = _single(args, "limit")
    return PageRequest(
        filters=_filters(args, _FILTERS[endpoint]),
        limit=_limit(raw_limit, max_limit) if raw_limit else None,
        next=_single(args, "next") or None,
    )


def _limit(text: str, max_limit: int) -> int:
    """A positive ``limit``, capped at ``max_limit``.  ASCII digits only
    (``str.isdigit`` admits "²", which ``int`` refuses), and a number too long to
    convert (``int`` refuses more than 4300 digits) is simply above the cap."""
    digits = text.lstrip("0")
    if not _LIMIT_RE.match(text) or not digits:
        raise BadRequest(
            f"limit must be a positive integer, got {quoted(text)}",
            details={"parameter": "limit"},
        )
    return max_limit if len(digits) > _LIMIT_DIGITS else min(int(digits), max_limit)


def parse_delete_filters(args: Args) -> Filters:
    """``match[version]`` and ``match[spec_version]`` of Delete an Object (§5.7)."""
    return _filters(args, frozenset({"match[version]", "match[spec_version]"}))


# Delete an Object without match[version] removes every version (§5.7).
_ALL_VERSIONS = VersionSelector(first=False, last=False, all=True)


def build_query(
    filters: Filters,
    *,
    endpoint: Endpoint | None,
    clearance: int,
    limit: int,
    position: int | None = None,
    object_id: str | None = None,
) -> ObjectQuery:
    """The store query a request means: the caller's clearance, the TAXII defaults
    (latest version; every version for the versions endpoint and for delete, where
    ``endpoint`` is ``None``), and ``after`` = the later of ``added_after`` and the
    resume position."""
    bounds = [b for b in (filters.added_after, position) if b is not None]
    if endpoint is Endpoint.VERSIONS or endpoint is None:
        default_versions = _ALL_VERSIONS
    else:
        default_versions = VersionSelector()
    return ObjectQuery(
        clearance=clearance,
        limit=limit,
        after=max(bounds) if bounds else None,
        ids=(object_id,) if object_id is not None else (filters.ids or ()),
        types=filters.types or (),
        versions=(
            filters.versions
            if filters.versions is not None and endpoint is not Endpoint.VERSIONS
            else default_versions
        ),
        spec_versions=filters.spec_versions or (),
    )


# --------------------------------------------------------------------------- tokens


@dataclass(frozen=True, slots=True)
class NextToken:
    """What a ``next`` value stands for.  ``position`` is the ``date_added`` of the last
    item served; ``expires`` is in microseconds since the epoch."""

    api_root: str
    collection_id: str
    endpoint: Endpoint
    object_id: str | None
    filters: Filters
    limit: int
    position: int
    expires: int


_PREFIX = "n1."
_TOKEN_RE = re.compile(r"^n1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\Z")
_CONTEXT = b"atlas-taxii next token v1\x00"


def _b64encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _versions_out(selector: VersionSelector | None) -> list[str | int] | None:
    if selector is None:
        return None
    words: list[str | int] = [w for w in ("first", "last", "all") if getattr(selector, w)]
    return words + list(selector.at)


def _versions_in(items: list[Any] | None) -> VersionSelector | None:
    if items is None:
        return None
    words = {i for i in items if isinstance(i, str)}
    return VersionSelector(
        first="first" in words,
        last="last" in words,
        all="all" in words,
        at=tuple(int(i) for i in items if not isinstance(i, str)),
    )


def _tuple(items: list[str] | None) -> tuple[str, ...] | None:
    return None if items is None else tuple(str(i) for i in items)


class NextTokenCodec:
    """Signs and verifies ``next`` tokens.  The first secret signs; every secret
    verifies, so a secret can be rotated without breaking the pages in flight."""

    def __init__(self, secrets: Sequence[str]) -> None:
        if not secrets:
            raise ValueError("NextTokenCodec needs at least one secret")
        self._keys = [hashlib.sha256(s.encode("utf-8")).digest() for s in secrets]

    def _mac(self, key: bytes, payload: bytes) -> bytes:
        return hmac.new(key, _CONTEXT + payload, hashlib.sha256).digest()

    def encode(self, token: NextToken) -> str:
        """The opaque text of ``token``."""
        f = token.filters
        payload = orjson.dumps(
            {
                "r": token.api_root,
                "c": token.collection_id,
                "e": token.endpoint.value,
                "o": token.object_id,
                "a": f.added_after,
                "i": f.ids,
                "t": f.types,
                "v": _versions_out(f.versions),
                "s": f.spec_versions,
                "l": token.limit,
                "p": token.position,
                "x": token.expires,
            }
        )
        mac = self._mac(self._keys[0], payload)
        return f"{_PREFIX}{_b64encode(payload)}.{_b64encode(mac)}"

    def decode(self, text: str, *, now: int) -> NextToken:
        """Verify and open a token; 400 when it is not ours, was altered, or expired."""
        token = self._open(text)
        if token.expires <= now:
            raise BadRequest(
                f"this next token expired at {format_timestamp(token.expires)}; "
                f"continue with added_after={format_timestamp(token.position)}",
                details={"parameter": "next"},
            )
        return token

    def _open(self, text: str) -> NextToken:
        invalid = BadRequest(
            "next is not a token this server issued, or it was altered",
            details={"parameter": "next"},
        )
        # The base64 decoder skips characters outside its alphabet: check them first,
        # so that one token has exactly one spelling.
        if not _TOKEN_RE.match(text):
            raise invalid
        body, _, mac_text = text[len(_PREFIX) :].partition(".")
        try:
            payload, mac = _b64decode(body), _b64decode(mac_text)
        except (binascii.Error, ValueError):
            raise invalid from None
        if not any(hmac.compare_digest(mac, self._mac(key, payload)) for key in self._keys):
            raise invalid
        try:
            data = orjson.loads(payload)
            return NextToken(
                api_root=str(data["r"]),
                collection_id=str(data["c"]),
                endpoint=Endpoint(data["e"]),
                object_id=None if data["o"] is None else str(data["o"]),
                filters=Filters(
                    added_after=None if data["a"] is None else int(data["a"]),
                    ids=_tuple(data["i"]),
                    types=_tuple(data["t"]),
                    versions=_versions_in(data["v"]),
                    spec_versions=_tuple(data["s"]),
                ),
                limit=int(data["l"]),
                position=int(data["p"]),
                expires=int(data["x"]),
            )
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
            # Signed by us but not in this version's shape: treat as foreign.
            raise invalid from None
