"""The chain of custody record of a pulled export: where the objects came from, what
was asked, what was received when, and who pulled them.

``pull --sign`` puts it in the signed manifest of the export (see
:mod:`converters.signing.signature`), beside the SHA-256 of every object, so a case
file can show exactly what was received::

    {"source": {"api_root": …, "collection_id": …, "collection_title": …},
     "query": {"added_after": … | null, "match[version]": "last" | "all"},
     "pulled_by": {"account": "alice", "local_user": "jdoe", "host": "ws-17"},
     "started": …, "completed": …,                       # RFC 3339
     "date_added": {"first": …, "last": …},             # the range received
     "pages": [{"received", "added_after", "next", "date_added_first",
                "date_added_last", "objects"}, …],      # every page, every run
     "objects": 84,
     "tool": "atlas-taxii 0.1.0"}

``pages`` are the journal's receipts (:mod:`taxii_server.remote.journal`): one per
page stored, across interrupted runs and ``--since-last``.  The server's audit log
records the same pages, by account, collection, count and ``date_added`` range
(:mod:`taxii_server.audit`).
"""

from __future__ import annotations

import getpass
import socket
from collections.abc import Mapping, Sequence
from typing import Any

from taxii_server import __version__
from taxii_server.credentials import parse_api_key
from taxii_server.remote.connection import Credentials, RemoteCollection
from taxii_server.remote.journal import Source
from taxii_server.timestamps import TimestampError, format_timestamp, now_us, parse_timestamp

__all__ = ["account_of", "custody_record"]


def account_of(credentials: Credentials) -> str:
    """The account the pull used, without its secret: the user, this project's API key
    id, or ``"anonymous"``."""
    if credentials.user:
        return credentials.user
    if credentials.api_key:
        token = parse_api_key(credentials.api_key)
        return f"API key {token.key_id}" if token else "an API key"
    return "anonymous"


def _local_user() -> str | None:
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no name for this uid (a container)
        return None


def _bound(receipts: Sequence[Mapping[str, Any]], key: str, pick: Any) -> str | None:
    stamps = []
    for receipt in receipts:
        text = receipt.get(key)
        if receipt.get("objects") and isinstance(text, str):
            try:
                stamps.append((parse_timestamp(text), text))
            except TimestampError:
                continue
    return pick(stamps)[1] if stamps else None


def custody_record(
    collection: RemoteCollection,
    source: Source,
    receipts: Sequence[Mapping[str, Any]],
    credentials: Credentials,
    objects: int,
) -> dict[str, Any]:
    """The custody record of a completed pull of ``collection``."""
    return {
        "source": {
            "api_root": collection.api_root_url,
            "collection_id": collection.id,
            "collection_title": collection.title,
        },
        "query": {
            "added_after": source.added_after,
            "match[version]": "all" if source.all_versions else "last",
        },
        "pulled_by": {
            "account": account_of(credentials),
            "local_user": _local_user(),
            "host": socket.gethostname(),
        },
        "started": receipts[0].get("received") if receipts else None,
        "completed": format_timestamp(now_us()),
        # Empty pages carry the query's lower bound as their range: not received.
        "date_added": {
            "first": _bound(receipts, "date_added_first", min),
            "last": _bound(receipts, "date_added_last", max),
        },
        "pages": list(receipts),
        "objects": objects,
        "tool": f"atlas-taxii {__version__}",
    }
