"""``same_as`` on actors and services, and a service's category: carried in the project's
property extension (not as relationships, whose targets would not be in the bundle)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from converters import PackageError, convert_package
from converters.extensions import ATLAS_EXTENSION_ID, atlas_extension_definition

_OTHER_ACTOR = "threat-actor--5b1c9a52-7f3e-4d8a-9c61-2e4f8b0a7d13"
_OTHER_SERVICE = "infrastructure--0c6a3f8e-2d41-4b7a-8e95-71f2c9d4a560"

_PACKAGE = f"""\
format: atlas-package/1
id: RP-2024-0998
revision: 1
title: Same as
published: 2024-06-11
tlp: green
authors: [{{name: Example Bank FIU}}]
actors:
  - {{ref: crew, name: Crew, kind: group, same_as: [{_OTHER_ACTOR}]}}
services:
  - ref: desk
    name: Desk
    category: cash-out
    used_by: [crew]
    same_as: [{_OTHER_SERVICE}]
"""


def _convert(tmp_path: Path, text: str) -> list[dict[str, Any]]:
    path = tmp_path / "package.yaml"
    path.write_text(text, encoding="utf-8")
    objects: list[dict[str, Any]] = convert_package(path)["objects"]
    return objects


def _named(objects: list[dict[str, Any]], name: str) -> dict[str, Any]:
    return next(o for o in objects if o.get("name") == name)


def test_same_as_and_category_travel_in_the_extension(tmp_path: Path) -> None:
    objects = _convert(tmp_path, _PACKAGE)
    crew, desk = _named(objects, "Crew"), _named(objects, "Desk")
    assert crew["extensions"][ATLAS_EXTENSION_ID]["same_as"] == [_OTHER_ACTOR]
    assert desk["extensions"][ATLAS_EXTENSION_ID] == {
        "extension_type": "property-extension",
        "category": "cash-out",
        "same_as": [_OTHER_SERVICE],
    }
    assert desk["labels"] == ["cash-out"]
    assert not any(o.get("target_ref") in (_OTHER_ACTOR, _OTHER_SERVICE) for o in objects)


def test_the_extension_definition_is_a_new_version() -> None:
    definition = atlas_extension_definition()
    assert definition["version"] == "1.1.0"
    assert definition["modified"] > definition["created"]


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (_OTHER_ACTOR, _OTHER_SERVICE, "$.actors[0].same_as[0]"),
        (_OTHER_SERVICE, _OTHER_ACTOR, "$.services[0].same_as[0]"),
        (_OTHER_ACTOR, "RP-2024-0007/crew", "$.actors[0].same_as[0]"),
    ],
)
def test_same_as_takes_stix_ids_of_the_same_kind(
    tmp_path: Path, old: str, new: str, message: str
) -> None:
    with pytest.raises(PackageError) as caught:
        _convert(tmp_path, _PACKAGE.replace(old, new))
    located = [p.located() for p in caught.value.problems]
    assert any(message in line for line in located), located
