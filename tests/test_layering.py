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


#: The workbench converts uploaded packages as ``atlas-taxii convert`` does.
_WORKBENCH_CONVERSION = ROOT / "taxii_server" / "web" / "conversion.py"


@pytest.mark.parametrize(
    "path",
    [
        p
        for p in _modules("taxii_server")
        if "cli" not in p.relative_to(ROOT).parts and p != _WORKBENCH_CONVERSION
    ],
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


def test_the_workbench_loads_the_conversion_engine_only_when_it_converts() -> None:
    """taxii_server/web/conversion.py imports the engine inside its functions, never at
    the top: a server that is never sent a package never loads it."""
    tree = ast.parse(_WORKBENCH_CONVERSION.read_text(encoding="utf-8"))
    top = [node for node in tree.body if isinstance(node, ast.Import | ast.ImportFrom)]
    names = {alias.name for node in top if isinstance(node, ast.Import) for alias in node.names}
    names |= {node.module or "" for node in top if isinstance(node, ast.ImportFrom)}
    assert not any(name == "converters" or name.startswith("converters.") for name in names)
    inside = {
        node.module
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node not in top
    }
    assert "converters" in inside


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


def test_the_workbench_calls_the_service_never_a_store() -> None:
    """taxii_server/web asks the service (and browsing, user_publishing) for what a
    user may see; of the storage package it knows the types only."""
    paths = _modules("taxii_server/web")
    assert paths
    stores = ("taxii_server.storage.sql", "taxii_server.storage.mongo", "taxii_server.storage")
    for path in paths:
        for name in _imports(path):
            assert name not in stores and not name.startswith(stores[:2]), (path, name)
        text = path.read_text(encoding="utf-8")
        for call in (".query_objects(", ".query_manifest(", ".add_objects(", ".get_user("):
            assert call not in text, (path.relative_to(ROOT), call)
