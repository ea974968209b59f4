"""Failed logins, on every backend: one record per failure, read back per address
after a moment (a sliding window), shared by every connection, old ones forgotten."""

from __future__ import annotations

from taxii_server.storage import open_storage
from taxii_server.storage.base import Storage

T = 1_700_000_000_000_000  # microseconds
MINUTE = 60_000_000


def test_failures_are_read_back_per_address_oldest_first(storage: Storage) -> None:
    assert storage.login_failures("192.0.2.1", T - MINUTE) == []
    for offset in (30, 10, 20):
        storage.record_login_failure("192.0.2.1", T + offset, forget_before=T - MINUTE)
    storage.record_login_failure("192.0.2.2", T + 15, forget_before=T - MINUTE)
    assert storage.login_failures("192.0.2.1", T) == [T + 10, T + 20, T + 30]
    assert storage.login_failures("192.0.2.1", T + 10) == [T + 20, T + 30]  # after `since`
    assert storage.login_failures("192.0.2.2", T) == [T + 15]
    assert storage.login_failures("192.0.2.3", T) == []


def test_two_failures_at_the_same_moment_both_count(storage: Storage) -> None:
    for _ in range(2):
        storage.record_login_failure("192.0.2.1", T, forget_before=T - MINUTE)
    assert storage.login_failures("192.0.2.1", T - 1) == [T, T]


def test_failures_are_shared_between_connections(store_url: str, storage: Storage) -> None:
    other = open_storage(store_url)
    try:
        storage.record_login_failure("2001:db8::/64", T, forget_before=T - MINUTE)
        other.record_login_failure("2001:db8::/64", T + 1, forget_before=T - MINUTE)
        assert storage.login_failures("2001:db8::/64", T - MINUTE) == [T, T + 1]
        assert other.login_failures("2001:db8::/64", T - MINUTE) == [T, T + 1]
    finally:
        other.close()


def test_failures_before_forget_before_are_forgotten(storage: Storage) -> None:
    storage.record_login_failure("192.0.2.1", T, forget_before=T - MINUTE)
    storage.record_login_failure("192.0.2.9", T + MINUTE // 2, forget_before=T - MINUTE)
    storage.record_login_failure("192.0.2.9", T + 2 * MINUTE, forget_before=T + MINUTE)
    # Asking from before forget_before shows that the store no longer holds them.
    assert storage.login_failures("192.0.2.1", 0) == []
    assert storage.login_failures("192.0.2.9", 0) == [T + 2 * MINUTE]
