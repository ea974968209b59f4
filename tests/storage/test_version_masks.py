"""``version_masks`` against its definition, for any versions and TLP ranks.

The function has a shortcut for an object's only version (most objects); both paths
must agree with the definition: bit *c* of ``latest_mask`` (``first_mask``) is set on
the newest (oldest) version whose TLP rank is at most *c* (TAXII 2.1 §3.4.1
``match[version]`` per clearance).
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from taxii_server.storage.versions import ALL_CLEARANCES, clearance_bit, version_masks


def _by_definition(versions: list[tuple[int, int]]) -> list[tuple[int, int]]:
    masks = []
    for version, _tlp in versions:
        first = latest = 0
        for clearance in range(ALL_CLEARANCES):
            seen = [v for v, tlp in versions if tlp <= clearance]
            if seen and min(seen) == version:
                first |= clearance_bit(clearance)
            if seen and max(seen) == version:
                latest |= clearance_bit(clearance)
        masks.append((first, latest))
    return masks


@given(
    st.lists(
        st.tuples(st.integers(0, 10**15), st.integers(-1, ALL_CLEARANCES)),
        min_size=1,
        max_size=6,
        unique_by=lambda v: v[0],
    )
)
def test_masks_follow_the_definition(versions: list[tuple[int, int]]) -> None:
    assert version_masks(versions) == _by_definition(versions)


def test_an_only_version_is_first_and_latest_from_its_level_up() -> None:
    assert version_masks([(5, 0)]) == [(0b111111, 0b111111)]
    assert version_masks([(5, 2)]) == [(0b111100, 0b111100)]
    assert version_masks([(5, 4)]) == [(0b110000, 0b110000)]
    # Admin-only (a marking the server cannot rank): the admin-only clearance alone.
    assert version_masks([(5, 5)]) == [(0b100000, 0b100000)]
