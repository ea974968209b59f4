"""The rules by which a listing of another server is followed or left
(:mod:`taxii_server.remote.paging`), one page at a time."""

from __future__ import annotations

import pytest

from taxii_server.remote.errors import RemoteProtocolError
from taxii_server.remote.paging import PageGuard, PageLimitReached


def _indicator(n: int, modified: str = "2024-01-01T00:00:00.000Z") -> dict[str, str]:
    return {"type": "indicator", "id": f"indicator--{n:08d}-0000-4000-8000-000000000000",
            "modified": modified}  # fmt: skip


def test_new_objects_under_the_same_next_are_progress() -> None:
    guard = PageGuard("u")
    for page in range(5):
        guard.page([_indicator(page * 2), _indicator(page * 2 + 1)], ("session", None))
    assert guard.pages == 5


def test_a_new_version_of_an_object_already_seen_is_progress() -> None:
    guard = PageGuard("u")
    guard.page([_indicator(1)], ("a", None))
    guard.page([_indicator(1, "2024-02-01T00:00:00.000Z")], ("a", None))


def test_scos_count_by_content() -> None:
    guard = PageGuard("u")
    guard.page([{"type": "ipv4-addr", "id": "ipv4-addr--x", "value": "192.0.2.1"}], "a")
    guard.page([{"type": "ipv4-addr", "id": "ipv4-addr--y", "value": "192.0.2.2"}], "a")
    with pytest.raises(RemoteProtocolError):
        guard.page([{"value": "192.0.2.2", "id": "ipv4-addr--y", "type": "ipv4-addr"}], "b")


def test_empty_pages_pass_while_they_lead_somewhere_new() -> None:
    guard = PageGuard("u")
    guard.page([], ("t1", None))  # filtered down to nothing, e.g. by TLP
    guard.page([], ("t2", None))
    with pytest.raises(RemoteProtocolError, match="page 3 brought none"):
        guard.page([], ("t2", None))


def test_only_repeats_stop_even_with_a_new_token() -> None:
    guard = PageGuard("u")
    guard.page([_indicator(1), _indicator(2)], ("t1", None))
    guard.page([_indicator(2), _indicator(3)], ("t2", None))  # overlap, but something new
    with pytest.raises(RemoteProtocolError, match="the server repeats itself"):
        guard.page([_indicator(3), _indicator(1)], ("t3", None))


def test_the_page_limit_ends_any_listing() -> None:
    guard = PageGuard("u", max_pages=3)
    guard.page([_indicator(1)], "t1")
    guard.page([_indicator(2)], "t2")
    with pytest.raises(PageLimitReached, match="after 3 pages"):
        guard.page([_indicator(3)], "t3")
