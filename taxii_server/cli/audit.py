"""``atlas-taxii audit``: print the audit log, filtered by user, collection and time.

The server records every read and write of objects in the store
(:mod:`taxii_server.audit`); this command reads it back in the order it was written,
as an aligned table or, with ``--json``, as JSON Lines (one record per line: the form
to archive or hand to a partner as the record of who received what)::

    atlas-taxii audit --user alice --since 2024-06-01 --until 2024-06-30 --json

``--collection`` takes an id, alias or title; the id of a collection since deleted
still finds its records.  ``--since``/``--until`` take an RFC 3339 timestamp or a date
(``2024-06-01`` is that whole day, UTC), and are inclusive.

``atlas-taxii audit purge`` deletes the records older than ``audit.retain_days`` (or
``--older-than DAYS``) now, rather than an hour's batch at a time as the server does.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Iterator
from typing import Any, TextIO

import orjson

from taxii_server.audit import full_query
from taxii_server.cli.errors import CommandError, guarded
from taxii_server.cli.store import add_store_arguments, open_store, resolve_collection
from taxii_server.cli.table import format_table
from taxii_server.storage.base import AuditQuery, AuditRecord, Storage
from taxii_server.timestamps import TimestampError, format_timestamp, now_us, parse_timestamp

__all__ = ["configure", "parse_bound", "record_json"]

_PAGE = 1000
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_DAY = 86_400_000_000


def parse_bound(text: str, *, end: bool) -> int:
    """A ``--since``/``--until`` value in microseconds: an RFC 3339 timestamp, or a date
    meaning its first (``end=False``) or last (``end=True``) microsecond, UTC."""
    try:
        if _DATE.fullmatch(text):
            start = parse_timestamp(f"{text}T00:00:00Z")
            return start + _DAY - 1 if end else start
        return parse_timestamp(text)
    except TimestampError as exc:
        raise CommandError(f"{exc}; or give a date such as 2024-06-01") from None


def _collection_id(storage: Storage, name: str, api_root: str | None) -> str:
    if _UUID.fullmatch(name.lower()):
        return name.lower()  # also the id of a collection deleted since
    return resolve_collection(storage, name, api_root).id


def _records(storage: Storage, query: AuditQuery) -> Iterator[AuditRecord]:
    after = 0
    while True:
        page = storage.query_audit(
            AuditQuery(
                user=query.user,
                collection_id=query.collection_id,
                since=query.since,
                until=query.until,
                after=after,
                limit=_PAGE,
            )
        )
        yield from page
        if len(page) < _PAGE:
            return
        after = page[-1].seq


def _stamp(us: int | None) -> str | None:
    return None if us is None else format_timestamp(us)


def record_json(record: AuditRecord) -> dict[str, Any]:
    """One record as the JSON Lines output spells it."""
    return {
        "seq": record.seq,
        "time": format_timestamp(record.time),
        "user": record.user,
        "address": record.address,
        "api_root": record.api_root,
        "collection_id": record.collection_id,
        "action": record.action,
        "count": record.count,
        "object_id": record.object_id,
        "status_id": record.status_id,
        "date_added_first": _stamp(record.first),
        "date_added_last": _stamp(record.last),
        "query": full_query(record),
    }


def _detail(record: AuditRecord) -> str:
    parts = []
    if record.object_id:
        parts.append(record.object_id)
    if record.status_id:
        parts.append(f"status {record.status_id}")
    if record.first is not None and record.last is not None:
        parts.append(
            f"date_added {format_timestamp(record.first)}..{format_timestamp(record.last)}"
        )
    if record.query:
        parts.append(full_query(record))
    return " ".join(parts)


def _print_table(records: Iterator[AuditRecord], out: TextIO) -> int:
    rows = [
        [
            format_timestamp(r.time),
            r.user or "(anonymous)",
            r.address,
            r.action,
            f"{r.api_root}/{r.collection_id}",
            str(r.count),
            _detail(r),
        ]
        for r in records
    ]
    if rows:
        headers = ["TIME", "USER", "ADDRESS", "ACTION", "COLLECTION", "COUNT", "DETAIL"]
        print(format_table(headers, rows), file=out)
    else:
        print("no audit records match", file=sys.stderr)
    return len(rows)


@guarded
def _run(args: argparse.Namespace) -> int:
    since = parse_bound(args.since, end=False) if args.since else None
    until = parse_bound(args.until, end=True) if args.until else None
    if since is not None and until is not None and since > until:
        raise CommandError("--since is after --until")
    with open_store(args) as ctx:
        collection_id = (
            _collection_id(ctx.storage, args.collection, args.api_root) if args.collection else None
        )
        query = AuditQuery(user=args.user, collection_id=collection_id, since=since, until=until)
        records = _records(ctx.storage, query)
        if args.json:
            for record in records:
                sys.stdout.write(orjson.dumps(record_json(record)).decode() + "\n")
        else:
            _print_table(records, sys.stdout)
    return 0


_PURGE_BATCH = 50_000


@guarded
def _purge(args: argparse.Namespace) -> int:
    with open_store(args) as ctx:
        days = ctx.settings.audit_retain_days if args.older_than is None else args.older_than
        if days == 0 and args.older_than is None:
            raise CommandError(
                "audit.retain_days is 0 (records are kept for ever): give --older-than DAYS "
                "to purge anyway"
            )
        before = now_us() - days * _DAY
        purged = 0
        while True:
            deleted = ctx.storage.purge_audit(before, _PURGE_BATCH)
            purged += deleted
            if deleted < _PURGE_BATCH:
                break
    print(f"purged {purged} audit records from before {format_timestamp(before)} ({days} days)")
    return 0


def _days(text: str) -> int:
    try:
        days = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of days") from None
    if not 0 <= days <= 36_500:
        raise argparse.ArgumentTypeError(f"{text!r} is out of range: 0 to 36500 days")
    return days


def configure(parser: argparse.ArgumentParser) -> None:
    """Add ``audit``'s options, and ``audit purge``."""
    add_store_arguments(parser)
    parser.add_argument("--user", metavar="U", help="only records of this user")
    parser.add_argument(
        "--collection", metavar="C", help="only records of this collection (id, alias or title)"
    )
    parser.add_argument(
        "--api-root", metavar="R", help="where to look up --collection by alias or title"
    )
    parser.add_argument(
        "--since", metavar="T", help="from this RFC 3339 time or date (UTC), inclusive"
    )
    parser.add_argument(
        "--until", metavar="T", help="up to this RFC 3339 time or date (UTC), inclusive"
    )
    parser.add_argument(
        "--json", action="store_true", help="one JSON object per line (JSON Lines), to archive"
    )
    parser.set_defaults(run=_run)
    actions = parser.add_subparsers(dest="audit_action", metavar="ACTION")
    purge = actions.add_parser(
        "purge",
        help="delete the records older than audit.retain_days (or --older-than)",
        description="Delete the audit records older than audit.retain_days, now (the "
        "server deletes them an hour's batch at a time).",
    )
    add_store_arguments(purge, inherited=True)
    purge.add_argument(
        "--older-than",
        type=_days,
        metavar="DAYS",
        help="delete records older than this many days (default: audit.retain_days)",
    )
    purge.set_defaults(run=_purge)
