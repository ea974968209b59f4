"""docs/atlas-taxii.example.toml loads, and names every setting there is."""

from __future__ import annotations

import tomllib
from dataclasses import fields
from pathlib import Path

from taxii_server.settings import (
    ApiRootConfig,
    CollectionConfig,
    Settings,
    TrustedKeyConfig,
    _key_in_section,
    load_settings,
)

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "atlas-taxii.example.toml"


def _keys_mentioned(text: str) -> set[str]:
    """Keys set in the file, including the commented-out examples (``# key = …``)."""
    keys = set()
    for line in text.splitlines():
        stripped = line.lstrip("# ").split("=", 1)
        if len(stripped) == 2 and stripped[0].strip().isidentifier():
            keys.add(stripped[0].strip())
    return keys


def test_the_example_configuration_loads() -> None:
    settings = load_settings(EXAMPLE, environ={})
    assert settings.default_api_root == "community"
    assert [c.title for c in settings.collections] == ["Indicators", "Case leads"]


def test_the_example_names_every_setting() -> None:
    text = EXAMPLE.read_text()
    mentioned = _keys_mentioned(text)
    data = tomllib.loads(text)
    scalars = {f.name for f in fields(Settings)} - {"api_roots", "collections", "trusted_keys"}
    in_file = {_key_in_section(name) for name in scalars}
    assert in_file <= mentioned, sorted(in_file - mentioned)
    assert {f.name for f in fields(ApiRootConfig)} <= mentioned
    assert {f.name for f in fields(CollectionConfig)} <= mentioned
    assert {f.name for f in fields(TrustedKeyConfig)} <= mentioned
    assert "[[trusted_keys]]" in text
    assert data["api_roots"] and data["collections"]
