"""Functions run in child processes by the multi-process tests (spawned children import
this small module, not the test modules)."""

from __future__ import annotations

import uuid
from typing import Any

from taxii_server.storage import open_storage
from taxii_server.storage.base import AuditRecord
from tests.storage.stix import sdo


def writer_ids(writer: int, batches: int, size: int) -> list[str]:
    """The object ids writer number ``writer`` adds, in order."""
    return [
        f"indicator--{uuid.uuid5(uuid.NAMESPACE_OID, f'{writer}.{n}')}"
        for n in range(batches * size)
    ]


def write_batches(url: str, collection_id: str, writer: int, batches: int, size: int) -> None:
    """Add ``batches`` envelopes of ``size`` objects, one transaction each."""
    storage = open_storage(url)
    try:
        ids = writer_ids(writer, batches, size)
        for start in range(0, len(ids), size):
            storage.add_objects(collection_id, [sdo(i) for i in ids[start : start + size]])
    finally:
        storage.close()


def migrate_after(url: str, barrier: Any) -> None:
    """Wait for the other processes, then open ``url`` migrating it."""
    barrier.wait()
    open_storage(url, migrate=True).close()


def append_audit(url: str, writer: int, count: int) -> None:
    """Append ``count`` audit records as user ``writer-<writer>``, one at a time."""
    storage = open_storage(url)
    try:
        for n in range(count):
            storage.record_audit(
                AuditRecord(n, f"writer-{writer}", "127.0.0.1", "r", "c", "objects", n)
            )
    finally:
        storage.close()
