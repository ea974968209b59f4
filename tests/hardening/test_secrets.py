"""Secrets: stored only as slow salted hashes, checked at the same cost whether or not the
name exists, and guessed at a limited rate per client address across every worker.

* Users and keys are made with the real commands (``atlas-taxii users add``,
  ``users key create``), then the store is read raw (every byte of the SQLite files;
  every row of every PostgreSQL table as text): no password or key secret is there,
  only scrypt hashes at the production cost, salted so equal passwords differ.
* Every way a login can fail that involves a secret costs exactly one scrypt check at
  the production cost, the same as a wrong password for a real user: the time of a 401
  does not tell whether a user name or key id exists (counted, not timed).
* Failed logins are counted per client address in the store: two apps on one store
  (two workers, or two hosts) share the limit; an IPv6 client is limited per /64.
"""

from __future__ import annotations

import hashlib
import io
import itertools
import re
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import psycopg.sql
import pytest
from flask import Flask

from taxii_server import credentials
from taxii_server.cli import main
from taxii_server.credentials import hash_secret, new_api_key
from taxii_server.storage import open_storage
from taxii_server.storage.base import ApiKey, Storage, User
from tests.pg import PgCluster
from tests.server.conftest import SHARED, Caller, World, basic, password_of, url

OBJECTS = url(SHARED, "objects")
PASSWORD = "correct horse battery staple 2024"
_HASH = re.compile(r"^scrypt\$(\d+)\$(\d+)\$(\d+)\$[A-Za-z0-9+/=]{24}\$[A-Za-z0-9+/=]{44}$")
_databases = itertools.count()

BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
]


@pytest.fixture(params=BACKENDS)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'taxii.db'}"
    cluster: PgCluster = request.getfixturevalue("pg_cluster")
    return cluster.create_database(f"secrets_{next(_databases)}")


def _cli(
    url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, *argv: str,
    stdin: str = "",
) -> str:  # fmt: skip
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    monkeypatch.delenv("ATLAS_TAXII_CONFIG", raising=False)
    capsys.readouterr()
    assert main([*argv, "--storage", url]) == 0, capsys.readouterr().err
    return capsys.readouterr().out


def _raw_store(url: str) -> bytes:
    """Everything the store holds, as bytes: SQLite's files (database, WAL, shared
    memory) or every row of every PostgreSQL table rendered as text."""
    if url.startswith("sqlite:"):
        path = Path(url.removeprefix("sqlite:///"))
        return b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))
    with psycopg.connect(url) as connection:
        tables = [
            row[0]
            for row in connection.execute(
                "SELECT tablename FROM pg_catalog.pg_tables WHERE schemaname = 'public'"
            )
        ]
        dump = [
            str(row[0])
            for table in tables
            for row in connection.execute(
                psycopg.sql.SQL("SELECT t::text FROM {} t").format(psycopg.sql.Identifier(table))
            )
        ]
    return "\n".join(dump).encode()


def test_secrets_are_stored_only_as_slow_salted_hashes(
    store_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _cli(store_url, capsys, monkeypatch, "users", "add", "alice", "--password-stdin",
         stdin=f"{PASSWORD}\n")  # fmt: skip
    _cli(store_url, capsys, monkeypatch, "users", "add", "bob", "--password-stdin",
         stdin=f"{PASSWORD}\n")  # fmt: skip
    printed = _cli(store_url, capsys, monkeypatch, "users", "key", "create", "alice")
    (token,) = re.findall(r"atk_[a-z2-7]{12}_[A-Za-z0-9_-]{32}", printed)
    key_id, secret = token[4:16], token[17:]

    raw = _raw_store(store_url)
    assert raw, "the store was not read"
    for clear in (PASSWORD, secret, token):
        assert clear.encode() not in raw
    assert key_id.encode() in raw  # the public, indexed part is stored as is

    storage = open_storage(store_url)
    try:
        alice, bob = storage.get_user("alice"), storage.get_user("bob")
        key = storage.get_api_key(key_id)
    finally:
        storage.close()
    assert alice is not None and bob is not None and key is not None
    hashes = [alice.password_hash, bob.password_hash, key.secret_hash]
    for stored in hashes:
        match = _HASH.match(stored or "")
        assert match, stored
        n, r, p = (int(g) for g in match.groups())
        assert n >= 2**15 and r >= 8 and p >= 1  # the production cost (~70 ms, 32 MiB)
    assert alice.password_hash != bob.password_hash  # salted: equal passwords differ
    assert credentials.verify_secret(PASSWORD, alice.password_hash or "")
    assert credentials.verify_secret(secret, key.secret_hash)


# -- a 401 costs the same whether or not the name exists ------------------------------------


@pytest.fixture
def production_world(world: World) -> Iterator[World]:
    """The seeded world plus accounts hashed at the production cost."""
    storage = world.storage
    storage.put_user(User("prod", 2, hash_secret(PASSWORD)))
    storage.put_user(User("keyonly", 2, None))
    token = new_api_key()
    storage.add_api_key(ApiKey(token.key_id, "prod", hash_secret(token.secret)))
    world.api_keys["prod"] = token.token
    yield world


def _scrypt_calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, int, int]]:
    calls: list[tuple[int, int, int]] = []
    real = hashlib.scrypt

    def counting(password: bytes, **kwargs: Any) -> bytes:
        calls.append((kwargs["n"], kwargs["r"], kwargs["p"]))
        return real(password, **kwargs)

    monkeypatch.setattr(credentials.hashlib, "scrypt", counting)
    return calls


