"""The STIX 2.1 validator: OASIS JSON schemas plus the MUST rules they cannot express."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from datetime import datetime
from typing import Any

# First version on jsonschema (no stubs); replaced by the compiled validator.
from jsonschema import Draft202012Validator  # type: ignore[import-untyped]
from jsonschema.exceptions import ValidationError, best_match  # type: ignore[import-untyped]
from referencing import Registry
from referencing.jsonschema import DRAFT202012

from .problems import Problem, json_path
from .schemas import SchemaSet, load_schemas

__all__ = ["StixValidator", "get_validator"]


class StixValidator:
    """Checks STIX 2.1 objects and bundles; thread-safe, reusable."""

    def __init__(self, schemas: SchemaSet) -> None:
        self._schemas = schemas
        registry: Registry[Any] = Registry().with_resources(
            (uri, DRAFT202012.create_resource(doc)) for uri, doc in schemas.documents.items()
        )
        self._validators: dict[str, Draft202012Validator] = {}
        for uri in {*schemas.object_types.values(), schemas.core, schemas.observable_core}:
            self._validators[uri] = Draft202012Validator(
                schemas.documents[uri],
                registry=registry,
                format_checker=Draft202012Validator.FORMAT_CHECKER,
            )

    def check_object(self, obj: object, path: str = "$") -> list[Problem]:
        """Check one STIX object (any JSON value); every problem found, [] when valid."""
        if not isinstance(obj, dict):
            return [Problem(None, path, f"expected a STIX object, got {_kind(obj)}")]
        raw_id = obj.get("id")
        object_id = raw_id if isinstance(raw_id, str) else None
        stix_type = obj.get("type")
        if not isinstance(stix_type, str):
            return [Problem(object_id, json_path(path, "type"), "required string property")]
        if stix_type == "bundle":
            return [Problem(object_id, json_path(path, "type"), "a bundle is not a STIX object")]
        uri = self._schemas.object_types.get(stix_type)
        if uri is None:
            sco = "created" not in obj and "modified" not in obj
            uri = self._schemas.observable_core if sco else self._schemas.core
        problems = [
            _problem(object_id, path, error) for error in self._validators[uri].iter_errors(obj)
        ]
        problems.extend(_musts(obj, object_id, path))
        return problems

    def check_bundle(self, bundle: object, path: str = "$") -> list[Problem]:
        """Check a bundle's own shape and every object in it."""
        if not isinstance(bundle, dict):
            return [Problem(None, path, f"expected a STIX bundle, got {_kind(bundle)}")]
        raw_id = bundle.get("id")
        bundle_id = raw_id if isinstance(raw_id, str) else None
        shell = {k: v for k, v in bundle.items() if k != "objects"}
        problems = [
            _problem(bundle_id, path, error)
            for error in self._validators[self._schemas.object_types["bundle"]].iter_errors(shell)
        ]
        objects = bundle.get("objects")
        if objects is None:
            return problems
        if not isinstance(objects, list):
            problems.append(Problem(bundle_id, json_path(path, "objects"), "expected an array"))
            return problems
        for index, obj in enumerate(objects):
            problems.extend(self.check_object(obj, json_path(path, "objects", index)))
        return problems


def _problem(object_id: str | None, base: str, error: ValidationError) -> Problem:
    if error.context:
        error = best_match(error.context) or error
    steps = [s for s in error.absolute_path if isinstance(s, str | int)]
    return Problem(object_id, json_path(base, *steps), error.message[:300])


def _kind(value: object) -> str:
    return {dict: "an object", list: "an array", str: "a string", bool: "a boolean"}.get(
        type(value), "null" if value is None else "a number"
    )


_TIMESTAMPS = ("created", "modified", "valid_from", "valid_until", "first_seen", "last_seen")


def _musts(obj: dict[str, Any], object_id: str | None, path: str) -> Iterable[Problem]:
    for name in _TIMESTAMPS:
        value = obj.get(name)
        if isinstance(value, str):
            try:
                datetime.fromisoformat(value)
            except ValueError:
                message = f"{value!r} is not a valid timestamp"
                yield Problem(object_id, json_path(path, name), message)
    if object_id is not None and not object_id.startswith(f"{obj.get('type')}--"):
        yield Problem(object_id, json_path(path, "id"), "the id must start with the type and '--'")
    created, modified = obj.get("created"), obj.get("modified")
    if isinstance(created, str) and isinstance(modified, str) and modified < created:
        yield Problem(object_id, json_path(path, "modified"), "must not be earlier than created")


_lock = threading.Lock()
_instance: StixValidator | None = None


def get_validator() -> StixValidator:
    """The process-wide validator, built on first use."""
    global _instance
    if _instance is None:
        with _lock:
            if _instance is None:
                _instance = StixValidator(load_schemas())
    return _instance
