"""The JSON Schema 2020-12 assertions the OASIS STIX 2.1 schemas use, as :class:`Check` s.

Each check carries its fast :data:`~.predicates.Table` and explains its own failures
(JSON Schema 2020-12 validation §6, §7 and core §10.3.1).  Object keywords live in
:mod:`.object_keywords`, the in-place applicators (``not``, ``anyOf``, ``oneOf``,
``if``) in :mod:`.applicators`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

from .nodes import Check, Failure, Node, Steps, kind_name, show
from .predicates import JSON_TYPES, Pred, always, constant_table, never

__all__ = [
    "ContainsCheck",
    "EnumCheck",
    "FalseCheck",
    "ItemsCheck",
    "NumberRangeCheck",
    "SizeCheck",
    "StringRule",
    "TypeCheck",
    "expected",
    "got",
]

_NONE = type(None)
_TYPE_NAMES = {
    "object": "an object",
    "array": "an array",
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "a boolean",
    "null": "null",
}


def expected(names: Sequence[str]) -> str:
    """``"an array, a string or null"`` for JSON Schema type names."""
    words = [_TYPE_NAMES[name] for name in dict.fromkeys(names)]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]


def got(value: Any) -> str:
    """``"an integer (7)"``, ``"null"``, ``"an object"``: what was found instead."""
    kind, shown = kind_name(value), show(value)
    return (
        kind if shown in (kind, "null") or isinstance(value, dict | list) else f"{kind} ({shown})"
    )


def _is_integral(value: float) -> bool:
    return value.is_integer()


class TypeCheck(Check):
    """``type`` (§6.1.1).  JSON Schema counts 1.0 as an integer and no boolean as one."""

    __slots__ = ("names",)
    decisive = True

    def __init__(self, names: Sequence[str]) -> None:
        self.names = tuple(names)
        accepted = {
            kind
            for name in self.names
            for kind in {
                "object": (dict,),
                "array": (list,),
                "string": (str,),
                "integer": (int,),
                "number": (int, float),
                "boolean": (bool,),
                "null": (_NONE,),
            }[name]
        }
        table = constant_table(accepted)
        if "integer" in self.names and "number" not in self.names:
            table[float] = _is_integral
        super().__init__(table)

    def explain(self, value: Any, steps: Steps) -> Iterator[Failure]:
        """Name the expected types and the one found."""
        if isinstance(value, float) and "integer" in self.names:
            yield Failure(steps, f"expected {expected(self.names)}, got {show(value)}")
        else:
            yield Failure(steps, f"expected {expected(self.names)}, got {got(value)}")


class EnumCheck(Check):
    """``enum`` and ``const`` (§6.1.2, §6.1.3), with JSON equality (``true`` is not ``1``)."""

    __slots__ = ("values",)

    def __init__(self, values: Sequence[Any]) -> None:
        self.values = tuple(values)
        table: dict[type, Pred] = {}
        for kind in JSON_TYPES:
            members = [v for v in self.values if type(v) is kind or _same_number_kind(v, kind)]
            if not members:
                table[kind] = never
            elif kind in (str, int, float):
                table[kind] = frozenset(members).__contains__
            else:
                table[kind] = _equal_to_one_of(members)
        super().__init__(table)

    def explain(self, value: Any, steps: Steps) -> Iterator[Failure]:
        """Say which values are allowed."""
        if len(self.values) == 1:
            yield Failure(steps, f"must be {show(self.values[0])}, got {show(value)}")
        else:
            listed = ", ".join(show(v) for v in self.values[:12])
            more = ", …" if len(self.values) > 12 else ""
            yield Failure(steps, f"{show(value)} is not one of {listed}{more}")


def _same_number_kind(value: Any, kind: type) -> bool:
    # 1 and 1.0 are the same JSON number; booleans are not numbers.
    return kind in (int, float) and type(value) in (int, float)


def _equal_to_one_of(members: list[Any]) -> Pred:
    def equal(value: Any) -> bool:
        return any(_json_equal(value, member) for member in members)

    return equal


def _json_equal(a: Any, b: Any) -> bool:
    """Equality of JSON values: ``True`` is not ``1``, ``1`` is ``1.0``."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_json_equal(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_json_equal(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


