"""Selectors and source paths of mapping files: parsing, checking, evaluation.

A *selector* (a rule's ``for``) names the elements a rule runs over: ``package``,
or a path from the package root where each step may pick list entries —
``actors[*]`` (each actor), ``authors[0]``, ``authors[1:]``,
``actors[*].countries[*]``, ``data_points[*].bank``.  Items of the five item
sections are the package's checked, merged items (CSV rows included).

A *source path* reads a value relative to an element: ``name``, ``bank.swift``,
``@`` (the element itself), ``^.kind`` (the enclosing item) or ``$.published`` (the
package).  Both are checked against the package format's JSON Schema when a
mapping is loaded, so a misspelt field is an error there, not an empty property.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final, Literal

from .package_checks import SECTIONS
from .package_schema import package_schema

if TYPE_CHECKING:
    from .package import Item, Package

__all__ = [
    "Element",
    "PathSyntaxError",
    "Selector",
    "SourcePath",
    "Step",
    "parse_path",
    "parse_selector",
    "schema_child",
    "schema_items",
]

_CUSTOM: Final = re.compile(r"x_[a-z0-9_]{1,248}")
_STEP: Final = re.compile(r"([a-z_][a-z0-9_]*)(?:\[(\*|[0-9]+|[0-9]+:)\])?")
_KEYS: Final = re.compile(r"[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)*")


class PathSyntaxError(ValueError):
    """A selector or source path that cannot be parsed or names no field of the format."""


class Element:
    """One value a rule runs over: where it is (``("actors", 0, "countries", 1)``),
    the value, and the package item it belongs to (``None`` for package-level values)."""

    __slots__ = ("item", "path", "value")

    def __init__(self, path: tuple[str | int, ...], value: Any, item: Item | None) -> None:
        self.path = path
        self.value = value
        self.item = item


@dataclass(frozen=True, slots=True)
class Step:
    """One selector step: a field, then which list entries (``one`` = not a list)."""

    key: str
    pick: Literal["one", "each", "index", "from"]
    index: int = 0

    def select(self, value: Any) -> Iterator[tuple[tuple[str | int, ...], Any]]:
        """``(path suffix, value)`` of each entry this step picks from ``value``."""
        if self.pick == "one":
            if value is not None:
                yield (self.key,), value
            return
        if not isinstance(value, list | tuple):
            return
        if self.pick == "index":
            if self.index < len(value):
                yield (self.key, self.index), value[self.index]
            return
        start = self.index if self.pick == "from" else 0
        for position in range(start, len(value)):
            yield (self.key, position), value[position]

    def descend(self, elements: list[Element]) -> list[Element]:
        """The elements this step picks inside each of ``elements``."""
        found: list[Element] = []
        key, pick = self.key, self.pick
        for element in elements:
            value = element.value.get(key) if isinstance(element.value, dict) else None
            # The common picks without the select generator: a field, each entry.
            if pick == "one":
                if value is not None:
                    found.append(Element((*element.path, key), value, element.item))
                continue
            if pick == "each" and isinstance(value, list | tuple):
                path, item = (*element.path, key), element.item
                found += [Element((*path, n), entry, item) for n, entry in enumerate(value)]
                continue
            for suffix, entry in self.select(value):
                found.append(Element(element.path + suffix, entry, element.item))
        return found


@dataclass(frozen=True, slots=True)
class Selector:
    """A rule's ``for``: the elements it runs over."""

    text: str
    steps: tuple[Step, ...]

    @property
    def item_section(self) -> str | None:
        """The item section the selector starts in, if any (``actors``)."""
        return self.steps[0].key if self.steps and self.steps[0].key in SECTIONS else None

    def elements(self, package: Package) -> list[Element]:
        """Every element of ``package`` the selector names, in package order."""
        if not self.steps:
            return [Element((), package.root, None)]
        first, rest = self.steps[0], self.steps[1:]
        current: list[Element]
        if first.key in SECTIONS:
            items = package.sections[first.key]
            current = [Element(p, item.fields, item) for p, item in first.select(items)]
        else:
            current = [Element(p, v, None) for p, v in first.select(package.root.get(first.key))]
        for step in rest:
            current = step.descend(current)
        return current


