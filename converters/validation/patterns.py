"""STIX patterns (STIX 2.1 §9): is an indicator's ``pattern`` one a consumer can parse?

The verdict is the reference's: ``stix2patterns`` (the OASIS ANTLR grammar) parses the
pattern, checks duplicate qualifiers and hash literals, and ``stix2-validator`` then
checks that each object type and property name in a comparison is well formed.

The ANTLR runtime for Python costs about 0.3 ms per pattern, far beyond our budget,
so :mod:`.pattern_grammar` first tries a hand-written recogniser for the same
grammar.  It only ever *accepts*: a pattern it does not fully understand goes to
ANTLR, which also words the error.  Verdicts are cached per (pattern, version).
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from .pattern_grammar import PROPERTY_NAME, SCO_TYPES, TYPE_NAME, quick_verdict

__all__ = ["pattern_problems"]


def pattern_problems(pattern: str, version: str) -> tuple[str, ...]:
    """Why ``pattern`` is not a valid STIX pattern of ``version``; () when it is."""
    if quick_verdict(pattern, version):
        return ()
    return _reference_problems(pattern, version)


@lru_cache(maxsize=16_384)
def _reference_problems(pattern: str, version: str) -> tuple[str, ...]:
    try:
        return _ask_reference(pattern, version)
    except Exception as exc:  # noqa: BLE001 - a crash of the reference is a verdict too
        # e.g. a negative list index ("[-1]") parses, then crashes the stix2patterns
        # 2.1 inspector; stix2-validator then fails the indicator with that error.
        return (f"the reference pattern parser cannot read it ({type(exc).__name__})",)


def _ask_reference(pattern: str, version: str) -> tuple[str, ...]:
    # Imported here: loading the ANTLR grammar costs a noticeable fraction of a second.
    from stix2patterns.v21.pattern import Pattern  # type: ignore[import-untyped]
    from stix2patterns.validator import run_validator  # type: ignore[import-untyped]

    errors = [str(error) for error in run_validator(pattern, version)]
    if errors:
        return tuple(_clean(error) for error in errors)
    if version != "2.1":
        return ()
    comparisons: dict[str, list[tuple[list[Any], str, str]]] = (
        Pattern(pattern).inspect().comparisons
    )
    problems: list[str] = []
    for object_type, tests in comparisons.items():
        if object_type not in SCO_TYPES and (
            not TYPE_NAME.match(object_type) or not 3 <= len(object_type) <= 250
        ):
            problems.append(f"{object_type!r} is not a valid object type name")
        for path, _, _ in tests:
            name = path[0]
            if object_type in SCO_TYPES and name == "id":
                continue  # the one standard SCO property shorter than three characters
            if isinstance(name, str) and not PROPERTY_NAME.match(name):
                problems.append(f"{name!r} is not a valid property name")
    return tuple(problems)


def _clean(error: str) -> str:
    """``FAIL: Error found at line 1:5. mismatched…`` -> ``at 1:5: mismatched…``."""
    error = error.removeprefix("FAIL: ")
    found = re.match(r"Error found at line (\d+):(\d+)\. (.*)", error, re.DOTALL)
    if found:
        error = f"at {found.group(1)}:{found.group(2)}: {found.group(3)}"
    return " ".join(error.split())
