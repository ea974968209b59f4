"""Fixtures for the command-line tests: a configuration file on a temporary SQLite
store, and a runner that calls ``atlas-taxii`` in-process and captures its output."""

from __future__ import annotations

import io
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from taxii_server.cli import main
from taxii_server.settings import load_settings
from taxii_server.storage import open_storage
from taxii_server.storage.base import Storage

INDICATORS_ID = "3f0d1c7a-8e4b-4b6a-9d2e-5a7c1b9e0f42"

CONFIG = """
[storage]
url = "sqlite:///{db}"

[[api_roots]]
name = "community"
title = "Community"

[[api_roots]]
name = "partners"
title = "Partners"

[[collections]]
api_root = "community"
title = "Indicators"
id = "{indicators}"
alias = "indicators"

[[collections]]
api_root = "partners"
title = "Indicators"
"""


@dataclass(frozen=True, slots=True)
class Result:
    """What one command printed and returned; ``store`` is the store it said it
    opened (the first line of its standard error, taken out of ``err``)."""

    status: int
    out: str
    err: str
    store: str | None = None


def result_of(status: int, out: str, err: str) -> Result:
    """A :class:`Result`, the ``store: …`` line that admin commands print first on
    standard error (tests/cli/test_admin_store.py) set aside."""
    first, _, rest = err.partition("\n")
    if first.startswith("store: "):
        return Result(status, out, rest, first.removeprefix("store: "))
    return Result(status, out, err)


Runner = Callable[..., Result]


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    path = tmp_path / "atlas-taxii.toml"
    path.write_text(CONFIG.format(db=tmp_path / "atlas.db", indicators=INDICATORS_ID))
    return path


@pytest.fixture
def cli(
    config_file: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Runner:
    """``cli("users", "add", "alice", stdin="…")`` runs the command against the
    temporary configuration and returns its exit status and output."""
    monkeypatch.delenv("ATLAS_TAXII_CONFIG", raising=False)

    def run(*argv: str, stdin: str = "") -> Result:
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        capsys.readouterr()
        status = main([*argv, "--config", str(config_file)])
        captured = capsys.readouterr()
        return result_of(status, captured.out, captured.err)

    return run


@pytest.fixture
def store(config_file: Path, cli: Runner) -> Iterator[Storage]:
    """The store the commands write to, opened after the commands have created it."""
    assert cli("collections", "list").status == 0
    storage = open_storage(load_settings(config_file).storage_url)
    yield storage
    storage.close()
