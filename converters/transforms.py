"""The registry of named transforms a mapping file may apply to a value.

A transform is a small pure function ``(value, args, context) -> value``: ``value``
is what the property's source gave (never ``None``: absent sources skip the
transform), ``args`` the rule's arguments (checked against the declared parameters
when the mapping is loaded), ``context`` the package and the mapping's tables.  It
returns the STIX value, or ``None`` when the property does not apply (``iban`` of
a domestic account number); it raises :class:`~converters.errors.TransformError`
when the value is wrong, and the engine adds where it was.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from .errors import TransformError
from .ids import SCO_ID_PROPERTIES
from .normalize import is_display_name, is_iban

if TYPE_CHECKING:
    from .package import Package

__all__ = ["TRANSFORMS", "TransformContext", "TransformSpec", "stix_pattern", "transform"]


@dataclass(frozen=True, slots=True)
class TransformContext:
    """What a transform may read besides its value: the package and the mapping's tables."""

    package: Package
    tables: Mapping[str, Mapping[str, Any]]


Transform = Callable[[Any, Mapping[str, Any], TransformContext], Any]


@dataclass(frozen=True, slots=True)
class TransformSpec:
    """A registered transform and its parameters (name -> ``"table"`` or ``"text"``)."""

    name: str
    function: Transform
    params: Mapping[str, str]
    summary: str


#: Every transform a mapping may name, by name.
TRANSFORMS: Final[dict[str, TransformSpec]] = {}


def transform(name: str, **params: str) -> Callable[[Transform], Transform]:
    """Register a transform under ``name``; ``params`` declares its (required) arguments."""

    def register(function: Transform) -> Transform:
        summary = (function.__doc__ or "").strip().splitlines()[0]
        TRANSFORMS[name] = TransformSpec(name, function, params, summary)
        return function

    return register


@transform("lookup", table="table")
def lookup(value: Any, args: Mapping[str, Any], context: TransformContext) -> Any:
    """The entry for ``value`` in the mapping's table ``args.table``."""
    table = context.tables[args["table"]]
    try:
        return table[str(value)]
    except KeyError:
        raise TransformError(f"table {args['table']} has no entry for {value!r}") from None


@transform("listed")
def listed(value: Any, args: Mapping[str, Any], context: TransformContext) -> list[Any]:
    """The value as a one-element list (``sectors: [financial-services]``)."""
    return [value]


@transform("keyed", key="text")
def keyed(value: Any, args: Mapping[str, Any], context: TransformContext) -> dict[str, Any]:
    """The value under one key (``hashes: {SHA-256: …}``)."""
    return {args["key"]: value}


@transform("iban")
def iban(value: Any, args: Mapping[str, Any], context: TransformContext) -> str | None:
    """A bank-account value when it is an IBAN, else nothing."""
    return value if isinstance(value, str) and is_iban(value) else None


@transform("account_number")
def account_number(value: Any, args: Mapping[str, Any], context: TransformContext) -> str | None:
    """A bank-account value when it is a domestic account number (not an IBAN)."""
    return str(value) if not (isinstance(value, str) and is_iban(value)) else None


@transform("display_name")
def display_name(value: Any, args: Mapping[str, Any], context: TransformContext) -> str | None:
    """A social-account value when it is a display name (it has spaces), else nothing."""
    return value if isinstance(value, str) and is_display_name(value) else None


@transform("external_references")
def external_references(
    value: Any, args: Mapping[str, Any], context: TransformContext
) -> list[dict[str, str]] | None:
    """Source refs -> STIX external references (``source_name``, ``url``, ``description``)."""
    references = []
    for ref in value:
        source = context.package.items[ref].fields
        reference = {"source_name": source["name"]}
        described = [source[k] for k in ("kind",) if k in source]
        if "retrieved" in source:
            described.append(f"retrieved {source['retrieved']}")
        if described:
            reference["description"] = ", ".join(described)
        if "url" in source:
            reference["url"] = source["url"]
        references.append(reference)
    return references or None


@transform("attack_reference")
def attack_reference(
    value: Any, args: Mapping[str, Any], context: TransformContext
) -> list[dict[str, str]]:
    """An ATT&CK technique id -> its ``mitre-attack`` external reference."""
    technique, _, sub = str(value).partition(".")
    path = f"{technique}/{sub}" if sub else technique
    return [
        {
            "source_name": "mitre-attack",
            "external_id": str(value),
            "url": f"https://attack.mitre.org/techniques/{path}/",
        }
    ]


_PLAIN_KEY: Final = re.compile(r"[a-z_][a-z0-9_]*")


def _literal(value: Any) -> str:
    """A STIX pattern literal (STIX 2.1 §9.4): quotes and backslashes escaped."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    text = str(value).replace("\\", "\\\\").replace("'", "\\'")
    return f"'{text}'"


def _key(name: str) -> str:
    return name if _PLAIN_KEY.fullmatch(name) else "'" + name.replace("'", "\\'") + "'"


@transform("stix_pattern")
def stix_pattern(value: Any, args: Mapping[str, Any], context: TransformContext) -> str:
    """An SCO -> a STIX pattern matching it by its id-contributing properties.

    ``[domain-name:value = 'x']``; ``[file:hashes.'SHA-256' = '…']``; several
    properties are joined with ``AND`` (``user-account``), several hashes with ``OR``.
    """
    # A draft's view is a dict: the cheap check first (this runs once per indicator).
    if type(value) is not dict and not isinstance(value, Mapping):
        raise TransformError("stix_pattern needs an SCO of a known type (use object: TAG)")
    kind = value.get("type")
    if not isinstance(kind, str) or kind not in SCO_ID_PROPERTIES:
        raise TransformError("stix_pattern needs an SCO of a known type (use object: TAG)")
    terms = []
    for name in SCO_ID_PROPERTIES[kind]:
        prop = value.get(name)
        if prop is None:
            continue
        if type(prop) is str:  # the common case: one value
            if not name.endswith("_ref"):
                escaped = prop.replace("\\", "\\\\").replace("'", "\\'")
                terms.append(f"{kind}:{name} = '{escaped}'")
        elif isinstance(prop, Mapping) and name == "hashes":
            hashes = [f"{kind}:hashes.{_key(a)} = {_literal(h)}" for a, h in prop.items()]
            terms.append(" OR ".join(hashes) if len(hashes) == 1 else f"({' OR '.join(hashes)})")
        elif isinstance(prop, str | int) and not name.endswith("_ref"):
            terms.append(f"{kind}:{name} = {_literal(prop)}")
    if not terms:
        raise TransformError(f"{kind} {value.get('id')} has no property a pattern can match")
    return f"[{' AND '.join(terms)}]"
