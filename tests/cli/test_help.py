"""``atlas-taxii --version`` and ``--help`` everywhere (issue 15, item 9)."""

from __future__ import annotations

import argparse
import importlib.metadata
from collections.abc import Iterator

import pytest

from taxii_server import __version__
from taxii_server.cli import _build_parser, main


def _parsers(
    parser: argparse.ArgumentParser, path: tuple[str, ...] = ("atlas-taxii",)
) -> Iterator[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _parsers(sub, (*path, name))


PARSERS = list(_parsers(_build_parser()))


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out == f"atlas-taxii {__version__}\n"
    assert __version__ == importlib.metadata.version("atlas-taxii")


@pytest.mark.parametrize(
    ("path", "parser"), [pytest.param(p, q, id=" ".join(p[1:]) or "top") for p, q in PARSERS]
)
def test_every_command_says_what_it_does(
    path: tuple[str, ...], parser: argparse.ArgumentParser
) -> None:
    assert parser.description, f"{' '.join(path)} --help has no description"
    for action in parser._actions:
        if not action.option_strings and not isinstance(action, argparse._SubParsersAction):
            assert action.help, f"{' '.join(path)}: {action.metavar or action.dest} has no help"


def test_the_key_commands_are_among_them() -> None:
    paths = {p for p, _ in PARSERS}
    assert {("atlas-taxii", "users", "key", a) for a in ("create", "list", "revoke")} <= paths
