"""Make the store hold the API roots and collections the configuration declares.

Run once when the server starts (``atlas-taxii serve`` calls it in the gunicorn master
before forking workers) and by the admin commands, so a collection declared in the file
can be granted before the server first runs.  It only ever creates or updates: an API
root or collection that is in the store but no longer in the file is left alone, with
its objects (removing data is an explicit ``atlas-taxii collections remove``).

The file is authoritative for what it declares: when a declared API root's title,
description or ``max_content_length``, or a declared collection's title, alias,
description or ``public`` flag differs from the store, the store is updated to match.
A declared collection is found by its ``id`` when the file gives one, else by its title
within its API root (TAXII 2.1 §5.2: titles are unique per API root here).

Several processes may run this at once against one store (workers of several hosts
starting together).  That is harmless because every step relies on the store's own
uniqueness rules: API roots are upserted by name with identical values, and a collection
created concurrently by someone else makes ``create_collection`` raise
:class:`~taxii_server.storage.base.StorageConflict`, after which it is simply read back.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace

from taxii_server.settings import ApiRootConfig, CollectionConfig, ConfigError, Settings
from taxii_server.storage.base import ApiRoot, Collection, Storage, StorageConflict

__all__ = ["BootstrapReport", "ensure_declared"]


@dataclass(frozen=True, slots=True)
class BootstrapReport:
    """What :func:`ensure_declared` found and did.

    ``collections`` holds every declared collection as it now is in the store, in the
    order of the file; the ``created_*``/``updated_*`` tuples name what changed (API
    root names, collection ids).
    """

    collections: tuple[Collection, ...] = ()
    created_api_roots: tuple[str, ...] = ()
    updated_api_roots: tuple[str, ...] = ()
    created_collections: tuple[str, ...] = ()
    updated_collections: tuple[str, ...] = ()

    @property
    def changed(self) -> bool:
        """True when the store was modified."""
        return bool(
            self.created_api_roots
            or self.updated_api_roots
            or self.created_collections
            or self.updated_collections
        )


def ensure_declared(storage: Storage, settings: Settings) -> BootstrapReport:
    """Create or update the API roots and collections declared in ``settings``.

    Raises :class:`~taxii_server.settings.ConfigError` when a declaration cannot be
    honoured without touching something else (an alias or title already used by another
    collection of the same API root); nothing is deleted in any case.
    """
    created_roots: list[str] = []
    updated_roots: list[str] = []
    for declared_root in settings.api_roots:
        wanted = _api_root(declared_root, settings)
        current = storage.get_api_root(wanted.name)
        if current == wanted:
            continue
        # put_api_root is an upsert by name: two processes writing the same values at
        # once leave the same row behind.
        storage.put_api_root(wanted)
        (created_roots if current is None else updated_roots).append(wanted.name)

    collections: list[Collection] = []
    created: list[str] = []
    updated: list[str] = []
    for declared in settings.collections:
        collection, action = _ensure_collection(storage, declared)
        collections.append(collection)
        if action == "created":
            created.append(collection.id)
        elif action == "updated":
            updated.append(collection.id)
    return BootstrapReport(
        collections=tuple(collections),
        created_api_roots=tuple(created_roots),
        updated_api_roots=tuple(updated_roots),
        created_collections=tuple(created),
        updated_collections=tuple(updated),
    )


def _api_root(declared: ApiRootConfig, settings: Settings) -> ApiRoot:
    return ApiRoot(
        name=declared.name,
        title=declared.title,
        description=declared.description,
        max_content_length=(
            declared.max_content_length
            if declared.max_content_length is not None
            else settings.max_content_length
        ),
    )


def _find(storage: Storage, declared: CollectionConfig) -> Collection | None:
    """The stored collection a declaration refers to: by id when given, else by title."""
    if declared.id is not None:
        found = storage.get_collection(declared.api_root, declared.id)
        # get_collection also matches aliases; only an id match identifies it here.
        return found if found is not None and found.id == declared.id else None
    for collection in storage.list_collections(declared.api_root):
        if collection.title == declared.title:
            return collection
    return None


def _declared_fields(collection: Collection, declared: CollectionConfig) -> Collection:
    return replace(
        collection,
        title=declared.title,
        alias=declared.alias,
        description=declared.description,
        public=declared.public,
    )


def _ensure_collection(storage: Storage, declared: CollectionConfig) -> tuple[Collection, str]:
    """Return the stored collection for ``declared`` and ``"created"``, ``"updated"``
    or ``"unchanged"``."""
    current = _find(storage, declared)
    if current is None:
        wanted = Collection(
            id=declared.id or str(uuid.uuid4()),
            api_root=declared.api_root,
            title=declared.title,
            description=declared.description,
            alias=declared.alias,
            public=declared.public,
        )
        try:
            storage.create_collection(wanted)
        except StorageConflict as exc:
            # Either another process created this very collection a moment ago (then it
            # is found now), or the title/alias belongs to a different collection.
            current = _find(storage, declared)
            if current is None:
                raise ConfigError(
                    f"collections: cannot create {declared.title!r} in API root "
                    f"{declared.api_root!r}: {exc}"
                ) from exc
        else:
            return wanted, "created"
    wanted = _declared_fields(current, declared)
    if wanted == current:
        return current, "unchanged"
    try:
        storage.update_collection(wanted)
    except StorageConflict as exc:
        raise ConfigError(
            f"collections: cannot update {current.title!r} ({current.id}) in API root "
            f"{declared.api_root!r} to match the configuration: {exc}"
        ) from exc
    return wanted, "updated"
