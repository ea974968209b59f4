"""What a paging client needs from a TAXII envelope (§3.7): how many objects, ``more``
and ``next``, found without parsing every object.

Parsing a page of 1,000 objects into Python dicts costs the client about as much CPU
as the server spends producing it; on a 2-core machine shared by client and server
that halves what a full read measures, and 32 concurrent readers spend most of the
machine on parsing.  The benchmark's objects all carry ``spec_version`` (the mix in
:mod:`benchmarks.stix_mix` sets it on SCOs too) and none has a property named
``more`` or ``next``, so counting ``"spec_version"`` keys and finding the two
envelope keys reads a page exactly.  :func:`check` compares that reading with a full
parse; the suite runs it on the first page of every read, so a server whose pages it
would misread is caught rather than mismeasured.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import orjson

__all__ = ["PageSummary", "check", "parse", "summarize"]

_MORE = re.compile(rb'"more"\s*:\s*(true|false)')
_NEXT = re.compile(rb'"next"\s*:\s*("(?:[^"\\]|\\.)*")')
_OBJECT_KEY = b'"spec_version"'


@dataclass(frozen=True, slots=True)
class PageSummary:
    """The objects in a page, whether more follow, and the token to get them."""

    objects: int
    more: bool
    next: str | None


def summarize(body: bytes) -> PageSummary:
    """Read an objects page of the benchmark's data set (see the module)."""
    more = _MORE.search(body)
    token = _NEXT.search(body)
    return PageSummary(
        objects=body.count(_OBJECT_KEY),
        more=more is not None and more.group(1) == b"true",
        next=None if token is None else str(orjson.loads(token.group(1))),
    )


def parse(body: bytes) -> PageSummary:
    """Read an objects page by parsing it whole (what any client can do)."""
    parsed = orjson.loads(body) if body else {}
    token = parsed.get("next")
    return PageSummary(len(parsed.get("objects", ())), bool(parsed.get("more")), token)


def check(body: bytes) -> str | None:
    """``None`` when :func:`summarize` reads ``body`` as :func:`parse` does, else why not."""
    quick, exact = summarize(body), parse(body)
    same = quick.objects == exact.objects and quick.more == exact.more
    if same and (not exact.more or quick.next == exact.next):
        return None
    return f"a page read without parsing gives {quick}, parsed {exact}"
