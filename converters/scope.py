"""Objects under construction, and where a mapping's tags find them.

The engine builds each STIX object as a :class:`Draft` and files it under its tag
at the element it was made for (``("actors", 0, "countries", 1)``) and at that
element's item (``("actors", 0)``); objects made for package-level elements (the
report, the authors, the targets) are filed at the package (``()``) instead.  A tag
is looked up from an element outward — the element, its item, the package — which
is how ``source: actor`` in a rule over ``actors[*].countries[*]`` finds its actor,
``created_by: producer`` finds the producer from anywhere, and ``indicator`` is
simply absent for a data point that has none.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from .errors import TransformError
from .paths import Element

__all__ = ["Draft", "Registry", "item_path"]

_Path = tuple[str | int, ...]


class Draft:
    """A STIX object being built: its identity, properties, marking and provenance."""

    __slots__ = ("extension", "id", "owned", "props", "rank", "type", "where")

    def __init__(
        self, kind: str, object_id: str, props: dict[str, Any], rank: int, owned: bool, where: str
    ) -> None:
        self.type = kind
        self.id = object_id
        self.props = props  # mapping properties, in rule order
        self.rank = rank  # TLP rank (converters.tlp)
        self.owned = owned  # created/modified from the package, created_by_ref set
        self.where = where  # the rule and element that made it, for messages
        self.extension: dict[str, Any] | None = None  # the project's property extension

    def view(self) -> dict[str, Any]:
        """The object as a transform sees it (``type``, ``id`` and properties)."""
        return {"type": self.type, "id": self.id, **self.props}


def item_path(element: Element) -> tuple[str | int, ...] | None:
    """Path of the item an element belongs to (``("actors", 0)``), if any."""
    return element.path[:2] if element.item is not None else None


class Registry:
    """Drafts by id, and by tag and scope path."""

    def __init__(self) -> None:
        self.by_id: dict[str, Draft] = {}
        # tag -> (scope path -> drafts, lengths of those paths): a lookup hashes the
        # path alone, skips a path length nothing is filed at (a data point's
        # linked_to[j] finds the data point's objects at once), and a tag nothing
        # has is answered at once.
        self._tagged: dict[str, tuple[dict[_Path, list[Draft]], set[int]]] = {}
        self._everywhere: dict[str, dict[str, Draft]] = {}  # tag -> id -> draft

    def file(self, draft: Draft, tag: str, element: Element) -> None:
        """File ``draft`` under ``tag`` at the element and its item, or the package."""
        path = element.path
        everywhere = self._everywhere.get(tag)
        if everywhere is None:
            everywhere = self._everywhere[tag] = {}
            self._tagged[tag] = ({}, set())
        everywhere[draft.id] = draft
        scopes, lengths = self._tagged[tag]
        _put(scopes, lengths, path, draft)
        if element.item is None:
            if path:
                _put(scopes, lengths, (), draft)
        elif len(path) > 2:  # filed at its item too
            _put(scopes, lengths, path[:2], draft)

    def find(self, tag: str, element: Element) -> Draft | None:
        """The object with ``tag`` nearest to ``element`` (element, item, package)."""
        tagged = self._tagged.get(tag)
        if tagged is None:
            return None
        scopes, lengths = tagged
        path = element.path
        filed = scopes.get(path) if len(path) in lengths else None
        if filed is None and element.item is not None and len(path) > 2:
            filed = scopes.get(path[:2])
        if filed is None:
            filed = scopes.get(())
            if filed is None:
                return None
        if len(filed) > 1 and any(d is not filed[0] for d in filed):
            raise TransformError(
                f"tag {tag!r} names {len(filed)} objects here; name one "
                f"(a tag of this element or its item) or use each: [{tag}]"
            )
        return filed[0]

    def at(self, scope: tuple[str | int, ...], tag: str) -> list[Draft]:
        """Every object filed under ``tag`` at exactly ``scope``."""
        tagged = self._tagged.get(tag)
        return tagged[0].get(scope, []) if tagged is not None else []

    def everywhere(self, tag: str) -> Iterator[Draft]:
        """Every object with ``tag`` in the package, wherever it was made."""
        yield from self._everywhere.get(tag, {}).values()


def _put(scopes: dict[_Path, list[Draft]], lengths: set[int], path: _Path, draft: Draft) -> None:
    filed = scopes.get(path)
    if filed is None:
        scopes[path] = [draft]
        lengths.add(len(path))
    elif filed[-1] is not draft:
        filed.append(draft)
