"""Mapping files: the model (frozen dataclasses) and :func:`load_mapping`.

A mapping file (YAML, ``mappings/``) says what each package item becomes in STIX
2.1; the language is described in ``mappings/README.md`` and its shape in
``mappings/mapping.schema.json``.  ``load_mapping`` checks a file once, completely,
when it is loaded — unknown keys, selectors and paths naming fields the package
format does not have, unknown transforms or tables, arguments a transform does not
take, tags no rule defines — and reports every problem with the rule it is in
(``$.objects[4].properties.name``) and its line.  The engine then never sees a raw
dictionary of the file.
"""

from __future__ import annotations

import difflib
import functools
from collections import abc
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final, Literal

import jsonschema_rs
import orjson

import mappings

from .documents import DocumentError, line_of, read_document
from .errors import MappingError, SourceProblem
from .ids import SCO_ID_PROPERTIES
from .package_schema import package_schema
from .paths import (
    PathSyntaxError,
    Selector,
    SourcePath,
    field_names,
    parse_path,
    parse_selector,
    schema_child,
    schema_items,
)
from .schema_messages import CheckedSchema
from .transforms import TRANSFORMS, TransformSpec

__all__ = [
    "DEFAULT_MAPPING",
    "Condition",
    "Endpoint",
    "ExtensionRule",
    "IdSpec",
    "Mapping",
    "ObjectRule",
    "RelationshipRule",
    "ValueSpec",
    "load_mapping",
]

_MAPPINGS_DIR: Final = Path(mappings.__file__).resolve().parent

#: The default mapping of atlas-package/1 (research-package.md).
DEFAULT_MAPPING: Final = _MAPPINGS_DIR / "atlas-package-1.yaml"
_SCHEMA_FILE: Final = _MAPPINGS_DIR / "mapping.schema.json"


Test = Literal["in", "not_in", "in_table", "present", "object", "type_in", "type_not_in"]
Source = Literal["from", "value", "object", "ref", "objects"]
_FIELD_TESTS: Final[tuple[Test, ...]] = ("in", "not_in", "in_table", "present")
_TYPE_TESTS: Final[tuple[Test, ...]] = ("type_in", "type_not_in")
_SOURCES: Final[tuple[Source, ...]] = ("from", "value", "object", "ref", "objects")


@dataclass(frozen=True, slots=True)
class Condition:
    """One test of a ``when``: on a field, on a tag's object, or on a relationship end."""

    where: str
    test: Test
    path: SourcePath | None = None
    tag: str | None = None
    endpoint: Literal["source", "target"] | None = None
    values: frozenset[Any] = frozenset()
    table: str | None = None
    present: bool = True


@dataclass(frozen=True, slots=True)
class ValueSpec:
    """Where a property's value comes from, and what is done to it."""

    where: str
    source: Source
    paths: tuple[SourcePath, ...] = ()
    constant: Any = None
    tag: str | None = None
    transform: TransformSpec | None = None
    args: abc.Mapping[str, Any] = field(default_factory=dict)
    default: Any = None
    when: tuple[Condition, ...] = ()


@dataclass(frozen=True, slots=True)
class IdSpec:
    """How an object's id is derived: SCO properties, the item, the package, or a shared key."""

    kind: Literal["sco", "item", "package", "shared"]
    key: SourcePath | None = None
    key_kind: str | None = None


@dataclass(frozen=True, slots=True)
class ObjectRule:
    """``objects[i]``: for each selected element (when the conditions hold), one object."""

    where: str
    tag: str
    selector: Selector
    when: tuple[Condition, ...]
    type: str
    id: IdSpec
    tlp: str | None
    properties: tuple[tuple[str, ValueSpec], ...]


@dataclass(frozen=True, slots=True)
class ExtensionRule:
    """``extension_properties[i]``: properties of the project's extension on an object."""

    where: str
    selector: Selector
    on: tuple[str, ...]
    when: tuple[Condition, ...]
    properties: tuple[tuple[str, ValueSpec], ...]
    copy_custom: bool


