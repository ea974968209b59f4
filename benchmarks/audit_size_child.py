"""Run by ``python -m benchmarks audit-size`` in a child interpreter, on the source tree
``PYTHONPATH`` names: write ``COUNT`` audit records through that tree's own
:class:`~taxii_server.audit.Auditor` into the store ``URL`` and print, as one JSON line,
the bytes they took on disk and the bytes written to get them there.

    python -P benchmarks/audit_size_child.py URL COUNT

Only the interfaces both trees share are used (``Auditor.read``/``added``,
``Principal``, ``Filters``, ``open_storage``), so every tree formats its records its
own way.
"""

from __future__ import annotations

import json
import os
import random
import sqlite3
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from taxii_server.audit import Auditor
from taxii_server.auth import Principal
from taxii_server.query import Filters
from taxii_server.storage import open_storage
from taxii_server.storage.base import User

START = 1_780_000_000_000_000  # microseconds: late 2026
COLLECTION = "4a3b2c1d-0e9f-4a8b-8c7d-6e5f4a3b2c1d"


@dataclass(frozen=True)
class _Item:
    date_added: int


def _written_bytes() -> int:
    """Bytes this process has passed to write() so far (``/proc/self/io`` wchar)."""
    for line in Path("/proc/self/io").read_text().splitlines():
        if line.startswith("wchar:"):
            return int(line.split()[1])
    return 0


class _Size:
    """The space the audit tables take, and the bytes written, for one store."""

    def __init__(self, url: str) -> None:
        self.url = url

    def stored(self) -> int:
        if self.url.startswith("sqlite"):
            path = self.url.removeprefix("sqlite:///")
            with sqlite3.connect(path) as connection:
                connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                pages = connection.execute("PRAGMA page_count").fetchone()[0]
                size = connection.execute("PRAGMA page_size").fetchone()[0]
            return int(pages * size)
        return self._pg("SELECT sum(pg_total_relation_size(oid)) FROM pg_class "
                        "WHERE relname LIKE 'audit%' AND relkind = 'r'")  # fmt: skip

    def written(self) -> int:
        if self.url.startswith("sqlite"):
            return _written_bytes()
        return self._pg("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')")

    def _pg(self, sql: str) -> int:
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as connection:
            row = connection.execute(sql).fetchone()
        return int(row[0] or 0) if row else 0


def main(url: str, count: int) -> dict[str, Any]:
    storage = open_storage(url, migrate=True)
    clock = [START]
    auditor = Auditor(storage, lambda: clock[0])
    rng = random.Random(7)
    anonymous = [Principal(None, f"198.51.100.{n}") for n in range(100)]
    users = [Principal(User(f"partner-{n}", 2), f"203.0.113.{n}") for n in range(5)]
    objects = [f"indicator--{uuid.UUID(int=n, version=4)}" for n in range(1000)]
    size = _Size(url)
    stored, written = size.stored(), size.written()
    for _ in range(count):
        clock[0] += 60_000_000 // 20  # 20 requests a minute
        last = clock[0] - 1_000_000
        page = [_Item(last - 500), _Item(last)]
        kind = rng.random()
        if kind < 0.6:  # SIEMs polling a public collection
            filters = Filters(added_after=clock[0] - 60_000_000 - rng.randrange(1000))
            auditor.read(rng.choice(anonymous), "community", COLLECTION, "objects", page, filters)
        elif kind < 0.9:  # partners polling by type
            filters = Filters(added_after=clock[0] - 60_000_000, types=("indicator", "malware"))
            auditor.read(rng.choice(users), "community", COLLECTION, "objects", page, filters)
        elif kind < 0.95:  # one object
            object_id = rng.choice(objects)
            auditor.read(
                rng.choice(users), "community", COLLECTION, "object", page[:1], Filters(),
                object_id=object_id,
            )  # fmt: skip
        else:
            auditor.added(rng.choice(users), "community", COLLECTION, str(uuid.uuid4()), 1000)
    stored, written = size.stored() - stored, size.written() - written
    storage.close()
    return {"stored_per_record": stored / count, "written_per_record": written / count}


if __name__ == "__main__":
    os.environ.pop("ATLAS_TAXII_CONFIG", None)
    print(json.dumps(main(sys.argv[1], int(sys.argv[2]))))
