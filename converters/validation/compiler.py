"""Compile the OASIS STIX 2.1 JSON schemas into :class:`~.nodes.Node` s, once per process.

The compiler resolves every ``$ref`` and flattens every ``allOf`` at compile time, so
each value is checked against one merged node: the object keywords of ``core.json``,
``properties.json`` and, say, ``indicator.json`` become one property-name lookup.
It implements exactly the keywords the schemas use (JSON Schema 2020-12) and refuses
any other, so a future schema release that needs more fails loudly here instead of
being checked loosely.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any, Final
from urllib.parse import urldefrag

from .applicators import AnyOfCheck, IfCheck, NotCheck, OneOfCheck
from .errors import SchemaError
from .formats import FORMATS
from .keywords import (
    ContainsCheck,
    EnumCheck,
    FalseCheck,
    ItemsCheck,
    NumberRangeCheck,
    ShapeRule,
    SizeCheck,
    StringRule,
    TypeCheck,
)
from .nodes import Check, Node, show
from .object_keywords import ObjectCheck, ObjectKeywords
from .regexes import compile_pattern
from .schemas import SchemaSet

__all__ = ["Compiler"]

_ANNOTATIONS: Final = frozenset(
    {"$id", "$schema", "title", "description", "definitions", "$defs", "$comment", "examples"}
)
_OBJECT_KEYWORDS: Final = frozenset(
    {"properties", "patternProperties", "additionalProperties", "required", "minProperties",
     "propertyNames"}
)  # fmt: skip
_KEYWORDS: Final = _ANNOTATIONS | _OBJECT_KEYWORDS | {
    "$ref", "allOf", "anyOf", "oneOf", "not", "if", "then", "else", "type", "enum", "const",
    "pattern", "minLength", "maxLength", "format", "minimum", "maximum", "items", "minItems",
    "contains",
}  # fmt: skip

#: Messages for patterns, by the ``title`` of the schema that holds them.
_PATTERN_MESSAGES: Final[Mapping[str, str]] = {
    "timestamp": "{value} is not a valid timestamp: expected RFC 3339 in UTC such as "
    "2024-05-01T10:00:00Z",
    "timestamp_millis": "{value} must be precise to at least the millisecond, such as "
    "2024-05-01T10:00:00.000Z",
    "identifier": "{value} is not a valid STIX identifier: expected <type>--<UUID>, such as "
    "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
    "binary": "{value} is not base64-encoded binary data",
    "hex": "{value} is not hexadecimal (an even number of 0-9, a-f)",
}
#: Patterns (by schema title) that say what a value is: when one fails, the value's
#: other patterns are not explained (a malformed timestamp is not also "imprecise").
_SHAPES: Final = frozenset({"timestamp"})
#: Messages for patterns, by the pattern itself.
_PATTERN_SOURCES: Final[Mapping[str, str]] = {
    r"^CVE-\d{4}-(0\d{3}|[1-9]\d{3,})$": "{value} is not a CVE id such as CVE-2024-12345 "
    "(source_name 'cve' needs one)",
    r"^CAPEC-\d+$": "{value} is not a CAPEC id such as CAPEC-123 (source_name 'capec' needs one)",
    r"^([a-z][a-z0-9]*)+(-[a-z0-9]+)*\-?$": "{value} is not a STIX type name: lowercase ASCII "
    "letters, digits and single hyphens, starting with a letter",
}
_PREFIX = re.compile(r"\^([a-z0-9-]+--)\Z")

#: What an ``additionalProperties: false`` schema allows, in words, by location.
_ALLOWED_NAMES: Final[Mapping[str, str]] = {
    "common/properties.json#": "property names are lowercase ASCII letters, digits and '_', "
    "3 to 250 characters, starting with a letter (STIX 2.1, property names)",
    "common/core.json#/properties/extensions": "extension keys are extension-definition ids "
    "or predefined extension names ending in '-ext' (STIX 2.1 §7.3, extensions)",
    "common/cyber-observable-core.json#/properties/extensions": "extension keys are "
    "extension-definition ids or predefined extension names ending in '-ext' "
    "(STIX 2.1 §7.3, extensions)",
    "common/dictionary.json#": "dictionary keys are at most 250 ASCII letters, digits, '_' "
    "and '-' (STIX 2.1, dictionary type)",
    "common/hashes-type.json#": "hash algorithm names are 3 to 250 ASCII letters, digits, '_' "
    "and '-', such as SHA-256 (STIX 2.1, hashes type)",
}


_RELATIONSHIP_REF = (
    "a relationship cannot refer to a relationship, sighting, bundle, marking definition "
    "or language content (STIX 2.1 §5.1)"
)
_SIGHTING_OF_REF = (
    "sighting_of_ref refers to an SDO, not to a sighting, relationship, bundle, marking "
    "definition or language content (STIX 2.1 §5.2)"
)
_OBJECT_REFS = (
    "observed-data object_refs refer to SCOs, relationships and sightings only (STIX 2.1 §4.14)"
)

#: What ``not``, ``anyOf`` and ``oneOf`` mean in STIX terms, by the keyword's location.
_HINTS: Final[Mapping[str, str]] = {
    "common/core.json#/not": "a reserved property name (STIX 2.1, reserved names)",
    "common/cyber-observable-core.json#/not": "a reserved property name (STIX 2.1, reserved names)",
    "common/core.json#/properties/type/not": "a reserved type name",
    "common/cyber-observable-core.json#/properties/type/not": "a reserved type name",
    "sros/relationship.json#/allOf/1/properties/source_ref/allOf/1/not": _RELATIONSHIP_REF,
    "sros/relationship.json#/allOf/1/properties/target_ref/allOf/1/not": _RELATIONSHIP_REF,
    **{
        f"sros/sighting.json#/allOf/1/properties/sighting_of_ref/allOf/{i}/not": _SIGHTING_OF_REF
        for i in range(1, 6)
    },
    "common/language-content.json#/allOf/1/properties/object_ref/allOf/1/not": "object_ref "
    "cannot refer to a bundle or another language content (STIX 2.1 §7.1)",
    "observables/windows-registry-key.json#/allOf/1/properties/key/not": "the key starts "
    "with the full hive name such as HKEY_LOCAL_MACHINE, not an abbreviation (STIX 2.1 §6.17)",
    "common/extension-definition.json#/allOf/2/then/not": "extension_properties is only "
    "allowed when extension_types has toplevel-property-extension (STIX 2.1 §7.3)",
    "common/external-reference.json#/oneOf/2/properties/source_name/not": "source_name "
    "'cve' and 'capec' need an external_id such as CVE-2024-12345 or CAPEC-123",
    "common/external-reference.json#/oneOf/2/properties/external_id/not": "a CVE or CAPEC id "
    "needs source_name 'cve' or 'capec' (STIX 2.1, external reference)",
    "observables/email-message.json#/definitions/email-additional-header-fields/not": "these "
    "headers have their own email-message properties (STIX 2.1 §6.6)",
    "sdos/observed-data.json#/allOf/1/properties/object_refs/items/anyOf": _OBJECT_REFS,
    "sdos/observed-data.json#/oneOf": "observed-data has objects or object_refs, exactly "
    "one of the two (STIX 2.1 §4.14)",
    "sdos/malware.json#/oneOf": "a malware family (is_family: true) needs a name (STIX 2.1 §4.11)",
    "sdos/malware-analysis.json#/allOf/1/properties/sample_ref/allOf/1/oneOf": "sample_ref "
    "refers to a file, network-traffic or artifact (STIX 2.1 §4.12)",
    "sdos/location.json#/allOf/2/anyOf": "a location needs region, country, or latitude and "
    "longitude (STIX 2.1 §4.10)",
    "sdos/location.json#/allOf/3/oneOf": "latitude and longitude go together (STIX 2.1 §4.10)",
    "sdos/location.json#/allOf/4/oneOf": "precision needs latitude and longitude (STIX 2.1 §4.10)",
    "observables/artifact.json#/allOf/2/oneOf": "an artifact has payload_bin, or url with "
    "hashes, not both (STIX 2.1 §6.1)",
    "observables/artifact.json#/allOf/3/oneOf": "decryption_key needs encryption_algorithm "
    "(STIX 2.1 §6.1)",
    "observables/email-message.json#/oneOf": "body goes with is_multipart false, "
    "body_multipart with is_multipart true (STIX 2.1 §6.6)",
    "observables/email-message.json#/definitions/mime-part-type/oneOf": "a MIME part has "
    "body or body_raw_ref, exactly one (STIX 2.1 §6.6)",
    "observables/network-traffic.json#/oneOf": "traffic that is still active (is_active: "
    "true) has no end (STIX 2.1 §6.12)",
}


class Compiler:
    """Turns schemas of a :class:`SchemaSet` into nodes, sharing every compiled subschema.

    ``overrides`` replaces the subschema at a location (``"common/bundle.json#/properties/
    objects/items"``) before compiling; ``refinements`` adds a string rule to every value
    checked against a whole document (by ``$id``), such as "a timestamp is a real date".
    """

    def __init__(
        self,
        schemas: SchemaSet,
        *,
        overrides: Mapping[str, Any] | None = None,
        refinements: Mapping[str, StringRule] | None = None,
    ) -> None:
        self._schemas = schemas
        self._overrides = dict(overrides or {})
        self._refinements = dict(refinements or {})
        self._nodes: dict[str, Node] = {}
        self._building: set[str] = set()

    def document(self, uri: str) -> Node:
        """The compiled schema of a whole document."""
        if uri not in self._schemas.documents:
            raise SchemaError(f"no schema has the $id {uri}")
        return self._node(self._schemas.documents[uri], uri, _short(uri) + "#")

    def _node(self, schema: Any, base: str, where: str) -> Node:
        schema = self._overrides.get(where, schema)
        node = self._nodes.get(where)
        if node is not None:
            return node
        if where in self._building:
            raise SchemaError(
                f"schema {where} refers to itself, which the compiler does not support"
            )
        self._building.add(where)
        try:
            node = Node(self._checks(self._conjuncts(schema, base, where)), where)
        finally:
            self._building.discard(where)
        self._nodes[where] = node
        return node

    def _conjuncts(self, schema: Any, base: str, where: str) -> list[tuple[Any, str, str]]:
        """The schema and everything it applies through ``$ref`` and ``allOf``."""
        schema = self._overrides.get(where, schema)
        if isinstance(schema, bool):
            return [(schema, base, where)]
        if not isinstance(schema, dict):
            raise SchemaError(f"{where} is not a schema")
        unknown = set(schema) - _KEYWORDS
        if unknown:
            raise SchemaError(f"{where} uses unsupported keywords: {', '.join(sorted(unknown))}")
        found = [(schema, base, where)]
        ref = schema.get("$ref")
        if ref is not None:
            uri, target = self._schemas.resolve(base, ref)
            document, fragment = urldefrag(uri)
            found += self._conjuncts(target, document, f"{_short(document)}#{fragment}")
        for index, part in enumerate(schema.get("allOf", ())):
            found += self._conjuncts(part, base, f"{where}/allOf/{index}")
        return found

    def _checks(self, conjuncts: list[tuple[Any, str, str]]) -> list[Check]:
        types: list[Check] = []
        checks: list[Check] = []
        groups: list[ObjectKeywords] = []
        required: set[str] = set()
        min_properties = 0
        names: list[Node] = []
        has_object_keywords = False
        for schema, base, where in conjuncts:
            if schema is False:
                checks.append(FalseCheck(f"no value is allowed here ({where})"))
                continue
            if schema is True:
                continue
            if "type" in schema:
                declared = schema["type"]
                types.append(TypeCheck([declared] if isinstance(declared, str) else declared))
            checks.extend(self._value_checks(schema, base, where))
            if _OBJECT_KEYWORDS & schema.keys():
                has_object_keywords = True
                required.update(schema.get("required", ()))
                min_properties = max(min_properties, schema.get("minProperties", 0))
                if "propertyNames" in schema:
                    names.append(
                        self._node(schema["propertyNames"], base, f"{where}/propertyNames")
                    )
                if {"properties", "patternProperties", "additionalProperties"} & schema.keys():
                    groups.append(self._object_keywords(schema, base, where))
            checks.extend(self._applicators(schema, base, where))
            if where.endswith("#") and base in self._refinements:
                checks.append(self._refinements[base])
        if has_object_keywords:
            checks.insert(0, ObjectCheck(groups, frozenset(required), min_properties, names))
        return types + checks  # type failures first: they make the rest moot

    def _value_checks(self, schema: dict[str, Any], base: str, where: str) -> list[Check]:
        checks: list[Check] = []
        if "enum" in schema:
            checks.append(EnumCheck(schema["enum"]))
        if "const" in schema:
            checks.append(EnumCheck([schema["const"]]))
        if "pattern" in schema:
            checks.append(_pattern_rule(schema["pattern"], schema.get("title")))
        if "minLength" in schema or "maxLength" in schema:
            low, high = schema.get("minLength", 0), schema.get("maxLength")
            checks.append(SizeCheck(str, low, high, "characters"))
        if "format" in schema:
            if schema["format"] not in FORMATS:
                raise SchemaError(f"{where} uses the unsupported format {schema['format']!r}")
            check, expected = FORMATS[schema["format"]]
            checks.append(StringRule(check, _describe(f"{{value}} is not {expected}")))
        if "minimum" in schema or "maximum" in schema:
            checks.append(NumberRangeCheck(schema.get("minimum"), schema.get("maximum")))
        if "items" in schema:
            checks.append(ItemsCheck(self._node(schema["items"], base, f"{where}/items")))
        if "minItems" in schema:
            checks.append(SizeCheck(list, schema["minItems"], None, "items"))
        if "contains" in schema:
            checks.append(ContainsCheck(self._node(schema["contains"], base, f"{where}/contains")))
        return checks

    def _object_keywords(self, schema: dict[str, Any], base: str, where: str) -> ObjectKeywords:
        properties = {
            name: self._node(sub, base, f"{where}/properties/{name}")
            for name, sub in schema.get("properties", {}).items()
        }
        patterns = tuple(
            (
                compile_pattern(pattern),
                self._node(sub, base, f"{where}/patternProperties/{pattern}"),
            )
            for pattern, sub in schema.get("patternProperties", {}).items()
        )
        additional = None
        if "additionalProperties" in schema:
            additional = self._node(
                schema["additionalProperties"], base, f"{where}/additionalProperties"
            )
        allowed = _ALLOWED_NAMES.get(where)
        if allowed is None:
            listed = ", ".join(sorted(properties)[:15]) or "none"
            allowed = f"the allowed properties are {listed}"
        return ObjectKeywords(properties, patterns, additional, allowed)

    def _applicators(self, schema: dict[str, Any], base: str, where: str) -> list[Check]:
        checks: list[Check] = []
        if "not" in schema:
            node = self._node(schema["not"], base, f"{where}/not")
            checks.append(NotCheck(node, _HINTS.get(f"{where}/not", "")))
        if "anyOf" in schema:
            nodes = [
                self._node(sub, base, f"{where}/anyOf/{i}") for i, sub in enumerate(schema["anyOf"])
            ]
            checks.append(AnyOfCheck(nodes, where, _HINTS.get(f"{where}/anyOf", "")))
        if "oneOf" in schema:
            nodes = [
                self._node(sub, base, f"{where}/oneOf/{i}") for i, sub in enumerate(schema["oneOf"])
            ]
            checks.append(OneOfCheck(nodes, where, _HINTS.get(f"{where}/oneOf", "")))
        if "if" in schema:
            condition = self._node(schema["if"], base, f"{where}/if")
            then = self._node(schema["then"], base, f"{where}/then") if "then" in schema else None
            otherwise = (
                self._node(schema["else"], base, f"{where}/else") if "else" in schema else None
            )
            checks.append(IfCheck(condition, then, otherwise))
        return checks


def _pattern_rule(pattern: str, title: object) -> StringRule:
    regex = compile_pattern(pattern)
    template = _PATTERN_SOURCES.get(pattern)
    if template is None and isinstance(title, str):
        template = _PATTERN_MESSAGES.get(title)
    if template is None:
        prefix = _PREFIX.match(pattern)
        if prefix:
            template = f"{{value}} must start with '{prefix.group(1)}'"
        else:
            template = f"{{value}} does not match the pattern {pattern!r}"
    rule = ShapeRule if title in _SHAPES else StringRule
    return rule(regex.search, _describe(template))


def _describe(template: str) -> Callable[[str], str]:
    def describe(value: str) -> str:
        return template.replace("{value}", show(value), 1)

    return describe


def _short(uri: str) -> str:
    """``.../schemas/sdos/indicator.json`` -> ``sdos/indicator.json``."""
    return uri.rsplit("/schemas/", 1)[-1]