def _header(world: World, case: str) -> str:
    token = world.api_keys["prod"]
    key_id = token[4:16]
    return {
        "wrong-password": basic("prod", "not the password"),
        "unknown-user": basic("nobody-by-this-name", "not the password"),
        "key-only-user-with-a-password": basic("keyonly", "not the password"),
        "wrong-key-secret": f"Bearer atk_{key_id}_{'A' * 32}",
        "unknown-key-id": f"Bearer atk_{'a' * 12}_{'A' * 32}",
        "unknown-key-as-basic-password": basic("prod", f"atk_{'b' * 12}_{'A' * 32}"),
        "wrong-key-secret-as-token": f"Token atk_{key_id}_{'B' * 32}",
    }[case]


@pytest.mark.parametrize(
    "case",
    [
        "wrong-password",
        "unknown-user",
        "key-only-user-with-a-password",
        "wrong-key-secret",
        "unknown-key-id",
        "unknown-key-as-basic-password",
        "wrong-key-secret-as-token",
    ],
)
def test_every_failed_login_costs_one_production_hash_check(
    production_world: World,
    taxii: Callable[..., Caller],
    monkeypatch: pytest.MonkeyPatch,
    case: str,
) -> None:
    header = _header(production_world, case)
    calls = _scrypt_calls(monkeypatch)
    response = taxii(authorization=header).get(OBJECTS)
    assert response.status_code == 401
    (cost,) = calls
    assert cost == (2**15, 8, 1), "a check cheaper than a real one tells the name is unknown"


def test_the_reference_a_real_user_costs(
    production_world: World, taxii: Callable[..., Caller], monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = _scrypt_calls(monkeypatch)
    assert taxii(authorization=basic("prod", PASSWORD)).get(OBJECTS).status_code in (200, 404)
    assert calls == [(2**15, 8, 1)]


# -- failed logins are limited per address, across processes ---------------------------------


def _from(client: Any, address: str, header: str) -> int:
    response = client.get(
        OBJECTS,
        headers={"Authorization": header, "X-Forwarded-For": address,
                 "Accept": "application/taxii+json;version=2.1"},
    )  # fmt: skip
    return int(response.status_code)


def test_the_limit_is_shared_by_every_app_on_the_store(make_app: Callable[..., Flask]) -> None:
    # Two apps over one store: two gunicorn workers, or two hosts behind one proxy.
    first = make_app(auth_failures_per_minute=4, trusted_proxies=1).test_client()
    second = make_app(auth_failures_per_minute=4, trusted_proxies=1).test_client()
    wrong, right = basic("alice", "wrong"), basic("alice", password_of("alice"))
    statuses = [_from(c, "192.0.2.7", wrong) for c in (first, second, first, second)]
    assert statuses == [401] * 4
    assert _from(first, "192.0.2.7", wrong) == 429
    assert _from(second, "192.0.2.7", right) == 429  # no guessing, not even right
    assert _from(second, "192.0.2.8", right) == 200  # another address is not affected
    assert _from(first, "::ffff:192.0.2.7", right) == 429  # the same IPv4 client


def test_ipv6_clients_are_limited_per_64(make_app: Callable[..., Flask]) -> None:
    client = make_app(auth_failures_per_minute=3, trusted_proxies=1).test_client()
    wrong = basic("alice", "wrong")
    assert [_from(client, f"2001:db8:0:7::{n}", wrong) for n in range(1, 4)] == [401] * 3
    assert _from(client, "2001:db8:0:7:ffff::99", wrong) == 429
    assert _from(client, "2001:db8:0:8::1", wrong) == 401


def test_a_client_verified_before_the_attack_keeps_working(
    make_app: Callable[..., Flask],
) -> None:
    """A SIEM behind the same NAT as an attacker: its credential, verified within the
    last auth_cache_ttl seconds, needs no new hash check and is not refused."""
    client = make_app(auth_failures_per_minute=2, trusted_proxies=1).test_client()
    right = basic("alice", password_of("alice"))
    assert _from(client, "192.0.2.50", right) == 200
    assert [_from(client, "192.0.2.50", basic("alice", "guess")) for _ in range(3)] == [
        401,
        401,
        429,
    ]
    assert _from(client, "192.0.2.50", right) == 200


def test_failures_are_kept_in_the_store(make_app: Callable[..., Flask], world: World) -> None:
    client = make_app(auth_failures_per_minute=10, trusted_proxies=1).test_client()
    _from(client, "198.51.100.9", basic("alice", "wrong"))
    _from(client, "198.51.100.9", "Bearer nonsense")
    storage: Storage = world.storage
    window = int(time.time() // 60)
    assert max(storage.login_failures("198.51.100.9", w) for w in (window - 1, window)) == 2
