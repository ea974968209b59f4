"""Give a worker's memory back to the system after a POST.

Python returns the memory of freed objects to the C allocator, and glibc's allocator
keeps it in its heaps for reuse, one heap ("arena") per thread that allocated there.
A gthread worker's threads each process some POSTs, so each arena grows to the
largest envelope that thread has seen and stays that size: before envelopes were
parsed item by item, 14 POSTs of 50,000 objects left about 900 MB per worker.
``malloc_trim(0)`` hands the free pages of every arena back; it costs well under a
millisecond, so it runs after every POST (``python -m benchmarks memory`` measures
what it leaves, beside gunicorn's ``max_requests`` restarts).

On a C library without ``malloc_trim`` (musl, macOS) nothing is done.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
from collections.abc import Callable
from typing import Any

__all__ = ["after_post", "release_memory"]


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    name = ctypes.util.find_library("c")
    try:
        trim: Callable[[int], int] = ctypes.CDLL(name).malloc_trim
    except (OSError, AttributeError, TypeError):
        return None
    return trim


def release_memory() -> bool:
    """Return the C allocator's free memory to the system; whether it could."""
    trim = _malloc_trim()
    if trim is None:
        return False
    trim(0)
    return True


def after_post(worker: Any, req: Any, environ: Any, resp: Any) -> None:
    """gunicorn's ``post_request`` hook: release memory after each POST (which may
    have carried ``max_content_length`` bytes); other requests are left alone."""
    if getattr(req, "method", None) == "POST":
        release_memory()
