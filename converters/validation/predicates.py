"""Predicates over JSON values, folded per JSON type: the fast half of a compiled schema.

A compiled schema answers "is this value valid?" with one dictionary lookup on the
value's Python type and one call: a :data:`Table` maps each Python type a JSON
parser produces (``dict``, ``list``, ``str``, ``int``, ``float``, ``bool``,
``None``) to a :data:`Pred` for values of that type.  Keywords that do not apply to a
type contribute :func:`always`; a type the schema rejects gets :func:`never`.  The
combinators below fold those two constants away, so a schema such as
``{"type": "string"}`` costs a type lookup and nothing else.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, Final

__all__ = [
    "JSON_TYPES",
    "Pred",
    "Table",
    "all_of",
    "always",
    "and_tables",
    "any_of",
    "constant_table",
    "exactly_one",
    "json_type",
    "negate",
    "never",
    "table_test",
]

#: A predicate; a truthy result means "valid" (a ``re.Match`` is as good as True).
Pred = Callable[[Any], object]
#: Python type of a JSON value -> predicate for values of that type.
Table = Mapping[type, Pred]

#: The Python types ``json``/``orjson`` produce for JSON values.
JSON_TYPES: Final[tuple[type, ...]] = (dict, list, str, int, float, bool, type(None))


def always(value: object) -> bool:
    """Accept anything (the identity of ``and``)."""
    return True


def never(value: object) -> bool:
    """Reject anything (the identity of ``or``)."""
    return False


def json_type(value: object) -> type | None:
    """The JSON type (as a key of :data:`JSON_TYPES`) of a value, subclasses included."""
    kind = type(value)
    if kind in _JSON_TYPE_SET:
        return kind
    for base in (bool, dict, list, str, int, float):  # bool before its base class int
        if isinstance(value, base):
            return base
    return None  # not a JSON value at all (tuple, set, datetime, ...)


_JSON_TYPE_SET: Final = frozenset(JSON_TYPES)


def all_of(preds: Iterable[Pred]) -> Pred:
    """A predicate true when every one of ``preds`` is, folding the constants."""
    parts: list[Pred] = []
    for pred in preds:
        if pred is never:
            return never
        if pred is not always and pred not in parts:
            parts.append(pred)
    if not parts:
        return always
    if len(parts) == 1:
        return parts[0]
    if len(parts) == 2:
        first, second = parts

        def both(value: Any) -> object:
            return first(value) and second(value)

        return both
    frozen = tuple(parts)

    def every(value: Any) -> object:
        # A loop, not all(<generator>): this runs for every value, and is twice as fast.
        for pred in frozen:  # noqa: SIM110
            if not pred(value):
                return False
        return True

    return every


def any_of(preds: Iterable[Pred]) -> Pred:
    """A predicate true when at least one of ``preds`` is, folding the constants."""
    parts: list[Pred] = []
    for pred in preds:
        if pred is always:
            return always
        if pred is not never and pred not in parts:
            parts.append(pred)
    if not parts:
        return never
    if len(parts) == 1:
        return parts[0]
    frozen = tuple(parts)

    def some(value: Any) -> object:
        for pred in frozen:  # noqa: SIM110 - as in all_of
            if pred(value):
                return True
        return False

    return some


def negate(pred: Pred) -> Pred:
    """The negation of a predicate."""
    if pred is always:
        return never
    if pred is never:
        return always

    def negated(value: Any) -> bool:
        return not pred(value)

    return negated


def exactly_one(preds: Iterable[Pred]) -> Pred:
    """A predicate true when exactly one of ``preds`` is (JSON Schema ``oneOf``)."""
    parts = [pred for pred in preds if pred is not never]
    sure = sum(1 for pred in parts if pred is always)
    rest = tuple(pred for pred in parts if pred is not always)
    if sure > 1:
        return never
    if sure == 1:
        return negate(any_of(rest))
    if not rest:
        return never
    if len(rest) == 1:
        return rest[0]

    def one(value: Any) -> bool:
        found = False
        for pred in rest:
            if pred(value):
                if found:
                    return False
                found = True
        return found

    return one


def constant_table(accepted: Iterable[type]) -> dict[type, Pred]:
    """A table accepting values of the ``accepted`` types and rejecting the others."""
    chosen = set(accepted)
    return {kind: (always if kind in chosen else never) for kind in JSON_TYPES}


def and_tables(tables: Iterable[Table]) -> dict[type, Pred]:
    """The table of the conjunction of several tables."""
    listed = list(tables)
    return {kind: all_of(table[kind] for table in listed) for kind in JSON_TYPES}


def table_test(table: Table) -> Pred:
    """One predicate for any value from a per-type table.

    When every entry is a constant the test is a set membership on the type; else it
    is a lookup and a call.  Values whose type is a subclass of a JSON type (an
    ``OrderedDict``) take a slower path; values that are not JSON fail.
    """
    entries = dict(table)

    def slow(value: Any) -> object:
        kind = json_type(value)
        return kind is not None and entries[kind](value)

    if all(pred is always or pred is never for pred in entries.values()):
        accepted = frozenset(kind for kind, pred in entries.items() if pred is always)
        if not accepted:
            return never
        if len(accepted) == len(JSON_TYPES):
            return always

        def of_type(value: Any) -> object:
            return type(value) in accepted or (type(value) not in _JSON_TYPE_SET and slow(value))

        return of_type

    live = [kind for kind, pred in entries.items() if pred is not never]
    if len(live) == 1:
        # The common case (a string, an object): one identity test, one call.
        only, only_pred = live[0], entries[live[0]]

        def one_type(value: Any) -> object:
            if type(value) is only:
                return only_pred(value)
            return type(value) not in _JSON_TYPE_SET and slow(value)

        return one_type

    get = entries.get

    def test(value: Any) -> object:
        pred = get(type(value))
        if pred is None:
            return slow(value)
        return pred(value)

    return test
