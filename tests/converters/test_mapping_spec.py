"""Mapping files: every file in mappings/ loads; a bad file is refused at load time."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from converters import MappingError, load_mapping
from converters.package_schema import package_schema
from converters.spec import DEFAULT_MAPPING, Mapping
from converters.transforms import TRANSFORMS

from .conftest import MAPPINGS


@pytest.mark.parametrize("path", sorted(MAPPINGS.glob("*.yaml")), ids=lambda p: p.name)
def test_every_mapping_file_loads_with_registered_transforms(path: Path) -> None:
    mapping = load_mapping(path)
    specs = [v for rule in mapping.objects for _, v in rule.properties]
    specs += [v for rule in mapping.extension_properties for _, v in rule.properties]
    for spec in specs:
        if spec.transform is not None:
            assert TRANSFORMS[spec.transform.name] is spec.transform


def test_the_mapping_schema_is_a_valid_schema() -> None:
    schema = json.loads((MAPPINGS / "mapping.schema.json").read_text("utf-8"))
    jsonschema.Draft7Validator.check_schema(schema)


def test_default_mapping_tables_cover_the_format(default_mapping: Mapping) -> None:
    definitions = package_schema()["definitions"]
    categories = set(definitions["service"]["properties"]["category"]["enum"])
    infrastructure = set(default_mapping.tables["infrastructure_types"])
    tools = set(default_mapping.tables["tool_types"])
    assert infrastructure | tools == categories and not infrastructure & tools
    roles = set(definitions["data_point"]["properties"]["role"]["enum"])
    assert set(default_mapping.tables["indicator_types"]) == roles
    kinds = set(definitions["actor"]["properties"]["kind"]["enum"])
    assert set(default_mapping.tables["threat_actor_types"]) == kinds
    assert set(default_mapping.tables["identity_classes"]) == kinds
    assert DEFAULT_MAPPING.parent == MAPPINGS


_HEAD = "schema_version: 1\npackage_kind: atlas-package/1\n"


def _problems(tmp_path: Path, text: str) -> list[str]:
    path = tmp_path / "mapping.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(MappingError) as caught:
        load_mapping(path)
    assert caught.value.summary.startswith(f"{path}: not a valid mapping file")
    return [str(p) for p in caught.value.problems]


def test_unknown_keys_are_refused_with_their_rule(tmp_path: Path) -> None:
    text = _HEAD + (
        "created_by: producer\n"
        "objects:\n"
        "  - {tag: producer, for: 'authors[0]', type: identity, id: {shared: name},\n"
        "     properties: {name: {fron: name}}}\n"
        "  - {tag: x, for: package, type: report, id: package, colour: red}\n"
    )
    assert _problems(tmp_path, text) == [
        "$.objects[0].properties.name.fron (line 6): unknown field 'fron' (did you mean 'from'?)",
        "$.objects[1].colour (line 7): unknown field 'colour'",
    ]


def test_semantic_problems_name_the_rule_and_line(tmp_path: Path) -> None:
    text = _HEAD + (
        "created_by: producr\n"
        "tables: {t: {a: 1}}\n"
        "objects:\n"
        "  - tag: producer\n"
        "    for: authors[0]\n"
        "    type: identity\n"
        "    id: {shared: nme, kind: organisation}\n"
        "    properties:\n"
        "      name: name\n"
        "      identity_class: {value: organization, transform: lookp}\n"
        "  - {tag: x, for: 'actors[*].countrys[*]', type: location, id: {shared: '@'}}\n"
        "  - tag: y\n"
        "    for: data_points[*]\n"
        "    when: {field: type, in: [domian]}\n"
        "    type: domain-name\n"
        "    id: item\n"
        "    properties: {value: {from: value, transform: lookup, args: {table: nope}},"
        " x_n: {ref: z}}\n"
        "  - {tag: z, for: actors, type: threat-actor, properties: {name: '^.name'}}\n"
        "  - {tag: w, for: package, type: report, id: item, properties: {name: '^.title'}}\n"
        "relationships:\n"
        "  - {type: uses, for: 'actors[*]', source: actr, target: {via: '@', tags: [y]}}\n"
    )
    transforms = ", ".join(sorted(TRANSFORMS))
    assert _problems(tmp_path, text) == [
        "$.objects[0].id.shared (line 9): 'nme' is not a field of the elements of authors[0] "
        "(did you mean 'name'?)",
        f"$.objects[0].properties.identity_class.transform (line 12): unknown transform 'lookp' "
        f"(known: {transforms})",
        "$.objects[1].for (line 13): 'countrys' is not a field of actors (did you mean "
        "'countries'?)",
        "$.objects[2].when (line 16): domian: not a value type can have (domain, ipv4, ipv6, url, "
        "email, file-sha256, file-md5, asn, crypto-wallet, bank-account, phone, social-account)",
        "$.objects[2].id (line 18): domain-name is an SCO: its id comes from its properties; "
        "remove id",
        "$.objects[2].properties.value.args.table (line 19): no table named 'nope' in tables",
        "$.objects[2].properties.x_n.ref (line 19): tag 'z' is defined by a later rule; use tags "
        "of earlier rules only",
        "$.objects[3].for (line 20): actors is a list: write actors[*], [N] or [N:]",
        "$.objects[3] (line 20): threat-actor needs an id (item, package or {shared: PATH}): only "
        "SCO types with known id-contributing properties derive theirs (artifact, "
        "autonomous-system, bank-account, cryptocurrency-wallet, directory, domain-name, "
        "email-addr, email-message, file, ipv4-addr, ipv6-addr, mac-addr, mutex, "
        "network-traffic, phone-number, software, url, user-account, windows-registry-key, "
        "x509-certificate)",
        "$.objects[4].id (line 21): id: item needs a rule under an item section, not package",
        "$.objects[4].properties.name (line 21): '^.title': '^.' reads the enclosing item; "
        "package has none",
        "$.created_by (line 3): no object rule has tag 'producr' (did you mean 'producer'?)",
        "$.relationships[0].source (line 23): no object rule has tag 'actr'",
    ]


def test_an_unreadable_mapping_is_a_mapping_error(tmp_path: Path) -> None:
    with pytest.raises(MappingError) as caught:
        load_mapping(tmp_path / "missing.yaml")
    (problem,) = caught.value.problems
    assert problem.message == "cannot read file: No such file or directory"


def test_yaml_values_json_cannot_hold_are_problems(tmp_path: Path) -> None:
    problems = _problems(tmp_path, _HEAD + "description: !!binary aGVsbG8=\n")
    assert "$.description (line 3): bytes is not a JSON value" in problems
