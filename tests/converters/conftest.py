"""Shared fixtures of the converter tests: fixture paths and the default mapping."""

from __future__ import annotations

from pathlib import Path

import pytest

from converters import Mapping, load_mapping

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "fixtures"
PACKAGES = FIXTURES / "packages"
BUNDLES = FIXTURES / "bundles"
INVALID = FIXTURES / "invalid"
MAPPINGS = ROOT / "mappings"

#: Every fixture package (the CSV side file belongs to RP-2024-0052.yaml).
PACKAGE_FILES = sorted(p for p in PACKAGES.iterdir() if p.suffix in (".yaml", ".json"))


@pytest.fixture(scope="session")
def default_mapping() -> Mapping:
    """The default mapping, loaded once."""
    return load_mapping()
