"""Input is matched whole: no regular expression in the packages ends in ``$``.

In Python ``$`` also matches before a trailing newline, so ``re.match(r"^[a-z]+$")``
accepts ``"admin\\n"`` (issue 9, item 10: such a user could be created).  Patterns
are written without anchors and applied with ``fullmatch``, or end in ``\\Z``.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from converters.signing.keys import KeySetError, PublicKey, create_key
from taxii_server.credentials import new_api_key, parse_api_key
from taxii_server.settings import ApiRootConfig, ConfigError, Settings

ROOT = Path(__file__).resolve().parents[1]
_RE_FUNCTIONS = {"compile", "match", "fullmatch", "search"}
# A "$" that is not escaped ("\$") and not inside a character class.
_DOLLAR_AT_END = re.compile(r"(?<!\\)\$\)*\Z")


def _patterns(path: Path) -> list[tuple[int, str]]:
    """(line, pattern) of each literal pattern given to ``re.compile/match/…``."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id == "re"
            and node.func.attr in _RE_FUNCTIONS
            and node.args
        ):
            first = node.args[0]
            parts = first.values if isinstance(first, ast.JoinedStr) else [first]
            last = parts[-1] if parts else None
            if isinstance(last, ast.Constant) and isinstance(last.value, str):
                found.append((node.lineno, last.value))
    return found


def test_no_pattern_in_the_packages_ends_with_a_dollar() -> None:
    offenders = [
        f"{path.relative_to(ROOT)}:{line}: {pattern!r}"
        for package in ("taxii_server", "converters", "benchmarks")
        for path in sorted((ROOT / package).rglob("*.py"))
        for line, pattern in _patterns(path)
        if _DOLLAR_AT_END.search(pattern)
    ]
    assert offenders == [], "use fullmatch (or \\Z) instead of $:\n" + "\n".join(offenders)


def test_the_check_finds_a_trailing_dollar(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text('import re\nA = re.compile(r"^[a-z]+$")\nB = re.compile(r"a\\$")\n')
    assert [p for _, p in _patterns(sample) if _DOLLAR_AT_END.search(p)] == ["^[a-z]+$"]


def test_an_api_key_with_a_trailing_newline_is_not_a_key() -> None:
    key = new_api_key()
    assert parse_api_key(key.token) is not None
    assert parse_api_key(key.token + "\n") is None


def test_an_api_root_name_with_a_trailing_newline_is_refused() -> None:
    with pytest.raises(ConfigError, match="not a usable URL path segment"):
        Settings(api_roots=(ApiRootConfig("community\n", "Community"),)).validate()


def test_a_signing_identity_with_a_trailing_newline_is_refused() -> None:
    identity = "identity--00000000-0000-4000-8000-000000000000"
    jwk = create_key(identity).public().to_jwk()
    assert PublicKey.from_jwk(jwk, "key").identity == identity
    with pytest.raises(KeySetError, match="stix_identity"):
        PublicKey.from_jwk({**jwk, "stix_identity": identity + "\n"}, "key")