@dataclass(frozen=True, slots=True)
class Endpoint:
    """A relationship end: a tag in scope, a tag of a referenced item, or every tagged object."""

    kind: Literal["tag", "via", "each"]
    tags: tuple[str, ...]
    via: SourcePath | None = None


@dataclass(frozen=True, slots=True)
class RelationshipRule:
    """``relationships[i]``: for each selected element, one relationship per end pair."""

    where: str
    type: str
    otherwise: str | None
    selector: Selector
    when: tuple[Condition, ...]
    source: Endpoint
    target: Endpoint


@dataclass(frozen=True, slots=True)
class Mapping:
    """A checked mapping file."""

    path: Path
    description: str
    created_by: str
    tables: abc.Mapping[str, abc.Mapping[str, Any]]
    objects: tuple[ObjectRule, ...]
    extension_properties: tuple[ExtensionRule, ...]
    relationships: tuple[RelationshipRule, ...]


@functools.cache
def _schema() -> CheckedSchema:
    document = orjson.loads(_SCHEMA_FILE.read_bytes())
    return CheckedSchema(document, jsonschema_rs.Draft7Validator(document, offline=True))


def load_mapping(path: str | Path | None = None) -> Mapping:
    """Load and check a mapping file (the default mapping when ``path`` is ``None``).

    Raises :class:`~converters.errors.MappingError` listing every problem.
    """
    source = Path(path) if path is not None else DEFAULT_MAPPING
    try:
        document = read_document(source)
    except DocumentError as exc:
        raise MappingError(f"{source}: cannot read the mapping", [exc.problem]) from None
    located = _schema().problems(document)
    problems = [SourceProblem(_json_path(p), m) for p, m in located]
    mapping: Mapping | None = None
    if not problems and isinstance(document, dict):
        checker = RuleChecker(document)
        mapping = _build(source, document, checker)
        problems = checker.problems
    if problems or mapping is None:
        listed = [_located(p, source) for p in problems]
        count = f"{len(listed)} problem{'s' if len(listed) != 1 else ''}"
        raise MappingError(f"{source}: not a valid mapping file ({count})", listed)
    return mapping


def _json_path(elements: tuple[str | int, ...]) -> str:
    return "$" + "".join(f"[{e}]" if isinstance(e, int) else f".{e}" for e in elements)


def _located(problem: SourceProblem, source: Path) -> SourceProblem:
    line = line_of(source, problem.path)
    return SourceProblem(problem.path, problem.message, str(source), line)


