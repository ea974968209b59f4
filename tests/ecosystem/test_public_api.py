"""The map's public surface: what the CLI and the web workbench call."""

from __future__ import annotations

import subprocess
import sys

import ecosystem


def test_every_exported_name_resolves() -> None:
    assert {"build_map", "rank", "simulate_removal", "EcosystemMap", "Candidate"} <= set(
        ecosystem.__all__
    )
    for name in ecosystem.__all__:
        assert getattr(ecosystem, name) is not None, name


def test_importing_the_analysis_loads_no_converter_engine_and_no_drawing() -> None:
    code = (
        "import sys, ecosystem; print(sorted(m for m in ('converters.engine', 'converters.spec',"
        " 'ecosystem.svg', 'ecosystem.graphml', 'taxii_server', 'flask') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
