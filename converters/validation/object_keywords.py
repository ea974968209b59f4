"""Object keywords (JSON Schema 2020-12 core §10.3.2, validation §6.5), merged.

The object keywords of every schema applied to one value (``allOf`` and ``$ref``
flattened: ``core.json``, ``properties.json`` and ``indicator.json`` for an indicator)
become one :class:`ObjectCheck` that looks each property name up once, in a memo,
instead of matching it against every ``properties``/``patternProperties`` entry of
every schema each time.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from .keywords import EnumCheck
from .nodes import Check, Failure, Node, Steps, show
from .predicates import JSON_TYPES, Pred, and_tables, constant_table, never, table_test

__all__ = ["ObjectCheck", "ObjectKeywords"]


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