class RuleChecker:
    """Checks what a JSON Schema cannot in a mapping file, collecting every problem."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.problems: list[SourceProblem] = []
        self.tables: dict[str, dict[str, Any]] = dict(document.get("tables", {}))
        self.defined_tags: set[str] = set()
        self._all_tags = {rule["tag"] for rule in document["objects"]}
        self._root = package_schema()
        # selector text -> (schema of its elements, schema of its items or None)
        self._nodes: dict[str, tuple[abc.Mapping[str, Any], abc.Mapping[str, Any] | None]] = {}

    def fail(self, where: str, message: str) -> None:
        """Record a problem of the rule at ``where``."""
        self.problems.append(SourceProblem(where, message))

    def selector(self, text: str, where: str) -> Selector | None:
        """Parse a ``for`` and check each step against the package format."""
        try:
            selector = parse_selector(text)
        except PathSyntaxError as exc:
            self.fail(where, str(exc))
            return None
        node: abc.Mapping[str, Any] = self._root
        what = "the package"
        for step in selector.steps:
            child = schema_child(node, step.key)
            if child is None:
                self.fail(where, self._unknown(step.key, node, what))
                return None
            what = step.key
            entries = schema_items(child)
            if step.pick == "one" and entries is not None:
                self.fail(where, f"{step.key} is a list: write {step.key}[*], [N] or [N:]")
                return None
            if step.pick != "one" and entries is None:
                self.fail(where, f"{step.key} is not a list: drop the [...]")
                return None
            node = child if entries is None else entries
        section = selector.item_section
        item_node = schema_items(self._root["properties"][section]) if section else None
        self._nodes[selector.text] = (node, item_node)
        return selector

    def _unknown(self, key: str, node: abc.Mapping[str, Any], what: str) -> str:
        names = field_names(node)
        close = difflib.get_close_matches(key, names, n=1)
        hint = f"did you mean {close[0]!r}?" if close else f"fields: {', '.join(names)}"
        return f"{key!r} is not a field of {what} ({hint})"

    def _path(
        self, text: str, where: str, selector: Selector | None
    ) -> tuple[SourcePath | None, abc.Mapping[str, Any] | None]:
        try:
            path = parse_path(text)
        except PathSyntaxError as exc:
            self.fail(where, str(exc))
            return None, None
        if selector is None:  # its own problem is reported; do not cascade
            return path, None
        element, item = self._nodes[selector.text]
        node: abc.Mapping[str, Any] | None = element
        what = f"the elements of {selector.text}"
        if path.scope == "package":
            node, what = self._root, "the package"
        elif path.scope == "item":
            node, what = item, f"the items of {selector.item_section}"
            if item is None:
                self.fail(
                    where, f"{text!r}: '^.' reads the enclosing item; {selector.text} has none"
                )
                return path, None
        for position, key in enumerate(path.keys):
            assert node is not None
            child = schema_child(node, key)
            if child is None:
                prefix = f"{text!r}: " if text != key else ""
                self.fail(where, prefix + self._unknown(key, node, what))
                return path, None
            if position < len(path.keys) - 1 and schema_items(child) is not None:
                self.fail(where, f"{text!r}: {key} is a list; a path cannot go into a list")
                return path, None
            node, what = child, key
        return path, node

    def path(self, text: str, where: str, selector: Selector | None) -> SourcePath | None:
        """Parse a source path and check it names fields of the package format."""
        return self._path(text, where, selector)[0]

    def require_tag(self, tag: str, where: str, tags: abc.Set[str]) -> bool:
        """Whether ``tag`` is one of ``tags``; records why not."""
        if tag in tags:
            return True
        if tag in self._all_tags:
            message = f"tag {tag!r} is defined by a later rule; use tags of earlier rules only"
        else:
            close = difflib.get_close_matches(tag, sorted(self._all_tags), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            message = f"no object rule has tag {tag!r}{hint}"
        self.fail(where, message)
        return False

    def tag_list(self, raw: str | list[str], where: str, tags: abc.Set[str]) -> tuple[str, ...]:
        """One tag or a list of tags, each defined."""
        listed = [raw] if isinstance(raw, str) else list(raw)
        return tuple(tag for tag in listed if self.require_tag(tag, where, tags))

    def id_spec(self, raw: Any, kind: str, where: str, selector: Selector | None) -> IdSpec:
        """How the object's id is derived, checked against its type and selector."""
        sco = kind in SCO_ID_PROPERTIES
        if raw is None:
            if not sco:
                self.fail(
                    where.removesuffix(".id"),
                    f"{kind} needs an id (item, package or {{shared: PATH}}): only SCO types "
                    f"with known id-contributing properties derive theirs "
                    f"({', '.join(sorted(SCO_ID_PROPERTIES))})",
                )
            return IdSpec("sco")
        if sco:
            self.fail(where, f"{kind} is an SCO: its id comes from its properties; remove id")
        if raw == "item":
            if selector is not None and selector.item_section is None:
                self.fail(
                    where, f"id: item needs a rule under an item section, not {selector.text}"
                )
            return IdSpec("item")
        if raw == "package":
            return IdSpec("package")
        return IdSpec(
            "shared", self.path(raw["shared"], f"{where}.shared", selector), raw.get("kind")
        )

    def value(
        self, raw: Any, where: str, selector: Selector | None, tags: abc.Set[str]
    ) -> ValueSpec:
        """A property's source, transform and conditions."""
        if isinstance(raw, str):
            path = self.path(raw, where, selector)
            return ValueSpec(where, "from", (path,) if path else ())
        sources = [k for k in _SOURCES if k in raw]
        if len(sources) != 1:
            self.fail(where, "give exactly one of from, value, object, ref, objects")
            return ValueSpec(where, "value")
        source = sources[0]
        paths: list[SourcePath] = []
        if source == "from":
            listed = [raw["from"]] if isinstance(raw["from"], str) else raw["from"]
            for index, text in enumerate(listed):
                path = self.path(
                    text, f"{where}.from" + (f"[{index}]" if len(listed) > 1 else ""), selector
                )
                if path is not None:
                    paths.append(path)
        elif source in ("object", "ref"):
            self.require_tag(raw[source], f"{where}.{source}", tags)
        return ValueSpec(
            where=where,
            source=source,
            paths=tuple(paths),
            constant=raw.get("value"),
            tag=raw.get("object", raw.get("ref")),
            transform=self._transform(raw, where),
            args=MappingProxyType(dict(raw.get("args", {}))),
            default=raw.get("default"),
            when=self.conditions(raw.get("when"), f"{where}.when", selector, tags),
        )

    def _transform(self, raw: abc.Mapping[str, Any], where: str) -> TransformSpec | None:
        name = raw.get("transform")
        args: abc.Mapping[str, Any] = raw.get("args", {})
        if name is None:
            if args:
                self.fail(f"{where}.args", "args without a transform")
            return None
        spec = TRANSFORMS.get(name)
        if spec is None:
            known = ", ".join(sorted(TRANSFORMS))
            self.fail(f"{where}.transform", f"unknown transform {name!r} (known: {known})")
            return None
        for param, kind in spec.params.items():
            if param not in args:
                self.fail(f"{where}.args", f"transform {name} needs argument {param!r}")
            elif kind == "table" and args[param] not in self.tables:
                self.fail(f"{where}.args.{param}", f"no table named {args[param]!r} in tables")
        for extra in set(args) - set(spec.params):
            taken = ", ".join(spec.params) or "none"
            self.fail(f"{where}.args.{extra}", f"transform {name} takes no {extra!r} ({taken})")
        return spec

    def conditions(
        self,
        raw: Any,
        where: str,
        selector: Selector | None,
        tags: abc.Set[str],
        *,
        endpoints: bool = False,
    ) -> tuple[Condition, ...]:
        """A ``when``: one condition or a list of them, all of which must hold."""
        if raw is None:
            return ()
        listed = [raw] if isinstance(raw, dict) else list(raw)
        found = []
        for index, entry in enumerate(listed):
            here = f"{where}[{index}]" if isinstance(raw, list) else where
            condition = self._condition(entry, here, selector, tags, endpoints)
            if condition is not None:
                found.append(condition)
        return tuple(found)

    def _condition(
        self,
        raw: dict[str, Any],
        where: str,
        selector: Selector | None,
        tags: abc.Set[str],
        endpoints: bool,
    ) -> Condition | None:
        keys = set(raw)
        if "field" in raw:
            tests = [t for t in _FIELD_TESTS if t in raw]
            if len(tests) != 1 or len(keys) != 2:
                self.fail(
                    where, "a field condition takes exactly one of in, not_in, in_table, present"
                )
                return None
            path, node = self._path(raw["field"], f"{where}.field", selector)
            test = tests[0]
            allowed = node.get("enum") if node is not None else None
            if test == "in_table":
                table = self.tables.get(raw["in_table"])
                if table is None:
                    self.fail(f"{where}.in_table", f"no table named {raw['in_table']!r} in tables")
                    return None
                values = frozenset(table)
            else:
                values = frozenset(raw[test]) if test in ("in", "not_in") else frozenset()
            if allowed is not None and values - set(allowed):
                strange = ", ".join(sorted(map(str, values - set(allowed))))
                self.fail(
                    where, f"{strange}: not a value {raw['field']} can have ({', '.join(allowed)})"
                )
            present = bool(raw.get("present", True))
            table_name = raw.get("in_table")
            return Condition(where, test, path, values=values, table=table_name, present=present)
        if "object" in raw:
            if keys != {"object", "present"}:
                self.fail(where, "an object condition is {object: TAG, present: true|false}")
                return None
            self.require_tag(raw["object"], f"{where}.object", tags)
            return Condition(where, "object", tag=raw["object"], present=raw["present"])
        if "endpoint" in raw:
            tests = [t for t in _TYPE_TESTS if t in raw]
            if not endpoints:
                self.fail(where, "endpoint conditions belong to relationship rules")
                return None
            if len(tests) != 1 or len(keys) != 2:
                self.fail(where, "an endpoint condition takes exactly one of type_in, type_not_in")
                return None
            return Condition(
                where,
                tests[0],
                endpoint=raw["endpoint"],
                values=frozenset(raw[tests[0]]),
            )
        self.fail(where, "a condition needs field, object or endpoint")
        return None


