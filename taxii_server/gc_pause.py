"""Pausing Python's cyclic garbage collector while a POST is processed.

An envelope of thousands of objects becomes hundreds of thousands of dicts, lists and
records, alive until the request ends; each allocation counts towards the collector's
next run, and each run walks every one of them again without finding garbage (JSON
documents have no reference cycles; they are freed by reference counting).  Measured
in-process, collections took a quarter of the CPU of storing a 5,000-object envelope.
The converter pauses the collector for the same reason (``converters.convert_packages``).

The collector is process-wide and gthread workers run requests on several threads, so
the pause is counted: the collector resumes when the last paused request ends, and
only if it was running when the first one began.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["gc_paused"]

_lock = threading.Lock()
_holders = 0
_resume = False


@contextmanager
def gc_paused() -> Iterator[None]:
    """Keep the cyclic garbage collector off inside the block (see the module)."""
    global _holders, _resume
    with _lock:
        if _holders == 0:
            _resume = gc.isenabled()
            gc.disable()
        _holders += 1
    try:
        yield
    finally:
        with _lock:
            _holders -= 1
            if _holders == 0 and _resume:
                gc.enable()