@dataclass(frozen=True, slots=True)
class SourcePath:
    """Where a value is read: in the element, its item (``^.``) or the package (``$.``)."""

    text: str
    scope: Literal["element", "item", "package"]
    keys: tuple[str, ...]
    get: Callable[[Element, Mapping[str, Any]], Any] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "get", _getter(self.scope, self.keys))


def _getter(
    scope: Literal["element", "item", "package"], keys: tuple[str, ...]
) -> Callable[[Element, Mapping[str, Any]], Any]:
    def base(element: Element, root: Mapping[str, Any]) -> Any:
        if scope == "element":
            return element.value
        if scope == "item":
            return element.item.fields if element.item is not None else None
        return root

    if not keys and scope == "element":  # "@", the element itself: a via ref, a country
        return lambda element, root: element.value
    if len(keys) == 1 and scope == "element":
        (key,) = keys

        # The common case (``name``), kept to one dictionary lookup.  Package values
        # are plain dicts (JSON objects), so the cheap concrete check is enough.
        def one(element: Element, root: Mapping[str, Any]) -> Any:
            value = element.value
            return value.get(key) if isinstance(value, dict) else None

        return one

    def walk(element: Element, root: Mapping[str, Any]) -> Any:
        value = base(element, root)
        for key in keys:
            if not isinstance(value, dict):
                return None
            value = value.get(key)
        return value

    return walk


def parse_selector(text: str) -> Selector:
    """Parse a rule's ``for``; raises :class:`PathSyntaxError`."""
    if text == "package":
        return Selector(text, ())
    steps = []
    for part in text.split("."):
        match = _STEP.fullmatch(part)
        if match is None:
            raise PathSyntaxError(
                f"{text!r}: {part!r} is not a field with an optional [*], [N] or [N:]"
            )
        key, pick = match.group(1), match.group(2)
        if pick is None:
            steps.append(Step(key, "one"))
        elif pick == "*":
            steps.append(Step(key, "each"))
        elif pick.endswith(":"):
            steps.append(Step(key, "from", int(pick[:-1])))
        else:
            steps.append(Step(key, "index", int(pick)))
    return Selector(text, tuple(steps))


def parse_path(text: str) -> SourcePath:
    """Parse a source path (``name``, ``bank.swift``, ``@``, ``^.kind``, ``$.published``)."""
    if text == "@":
        return SourcePath(text, "element", ())
    scope: Literal["element", "item", "package"] = "element"
    rest = text
    if text.startswith("$."):
        scope, rest = "package", text[2:]
    elif text.startswith("^."):
        scope, rest = "item", text[2:]
    if not _KEYS.fullmatch(rest):
        raise PathSyntaxError(
            f"{text!r} is not a path: use field names joined by '.', '@', '^.field' or '$.field'"
        )
    return SourcePath(text, scope, tuple(rest.split(".")))


# --- the package format's JSON Schema, walked to check selectors and paths ----------


def _resolved(node: Mapping[str, Any]) -> Mapping[str, Any]:
    while "$ref" in node:
        name = str(node["$ref"]).removeprefix("#/definitions/")
        node = package_schema()["definitions"][name]
    return node


def _properties(node: Mapping[str, Any]) -> dict[str, Any]:
    node = _resolved(node)
    props = dict(node.get("properties", {}))
    for part in node.get("allOf", ()):
        props.update(_properties(part))
    return props


def schema_child(node: Mapping[str, Any], key: str) -> Mapping[str, Any] | None:
    """Schema of field ``key`` of an object node; ``{}`` for custom ``x_`` fields."""
    props = _properties(node)
    if key in props:
        return _resolved(props[key])
    return {} if _CUSTOM.fullmatch(key) else None


def schema_items(node: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """Schema of the entries of a list node, or ``None`` when the node is not a list."""
    node = _resolved(node)
    if "items" in node:
        return _resolved(node["items"])
    for part in node.get("allOf", ()):
        found = schema_items(part)
        if found is not None:
            return found
    return None


def field_names(node: Mapping[str, Any]) -> list[str]:
    """Declared field names of an object node (for "did you mean" hints)."""
    return sorted(_properties(node))