def _build(source: Path, document: dict[str, Any], check: RuleChecker) -> Mapping:
    objects = tuple(
        _object_rule(check, f"$.objects[{i}]", raw) for i, raw in enumerate(document["objects"])
    )
    check.require_tag(document["created_by"], "$.created_by", check.defined_tags)
    extensions = tuple(
        _extension_rule(check, f"$.extension_properties[{i}]", raw)
        for i, raw in enumerate(document.get("extension_properties", ()))
    )
    relationships = tuple(
        _relationship_rule(check, f"$.relationships[{i}]", raw)
        for i, raw in enumerate(document.get("relationships", ()))
    )
    return Mapping(
        path=source,
        description=document.get("description", ""),
        created_by=document["created_by"],
        tables=MappingProxyType({k: MappingProxyType(v) for k, v in check.tables.items()}),
        objects=objects,
        extension_properties=extensions,
        relationships=relationships,
    )


def _object_rule(check: RuleChecker, where: str, raw: dict[str, Any]) -> ObjectRule:
    selector = check.selector(raw["for"], f"{where}.for")
    tags = frozenset(check.defined_tags)  # an object rule sees the tags of earlier rules
    when = check.conditions(raw.get("when"), f"{where}.when", selector, tags)
    kind = raw["type"]
    id_spec = check.id_spec(raw.get("id"), kind, f"{where}.id", selector)
    properties = tuple(
        (name, check.value(value, f"{where}.properties.{name}", selector, tags))
        for name, value in raw.get("properties", {}).items()
    )
    check.defined_tags.add(raw["tag"])
    return ObjectRule(
        where=where,
        tag=raw["tag"],
        selector=selector or parse_selector("package"),
        when=when,
        type=kind,
        id=id_spec,
        tlp=raw.get("tlp"),
        properties=properties,
    )


