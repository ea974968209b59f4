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

When it resumes, the allocations counted during the pause start a collection at once
(while the answer is rendered), and every so often that collection reaches the oldest
generation: every object of the worker, some 90,000 (modules, the Flask app, the
schemas), walked for 25 to 40 ms.  In-process, 80 POSTs of 1,000 objects spent 37 to
45 ms in collections so.  A worker's objects built at start-up live as long as it
does, so :func:`freeze_start_up` (gunicorn's ``post_worker_init``) takes them out of
the collector's sight (:func:`gc.freeze`): the same 80 POSTs then spend 4 ms.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["freeze_start_up", "gc_paused"]

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


def freeze_start_up() -> None:
    """Collect, then take every object alive now out of the collector's sight for
    good (see the module): call once, when a worker has built its application."""
    gc.collect()
    gc.freeze()
