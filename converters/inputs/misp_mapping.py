"""The MISP input mapping (``mappings/inputs/misp.yaml``): its rules, checked when loaded.

The file's language is in ``docs/inputs.md`` and its shape in ``mappings/inputs/misp.schema.json``.
:func:`load_misp_mapping` turns it into frozen rules, after checking that every
data-point type and field it names exists in the package format.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final

from .input_mapping import MAPPINGS_DIR, InputMappingChecker, read_input_mapping

__all__ = [
    "DEFAULT_MISP_MAPPING",
    "FieldRule",
    "MispMapping",
    "ObjectRule",
    "PointRule",
    "load_misp_mapping",
]

#: The default MISP input mapping.
DEFAULT_MISP_MAPPING: Final = MAPPINGS_DIR / "misp.yaml"


@dataclass(frozen=True, slots=True)
class FieldRule:
    """A data-point field: from object relations (first present), a constant chosen by
    the relation that gave the value, or a constant; tried in that order."""

    relations: tuple[str, ...]
    by_value: Mapping[str, str]
    constant: str | int | None


@dataclass(frozen=True, slots=True)
class PointRule:
    """What one MISP attribute type becomes: a data point of ``type`` (``ip``: IPv4 or
    IPv6 by the value) from part ``part`` of a composite value."""

    type: str
    part: int | None
    fields: tuple[tuple[str, FieldRule], ...]


@dataclass(frozen=True, slots=True)
class ObjectRule:
    """What one MISP object becomes: a data point whose value is the first present of
    the ``value`` relations, with further fields."""

    type: str
    value: tuple[str, ...]
    fields: tuple[tuple[str, FieldRule], ...]

    def relations(self) -> frozenset[str]:
        """Every relation the rule reads."""
        used = set(self.value)
        for _, rule in self.fields:
            used.update(rule.relations)
        return frozenset(used)


@dataclass(frozen=True, slots=True)
class MispMapping:
    """A checked MISP input mapping."""

    path: Path
    id_prefix: str
    default_tlp: str
    tlp_tags: Mapping[str, str]
    galaxies: Mapping[str, str]  # galaxy type -> actor kind
    attributes: Mapping[str, tuple[PointRule, ...]]
    objects: Mapping[str, ObjectRule]


def load_misp_mapping(path: str | Path | None = None) -> MispMapping:
    """Load and check a MISP input mapping (the default one when ``path`` is ``None``).

    Raises :class:`~converters.errors.MappingError` listing every problem.
    """
    if path is None:
        return _default()
    return _load(Path(path))


@functools.cache
def _default() -> MispMapping:
    return _load(DEFAULT_MISP_MAPPING)


def _load(source: Path) -> MispMapping:
    document, checker = read_input_mapping(source, "misp.schema.json")
    attributes = {}
    for name, rules in document["attributes"].items():
        listed = rules if isinstance(rules, list) else [rules]
        base = f"$.attributes.{name}"
        attributes[name] = tuple(
            _point_rule(checker, f"{base}[{i}]" if isinstance(rules, list) else base, rule)
            for i, rule in enumerate(listed)
        )
    objects = {}
    for name, rule in document.get("objects", {}).items():
        base = f"$.objects.{name}"
        checker.point_type(f"{base}.type", rule["type"])
        fields = _fields(checker, base, rule.get("fields", {}))
        objects[name] = ObjectRule(rule["type"], tuple(rule["value"]), fields)
        for field_name, field_rule in fields:
            for relation in field_rule.by_value:
                if relation not in rule["value"]:
                    checker.add(
                        f"{base}.fields.{field_name}.by_value",
                        f"{relation!r} is not one of this object's value relations",
                    )
    checker.finish()
    return MispMapping(
        path=source,
        id_prefix=document["package"]["id_prefix"],
        default_tlp=document["package"]["default_tlp"],
        tlp_tags=MappingProxyType(dict(document["tlp_tags"])),
        galaxies=MappingProxyType(
            {name: rule["kind"] for name, rule in document.get("galaxies", {}).items()}
        ),
        attributes=MappingProxyType(attributes),
        objects=MappingProxyType(objects),
    )


def _point_rule(checker: InputMappingChecker, path: str, rule: dict[str, Any]) -> PointRule:
    checker.point_type(f"{path}.type", rule["type"])
    fields = _fields(checker, path, rule.get("fields", {}))
    for name, field_rule in fields:
        if field_rule.relations or field_rule.by_value:
            checker.add(f"{path}.fields.{name}", "an attribute has no relations: use value")
    return PointRule(rule["type"], rule.get("part"), fields)


def _fields(
    checker: InputMappingChecker, path: str, fields: dict[str, Any]
) -> tuple[tuple[str, FieldRule], ...]:
    rules = []
    for name, spec in fields.items():
        checker.point_field(f"{path}.fields.{name}", name)
        rules.append(
            (
                name,
                FieldRule(
                    tuple(spec.get("from", ())),
                    MappingProxyType(dict(spec.get("by_value", {}))),
                    spec.get("value"),
                ),
            )
        )
    return tuple(rules)
