"""Pulling a whole collection (or what was added since some time) from a TAXII 2.1
server, page by page, resumably.

Pages are requested with ``limit`` and followed by ``next`` (TAXII 2.1 §3.4.3);
when a server says ``more`` but gives no ``next``, the pull continues with
``added_after`` set to the page's ``X-TAXII-Date-Added-Last`` (§3.4.2), which every
TAXII 2.1 server must send.  Whether the server gets anywhere is judged by what its
pages bring, not by its tokens (:mod:`taxii_server.remote.paging`).  Each page is
recorded in a :class:`~taxii_server.remote.journal.Journal` before the next is
requested, so an interrupted pull (Ctrl-C, network error, killed process) resumes
after the last recorded page, from its ``X-TAXII-Date-Added-Last`` (a lower bound that
never expires, unlike a ``next`` token).

Objects fetched twice (a page fetched again after a crash, an object that got a new
version while the pull ran) appear once in the result: with ``all_versions`` once per
(id, version), otherwise only the latest version of each id.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import Any

import orjson

from taxii_server.remote.connection import RemoteCollection
from taxii_server.remote.errors import RemoteProtocolError, RemoteRefused, translated
from taxii_server.remote.journal import Journal, JournalError, PullState, Source
from taxii_server.remote.paging import DEFAULT_MAX_PAGES, PageGuard
from taxii_server.storage.versions import canonical_json
from taxii_server.timestamps import TimestampError, format_timestamp, now_us, parse_timestamp

__all__ = ["DEFAULT_PAGE_SIZE", "PullOutcome", "merge_versions", "pull_collection"]

#: Objects asked for per page (servers may send fewer).
DEFAULT_PAGE_SIZE = 1000
_DATE_ADDED_LAST = "X-TAXII-Date-Added-Last"
_DATE_ADDED_FIRST = "X-TAXII-Date-Added-First"

#: Told how a pull advances: ``(objects fetched so far, pages so far)``.
PullProgress = Callable[[int, int], None]
#: Writes the final objects (the output file); called before the pull is marked complete.
Writer = Callable[[list[dict[str, Any]]], None]


@dataclass(frozen=True, slots=True)
class PullOutcome:
    """What a pull did: objects fetched by this run, and the final objects written."""

    state: PullState
    fetched: int
    pages: int
    resumed_after: int  # pages recorded by an earlier, interrupted run (0: none)
    objects: int


def _version_key(obj: dict[str, Any]) -> str:
    stamp = obj.get("modified", obj.get("created"))
    if isinstance(stamp, str):
        return stamp
    # An SCO has no version timestamp: its content is its version.
    return hashlib.sha256(canonical_json(obj)).hexdigest()


def _moment(obj: dict[str, Any]) -> int | None:
    stamp = obj.get("modified", obj.get("created"))
    if not isinstance(stamp, str):
        return None
    try:
        return parse_timestamp(stamp)
    except TimestampError:
        return None


def merge_versions(objects: Iterable[dict[str, Any]], all_versions: bool) -> list[dict[str, Any]]:
    """Each object once, in the order fetched: every (id, version) with
    ``all_versions``, else the latest version of each id (by ``modified``; an object
    without one, or a tie, keeps the one fetched last, i.e. added last)."""
    kept: dict[tuple[str, str], dict[str, Any]] = {}
    for obj in objects:
        object_id = obj.get("id")
        if not isinstance(object_id, str):
            continue
        if all_versions:
            kept.setdefault((object_id, _version_key(obj)), obj)
            continue
        key = (object_id, "")
        previous = kept.get(key)
        if previous is not None:
            old, new = _moment(previous), _moment(obj)
            if old is not None and new is not None and new < old:
                continue
            del kept[key]  # re-inserted below: the order follows the kept version
        kept[key] = obj
    return list(kept.values())


def _begin(journal: Journal, source: Source, since_last: bool) -> tuple[PullState, int]:
    """The state to continue from, and how many pages an interrupted run recorded."""
    state = journal.load()
    if since_last:
        if state is None or not state.complete:
            raise JournalError(
                f"there is no completed pull in {journal.folder} to continue from; "
                "run the pull once without --since-last"
            )
        previous = replace(state.source, added_after=None)
        if previous != replace(source, added_after=None):
            raise JournalError(
                f"{journal.folder} records a pull of {state.source.describe()}, not of "
                f"{source.describe()}"
            )
        state = replace(state, complete=False, next=None, pages=0)
        journal.save(state)
        return state, 0
    if state is not None and not state.complete:
        if state.source != source:
            raise JournalError(
                f"{journal.folder} holds an unfinished pull of {state.source.describe()}; "
                "run that pull again to finish it, or delete the folder"
            )
        return state, state.pages
    return journal.start(source), 0


def pull_collection(
    collection: RemoteCollection,
    journal: Journal,
    write: Writer,
    *,
    added_after: str | None = None,
    all_versions: bool = False,
    since_last: bool = False,
    page_size: int = DEFAULT_PAGE_SIZE,
    max_pages: int = DEFAULT_MAX_PAGES,
    progress: PullProgress | None = None,
) -> PullOutcome:
    """Fetch the collection's objects into ``journal`` and hand them, merged, to
    ``write``; resume an unfinished pull of the same source instead of starting over.

    A server that keeps saying ``more`` without bringing anything new, or past
    ``max_pages`` pages in this run, stops the pull (:mod:`taxii_server.remote.paging`);
    the pages fetched stay in the journal for the next run."""
    source = Source(collection.api_root_url, collection.id, added_after, all_versions)
    state, resumed_after = _begin(journal, source, since_last)
    source = state.source
    fetched = pages = 0
    guard = PageGuard(f"{collection.url}objects/", max_pages)
    # A chain of `next` tokens starts from one lower bound; the same filters are sent
    # with each token (servers may check they did not change).
    lower = state.position or source.added_after
    token: str | None = None if state.position else state.next
    while True:
        filters: dict[str, Any] = {"limit": page_size}
        if source.all_versions:
            filters["version"] = "all"
        if lower:
            filters["added_after"] = lower
        if token:
            filters["next"] = token
        try:
            page = _page(collection, filters)
        except RemoteRefused as exc:
            if token and pages == 0 and exc.status == 400:
                # A token recorded by an interrupted run has expired, and the server
                # sends no X-TAXII-Date-Added-Last to resume from: start over; objects
                # already fetched are merged, not duplicated.
                token, lower = None, source.added_after
                continue
            raise
        objects = [o for o in page.get("objects") or [] if isinstance(o, dict)]
        last = collection.connection.last_headers.get(_DATE_ADDED_LAST)
        more = bool(page.get("more"))
        following = page.get("next") if more else None
        if following is not None and not isinstance(following, str):
            following = str(following)
        receipt = {
            "received": format_timestamp(now_us()),
            "added_after": lower,
            "next": bool(token),
            "date_added_first": collection.connection.last_headers.get(_DATE_ADDED_FIRST),
            "date_added_last": last,
            "objects": len(objects),
        }
        state = journal.append(
            state,
            [orjson.dumps(o) for o in objects],
            receipt,
            position=last or state.position,
            next=following,
        )
        fetched += len(objects)
        pages += 1
        if progress is not None:
            progress(fetched, pages)
        if not more:
            break
        if following:
            token = following  # medallion's is the same on every page: progress decides
        elif last:
            token, lower = None, last  # no `next`: continue after this page's last object
        else:
            raise RemoteProtocolError(
                f"{collection.url}objects/ says more objects follow but gives neither a "
                f"next token nor an {_DATE_ADDED_LAST}; cannot page further"
            )
        guard.page(objects, (token, lower))
    merged = merge_versions(journal.objects(state), source.all_versions)
    write(merged)
    state = journal.compact(replace(state, complete=True, next=None), merged)
    return PullOutcome(state, fetched, pages, resumed_after, len(merged))


def _page(collection: RemoteCollection, filters: dict[str, Any]) -> dict[str, Any]:
    url = f"{collection.url}objects/"
    with translated(f"reading {url}"):
        page = collection.endpoint.get_objects(**filters)
    if not isinstance(page, dict) or not isinstance(page.get("objects", []), list):
        raise RemoteProtocolError(
            f"reading {url}: not a TAXII 2.1 envelope (expected an object with an 'objects' list)"
        )
    return page
