"""The JSON Schema 2020-12 keywords the OASIS STIX 2.1 schemas use, as :class:`Check` s.

Each check carries its fast :data:`~.predicates.Table` and explains its own failures
(JSON Schema 2020-12 core §10 and validation §6).  Object keywords of every schema
applied to the same value (``allOf`` and ``$ref`` flattened) are merged into one
:class:`ObjectCheck` that looks each property name up once, in a memo, instead of
matching it against every ``properties``/``patternProperties`` entry each time.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from .nodes import Check, Failure, Node, Steps, kind_name, show
from .predicates import (
    JSON_TYPES,
    Pred,
    always,
    and_tables,
    any_of,
    constant_table,
    exactly_one,
    negate,
    never,
    table_test,
)

__all__ = [
    "AnyOfCheck",
    "ContainsCheck",
    "EnumCheck",
    "FalseCheck",
    "IfCheck",
    "ItemsCheck",
    "NotCheck",
    "NumberRangeCheck",
    "ObjectCheck",
    "ObjectKeywords",
    "OneOfCheck",
    "SizeCheck",
    "StringRule",
    "TypeCheck",
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


@dataclass(frozen=True, slots=True)
class ObjectKeywords:
    """``properties``, ``patternProperties`` and ``additionalProperties`` of one schema.

    They are kept per schema because ``additionalProperties`` only looks at its own
    schema's ``properties`` and ``patternProperties`` (§10.3.2.3).  ``forbidden``
    says in words which names the schema allows, for the message when a name is
    rejected by ``additionalProperties: false``.
    """

    properties: dict[str, Node]
    patterns: tuple[tuple[re.Pattern[str], Node], ...]
    additional: Node | None
    forbidden: str


# Property names are memoised per ObjectCheck; past this many distinct names (hostile
# input, or dictionaries with free-form keys) new names are computed without caching.
_MEMO_LIMIT = 4096


class ObjectCheck(Check):
    """All object keywords applied to one value, merged (§10.3.2, §6.5)."""

    __slots__ = ("groups", "required", "min_properties", "names", "_rules")

    def __init__(
        self,
        groups: Sequence[ObjectKeywords],
        required: frozenset[str],
        min_properties: int,
        names: Sequence[Node],
    ) -> None:
        self.groups = tuple(groups)
        self.required = required
        self.min_properties = min_properties
        self.names = tuple(names)
        self._rules: dict[str, Pred] = {}
        rules = self._rules
        rule_for = self._rule_for

        def valid_object(value: dict[str, Any]) -> bool:
            if len(value) < min_properties or not value.keys() >= required:
                return False
            for key, item in value.items():
                rule = rules.get(key)
                if rule is None:
                    rule = rule_for(key)
                if not rule(item):
                    return False
            return True

        super().__init__({**constant_table(JSON_TYPES), dict: valid_object})

    def _applicable(self, key: str) -> tuple[list[Node], list[ObjectKeywords]]:
        """Schemas the value of ``key`` must satisfy, and groups that reject the name."""
        nodes: list[Node] = []
        rejecting: list[ObjectKeywords] = []
        for group in self.groups:
            matched = False
            node = group.properties.get(key)
            if node is not None:
                nodes.append(node)
                matched = True
            for regex, pattern_node in group.patterns:
                if regex.search(key):
                    nodes.append(pattern_node)
                    matched = True
            if not matched and group.additional is not None:
                nodes.append(group.additional)
                if group.additional.test is never:
                    rejecting.append(group)
        return nodes, rejecting

    def _rule_for(self, key: str) -> Pred:
        if not isinstance(key, str):
            return never  # a Python caller's dict with a non-string key: not JSON
        if all(name.test(key) for name in self.names):
            nodes, _ = self._applicable(key)
            finite = next((node.values for node in nodes if node.values is not None), None)
            if finite is not None:
                # An enum among them: the valid values are those all the schemas accept.
                allowed = [v for v in finite if all(node.test(v) for node in nodes)]
                rule = table_test(EnumCheck(allowed).table)
            else:
                # One table for all the schemas the value must meet: constants fold away.
                rule = table_test(and_tables(node.table for node in nodes))
        else:
            rule = never
        if len(self._rules) < _MEMO_LIMIT:
            self._rules[key] = rule
        return rule

    def explain(self, value: Any, steps: Steps) -> Iterator[Failure]:
        """Missing required properties, rejected names, then each invalid value."""
        for key in sorted(self.required - value.keys()):
            yield Failure((*steps, key), "required property is missing")
        if len(value) < self.min_properties:
            if not value:
                yield Failure(steps, "must not be an empty object")
            else:
                count = self.min_properties
                yield Failure(steps, f"must have at least {count} properties, got {len(value)}")
        for key, item in value.items():
            if not isinstance(key, str):
                message = f"property names must be strings, got {type(key).__name__} {key!r}"
                yield Failure((*steps, str(key)), message)
                continue
            where = (*steps, key)
            bad_name = False
            for name in self.names:
                if not name.test(key):
                    bad_name = True
                    for failure in name.explain(key, ()):
                        yield Failure(where, f"property name {show(key)}: {failure.message}")
            nodes, rejecting = self._applicable(key)
            for group in rejecting:
                bad_name = True
                yield Failure(where, f"{show(key)} is not allowed here: {group.forbidden}")
            if bad_name:
                continue
            seen: set[int] = set()
            for node in nodes:
                if id(node) not in seen and not node.test(item):
                    seen.add(id(node))
                    yield from node.explain(item, where)


def required_only(node: Node) -> frozenset[str] | None:
    """The keys of a schema that only says ``required`` (or None for any other schema)."""
    if len(node.checks) != 1:
        return None
    check = node.checks[0]
    if (
        isinstance(check, ObjectCheck)
        and not check.groups
        and not check.names
        and not check.min_properties
    ):
        return check.required
    return None


def _present(node: Node, value: Any) -> list[str]:
    """Keys of ``value`` that make a required-only schema (or an anyOf of them) hold."""
    keys = required_only(node)
    if keys is not None:
        return sorted(keys)
    if len(node.checks) == 1 and isinstance(node.checks[0], AnyOfCheck):
        found: list[str] = []
        for branch in node.checks[0].nodes:
            branch_keys = required_only(branch)
            if branch_keys is None:
                return []
            if isinstance(value, dict) and value.keys() >= branch_keys:
                found.extend(sorted(branch_keys))
        return found
    return []


class NotCheck(Check):
    """``not`` (§10.2.1.4); ``hint`` says in STIX terms what is forbidden."""

    __slots__ = ("node", "hint")

    def __init__(self, node: Node, hint: str = "") -> None:
        self.node = node
        self.hint = hint
        table = {kind: negate(pred) for kind, pred in node.table.items()}
        inner = node.checks[0] if len(node.checks) == 1 else None
        if isinstance(inner, AnyOfCheck) and inner.wanted is not None:
            table[dict] = inner.wanted.isdisjoint  # "has none of these keys", in C
        super().__init__(table)

    def explain(self, value: Any, steps: Steps) -> Iterator[Failure]:
        """Name the forbidden property, value or pattern."""
        present = _present(self.node, value)
        if present:
            for key in present:
                yield Failure((*steps, key), self.hint or "this property is not allowed here")
            return
        inner = self.node.checks[0] if len(self.node.checks) == 1 else None
        if self.hint:
            yield Failure(steps, _with_value(value, self.hint))
        elif isinstance(inner, EnumCheck):
            yield Failure(steps, f"must not be {show(value)}")
        elif isinstance(inner, StringRule):
            yield Failure(steps, f"{show(value)} is not allowed here ({self.node.where})")
        else:
            yield Failure(steps, f"{show(value)} is not allowed here ({self.node.where})")


def _with_value(value: Any, hint: str) -> str:
    """A hint, after the offending value when that is a short scalar."""
    if isinstance(value, dict | list):
        return hint
    return f"{show(value)}: {hint}"


class _Alternatives(Check):
    """What ``anyOf`` and ``oneOf`` share: explaining the closest alternative."""

    __slots__ = ("nodes", "where", "hint")

    word = ""

    def __init__(
        self, nodes: Sequence[Node], pred_table: dict[type, Pred], where: str, hint: str
    ) -> None:
        self.nodes = tuple(nodes)
        self.where = where
        self.hint = hint
        super().__init__(pred_table)

    def explain(self, value: Any, steps: Steps) -> Iterator[Failure]:
        """Explain a value that fits none (or, for oneOf, several) of the alternatives."""
        if self.hint:
            yield Failure(steps, _with_value(value, self.hint))
            return
        matching = [node for node in self.nodes if node.test(value)]
        keys = [required_only(node) for node in self.nodes]
        if all(k is not None for k in keys):
            options = " / ".join(" and ".join(repr(k) for k in sorted(s or ())) for s in keys)
            yield Failure(steps, f"must have {self.word} of: {options}")
            return
        if matching:
            message = f"fits {len(matching)} of the alternatives; exactly one is allowed"
            yield Failure(steps, message)
            return
        types = [c for node in self.nodes for c in node.checks[:1] if isinstance(c, TypeCheck)]
        if len(types) == len(self.nodes) and not any(t.passes(value) for t in types):
            # Every alternative starts with a type and none has this one: name them all.
            names = [name for t in types for name in t.names]
            yield Failure(steps, f"expected {expected(names)}, got {got(value)}")
            return
        closest = min(
            (list(node.explain(value, steps)) for node in self.nodes),
            key=lambda failures: (len(failures), -max((len(f.steps) for f in failures), default=0)),
        )
        yield from closest


class AnyOfCheck(_Alternatives):
    """``anyOf`` (§10.2.1.2)."""

    __slots__ = ("wanted",)
    word = "at least one"

    def __init__(self, nodes: Sequence[Node], where: str, hint: str = "") -> None:
        keys = [required_only(node) for node in nodes]
        table: dict[type, Pred] = {
            kind: any_of(node.table[kind] for node in nodes) for kind in JSON_TYPES
        }
        #: For anyOf [{required: [a]}, {required: [b]}, ...]: the keys, one of which is needed.
        self.wanted: frozenset[str] | None = None
        if nodes and all(k is not None and len(k) == 1 for k in keys):
            wanted = frozenset(key for k in keys for key in k or ())
            self.wanted = wanted

            def has_one(value: dict[str, Any]) -> bool:
                return not wanted.isdisjoint(value)

            table[dict] = has_one
        super().__init__(nodes, table, where, hint)


class OneOfCheck(_Alternatives):
    """``oneOf`` (§10.2.1.3)."""

    __slots__ = ()
    word = "exactly one"

    def __init__(self, nodes: Sequence[Node], where: str, hint: str = "") -> None:
        table = {kind: exactly_one(node.table[kind] for node in nodes) for kind in JSON_TYPES}
        super().__init__(nodes, table, where, hint)


def _branch(cond: Pred, yes: Pred, no: Pred) -> Pred:
    def chosen(value: Any) -> object:
        return yes(value) if cond(value) else no(value)

    return chosen


class IfCheck(Check):
    """``if``/``then``/``else`` (§10.2.2)."""

    __slots__ = ("condition", "then", "otherwise")

    def __init__(self, condition: Node, then: Node | None, otherwise: Node | None) -> None:
        self.condition, self.then, self.otherwise = condition, then, otherwise
        table: dict[type, Pred] = {}
        for kind in JSON_TYPES:
            cond = condition.table[kind]
            yes = then.table[kind] if then else always
            no = otherwise.table[kind] if otherwise else always
            if cond is always or yes is no:
                table[kind] = yes
            elif cond is never:
                table[kind] = no
            else:
                table[kind] = _branch(cond, yes, no)
        super().__init__(table)

    def explain(self, value: Any, steps: Steps) -> Iterator[Failure]:
        """Explain the branch the condition selected."""
        branch = self.then if self.condition.test(value) else self.otherwise
        if branch is not None:
            yield from branch.explain(value, steps)
