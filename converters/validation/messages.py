"""Why a value fails the OASIS schemas, in STIX terms, from jsonschema-rs's errors.

jsonschema-rs says which keyword failed where (``error.kind``, the instance path, the
keyword's location in the schemas).  This module words it for the people who fix the
data: the value found and what was expected (JSON Schema 2020-12 validation §6-§7),
and, where a keyword stands for a STIX rule (``not``, ``anyOf``, ``oneOf``), that rule
by its location (:data:`_HINTS`).  ``anyOf``/``oneOf`` without a hint are explained by
the alternative the value came closest to.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, Final
from urllib.parse import unquote

from jsonschema_rs import ValidationError
from jsonschema_rs import ValidationErrorKind as Kind

from .problems import Failure, Steps, kind_name, show
from .schemas import SchemaSet
from .timestamps import date_problem

__all__ = ["Explainer"]

_TYPE_NAMES: Final = {
    "object": "an object", "array": "an array", "string": "a string", "integer": "an integer",
    "number": "a number", "boolean": "a boolean", "null": "null",
}  # fmt: skip
_UNITS: Final[Mapping[type, str]] = {str: "characters", list: "items", dict: "properties"}
_EMPTY: Final[Mapping[type, str]] = {
    str: "an empty string", list: "an empty array", dict: "an empty object"
}  # fmt: skip
_FORMATS: Final = {
    "uri": "an RFC 3986 URI such as https://example.com/report",
    "idn-hostname": "a valid (internationalised) domain name",
    "email": "an e-mail address such as analyst@example.org",
}

#: Messages for patterns, by the ``title`` of the schema that holds them.
_PATTERN_TITLES: Final = {
    "timestamp": "{value} is not a valid timestamp: expected RFC 3339 in UTC such as "
    "2024-05-01T10:00:00Z",
    "timestamp_millis": "{value} must be precise to at least the millisecond, such as "
    "2024-05-01T10:00:00.000Z",
    "identifier": "{value} is not a valid STIX identifier: expected <type>--<UUID>, such as "
    "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
    "binary": "{value} is not base64-encoded binary data",
    "hex": "{value} is not hexadecimal (an even number of 0-9, a-f)",
}
#: Pattern titles that say what a value is: when one fails, the value's other patterns
#: are not explained (a malformed timestamp is not also "imprecise").
_SHAPES: Final = frozenset({"timestamp"})
#: Messages for patterns, by the pattern itself.
_PATTERNS: Final = {
    r"^CVE-\d{4}-(0\d{3}|[1-9]\d{3,})$": "{value} is not a CVE id such as CVE-2024-12345 "
    "(source_name 'cve' needs one)",
    r"^CAPEC-\d+$": "{value} is not a CAPEC id such as CAPEC-123 (source_name 'capec' needs one)",
    r"^([a-z][a-z0-9]*)+(-[a-z0-9]+)*\-?$": "{value} is not a STIX type name: lowercase ASCII "
    "letters, digits and single hyphens, starting with a letter",
}

_PREFIX: Final = re.compile(r"\^([a-z0-9-]+--)\Z")

_EXTENSION_KEYS = (
    "extension keys are extension-definition ids or predefined extension names ending in "
    "'-ext' (STIX 2.1 §7.3, extensions)"
)
#: What an ``additionalProperties: false`` schema allows, in words, by location.
_ALLOWED_NAMES: Final = {
    "common/properties.json#": "property names are lowercase ASCII letters, digits and '_', "
    "3 to 250 characters, starting with a letter (STIX 2.1, property names)",
    "common/core.json#/properties/extensions": _EXTENSION_KEYS,
    "common/cyber-observable-core.json#/properties/extensions": _EXTENSION_KEYS,
    "common/dictionary.json#": "dictionary keys are at most 250 ASCII letters, digits, '_' "
    "and '-' (STIX 2.1, dictionary type)",
    "common/hashes-type.json#": "hash algorithm names are 3 to 250 ASCII letters, digits, '_' "
    "and '-', such as SHA-256 (STIX 2.1, hashes type)",
}

_RESERVED = "a reserved property name (STIX 2.1, reserved names)"
_RELATIONSHIP_REF = (
    "a relationship cannot refer to a relationship, sighting, bundle, marking definition "
    "or language content (STIX 2.1 §5.1)"
)
_SIGHTING_OF_REF = (
    "sighting_of_ref refers to an SDO, not to a sighting, relationship, bundle, marking "
    "definition or language content (STIX 2.1 §5.2)"
)
_SIGHTING = "sros/sighting.json#/allOf/1/properties/sighting_of_ref/allOf/{}/not"
#: What ``not``, ``anyOf`` and ``oneOf`` mean in STIX terms, by the keyword's location.
_HINTS: Final[Mapping[str, str]] = {
    "common/core.json#/not": _RESERVED,
    "common/cyber-observable-core.json#/not": _RESERVED,
    "common/core.json#/properties/type/not": "a reserved type name",
    "common/cyber-observable-core.json#/properties/type/not": "a reserved type name",
    "sros/relationship.json#/allOf/1/properties/source_ref/allOf/1/not": _RELATIONSHIP_REF,
    "sros/relationship.json#/allOf/1/properties/target_ref/allOf/1/not": _RELATIONSHIP_REF,
    **{_SIGHTING.format(i): _SIGHTING_OF_REF for i in range(1, 6)},
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
    "sdos/observed-data.json#/allOf/1/properties/object_refs/items/anyOf": "observed-data "
    "object_refs refer to SCOs, relationships and sightings only (STIX 2.1 §4.14)",
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


class Explainer:
    """Turns jsonschema-rs errors into :class:`Failure` s worded for STIX users."""

    def __init__(self, schemas: SchemaSet) -> None:
        self._schemas = schemas

    def explain(self, errors: Iterable[ValidationError]) -> list[Failure]:
        """Every failure the errors stand for, in their order.

        A value of the wrong type is reported as that alone: the other keywords that
        reject it at the same place (an enum of strings, a pattern in a ``not``) are moot.
        Likewise a value that is not a timestamp is not also "imprecise": one bad value,
        one problem.
        """
        listed = list(errors)
        mistyped = {tuple(e.instance_path) for e in listed if isinstance(e.kind, Kind.Type)}
        misshapen = {tuple(e.instance_path) for e in listed if self._is_shape(e)}
        return [
            failure
            for error in listed
            if isinstance(error.kind, Kind.Type) or tuple(error.instance_path) not in mistyped
            if self._is_shape(error)
            or not isinstance(error.kind, Kind.Pattern)
            or tuple(error.instance_path) not in misshapen
            for failure in self._failures(error)
        ]

    def _is_shape(self, error: ValidationError) -> bool:
        """Whether ``error`` is the pattern saying what a value *is* (a timestamp)."""
        if not isinstance(error.kind, Kind.Pattern):
            return False
        where = _location(error).removesuffix("/pattern")
        return bool(self._schemas.at(where).get("title") in _SHAPES)

    def _failures(self, error: ValidationError) -> Iterator[Failure]:
        steps: Steps = tuple(error.instance_path)
        where = _location(error)
        value: Any = error.instance
        match error.kind:
            case Kind.Type(types=types):
                integral = isinstance(value, float) and "integer" in types
                found = show(value) if integral else _got(value)
                yield Failure(steps, f"expected {_expected(types)}, got {found}")
            case Kind.Required(property=name):
                yield Failure((*steps, name), "required property is missing")
            case Kind.AdditionalProperties(unexpected=names):
                allowed = self._allowed(where.removesuffix("/additionalProperties"))
                for name in names:
                    yield Failure((*steps, name), f"{show(name)} is not allowed here: {allowed}")
            case Kind.Pattern(pattern=pattern):
                yield Failure(steps, self._pattern(where, pattern, value))
            case Kind.Format(format=name):
                yield Failure(steps, f"{show(value)} is not {_FORMATS.get(name, name)}")
            case (
                Kind.MinLength(limit=limit)
                | Kind.MinItems(limit=limit)
                | Kind.MinProperties(limit=limit)
            ):
                if not value and limit == 1:
                    yield Failure(steps, f"must not be {_EMPTY[type(value)]}")
                else:
                    count = f"{limit} {_UNITS[type(value)]}"
                    yield Failure(steps, f"must have at least {count}, got {len(value)}")
            case Kind.MaxLength(limit=limit) | Kind.MaxItems(limit=limit):
                count = f"{limit} {_UNITS[type(value)]}"
                yield Failure(steps, f"must have at most {count}, got {len(value)}")
            case Kind.Minimum(limit=limit):
                yield Failure(steps, f"must be at least {limit}, got {show(value)}")
            case Kind.Maximum(limit=limit):
                yield Failure(steps, f"must be at most {limit}, got {show(value)}")
            case Kind.Constant(expected_value=expected):
                yield Failure(steps, f"must be {show(expected)}, got {show(value)}")
            case Kind.Enum(options=options):
                if len(options) == 1:
                    yield Failure(steps, f"must be {show(options[0])}, got {show(value)}")
                else:
                    listed = ", ".join(show(option) for option in options[:12])
                    more = ", …" if len(options) > 12 else ""
                    yield Failure(steps, f"{show(value)} is not one of {listed}{more}")
            case Kind.Not(schema=schema):
                yield from _forbidden(steps, where, schema, value)
            case (
                Kind.AnyOf(context=context)
                | Kind.OneOfNotValid(context=context)
                | Kind.OneOfMultipleValid(context=context)
            ):
                yield from self._alternatives(error, where, context)
            case Kind.PropertyNames(error=inner):
                for failure in self._failures(inner):
                    message = f"property name {show(inner.instance)}: {failure.message}"
                    yield Failure((*steps, str(inner.instance)), message)
            case Kind.Contains():
                yield Failure(steps, "no item of the array is acceptable here")
            case Kind.FalseSchema():
                yield Failure(steps, f"no value is allowed here ({where})")
            case _:  # a keyword the OASIS schemas do not use today
                yield Failure(steps, " ".join(error.message.split())[:300])

    def _pattern(self, where: str, pattern: str, value: str) -> str:
        title = self._schemas.at(where.removesuffix("/pattern")).get("title")
        problem = date_problem(value) if title == "timestamp" else None
        if problem:
            return problem  # the shape of a timestamp, but no such date
        template = _PATTERNS.get(pattern) or _PATTERN_TITLES.get(title)
        prefix = _PREFIX.match(pattern)
        if template is None and prefix:
            template = f"{{value}} must start with '{prefix.group(1)}'"
        template = template or f"{{value}} does not match the pattern {pattern!r}"
        return template.replace("{value}", show(value), 1)

    def _allowed(self, where: str) -> str:
        if where in _ALLOWED_NAMES:
            return _ALLOWED_NAMES[where]
        listed = ", ".join(sorted(self._schemas.at(where).get("properties", ()))[:15])
        return f"the allowed properties are {listed or 'none'}"

    def _alternatives(
        self, error: ValidationError, where: str, context: Sequence[Sequence[ValidationError]]
    ) -> Iterator[Failure]:
        """A value that fits none of the alternatives of an ``anyOf`` or ``oneOf``, or
        several of a ``oneOf``."""
        steps: Steps = tuple(error.instance_path)
        if where in _HINTS:
            yield Failure(steps, _with_value(error.instance, _HINTS[where]))
            return
        branches = self._schemas.at(where)
        if all(isinstance(b, dict) and b.keys() == {"required"} for b in branches):
            word = "at least one" if where.endswith("anyOf") else "exactly one"
            options = " / ".join(" and ".join(map(repr, b["required"])) for b in branches)
            yield Failure(steps, f"must have {word} of: {options}")
            return
        fits = sum(1 for branch in context if not branch)
        if fits:
            yield Failure(steps, f"fits {fits} of the alternatives; exactly one is allowed")
            return
        here = error.instance_path
        types = [
            e.kind.types
            for branch in context
            for e in branch
            if isinstance(e.kind, Kind.Type) and e.instance_path == here
        ]
        if len(types) == len(context):  # every alternative wants another type
            names = [name for listed in types for name in listed]
            yield Failure(steps, f"expected {_expected(names)}, got {_got(error.instance)}")
            return
        explained = [self.explain(branch) for branch in context]
        yield from min(
            explained,
            key=lambda found: (len(found), -max((len(f.steps) for f in found), default=0)),
        )


def _forbidden(steps: Steps, where: str, schema: Any, value: Any) -> Iterator[Failure]:
    """A value that matches what a ``not`` forbids."""
    hint = _HINTS.get(where)
    present = sorted(_required(schema) & value.keys()) if isinstance(value, dict) else []
    if present:
        for key in present:
            yield Failure((*steps, key), hint or "this property is not allowed here")
    elif hint:
        yield Failure(steps, _with_value(value, hint))
    elif isinstance(schema, dict) and schema.keys() <= {"enum", "const"}:
        yield Failure(steps, f"must not be {show(value)}")
    else:
        yield Failure(steps, f"{show(value)} is not allowed here ({where})")


def _required(schema: Any) -> set[str]:
    """The keys a ``{"required": …}`` schema, or an ``anyOf`` of them, asks for."""
    if not isinstance(schema, dict):
        return set()
    if schema.keys() == {"required"}:
        return set(schema["required"])
    if schema.keys() == {"anyOf"}:
        return {key for branch in schema["anyOf"] for key in _required(branch)}
    return set()


def _location(error: ValidationError) -> str:
    """``…/schemas/sdos/location.json#/allOf/2/anyOf`` -> ``sdos/location.json#/allOf/2/anyOf``."""
    return unquote(error.absolute_keyword_location or "").rsplit("/schemas/", 1)[-1]


def _expected(names: Sequence[str]) -> str:
    """``"an array, a string or null"`` for JSON Schema type names."""
    words = [_TYPE_NAMES[name] for name in dict.fromkeys(names)]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]


def _got(value: Any) -> str:
    """``"an integer (7)"``, ``"null"``, ``"an object"``: what was found instead."""
    kind, shown = kind_name(value), show(value)
    return (
        kind if shown in (kind, "null") or isinstance(value, dict | list) else f"{kind} ({shown})"
    )


def _with_value(value: Any, hint: str) -> str:
    """A hint, after the offending value when that is a short scalar."""
    return hint if isinstance(value, dict | list) else f"{show(value)}: {hint}"
