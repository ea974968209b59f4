"""The in-place applicators ``not``, ``anyOf``, ``oneOf``, ``if`` (JSON Schema core §10.2).

Their failures are the hardest to explain: a value that fits none of several forms.
Each check names, when it can, the property to add or remove; otherwise the
compiler gives it a ``hint`` in STIX terms; otherwise it reports the failures of the
alternative the value came closest to.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from .keywords import EnumCheck, StringRule, TypeCheck, expected, got
from .nodes import Check, Failure, Node, Steps, show
from .object_keywords import ObjectCheck
from .predicates import JSON_TYPES, Pred, always, any_of, exactly_one, negate, never

__all__ = ["AnyOfCheck", "IfCheck", "NotCheck", "OneOfCheck", "required_only"]


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
