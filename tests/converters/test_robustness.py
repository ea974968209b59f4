"""Bad input never escapes as anything but a ConversionError (no traceback, no crash)."""

from __future__ import annotations

import copy
import json
import tempfile
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import converters
from converters import ConversionError, convert_package

from .conftest import PACKAGES

_EXAMPLE: dict[str, Any] = yaml.safe_load((PACKAGES / "RP-2024-0007.yaml").read_text("utf-8"))
_JSON = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=12)),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=6,
)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(value, dict):
        for key, child in value.items():
            found += _paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found += _paths(child, (*prefix, index))
    return found


_ALL_PATHS = [p for p in _paths(_EXAMPLE) if p]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.tuples(st.sampled_from(_ALL_PATHS), _JSON, st.booleans()), min_size=1, max_size=3)
)
def test_mutated_packages_are_refused_cleanly_or_convert(
    mutations: list[tuple[Any, Any, bool]],
) -> None:
    package = copy.deepcopy(_EXAMPLE)
    for path, value, delete in mutations:
        holder = package
        for step in path[:-1]:
            try:
                holder = holder[step]
            except (KeyError, IndexError, TypeError):
                break
        else:
            try:
                if delete and isinstance(holder, dict):
                    holder.pop(path[-1], None)
                else:
                    holder[path[-1]] = value
            except (IndexError, TypeError):
                pass
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "package.json"
        path.write_text(json.dumps(package, default=str), encoding="utf-8")
        try:
            convert_package(path)
        except ConversionError as exc:
            assert exc.problems or exc.summary
            assert all(str(problem) for problem in exc.problems)


def test_public_names() -> None:
    for name in converters.__all__:
        assert getattr(converters, name) is not None
    assert issubclass(converters.PackageError, converters.ConversionError)
    assert issubclass(converters.MappingError, converters.ConversionError)
    assert issubclass(converters.BundleInvalid, converters.ConversionError)


_CELL = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=20
)
_COLUMNS = ["ref", "type", "value", "currency", "platform", "bank.country", "linked_to", "tlp"]
_COLUMNS += ["confidence", "first_seen", "vetting.status", "vetting.by", "x_note"]


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(_CELL, min_size=len(_COLUMNS), max_size=len(_COLUMNS)), max_size=4))
def test_any_csv_cells_are_refused_cleanly_or_convert(rows: list[list[str]]) -> None:
    import csv

    with tempfile.TemporaryDirectory() as scratch:
        directory = Path(scratch)
        package = dict(_EXAMPLE, data_points_csv="points.csv")
        (directory / "package.json").write_text(json.dumps(package, default=str), "utf-8")
        with (directory / "points.csv").open("w", newline="", encoding="utf-8") as out:
            writer = csv.writer(out)
            writer.writerow(_COLUMNS)
            writer.writerows(rows)
        try:
            convert_package(directory / "package.json")
        except ConversionError as exc:
            assert all(str(problem) for problem in exc.problems)
