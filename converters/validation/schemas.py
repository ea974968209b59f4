"""The OASIS STIX 2.1 JSON schemas, from the ``stix2-validator`` distribution, compiled
by jsonschema-rs.

The schemas (oasis-open/cti-stix2-json-schemas, branch ``stix2.1``) are JSON Schema
2020-12 documents that refer to each other with relative ``$ref`` s such as
``../common/core.json``.  :func:`load_schemas` reads every document once; a
jsonschema-rs ``Registry`` of all of them resolves the references in memory, never on
the network.  Patterns run on the ``regex`` crate (ECMA-262's ``$`` and ASCII ``\\d``,
linear time: the OASIS type-name pattern ``^([a-z][a-z0-9]*)+…`` that backtracks
exponentially in Python's ``re`` costs microseconds on any input).
"""

from __future__ import annotations

import copy
import importlib.util
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import jsonschema_rs

from .errors import SchemaError
from .formats import FORMATS
from .timestamps import REAL_TIMESTAMP

__all__ = ["SchemaSet", "compile_schemas", "load_schemas"]

_PACKAGE = "stix2validator"
_DIRECTORY = ("schemas-2.1", "schemas")
_KINDS = ("common", "sdos", "sros", "observables")

#: Where we depart from the documents as published, and why (document, path, new value).
REFINEMENTS: Final = (
    # The validator checks a bundle's objects one by one, as stix2-validator does: the
    # schema's oneOf over 40 object types could only say "matches none".
    ("common/bundle.json", ("properties", "objects", "items"), True),
    (
        "sdos/observed-data.json",
        ("allOf", 1, "properties", "objects", "patternProperties", "^.*$"),
        {"type": "object"},
    ),
    # STIX 2.1 §3.2: a timestamp is a real date and time (stix2-validator asks dateutil).
    ("common/timestamp.json", ("pattern",), REAL_TIMESTAMP),
)


@dataclass(frozen=True, slots=True)
class SchemaSet:
    """Every OASIS STIX 2.1 schema document, by ``$id`` and by the STIX type it defines.

    ``object_types`` maps each STIX type with its own schema (SDOs, SROs, SCOs, the
    meta objects and ``bundle``) to that schema's ``$id``; ``core`` and
    ``observable_core`` are the ``$id`` s of the schemas objects of other types are
    checked against (STIX 2.1, common properties).
    """

    documents: Mapping[str, dict[str, Any]]
    object_types: Mapping[str, str]
    core: str
    observable_core: str

    def at(self, location: str) -> Any:
        """The subschema at a location such as ``sdos/indicator.json#/allOf/1`` (a JSON
        pointer, not percent-encoded)."""
        document, _, pointer = location.partition("#")
        target: Any = next(d for uri, d in self.documents.items() if uri.endswith("/" + document))
        for token in filter(None, pointer.split("/")):
            key = token.replace("~1", "/").replace("~0", "~")
            target = target[int(key)] if isinstance(target, list) else target[key]
        return target


def load_schemas() -> SchemaSet:
    """Read the STIX 2.1 schemas shipped in ``stix2-validator``, with :data:`REFINEMENTS`."""
    root = _schema_root()
    documents: dict[str, dict[str, Any]] = {}
    object_types: dict[str, str] = {}
    for kind in _KINDS:
        directory = root / kind
        if not directory.is_dir():
            raise SchemaError(f"{_PACKAGE} has no schema directory {'/'.join(_DIRECTORY)}/{kind}")
        for entry in sorted(directory.iterdir(), key=lambda e: e.name):
            if not entry.name.endswith(".json"):
                continue
            try:
                document = json.loads(entry.read_bytes())
            except (OSError, ValueError) as exc:
                raise SchemaError(f"cannot read schema {kind}/{entry.name}: {exc}") from exc
            uri = document.get("$id") if isinstance(document, dict) else None
            if not isinstance(uri, str):
                raise SchemaError(f"schema {kind}/{entry.name} has no $id")
            documents[uri] = document
            stix_type = entry.name.removesuffix(".json")
            if stix_type in _declared_types(document):
                object_types[stix_type] = uri
    for name, path, value in REFINEMENTS:
        parent: Any = documents[_find(documents, name)]
        try:
            for step in path[:-1]:
                parent = parent[step]
            parent[path[-1]]  # noqa: B018 - a refinement replaces, it never adds
        except (KeyError, IndexError, TypeError):
            raise SchemaError(f"{name} no longer has {path}: review REFINEMENTS") from None
        parent[path[-1]] = copy.deepcopy(value)
    core = _find(documents, "common/core.json")
    observable_core = _find(documents, "common/cyber-observable-core.json")
    return SchemaSet(documents, object_types, core, observable_core)


def compile_schemas(schemas: SchemaSet) -> dict[str, jsonschema_rs.Validator]:
    """One jsonschema-rs validator per document, by ``$id``, sharing one registry."""
    try:
        registry = jsonschema_rs.Registry(list(schemas.documents.items()))
        return {
            uri: jsonschema_rs.Draft202012Validator(
                document,
                registry=registry,
                validate_formats=True,
                formats=dict(FORMATS),
                pattern_options=jsonschema_rs.RegexOptions(),
                offline=True,
            )
            for uri, document in schemas.documents.items()
        }
    except (jsonschema_rs.ValidationError, jsonschema_rs.ReferencingError, ValueError) as exc:
        raise SchemaError(f"the OASIS schemas do not compile: {exc}") from exc


def _schema_root() -> Path:
    # find_spec locates the package without importing it: stix2validator's own
    # import pulls in jsonschema, requests and its checks, which we do not use here.
    spec = importlib.util.find_spec(_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise SchemaError(
            "the OASIS STIX 2.1 schemas come from the stix2-validator package, "
            "which is not installed (pip install stix2-validator)"
        )
    return Path(next(iter(spec.submodule_search_locations)), *_DIRECTORY)


def _declared_types(document: Mapping[str, Any]) -> set[str]:
    """The ``type`` values a schema pins with ``enum``, looking through its ``allOf``."""
    found: set[str] = set()
    for part in [document, *document.get("allOf", ())]:
        spec = part.get("properties", {}).get("type", {}) if isinstance(part, dict) else {}
        enum = spec.get("enum") if isinstance(spec, dict) else None
        if isinstance(enum, list) and len(enum) == 1 and isinstance(enum[0], str):
            found.add(enum[0])
    return found


def _find(documents: Mapping[str, dict[str, Any]], suffix: str) -> str:
    for uri in documents:
        if uri.endswith("/" + suffix):
            return uri
    raise SchemaError(f"{_PACKAGE} lacks the schema {suffix}")
