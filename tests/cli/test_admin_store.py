"""Which store an admin command opens, and that it always says so (issue 15, item 7).

Without ``--config``, ``$ATLAS_TAXII_CONFIG`` or ``--storage``, ``atlas-taxii serve``
serves the demo, from ``./atlas-demo/atlas.db``; the admin commands work on that same
store then, and refuse (creating nothing) where there is none.
"""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest

from taxii_server.cli import main
from taxii_server.demo import demo_settings, set_up_demo
from taxii_server.storage import open_storage

from .conftest import Result, Runner, result_of


@pytest.fixture
def bare(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Runner:
    """Run commands in an empty folder with no configuration named anywhere."""
    monkeypatch.chdir(tmp_path)
    for name in ("ATLAS_TAXII_CONFIG", "ATLAS_TAXII_STORAGE_URL"):
        monkeypatch.delenv(name, raising=False)

    def run(*argv: str) -> Result:
        monkeypatch.setattr(sys, "stdin", io.StringIO(""))
        capsys.readouterr()
        status = main(list(argv))
        captured = capsys.readouterr()
        return result_of(status, captured.out, captured.err)

    return run


COMMANDS = [
    pytest.param(("users", "list"), id="users-list"),
    pytest.param(("users", "key", "list", "demo"), id="users-key-list"),
    pytest.param(("collections", "list"), id="collections-list"),
    pytest.param(("db", "version"), id="db-version"),
    pytest.param(("audit",), id="audit"),
]


@pytest.mark.parametrize("argv", COMMANDS)
def test_without_a_store_named_or_a_demo_nothing_is_created(
    bare: Runner, tmp_path: Path, argv: tuple[str, ...]
) -> None:
    result = bare(*argv)
    assert result.status == 2
    assert "no store named: give --config FILE" in result.err
    assert "atlas-demo/atlas.db, which does not exist here" in result.err
    assert list(tmp_path.iterdir()) == []  # no ./atlas-taxii.db, no atlas-demo/


@pytest.mark.parametrize("argv", COMMANDS)
def test_beside_a_demo_the_commands_use_its_store_and_say_so(
    bare: Runner, tmp_path: Path, argv: tuple[str, ...]
) -> None:
    (tmp_path / "atlas-demo").mkdir()
    settings = demo_settings(tmp_path / "atlas-demo")
    storage = open_storage(settings.storage_url, migrate=True)
    try:
        set_up_demo(storage, settings, [])
    finally:
        storage.close()

    result = bare(*argv)

    assert result.status == 0, result.err
    database = tmp_path / "atlas-demo" / "atlas.db"
    assert result.store is not None
    assert result.store.startswith(f"sqlite:///{database} (the demo's: no --config")
    assert not (tmp_path / "atlas-taxii.db").exists()
    if argv == ("users", "list"):
        assert "demo-red" in result.out


def test_a_named_store_is_said_too(bare: Runner, tmp_path: Path) -> None:
    result = bare("users", "list", "--storage", f"sqlite:///{tmp_path / 'named.db'}")
    assert result.status == 0, result.err
    assert (result.store, result.err) == (f"sqlite:///{tmp_path / 'named.db'}", "")
