"""Talking to other TAXII 2.1 servers: publishing to them and pulling from them.

Built on taxii2-client.  :mod:`.connection` finds the API root and collection,
:mod:`.push` posts envelopes and waits for statuses, :mod:`.pull` pages through a
collection resumably (its state in :mod:`.journal`); every failure is a
:class:`~taxii_server.remote.errors.RemoteError`.
"""

from __future__ import annotations

from taxii_server.remote.connection import Credentials, RemoteCollection, open_collection
from taxii_server.remote.errors import (
    RemoteError,
    RemoteProtocolError,
    RemoteRefused,
    RemoteUnavailable,
)

__all__ = [
    "Credentials",
    "RemoteCollection",
    "RemoteError",
    "RemoteProtocolError",
    "RemoteRefused",
    "RemoteUnavailable",
    "open_collection",
]
