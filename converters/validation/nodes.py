"""Compiled schemas: a fast per-type test plus an explanation of every failure.

A :class:`Node` is one compiled JSON schema: the conjunction of its :class:`Check` s
(one per keyword or keyword group).  Validation runs ``node.test`` only; when that
says no, ``node.explain`` walks the same checks again and says where and why, so the
common case (valid data) never builds a path or a message.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from typing import Any, NamedTuple

from .predicates import Pred, Table, and_tables, json_type, table_test

__all__ = ["Check", "Failure", "Node", "Steps", "kind_name", "show"]

#: Property names and array indexes from the checked value down to the offending one.
Steps = tuple[str | int, ...]


class Failure(NamedTuple):
    """One explained failure, relative to the value the explanation started from."""

    steps: Steps
    message: str


class Check(ABC):
    """One keyword (or keyword group) of a schema: a table and an explanation."""

    __slots__ = ("table",)

    #: When this check fails, the node's other checks are not worth explaining.
    decisive = False

    def __init__(self, table: Table) -> None:
        self.table = table

    def passes(self, value: Any) -> bool:
        """Whether ``value`` satisfies this check (the slow, exact form of ``table``)."""
        kind = json_type(value)
        return kind is not None and bool(self.table[kind](value))

    @abstractmethod
    def explain(self, value: Any, steps: Steps) -> Iterator[Failure]:
        """Say why ``value`` fails this check (called only when it does)."""


class Node:
    """A compiled schema: ``test(value)`` is truthy exactly when ``value`` is valid."""

    __slots__ = ("checks", "table", "test", "values", "where")

    def __init__(self, checks: Sequence[Check], where: str) -> None:
        self.checks = tuple(checks)
        self.where = where  # "sdos/indicator.json#/allOf/1/properties/pattern"
        self.table: Table = and_tables(check.table for check in self.checks)
        self.test: Pred = table_test(self.table)
        # With an ``enum``/``const`` the valid values are known: those of its list
        # that pass the other checks.  Callers merging schemas use it to turn a
        # pattern, a length and a "not" into one membership test.
        self.values: tuple[Any, ...] | None = None
        for check in self.checks:
            enumerated = getattr(check, "values", None)
            if isinstance(enumerated, tuple):
                self.values = tuple(v for v in enumerated if self.test(v))
                break

    def explain(self, value: Any, steps: Steps = ()) -> Iterator[Failure]:
        """Every reason ``value`` is invalid; nothing when it is valid."""
        if json_type(value) is None:
            yield Failure(steps, f"{type(value).__name__} is not a JSON value")
            return
        explained = False
        for check in self.checks:
            if not check.passes(value):
                for failure in check.explain(value, steps):
                    explained = True
                    yield failure
                if check.decisive:
                    return  # a value of the wrong type: the other keywords are moot
        if not explained and not self.test(value):
            # Never report "valid" for a value the fast test rejects, even if a check
            # cannot say why (tests/validation/test_explanations.py keeps this unused).
            yield Failure(steps, f"{show(value)} does not match the schema {self.where}")

    def __repr__(self) -> str:
        return f"<Node {self.where}>"


_KIND_NAMES = {
    dict: "an object",
    list: "an array",
    str: "a string",
    int: "an integer",
    float: "a number",
    bool: "a boolean",
    type(None): "null",
}


def show(value: Any, limit: int = 80) -> str:
    """A short one-line rendering of a JSON value for a message."""
    if isinstance(value, str):
        return repr(value if len(value) <= limit else value[: limit - 1] + "…")
    if isinstance(value, bool) or value is None:
        return "true" if value is True else "false" if value is False else "null"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return f"an array of {len(value)} item{'s' if len(value) != 1 else ''}"
    return type(value).__name__


def kind_name(value: Any) -> str:
    """``"a string"``, ``"an object"``... for the JSON type of a value."""
    kind = json_type(value)
    return _KIND_NAMES[kind] if kind is not None else type(value).__name__
