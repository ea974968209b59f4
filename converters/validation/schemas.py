"""The OASIS STIX 2.1 JSON schemas, loaded from the ``stix2-validator`` distribution.

The schemas (oasis-open/cti-stix2-json-schemas, branch ``stix2.1``) are JSON Schema
2020-12 documents that refer to each other with relative ``$ref`` s such as
``../common/core.json``.  :func:`load_schemas` reads every document once and indexes
it by its ``$id``, so references resolve in memory without touching the file system
or the network again.
"""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urldefrag, urljoin

from .errors import SchemaError

__all__ = ["SchemaSet", "load_schemas"]

_PACKAGE = "stix2validator"
_DIRECTORY = ("schemas-2.1", "schemas")
_KINDS = ("common", "sdos", "sros", "observables")


@dataclass(frozen=True, slots=True)
class SchemaSet:
    """Every OASIS STIX 2.1 schema document, by ``$id`` and by the STIX type it defines.

    ``object_types`` maps each STIX type with its own schema (SDOs, SROs, SCOs, the
    meta objects and ``bundle``) to that schema's ``$id``; ``core`` and
    ``observable_core`` are the ``$id`` s of the schemas objects of other types are
    checked against (STIX 2.1, common properties).
    """

    documents: Mapping[str, Mapping[str, Any]]
    object_types: Mapping[str, str]
    core: str
    observable_core: str

    def resolve(self, base: str, ref: str) -> tuple[str, Mapping[str, Any] | bool]:
        """Resolve ``ref`` against ``base``: the target's absolute URI and its subschema."""
        uri = urljoin(base, ref)
        document_uri, fragment = urldefrag(uri)
        document = self.documents.get(document_uri)
        if document is None:
            raise SchemaError(f"schema {base} refers to {ref!r}, which is not an OASIS schema")
        target: Any = document
        if fragment:
            if not fragment.startswith("/"):
                raise SchemaError(f"schema {base} uses an anchor reference {ref!r}")
            for token in fragment[1:].split("/"):
                key = token.replace("~1", "/").replace("~0", "~")
                try:
                    target = target[int(key)] if isinstance(target, list) else target[key]
                except (KeyError, IndexError, ValueError):
                    raise SchemaError(f"schema {base}: {ref!r} does not resolve") from None
        if not isinstance(target, dict | bool):
            raise SchemaError(f"schema {base}: {ref!r} is not a schema")
        return uri, target


def load_schemas() -> SchemaSet:
    """Read the STIX 2.1 schemas shipped in ``stix2-validator``."""
    root = _schema_root()
    documents: dict[str, Mapping[str, Any]] = {}
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
    core = _find(documents, "common/core.json")
    observable_core = _find(documents, "common/cyber-observable-core.json")
    return SchemaSet(documents, object_types, core, observable_core)


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


def _find(documents: Mapping[str, Mapping[str, Any]], suffix: str) -> str:
    for uri in documents:
        if uri.endswith("/" + suffix):
            return uri
    raise SchemaError(f"{_PACKAGE} lacks the schema {suffix}")