class StringRule(Check):
    """A rule on strings: ``pattern`` (§6.3.3), ``format`` (§7), or a STIX refinement."""

    __slots__ = ("describe",)

    def __init__(self, pred: Callable[[str], object], describe: Callable[[str], str]) -> None:
        self.describe = describe
        super().__init__({**constant_table(JSON_TYPES), str: pred})

    def explain(self, value: Any, steps: Steps) -> Iterator[Failure]:
        """Use the rule's own wording."""
        yield Failure(steps, self.describe(value))


class ShapeRule(StringRule):
    """A :class:`StringRule` saying what a value *is* (a timestamp, a real date): when
    it fails, the value's other rules (a timestamp's precision) are moot and not
    explained, so one bad value is one problem."""

    __slots__ = ()
    decisive = True


class SizeCheck(Check):
    """``minLength``/``maxLength``, ``minItems``, ``minProperties`` (§6.3, §6.4, §6.5)."""

    __slots__ = ("low", "high", "unit", "kind")

    def __init__(self, kind: type, low: int, high: int | None, unit: str) -> None:
        self.kind, self.low, self.high, self.unit = kind, low, high, unit
        top = high

        def within(value: Any) -> bool:
            return low <= len(value) and (top is None or len(value) <= top)

        def at_least(value: Any) -> bool:
            return len(value) >= low

        # "Not empty" is by far the most common bound (STIX forbids empty lists).
        pred: Pred = within if high is not None else bool if low == 1 else at_least
        super().__init__({**constant_table(JSON_TYPES), kind: pred})

    def explain(self, value: Any, steps: Steps) -> Iterator[Failure]:
        """Say the size found and the bounds."""
        size = len(value)
        if size < self.low:
            if size == 0 and self.low == 1:
                empty: dict[type, str] = {
                    dict: "an empty object",
                    list: "an empty array",
                    str: "an empty string",
                }
                yield Failure(steps, f"must not be {empty[self.kind]}")
            else:
                yield Failure(steps, f"must have at least {self.low} {self.unit}, got {size}")
        else:
            yield Failure(steps, f"must have at most {self.high} {self.unit}, got {size}")


class NumberRangeCheck(Check):
    """``minimum``/``maximum`` (§6.2.4, §6.2.2)."""

    __slots__ = ("low", "high")

    def __init__(self, low: float | None, high: float | None) -> None:
        self.low, self.high = low, high

        def within(value: Any) -> bool:
            return (low is None or value >= low) and (high is None or value <= high)

        super().__init__({**constant_table(JSON_TYPES), int: within, float: within})

    def explain(self, value: Any, steps: Steps) -> Iterator[Failure]:
        """Say the bound that was crossed."""
        if self.low is not None and value < self.low:
            yield Failure(steps, f"must be at least {self.low}, got {show(value)}")
        else:
            yield Failure(steps, f"must be at most {self.high}, got {show(value)}")


class ItemsCheck(Check):
    """``items`` (§10.3.1.2): every item is valid against one schema."""

    __slots__ = ("node",)

    def __init__(self, node: Node) -> None:
        self.node = node
        item_test = node.test

        def every_item(value: list[Any]) -> bool:
            return all(map(item_test, value))

        pred: Pred = always if item_test is always else every_item
        super().__init__({**constant_table(JSON_TYPES), list: pred})

    def explain(self, value: Any, steps: Steps) -> Iterator[Failure]:
        """Explain each invalid item at its index."""
        for index, item in enumerate(value):
            if not self.node.test(item):
                yield from self.node.explain(item, (*steps, index))


class ContainsCheck(Check):
    """``contains`` (§10.3.1.3): at least one item is valid against a schema."""

    __slots__ = ("node",)

    def __init__(self, node: Node) -> None:
        self.node = node
        item_test = node.test

        def some_item(value: list[Any]) -> bool:
            return any(map(item_test, value))

        super().__init__({**constant_table(JSON_TYPES), list: some_item})

    def explain(self, value: Any, steps: Steps) -> Iterator[Failure]:
        """Say that no item qualifies, and why the first one does not."""
        reason = next(iter(self.node.explain(value[0], ())), None) if value else None
        detail = f" (first item: {reason.message})" if reason else ""
        yield Failure(steps, f"no item of the array is acceptable here{detail}")


class FalseCheck(Check):
    """The ``false`` schema: nothing is valid."""

    __slots__ = ("message",)

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(constant_table(()))

    def explain(self, value: Any, steps: Steps) -> Iterator[Failure]:
        """Use the message given at compile time."""
        yield Failure(steps, self.message)
