"""The package boundaries of docs/design.md, checked on the source."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _modules(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def _offending(paths: list[Path], forbidden: tuple[str, ...]) -> list[str]:
    bad = []
    for path in paths:
        for name in _imports(path):
            if name == forbidden or any(name == f or name.startswith(f + ".") for f in forbidden):
                bad.append(f"{path.relative_to(ROOT)} imports {name}")
    return bad


def test_converters_never_import_the_server_or_flask() -> None:
    forbidden = ("taxii_server", "flask", "werkzeug", "psycopg", "pymongo", "gunicorn")
    assert _offending(_modules("converters"), forbidden) == []


def test_storage_never_imports_http_or_service() -> None:
    forbidden = (
        "flask",
        "werkzeug",
        "taxii_server.service",
        "taxii_server.api",
        "taxii_server.media",
        "taxii_server.errors",
    )
    assert _offending(_modules("taxii_server/storage"), forbidden) == []


@pytest.mark.parametrize(
    "path",
    [p for p in _modules("taxii_server") if "cli" not in p.relative_to(ROOT).parts],
    ids=lambda p: str(p.relative_to(ROOT)),
)
def test_only_the_cli_imports_the_conversion_engine(path: Path) -> None:
    # Signing is a leaf too: keys and the JWK Set the server publishes; so are the
    # deterministic ids (SCO ids checked on ingest, organizations' identity ids) and
    # the extension definitions the code ships (anyone may post them).
    allowed = (
        "converters.tlp",
        "converters.validation",
        "converters.signing",
        "converters.ids",
        "converters.extensions",
    )
    for name in _imports(path):
        if name == "converters" or name.startswith("converters."):
            assert name.startswith(allowed), f"{path.relative_to(ROOT)} imports {name}"


def test_inputs_become_packages_without_knowing_stix() -> None:
    """converters/inputs/ makes research packages; only the mapping engine makes STIX."""
    forbidden = ("converters.engine", "converters.bundle", "converters.validation", "stix2")
    paths = _modules("converters/inputs")
    assert paths
    relative = [
        f"{path.relative_to(ROOT)} imports {node.module}"
        for path in paths
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.ImportFrom)
        and node.level == 2
        and node.module in ("engine", "bundle", "validation", "spec")
    ]
    assert _offending(paths, forbidden) + relative == []


def test_the_ecosystem_map_uses_stix_knowledge_only() -> None:
    """The analysis takes STIX objects and returns plain data: no server, no HTTP, no
    database, and of the converter only its STIX knowledge (TLP ranks, the project's
    extension id), never the conversion engine."""
    paths = _modules("ecosystem")
    assert paths
    forbidden = ("taxii_server", "flask", "werkzeug", "psycopg", "pymongo", "gunicorn")
    assert _offending(paths, forbidden) == []
    allowed = ("converters.tlp", "converters.extensions")
    for path in paths:
        for name in _imports(path):
            if name == "converters" or name.startswith("converters."):
                assert name.startswith(allowed), f"{path.relative_to(ROOT)} imports {name}"


def test_the_ecosystem_analysis_never_draws() -> None:
    """networkx's layering: building and ranking import no drawing or writing module."""
    drawing = {"svg", "graphml", "document"}
    for name in ("build", "clusters", "impact", "model", "records", "capabilities"):
        tree = ast.parse((ROOT / "ecosystem" / f"{name}.py").read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                module = (node.module or "").removeprefix("ecosystem.")
                assert node.level <= 1 and module not in drawing, f"{name}.py imports {module}"