def _extension_rule(check: RuleChecker, where: str, raw: dict[str, Any]) -> ExtensionRule:
    selector = check.selector(raw["for"], f"{where}.for")
    tags = frozenset(check.defined_tags)
    on = check.tag_list(raw["on"], f"{where}.on", tags)
    return ExtensionRule(
        where,
        selector or parse_selector("package"),
        on,
        check.conditions(raw.get("when"), f"{where}.when", selector, tags),
        tuple(
            (name, check.value(value, f"{where}.properties.{name}", selector, tags))
            for name, value in raw.get("properties", {}).items()
        ),
        bool(raw.get("copy_custom", False)),
    )


def _relationship_rule(check: RuleChecker, where: str, raw: dict[str, Any]) -> RelationshipRule:
    selector = check.selector(raw["for"], f"{where}.for")
    tags = frozenset(check.defined_tags)
    return RelationshipRule(
        where,
        raw["type"],
        raw.get("otherwise"),
        selector or parse_selector("package"),
        check.conditions(raw.get("when"), f"{where}.when", selector, tags, endpoints=True),
        _endpoint(check, raw["source"], f"{where}.source", selector, tags),
        _endpoint(check, raw["target"], f"{where}.target", selector, tags),
    )


def _endpoint(
    check: RuleChecker, raw: Any, where: str, selector: Selector | None, tags: frozenset[str]
) -> Endpoint:
    if isinstance(raw, str):
        return Endpoint("tag", check.tag_list(raw, where, tags))
    if "each" in raw:
        return Endpoint("each", check.tag_list(raw["each"], f"{where}.each", tags))
    via = check.path(raw["via"], f"{where}.via", selector)
    return Endpoint("via", check.tag_list(raw["tags"], f"{where}.tags", tags), via)
