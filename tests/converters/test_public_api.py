"""The converter's public surface: every exported name resolves, and importing the
STIX knowledge the server shares (TLP, validation) does not load the engine."""

from __future__ import annotations

import subprocess
import sys

import converters


def test_every_exported_name_resolves() -> None:
    for name in converters.__all__:
        assert getattr(converters, name) is not None, name


def test_tlp_and_validation_do_not_load_the_mapping_engine() -> None:
    code = (
        "import sys, converters.tlp, converters.validation; "
        "print(sorted(m for m in ('converters.engine', 'converters.spec', 'jsonschema', 'yaml')"
        " if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
