"""Following another server's paged listings without trusting them to end.

TAXII 2.1 §3.4.3: a page with ``more: true`` is followed by asking again with its
``next`` (or, without one, with ``added_after`` set to its
``X-TAXII-Date-Added-Last``, §3.4.2).  Servers differ in what ``next`` is:
atlas-taxii's changes on every page, medallion 3.0's names one paging session kept in
the server and is *the same on every page* of a listing.  So progress is judged by
what a page brings, never by whether the token changed:

* a page that brings an object (id and version) not seen earlier in the listing is
  progress; so is an empty page that asks to continue from somewhere not asked
  before (a server may filter a page down to nothing, for instance by TLP);
* a page of objects all seen before, or an empty page that asks to continue from
  where the listing already was, is a server repeating itself (a broken server, or
  one that always says ``more``): the listing stops with :class:`RemoteProtocolError`;
* whatever a server says, a listing stops after ``max_pages`` pages
  (:class:`PageLimitReached`), so even a server inventing new objects for ever is
  left in bounded time.  A pull keeps what it fetched and continues from there when
  run again.

The size of each answer is bounded separately (:data:`taxii_server.remote.
connection.MAX_RESPONSE_BYTES`).
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from typing import Any

import orjson

from taxii_server.remote.errors import RemoteProtocolError, RemoteUnavailable

__all__ = ["DEFAULT_MAX_PAGES", "PageGuard", "PageLimitReached"]

#: Pages one listing may take (a pull: per run).  At 1,000 objects a page, ten
#: million objects.
DEFAULT_MAX_PAGES = 10_000


class PageLimitReached(RemoteUnavailable):
    """A listing reached its page limit while the server still said ``more``."""


class PageGuard:
    """Whether the pages of one listing get anywhere (see the module's rules)."""

    def __init__(self, url: str, max_pages: int = DEFAULT_MAX_PAGES) -> None:
        self._url = url
        self._max_pages = max_pages
        self._seen: set[int] = set()
        self._asked: set[Hashable] = set()
        self.pages = 0

    def page(self, objects: Iterable[Any], following: Hashable) -> None:
        """Record a page that said ``more``, whose objects were ``objects`` and that
        is to be continued from ``following`` (a ``next`` token, an ``added_after``,
        or both); raise when the listing is to stop."""
        self.pages += 1
        count = new = 0
        for obj in objects:
            count += 1
            key = hash(_identity(obj))
            if key not in self._seen:
                self._seen.add(key)
                new += 1
        asked_before = following in self._asked
        self._asked.add(following)
        if not new and (count or asked_before):
            raise RemoteProtocolError(
                f"{self._url} says more objects follow, but page {self.pages} brought none "
                "not already received; the server repeats itself"
            )
        if self.pages >= self._max_pages:
            raise PageLimitReached(
                f"{self._url} still says more objects follow after {self.pages} pages "
                "(the limit of one run)"
            )


def _identity(obj: Any) -> tuple[Any, ...]:
    """An object as progress counts it: its id and version; an object without a
    version timestamp (an SCO) by its whole content."""
    if not isinstance(obj, dict):
        return (repr(obj),)
    stamp = obj.get("modified", obj.get("created"))
    if isinstance(stamp, str):
        return (obj.get("id"), stamp)
    return (obj.get("id"), orjson.dumps(obj, option=orjson.OPT_SORT_KEYS))
