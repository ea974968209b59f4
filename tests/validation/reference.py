"""The reference verdict (stix2-validator, offline) and the corpora we compare on."""

from __future__ import annotations

import copy
import importlib.util
import json
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

from stix2validator import ValidationOptions, validate_instance

from benchmarks.stix_mix import realistic_objects
from converters.validation import get_validator

ROOT = Path(__file__).resolve().parents[2]
REFERENCE_OBJECTS = ROOT / "fixtures" / "validation" / "stix2-validator-objects.json"


def reference_valid(value: Any) -> bool:
    """stix2-validator's verdict (validate_instance, default options, warnings allowed).

    The reference raises on some inputs (no ``type``, an ``objects`` list where it
    expects a dictionary, ...): it then produces no valid result, so that is a "no".
    """
    try:
        return bool(validate_instance(value, ValidationOptions()).is_valid)
    except Exception:  # noqa: BLE001 - any crash of the reference is its "invalid"
        return False


def our_valid(value: Any) -> bool:
    """Our verdict: a bundle through check_bundle, anything else through check_object."""
    validator = get_validator()
    if isinstance(value, dict) and value.get("type") == "bundle":
        return not validator.check_bundle(value)
    return not validator.check_object(value)


def schema_examples() -> Path:
    spec = importlib.util.find_spec("stix2validator")
    assert spec is not None and spec.submodule_search_locations
    return Path(next(iter(spec.submodule_search_locations)), "schemas-2.1", "examples")


@cache
def example_cases() -> tuple[tuple[str, Any], ...]:
    """The OASIS schema repository's examples: each bundle, and each of its objects."""
    cases: list[tuple[str, Any]] = []
    for path in sorted(schema_examples().rglob("*.json")):
        document = json.loads(path.read_text(encoding="utf-8"))
        cases.append((path.name, document))
        for obj in document.get("objects", ()):
            cases.append((f"{path.name}:{obj['id']}", obj))
    return tuple(cases)


def _apply(obj: dict[str, Any], mutation: dict[str, Any]) -> dict[str, Any] | None:
    changed = copy.deepcopy(obj)
    target: Any = changed
    try:
        for step in mutation["path"][:-1]:
            target = target[step]
        if mutation.get("delete"):
            del target[mutation["path"][-1]]
        else:
            target[mutation["path"][-1]] = copy.deepcopy(mutation["value"])
    except (KeyError, IndexError, TypeError):
        return None  # the edit was meant for another object of the module
    return changed


@cache
def reference_test_cases() -> tuple[tuple[str, Any], ...]:
    """stix2-validator's own test objects, and each edit its tests make to them."""
    cases: list[tuple[str, Any]] = []
    for entry in json.loads(REFERENCE_OBJECTS.read_text(encoding="utf-8")):
        cases.append((entry["source"], entry["object"]))
        for mutation in entry["mutations"]:
            changed = _apply(entry["object"], mutation)
            if changed is not None:
                cases.append((f"{entry['source']} {json.dumps(mutation)}", changed))
    return tuple(cases)


@cache
def extension_examples() -> tuple[tuple[str, Any], ...]:
    """The community objects of stix2extensions (wallets, bank accounts, ...), as JSON."""
    spec = importlib.util.find_spec("stix2extensions")
    assert spec is not None and spec.submodule_search_locations
    base = Path(next(iter(spec.submodule_search_locations)), "examples")
    cases: list[tuple[str, Any]] = []
    for path in sorted(base.glob("*/*.py")):
        module_spec = importlib.util.spec_from_file_location(f"_example_{path.stem}", path)
        assert module_spec is not None and module_spec.loader is not None
        module = importlib.util.module_from_spec(module_spec)
        module_spec.loader.exec_module(module)
        for index, example in enumerate(getattr(module, "examples", ())):
            name = f"{path.parent.name}/{path.name}[{index}]"
            cases.append((name, json.loads(example.serialize())))
    return tuple(cases)


@cache
def generated_cases(count: int = 400) -> tuple[tuple[str, Any], ...]:
    """Our own realistic mix (benchmarks/stix_mix.py)."""
    return tuple((f"generated[{i}]", obj) for i, obj in enumerate(realistic_objects(count, 7)))


def valid_bases() -> list[dict[str, Any]]:
    """Objects both validators accept: the starting points for mutations."""
    objects = [obj for _, obj in example_cases() if obj.get("type") != "bundle"]
    objects += [obj for _, obj in extension_examples()]
    objects += [obj for _, obj in generated_cases()]
    return [obj for obj in objects if our_valid(obj) and reference_valid(obj)]


def disagreements(cases: tuple[tuple[str, Any], ...]) -> Iterator[tuple[str, bool, bool]]:
    """(case, ours, reference) for every case where the two verdicts differ."""
    for name, value in cases:
        ours, theirs = our_valid(value), reference_valid(value)
        if ours != theirs:
            yield name, ours, theirs
