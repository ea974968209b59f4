"""Stores behind one small interface (see :mod:`taxii_server.storage.base`).

:func:`open_storage` picks a backend by the URL's scheme from a registry of dotted
paths, importing only the backend asked for: a server on SQLite never imports a
PostgreSQL or MongoDB driver, and a missing driver is reported as the extra to install.
Each backend module provides ``open_store(url, *, migrate)`` and ``inspect_schema(url)``.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Final, Protocol

from taxii_server.storage.base import Storage, StorageError

__all__ = ["BACKENDS", "inspect_schema", "open_storage"]

#: URL scheme -> (backend module, the extra that installs its driver, or None).
BACKENDS: Final[dict[str, tuple[str, str | None]]] = {
    "sqlite": ("taxii_server.storage.sql", None),
    "postgresql": ("taxii_server.storage.sql", "postgres"),
    "postgres": ("taxii_server.storage.sql", "postgres"),
    "mongodb": ("taxii_server.storage.mongo", "mongo"),
    "mongodb+srv": ("taxii_server.storage.mongo", "mongo"),  # DNS seed list (MongoDB Atlas)
}

# Top-level driver packages: an ImportError naming one of these is a missing extra.
_DRIVERS: Final = frozenset({"psycopg", "psycopg_pool", "psycopg_binary", "pymongo"})


class _Opener(Protocol):
    def __call__(self, url: str, *, migrate: bool) -> Storage: ...


class _Inspector(Protocol):
    def __call__(self, url: str) -> tuple[int, int]: ...


def _backend(url: str) -> ModuleType:
    scheme = url.partition(":")[0].lower() if "://" in url else ""
    entry = BACKENDS.get(scheme)
    if entry is None:
        supported = ", ".join(f"{s}://" for s in BACKENDS)
        raise StorageError(
            f"unsupported storage URL {url!r}: the scheme must be one of {supported}"
        )
    module_name, extra = entry
    try:
        module = importlib.import_module(module_name)
        # Backends import their driver when a store is opened; do that here so a
        # missing driver is reported before anything else happens.
        if extra == "postgres":
            importlib.import_module("taxii_server.storage.sql_postgres")
    except ImportError as exc:
        missing = (exc.name or "").partition(".")[0]
        if extra is not None and missing in _DRIVERS:
            raise StorageError(
                f"the {scheme}:// store needs the {missing} driver, which is not installed: "
                f"pip install 'atlas-taxii[{extra}]'"
            ) from exc
        if exc.name == module_name:
            raise StorageError(
                f"the {scheme}:// store is not part of this atlas-taxii installation "
                f"({module_name} is missing)"
            ) from exc
        raise
    return module


def open_storage(url: str, *, migrate: bool = False) -> Storage:
    """Open the store at ``url`` (``sqlite:///relative.db``, ``sqlite:////abs/path.db``,
    ``sqlite:///:memory:``, ``postgresql://…``, ``mongodb://…``, ``mongodb+srv://…``).

    The store's schema is checked: a schema newer than this code raises
    :class:`~taxii_server.storage.base.SchemaTooNew`; an empty or older one is brought
    up to date when ``migrate`` is set (``atlas-taxii db upgrade``; safe when several
    processes do it at once), and otherwise raises a
    :class:`~taxii_server.storage.base.StorageError` telling the operator to upgrade.
    """
    opener: _Opener = _backend(url).open_store
    return opener(url, migrate=migrate)


def inspect_schema(url: str) -> tuple[int, int]:
    """``(schema version stored at url, version this code needs)``; changes nothing
    (0 means no schema yet)."""
    inspector: _Inspector = _backend(url).inspect_schema
    return inspector(url)
