"""``atlas-taxii db version`` and ``db upgrade``."""

from __future__ import annotations

from pathlib import Path

import pytest

from taxii_server.cli import main
from taxii_server.storage import inspect_schema, open_storage, sql_schema
from taxii_server.storage.sql_schema import LATEST, Migration

from .conftest import Runner


def _db(*argv: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    capsys.readouterr()
    status = main(["db", *argv])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_upgrade_creates_the_schema_then_version_agrees(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'new.db'}"
    status, _, err = _db("version", "--storage", url, capsys=capsys)
    assert status == 2 and "atlas-taxii db upgrade" in err and "Traceback" not in err
    status, out, _ = _db("upgrade", "--storage", url, capsys=capsys)
    assert status == 0 and out == f"schema upgraded from version 0 to {LATEST}\n"
    status, out, _ = _db("upgrade", "--storage", url, capsys=capsys)
    assert status == 0 and "already up to date" in out
    status, out, _ = _db("version", "--storage", url, capsys=capsys)
    assert status == 0 and out == f"schema version {LATEST}: up to date\n"


def test_version_reads_the_configured_store(cli: Runner) -> None:
    cli("collections", "list")  # creates the store the configuration names
    result = cli("db", "version")
    assert result.status == 0 and f"schema version {LATEST}" in result.out


def test_version_flags_an_older_and_a_newer_schema(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'a.db'}"
    open_storage(url, migrate=True).close()
    monkeypatch.setattr(
        sql_schema,
        "MIGRATIONS",
        (*sql_schema.MIGRATIONS, Migration("next", ("CREATE TABLE t (x INTEGER)",))),
    )
    monkeypatch.setattr(sql_schema, "LATEST", LATEST + 1)
    status, out, _ = _db("version", "--storage", url, capsys=capsys)
    assert status == 1 and f"needs version {LATEST + 1}" in out and "db upgrade" in out
    status, out, _ = _db("upgrade", "--storage", url, capsys=capsys)
    assert status == 0 and f"from version {LATEST} to {LATEST + 1}" in out
    monkeypatch.undo()
    status, out, _ = _db("version", "--storage", url, capsys=capsys)
    assert status == 1 and "newer atlas-taxii" in out
    status, _, err = _db("upgrade", "--storage", url, capsys=capsys)
    assert status == 2 and "Upgrade atlas-taxii" in err
    assert inspect_schema(url) == (LATEST + 1, LATEST)
