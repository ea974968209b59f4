"""Golden bundles: each fixture package gives its bundle byte for byte, and every
bundle passes the OASIS stix2-validator with zero errors.

Regenerate after a deliberate change (fixtures/packages/README.md):
``for p in fixtures/packages/*.yaml fixtures/packages/*.json; do atlas-taxii convert
--allow-unverified "$p" -o "fixtures/bundles/$(basename "${p%.*}").json"; done``
(some fixtures carry unverified data points, on purpose).
"""

from __future__ import annotations

import functools
import json
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from stix2extensions.definitions.scos import bank_account, cryptocurrency_wallet, phone_number
from stix2validator import ValidationOptions, validate_string

from converters import Policy, convert_packages, serialize_bundle
from converters.extensions import ATLAS_EXTENSION_ID, ATLAS_PROPERTIES_SCHEMA, new_sco_definitions
from converters.validation import get_validator

from .conftest import BUNDLES, PACKAGE_FILES

_EXEMPT = ("marking-definition", "extension-definition")  # their references need not resolve


def _golden(package: Path) -> Path:
    return BUNDLES / f"{package.stem}.json"


@pytest.mark.parametrize("package", PACKAGE_FILES, ids=lambda p: p.name)
def test_package_gives_its_golden_bundle(package: Path) -> None:
    converted = convert_packages([package], policy=Policy(allow_unverified=True))
    data = serialize_bundle(converted.bundle) + b"\n"
    assert data == _golden(package).read_bytes(), f"regenerate {_golden(package).name}?"


def test_every_golden_bundle_has_its_package() -> None:
    assert {p.stem for p in PACKAGE_FILES} == {b.stem for b in BUNDLES.glob("*.json")}


@pytest.mark.parametrize("package", PACKAGE_FILES, ids=lambda p: p.name)
def test_oasis_stix2_validator_finds_no_error(package: Path) -> None:
    results = validate_string(_golden(package).read_text("utf-8"), ValidationOptions(version="2.1"))
    assert results.is_valid
    assert [str(error) for error in results.errors] == []


@pytest.mark.parametrize("package", PACKAGE_FILES, ids=lambda p: p.name)
def test_project_validator_finds_no_problem(package: Path) -> None:
    bundle = json.loads(_golden(package).read_bytes())
    assert [str(p) for p in get_validator().check_bundle(bundle)] == []


def _refs(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [r for k, v in value.items() for r in (_refs(v) if not k.endswith("ref") else [v])]
    if isinstance(value, list):
        return [r for v in value for r in _refs(v)]
    return []


@pytest.mark.parametrize("package", PACKAGE_FILES, ids=lambda p: p.name)
def test_references_resolve_inside_the_bundle(package: Path) -> None:
    objects = json.loads(_golden(package).read_bytes())["objects"]
    ids = {o["id"] for o in objects}
    for obj in objects:
        if obj["type"] in _EXEMPT:
            continue
        refs = _refs(obj) + obj.get("object_refs", []) + obj.get("object_marking_refs", [])
        assert set(refs) <= ids, obj["id"]
        for extension in obj.get("extensions", {}):
            assert extension in ids, obj["id"]


@functools.cache
def _properties_validator() -> jsonschema.Draft7Validator:
    schema = resources.files("converters").joinpath("schemas", ATLAS_PROPERTIES_SCHEMA)
    return jsonschema.Draft7Validator(json.loads(schema.read_bytes()))


@pytest.mark.parametrize("package", PACKAGE_FILES, ids=lambda p: p.name)
def test_project_extension_matches_its_schema(package: Path) -> None:
    objects = json.loads(_golden(package).read_bytes())["objects"]
    carried = [
        o["extensions"][ATLAS_EXTENSION_ID]
        for o in objects
        if ATLAS_EXTENSION_ID in o.get("extensions", {})
    ]
    assert carried
    for properties in carried:
        assert [e.message for e in _properties_validator().iter_errors(properties)] == []


def test_community_extension_definitions_are_those_stix2extensions_ships() -> None:
    shipped = {
        "cryptocurrency-wallet": cryptocurrency_wallet.CryptocurrencyWallet,
        "bank-account": bank_account.BankAccount,
        "phone-number": phone_number.Phonenumber,
    }
    vendored = new_sco_definitions()
    assert set(vendored) == set(shipped)
    for kind, cls in shipped.items():
        assert dict(vendored[kind]) == json.loads(cls.extension_definition.serialize())


def test_a_golden_bundle_uses_every_kind_of_extension() -> None:
    objects = json.loads((BUNDLES / "RP-2024-0007.json").read_bytes())["objects"]
    definitions = {o["id"] for o in objects if o["type"] == "extension-definition"}
    community = {d["id"] for d in new_sco_definitions().values()}
    assert community | {ATLAS_EXTENSION_ID} <= definitions
