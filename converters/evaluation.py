"""Property values and conditions of a mapping, compiled into small closures.

A mapping's rules run once per element — tens of thousands of times for the data
points of a large package — so what each value spec and condition means is decided
once, here, when a conversion starts: a closure per property (read this path; or
read it, apply that transform, fall back to that default) and per ``when``.  The
engine then only calls them.  Semantics (mappings/README.md): an absent, empty or
``None`` value leaves the property out; a transform sees only present values; a
``when`` holds when every one of its conditions does.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Final

from .paths import Element
from .scope import Registry
from .spec import Condition, ValueSpec
from .transforms import TransformContext

__all__ = ["ALL_OBJECTS", "Getter", "Test", "compile_conditions", "compile_value"]

Getter = Callable[[Element], Any]
Test = Callable[[Element], bool]

#: Placeholder value of ``objects: all`` until every object of the package exists.
ALL_OBJECTS: Final = object()

# Compared only with falsy values: a value read from a package is JSON (strings,
# numbers, booleans, lists, dicts), and none of those is truthy and equal to these.
_EMPTY: Final[tuple[object, ...]] = ([], {}, "")


def compile_conditions(
    conditions: tuple[Condition, ...], root: Mapping[str, Any], registry: Registry
) -> Test | None:
    """One test for a ``when`` (``None`` when there is nothing to test)."""
    tests = [_condition(c, root, registry) for c in conditions if c.endpoint is None]
    if not tests:
        return None
    if len(tests) == 1:
        return tests[0]

    def every(element: Element) -> bool:
        return all(test(element) for test in tests)

    return every


def _condition(condition: Condition, root: Mapping[str, Any], registry: Registry) -> Test:
    if condition.test == "object":
        tag, present = condition.tag or "", condition.present

        def has_object(element: Element) -> bool:
            return (registry.find(tag, element) is not None) is present

        return has_object
    assert condition.path is not None
    get, values, present = condition.path.get, condition.values, condition.present
    if condition.test == "present":
        return lambda element: (get(element, root) is not None) is present
    if condition.test == "not_in":

        def not_in(element: Element) -> bool:
            value = get(element, root)
            return not isinstance(value, str | int) or value not in values

        return not_in

    def is_in(element: Element) -> bool:  # in, in_table
        value = get(element, root)
        return isinstance(value, str | int) and value in values

    return is_in


def compile_value(
    spec: ValueSpec, root: Mapping[str, Any], registry: Registry, context: TransformContext
) -> Getter:
    """The value of a property for an element (``None``: leave the property out)."""
    source = _source(spec, root, registry)
    transform = spec.transform.function if spec.transform is not None else None
    args, default = spec.args, spec.default
    when = compile_conditions(spec.when, root, registry)
    if transform is None and default is None and when is None and spec.source == "from":
        return source  # the common case: a path, nothing else
    if when is None and default is None and transform is not None:

        def transformed(element: Element) -> Any:  # a path and a transform
            found = source(element)
            if found is None:
                return None
            found = transform(found, args, context)
            return None if found is None or (not found and found in _EMPTY) else found

        return transformed

    def value(element: Element) -> Any:
        if when is not None and not when(element):
            return None
        found = source(element)
        if found is not None and transform is not None:
            found = transform(found, args, context)
        if found is None or (not found and found in _EMPTY):
            return default
        return found

    return value


def _source(spec: ValueSpec, root: Mapping[str, Any], registry: Registry) -> Getter:
    if spec.source == "from":
        paths = [path.get for path in spec.paths]
        only = spec.paths[0] if len(spec.paths) == 1 else None
        if only is not None and only.scope == "element" and len(only.keys) == 1:
            (key,) = only.keys

            def field(element: Element) -> Any:  # the common case, in one call
                value = element.value
                found = value.get(key) if isinstance(value, dict) else None
                return None if found is None or (not found and found in _EMPTY) else found

            return field
        if len(paths) == 1:
            (get,) = paths
            return lambda element: _present(get(element, root))

        def first(element: Element) -> Any:
            for get in paths:
                value = get(element, root)
                if value is not None:
                    return _present(value)
            return None

        return first
    if spec.source == "value":
        constant = spec.constant
        return lambda element: constant
    if spec.source == "objects":
        return lambda element: ALL_OBJECTS
    tag = spec.tag or ""
    if spec.source == "ref":

        def ref(element: Element) -> Any:
            draft = registry.find(tag, element)
            return draft.id if draft is not None else None

        return ref

    def view(element: Element) -> Any:
        draft = registry.find(tag, element)
        return draft.view() if draft is not None else None

    return view


def _present(value: Any) -> Any:
    """``None`` for the values STIX forbids or that say nothing (empty list, dict, string)."""
    return None if value is None or (not value and value in _EMPTY) else value
