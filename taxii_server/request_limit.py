"""Requests without credentials, limited per client address.

Anyone may read a public collection, and every read is an audit record in the store:
without a limit one client could write records as fast as the server answers.  Each
client address (an IPv6 client: its /64, as for failed logins) may make
``security.anonymous_requests_per_minute`` requests without credentials in any
sliding minute; beyond that it gets 429 with ``Retry-After``, and nothing is written
for the refused request.  Authenticated callers are not limited here.

The count is kept in the store per address and minute, so every worker and host
applies one limit.  The sliding minute is estimated from the current and the previous
minute's counts (the previous weighted by how much of it still lies within the last
60 seconds), which needs two rows per address instead of one per request.  Each
admitted request costs one read and one upsert.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from taxii_server.auth import client_key
from taxii_server.errors import TooManyRequests
from taxii_server.storage.base import Storage

__all__ = ["AnonymousLimit", "retry_after"]

_WINDOW = 60.0  # seconds


def retry_after(limit: int, previous: int, current: int, elapsed: float) -> int:
    """Seconds until a client with ``previous`` requests in the last window and
    ``current`` in this one, ``elapsed`` seconds into it, is under ``limit`` again
    (if it sends nothing meanwhile); at least 1."""
    left = _WINDOW - elapsed
    if current < limit and previous > 0:
        # Within this window, once the previous one's weight has fallen enough.
        return max(1, math.ceil(left - _WINDOW * (limit - current) / previous))
    # In the next window, once this one's weight has fallen below the limit.
    return max(1, math.ceil(left + _WINDOW * max(0.0, 1 - limit / max(current, 1))))


class AnonymousLimit:
    """Admits or refuses (429) a request without credentials from one address."""

    def __init__(
        self, storage: Storage, per_minute: int, clock: Callable[[], float] = time.time
    ) -> None:
        """``per_minute`` 0 admits everything; ``clock`` is wall-clock seconds (the
        windows are shared with other processes and hosts)."""
        self._storage = storage
        self._limit = per_minute
        self._clock = clock

    def admit(self, address: str) -> None:
        """Count the request, or raise :class:`TooManyRequests` if ``address`` has used
        up its minute."""
        if self._limit <= 0:
            return
        now = self._clock()
        key, window = client_key(address), int(now // _WINDOW)
        elapsed = now - window * _WINDOW
        previous, current = self._storage.request_counts(key, window)
        if previous * (1 - elapsed / _WINDOW) + current >= self._limit:
            wait = retry_after(self._limit, previous, current, elapsed)
            raise TooManyRequests(
                f"too many requests without credentials from {address} (at most "
                f"{self._limit} a minute); try again in {wait} s, or authenticate",
                headers={"Retry-After": str(wait)},
            )
        self._storage.count_request(key, window)
