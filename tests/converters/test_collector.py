"""The converter pauses the cyclic garbage collector and leaves it as it found it."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from converters import convert_package

from .conftest import PACKAGES


@pytest.fixture
def collector() -> Iterator[None]:
    """Restore the collector's state, and unfreeze what a test froze."""
    enabled = gc.isenabled()
    yield
    gc.unfreeze()
    if enabled:
        gc.enable()
    else:
        gc.disable()


def _convert() -> dict[str, object]:
    return convert_package(PACKAGES / "RP-2024-0007.yaml")


def test_the_bundle_is_promoted_and_nothing_stays_frozen(collector: None) -> None:
    gc.enable()
    gc.collect()
    bundle = _convert()
    assert gc.isenabled()
    assert gc.get_freeze_count() == 0
    # what the conversion kept is in the oldest generation, not left to a young collection
    assert any(kept is bundle for kept in gc.get_objects(generation=2))


def test_a_paused_collector_stays_paused(collector: None) -> None:
    gc.disable()
    _convert()
    assert not gc.isenabled()


def test_objects_frozen_by_the_caller_stay_frozen(collector: None) -> None:
    gc.enable()
    gc.freeze()  # as a pre-fork server does
    frozen = gc.get_freeze_count()
    assert frozen > 0
    _convert()
    assert gc.get_freeze_count() == frozen
    assert gc.isenabled()
