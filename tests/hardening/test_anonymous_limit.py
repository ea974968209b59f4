"""Requests without credentials are limited per client address, in the store, so every
worker and host applies one limit (issue 9, item 6: each anonymous read of a public
collection is an audit record, and nothing bounded how fast they came)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask

from taxii_server.request_limit import retry_after
from taxii_server.storage.base import AuditQuery
from tests.server.conftest import PUBLIC, FakeClock, World, basic, password_of, url

OBJECTS = url(PUBLIC, "objects")
TAXII = "application/taxii+json;version=2.1"


def _get(client: Any, address: str, authorization: str | None = None) -> Any:
    headers = {"Accept": TAXII, "X-Forwarded-For": address}
    if authorization is not None:
        headers["Authorization"] = authorization
    return client.get(OBJECTS, headers=headers)


def test_an_address_over_the_limit_gets_429_and_no_audit_record(
    make_app: Callable[..., Flask], world: World
) -> None:
    client = make_app(anonymous_requests_per_minute=3, trusted_proxies=1).test_client()
    assert [_get(client, "192.0.2.7").status_code for _ in range(3)] == [200] * 3
    refused = _get(client, "192.0.2.7")
    assert refused.status_code == 429
    assert refused.headers["Content-Type"] == TAXII
    assert 1 <= int(refused.headers["Retry-After"]) <= 120
    assert "authenticate" in refused.get_json()["description"]
    assert len(world.storage.query_audit(AuditQuery(limit=100))) == 3  # none for the 429


def test_the_limit_is_per_address_and_spares_authenticated_callers(
    make_app: Callable[..., Flask],
) -> None:
    client = make_app(anonymous_requests_per_minute=2, trusted_proxies=1).test_client()
    for _ in range(2):
        _get(client, "192.0.2.7")
    assert _get(client, "192.0.2.7").status_code == 429
    assert _get(client, "192.0.2.8").status_code == 200  # another address
    alice = basic("alice", password_of("alice"))
    assert _get(client, "192.0.2.7", alice).status_code == 200  # credentials: not limited
    assert _get(client, "::ffff:192.0.2.7").status_code == 429  # the same IPv4 client


def test_ipv6_clients_are_limited_per_64(make_app: Callable[..., Flask]) -> None:
    client = make_app(anonymous_requests_per_minute=2, trusted_proxies=1).test_client()
    assert [_get(client, f"2001:db8:0:7::{n}").status_code for n in (1, 2, 3)] == [200, 200, 429]
    assert _get(client, "2001:db8:0:8::1").status_code == 200


def test_the_limit_is_shared_by_every_app_on_the_store(make_app: Callable[..., Flask]) -> None:
    # Two apps over one store: two gunicorn workers, or two hosts behind one proxy.
    first = make_app(anonymous_requests_per_minute=4, trusted_proxies=1).test_client()
    second = make_app(anonymous_requests_per_minute=4, trusted_proxies=1).test_client()
    statuses = [_get(c, "198.51.100.3").status_code for c in (first, second, first, second)]
    assert statuses == [200] * 4
    assert _get(first, "198.51.100.3").status_code == 429
    assert _get(second, "198.51.100.3").status_code == 429


def test_the_minute_slides(make_app: Callable[..., Flask], clock: FakeClock) -> None:
    clock.now = (clock.now // 60_000_000) * 60_000_000  # the start of a minute
    client = make_app(anonymous_requests_per_minute=4, trusted_proxies=1).test_client()
    for _ in range(4):
        _get(client, "192.0.2.30")
    clock.advance(61)  # into the next minute: the last one still weighs 59/60 (3.93)
    assert [_get(client, "192.0.2.30").status_code for _ in range(2)] == [200, 429]
    clock.advance(30)  # now it weighs 1.93, and this minute holds 1
    assert [_get(client, "192.0.2.30").status_code for _ in range(2)] == [200, 200]
    assert _get(client, "192.0.2.30").status_code == 429


def test_zero_switches_the_limit_off(make_app: Callable[..., Flask]) -> None:
    client = make_app(anonymous_requests_per_minute=0, trusted_proxies=1).test_client()
    assert {_get(client, "192.0.2.40").status_code for _ in range(30)} == {200}


@pytest.mark.parametrize(
    ("previous", "current", "elapsed", "wait"),
    [
        (0, 10, 0.0, 60),  # all in this minute: once it has passed
        (0, 10, 45.0, 15),
        (10, 0, 0.0, 1),  # the previous minute must weigh under 10: at once, nearly
        (10, 5, 0.0, 30),  # half of the previous one's weight has to go
        (0, 20, 0.0, 90),  # twice the limit: a minute and a half
    ],
)
def test_retry_after_is_when_the_client_is_under_the_limit_again(
    previous: int, current: int, elapsed: float, wait: int
) -> None:
    assert retry_after(10, previous, current, elapsed) == wait
