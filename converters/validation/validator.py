"""The STIX 2.1 validator: the OASIS JSON schemas in jsonschema-rs, plus the MUST rules.

Objects are checked the way ``stix2-validator`` checks them (its ``validate_instance``):
against the schema named after their ``type``; an object of any other type (custom,
or defined by an extension-definition such as ``cryptocurrency-wallet``) against
``core.json``, or ``cyber-observable-core.json`` when it has neither ``created`` nor
``modified`` (STIX 2.1, common properties; §6); a bundle's objects and the deprecated
``observed-data.objects`` one by one, not through the schemas' long ``oneOf`` lists.
jsonschema-rs answers "valid?" for each object; only an invalid one is walked again
for its errors, which :mod:`.messages` words.
"""

from __future__ import annotations

import threading
from typing import Any

import jsonschema_rs

from .messages import Explainer
from .musts import BY_PROPERTY, Must, musts_for
from .problems import Failure, Problem, as_json, json_path, kind_name, without_strays
from .schemas import SchemaSet, compile_schemas, load_schemas

__all__ = ["StixValidator", "get_validator"]

_Entry = tuple[jsonschema_rs.Validator, tuple[Must, ...]]


class StixValidator:
    """Checks STIX 2.1 objects and bundles against the OASIS schemas and the MUST rules.

    Thread-safe and reusable; build it once per process with :func:`get_validator`.
    Values come from a JSON parser (which bounds their depth: orjson at 1,024 levels);
    jsonschema-rs recurses natively and would crash on a Python structure tens of
    thousands of levels deep.
    """

    def __init__(self, schemas: SchemaSet) -> None:
        compiled = compile_schemas(schemas)
        self._explainer = Explainer(schemas)
        self._entries: dict[str, _Entry] = {
            stix_type: (
                compiled[uri],
                musts_for(stix_type, has_schema=True, observable="/observables/" in uri),
            )
            for stix_type, uri in schemas.object_types.items()
            if stix_type != "bundle"
        }
        self._bundle = compiled[schemas.object_types["bundle"]]
        self._core = compiled[schemas.core]
        self._observable_core = compiled[schemas.observable_core]
        # Custom types, by (type, checked as an SCO); bounded: a client picks the types.
        self._custom: dict[tuple[str, bool], _Entry] = {}

    def check_object(self, obj: object, path: str = "$") -> list[Problem]:
        """Check one STIX object (any JSON value): every problem found, ``[]`` if valid.

        ``path`` is the JSON path of ``obj`` in the caller's document; problem paths
        start with it.
        """
        if not isinstance(obj, dict):
            return [Problem(None, path, f"expected a STIX object, got {kind_name(obj)}")]
        failures = self._failures(obj)
        return _problems(obj, path, failures) if failures else []

    def check_bundle(self, bundle: object, path: str = "$") -> list[Problem]:
        """Check a bundle (STIX 2.1 §8): its own properties, then each of its objects."""
        if not isinstance(bundle, dict):
            return [Problem(None, path, f"expected a STIX bundle, got {kind_name(bundle)}")]
        problems: list[Problem] = []
        if not _fits(self._bundle, bundle):
            problems = _problems(bundle, path, self._explain(self._bundle, bundle))
        objects = bundle.get("objects")
        if isinstance(objects, list):
            # One loop over (often) a hundred thousand objects: an object's path is
            # only spelt out when it has problems.
            failures_of = self._failures
            for index, obj in enumerate(objects):
                if not isinstance(obj, dict):
                    problems += self.check_object(obj, f"{path}.objects[{index}]")
                    continue
                failures = failures_of(obj)
                if failures:
                    problems += _problems(obj, f"{path}.objects[{index}]", failures)
        return problems

    def _failures(self, obj: dict[str, Any]) -> list[Failure]:
        """Everything wrong with one STIX object (a dict): schema first, then MUST rules."""
        stix_type = obj.get("type")
        entry = self._entries.get(stix_type) if isinstance(stix_type, str) else None
        if entry is None:
            if stix_type == "bundle":
                message = "a bundle is a container, not a STIX object: check it with check_bundle"
                return [Failure(("type",), message)]
            entry = self._entry(obj, sco=False)
        schema, musts = entry
        failures: list[Failure] = []
        for must in musts:
            must(obj, failures)
        for name, must in BY_PROPERTY.items():
            if name in obj:
                must(obj, failures)
        if stix_type == "observed-data":
            embedded = obj.get("objects")
            if isinstance(embedded, dict):
                self._check_embedded(embedded, failures)
        try:
            valid = schema.is_valid(obj)
        except ValueError:  # not JSON: explained by _explain
            valid = False
        if not valid:
            failures[:0] = self._explain(schema, obj)
        return failures

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
            schema = self._observable_core if as_sco else self._core
            entry = (schema, musts_for(stix_type, has_schema=False, observable=as_sco))
            if len(self._custom) < 1024:
                self._custom[key] = entry
        return entry

    def _check_embedded(self, objects: dict[str, Any], failures: list[Failure]) -> None:
        """The SCOs of the deprecated ``observed-data.objects`` dictionary (STIX 2.1 §4.14)."""
        for key, sco in objects.items():
            if not isinstance(sco, dict):
                continue  # the observed-data schema reports it
            schema, musts = self._entry(sco, sco=True)
            found: list[Failure] = []
            for must in musts:
                must(sco, found)
            if not _fits(schema, sco):
                found[:0] = self._explain(schema, sco)
            failures += (Failure(("objects", key, *f.steps), f.message) for f in found)

    def _explain(self, schema: jsonschema_rs.Validator, value: Any) -> list[Failure]:
        try:
            return self._explainer.explain(schema.iter_errors(value))
        except ValueError:
            pass  # a Python value that is not JSON (a datetime, a set, an int key...)
        cleaned, strays = as_json(value)
        found = self._explainer.explain(schema.iter_errors(cleaned))
        return strays + without_strays(found, strays)


def _fits(schema: jsonschema_rs.Validator, value: Any) -> bool:
    try:
        return schema.is_valid(value)
    except ValueError:  # not JSON: explained by StixValidator._explain
        return False


def _problems(obj: dict[str, Any], path: str, failures: list[Failure]) -> list[Problem]:
    """Failures as problems at their paths, duplicates dropped, order kept."""
    raw_id = obj.get("id")
    object_id = raw_id if isinstance(raw_id, str) else None
    return [
        Problem(object_id, json_path(path, *failure.steps), failure.message)
        for failure in dict.fromkeys(failures)
    ]


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
