"""Failed-login counts, on every backend: one count per (address, window), shared by
every connection, old windows forgotten."""

from __future__ import annotations

from taxii_server.storage import open_storage
from taxii_server.storage.base import Storage


def test_failures_are_counted_per_address_and_window(storage: Storage) -> None:
    assert storage.login_failures("192.0.2.1", 100) == 0
    assert [storage.count_login_failure("192.0.2.1", 100) for _ in range(3)] == [1, 2, 3]
    assert storage.count_login_failure("192.0.2.2", 100) == 1
    assert storage.count_login_failure("192.0.2.1", 101) == 1
    assert storage.login_failures("192.0.2.1", 100) == 3
    assert storage.login_failures("192.0.2.1", 101) == 1
    assert storage.login_failures("192.0.2.2", 101) == 0


def test_counts_are_shared_between_connections(store_url: str, storage: Storage) -> None:
    other = open_storage(store_url)
    try:
        storage.count_login_failure("2001:db8::/64", 7)
        assert other.count_login_failure("2001:db8::/64", 7) == 2
        assert storage.login_failures("2001:db8::/64", 7) == 2
    finally:
        other.close()


def test_windows_before_the_previous_one_are_forgotten(storage: Storage) -> None:
    storage.count_login_failure("192.0.2.1", 10)
    storage.count_login_failure("192.0.2.1", 11)
    storage.count_login_failure("192.0.2.9", 12)
    assert storage.login_failures("192.0.2.1", 11) == 1  # the previous window stays
    assert storage.login_failures("192.0.2.1", 10) == 0
