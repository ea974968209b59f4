"""Which elements of a package each mapping rule runs over, computed once.

Many rules share a selector (the default mapping has a dozen rules over
``data_points[*]``, one per observable type), and most of those test a field against
a set of values (``when: {field: type, in: [domain]}``).  Walking the package once
per selector, and indexing the elements by the tested field once, lets each rule
visit only the elements it can apply to — in package order, as if it had tested
every one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .paths import Element, Selector
from .spec import Condition

if TYPE_CHECKING:
    from .package import Package

__all__ = ["Selection"]

_SMALL = 64  # below this many elements an index costs more than it saves


class Selection:
    """Elements of one package by selector, and by selector and field value."""

    def __init__(self, package: Package) -> None:
        self._package = package
        self._elements: dict[str, list[Element]] = {}
        self._indexes: dict[tuple[str, str], dict[str | int, list[int]]] = {}

    def elements(self, selector: Selector) -> list[Element]:
        """Every element ``selector`` names, in package order."""
        found = self._elements.get(selector.text)
        if found is None:
            if len(selector.steps) > 1:  # from the parent's elements, walked once
                parent = Selector(selector.text.rpartition(".")[0], selector.steps[:-1])
                found = selector.steps[-1].descend(self.elements(parent))
            else:
                found = selector.elements(self._package)
            self._elements[selector.text] = found
        return found

    def candidates(self, selector: Selector, when: tuple[Condition, ...]) -> list[Element]:
        """The elements a rule with conditions ``when`` may apply to, in package order.

        Narrowed through the first ``in`` / ``in_table`` test on a field of the
        element; the rule still checks all its conditions on each candidate.
        """
        elements = self.elements(selector)
        test = next((c for c in when if _indexable(c)), None)
        if test is None or test.path is None or len(elements) < _SMALL:
            return elements
        key = (selector.text, test.path.text)
        index = self._indexes.get(key)
        if index is None:
            index = self._indexes[key] = {}
            root = self._package.root
            for position, element in enumerate(elements):
                value = test.path.get(element, root)
                if isinstance(value, str | int):
                    index.setdefault(value, []).append(position)
        positions = [p for value in test.values for p in index.get(value, ())]
        if len(test.values) > 1:
            positions.sort()
        return [elements[p] for p in positions]


def _indexable(condition: Condition) -> bool:
    path = condition.path
    return condition.test in ("in", "in_table") and path is not None and path.scope == "element"
