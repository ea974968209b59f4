"""The STIX 2.1 validator: the OASIS JSON schemas, compiled, plus the MUST rules.

Objects are checked the way ``stix2-validator`` checks them (its ``validate_instance``):
against the schema named after their ``type``; an object of any other type (custom,
or defined by an extension-definition such as ``cryptocurrency-wallet``) against
``core.json``, or ``cyber-observable-core.json`` when it has neither ``created`` nor
``modified`` (STIX 2.1, common properties; §6); a bundle's objects and the deprecated
``observed-data.objects`` one by one, not through the schemas' long ``oneOf`` lists.
Every value is checked once by a compiled test; only an invalid object is walked
again to explain where and why.
"""

from __future__ import annotations

import threading
from typing import Any, Final

from .compiler import Compiler
from .keywords import ShapeRule
from .musts import BY_PROPERTY, Must, musts_for
from .nodes import Failure, Node, kind_name
from .problems import Problem, json_path
from .schemas import SchemaSet, load_schemas
from .timestamps import is_real_date, real_date_message

__all__ = ["StixValidator", "get_validator"]

# Validated object by object by StixValidator itself (as stix2-validator does): the
# schemas' oneOf over 40 object types would test each object against all of them and
# could only say "matches none".
_OVERRIDES: Final = {
    "common/bundle.json#/properties/objects/items": True,
    "sdos/observed-data.json#/allOf/1/properties/objects/patternProperties/^.*$": {
        "type": "object"
    },
}

_Entry = tuple[Node, tuple[Must, ...]]


class StixValidator:
    """Checks STIX 2.1 objects and bundles against the compiled OASIS schemas.

    Thread-safe and reusable; build it once per process with :func:`get_validator`.
    """

    def __init__(self, schemas: SchemaSet) -> None:
        timestamp_uri = next(uri for uri in schemas.documents if uri.endswith("/timestamp.json"))
        compiler = Compiler(
            schemas,
            overrides=_OVERRIDES,
            refinements={timestamp_uri: ShapeRule(is_real_date, real_date_message)},
        )
        self._entries: dict[str, _Entry] = {
            stix_type: (
                compiler.document(uri),
                musts_for(stix_type, has_schema=True, observable="/observables/" in uri),
            )
            for stix_type, uri in schemas.object_types.items()
            if stix_type != "bundle"
        }
        self._bundle = compiler.document(schemas.object_types["bundle"])
        self._core = compiler.document(schemas.core)
        self._observable_core = compiler.document(schemas.observable_core)
        # Custom types, by (type, checked as an SCO); bounded: a client picks the types.
        self._custom: dict[tuple[str, bool], _Entry] = {}

    def check_object(self, obj: object, path: str = "$") -> list[Problem]:
        """Check one STIX object (any JSON value): every problem found, ``[]`` if valid.

        ``path`` is the JSON path of ``obj`` in the caller's document; problem paths
        start with it.
        """
        if not isinstance(obj, dict):
            return [Problem(None, path, f"expected a STIX object, got {kind_name(obj)}")]
        if obj.get("type") == "bundle":
            message = "a bundle is a container, not a STIX object: check it with check_bundle"
            return _problems(obj, path, [Failure(("type",), message)])
        node, musts = self._entry(obj, sco=False)
        failures: list[Failure] = []
        for must in musts:
            must(obj, failures)
        for name, must in BY_PROPERTY.items():
            if name in obj:
                must(obj, failures)
        embedded = obj.get("objects") if obj.get("type") == "observed-data" else None
        if isinstance(embedded, dict):
            self._check_embedded(embedded, failures)
        if not failures and node.test(obj):
            return []
        if not node.test(obj):
            failures[:0] = node.explain(obj)
        return _problems(obj, path, failures)

    def check_bundle(self, bundle: object, path: str = "$") -> list[Problem]:
        """Check a bundle (STIX 2.1 §8): its own properties, then each of its objects."""
        if not isinstance(bundle, dict):
            return [Problem(None, path, f"expected a STIX bundle, got {kind_name(bundle)}")]
        problems: list[Problem] = []
        if not self._bundle.test(bundle):
            problems = _problems(bundle, path, list(self._bundle.explain(bundle)))
        objects = bundle.get("objects")
        if isinstance(objects, list):
            for index, obj in enumerate(objects):
                problems += self.check_object(obj, f"{path}.objects[{index}]")
        return problems

    def _entry(self, obj: dict[str, Any], *, sco: bool) -> _Entry:
        stix_type = obj.get("type")
        entry = self._entries.get(stix_type) if isinstance(stix_type, str) else None
        if entry is not None:
            return entry
        if not isinstance(stix_type, str):
            # The core schema reports the missing or malformed type.
            return (self._observable_core if sco else self._core), ()
        # stix2-validator's rule for types without a schema: an object without
        # created and modified is an SCO (marking definitions have no core schema).
        as_sco = sco or ("created" not in obj and "modified" not in obj)
        key = (stix_type, as_sco)
        entry = self._custom.get(key)
        if entry is None:
            node = self._observable_core if as_sco else self._core
            entry = (node, musts_for(stix_type, has_schema=False, observable=as_sco))
            if len(self._custom) < 1024:
                self._custom[key] = entry
        return entry

    def _check_embedded(self, objects: dict[str, Any], failures: list[Failure]) -> None:
        """The SCOs of the deprecated ``observed-data.objects`` dictionary (STIX 2.1 §4.14)."""
        for key, sco in objects.items():
            if not isinstance(sco, dict):
                continue  # the observed-data schema reports it
            node, musts = self._entry(sco, sco=True)
            found: list[Failure] = []
            for must in musts:
                must(sco, found)
            if not node.test(sco):
                found[:0] = node.explain(sco)
            failures += (Failure(("objects", key, *f.steps), f.message) for f in found)


def _problems(obj: dict[str, Any], path: str, failures: list[Failure]) -> list[Problem]:
    """Failures as problems at their paths, duplicates dropped, order kept."""
    raw_id = obj.get("id")
    object_id = raw_id if isinstance(raw_id, str) else None
    seen: set[Failure] = set()
    problems: list[Problem] = []
    for failure in failures:
        if failure not in seen:
            seen.add(failure)
            problems.append(Problem(object_id, json_path(path, *failure.steps), failure.message))
    return problems


_lock = threading.Lock()
_instance: StixValidator | None = None


def get_validator() -> StixValidator:
    """The process-wide validator, compiled on first use (thread-safe)."""
    global _instance
    if _instance is None:
        with _lock:
            if _instance is None:
                _instance = StixValidator(load_schemas())
    return _instance
