"""A one-line progress bar on stderr, shared by ``convert``, ``publish``, ``pull`` and
``import-medallion``.

Drawn only on a terminal, and only once an operation has taken longer than half a
second (``ProgressBar._DELAY``): a small package converts or publishes in well under
a second, and a bar for it would only flicker.  Output piped to a file or a log stays
free of carriage returns.
"""

from __future__ import annotations

import time
from typing import TextIO

__all__ = ["ProgressBar"]


class ProgressBar:
    """A progress bar for ``(stage, done, total)`` reports; ``clear()`` before printing.

    Called like the converter's ``Progress`` callback.  :meth:`tally` shows a count
    for work whose total is not known in advance (pages of a TAXII collection).
    """

    _DELAY = 0.5  # seconds before the bar appears
    _WIDTH = 30

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._live = stream.isatty()
        self._start = time.monotonic()
        self._drawn = False
        self._width = 0  # longest line drawn, to erase

    def __call__(self, stage: str, done: int, total: int) -> None:
        if not self._due():
            return
        filled = self._WIDTH * min(done, total) // max(total, 1)
        bar = "#" * filled + "." * (self._WIDTH - filled)
        self._draw(f"{stage[:24]:<24} [{bar}] {done}/{total}")

    def tally(self, stage: str, done: int, unit: str) -> None:
        """Show ``done`` ``unit`` so far, for work of unknown size."""
        if self._due():
            self._draw(f"{stage[:24]:<24} {done} {unit}")

    def clear(self) -> None:
        """Erase the bar so that messages start on a clean line."""
        if self._drawn:
            self._stream.write("\r" + " " * self._width + "\r")
            self._stream.flush()
            self._drawn = False
            self._width = 0

    def _due(self) -> bool:
        return self._live and time.monotonic() - self._start >= self._DELAY

    def _draw(self, line: str) -> None:
        self._stream.write(f"\r{line}")
        self._stream.flush()
        self._drawn = True
        self._width = max(self._width, len(line))
