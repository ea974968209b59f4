"""Secrets: stored only as hashes, checked at the same cost whether or not the name
exists, and guessed at a limited rate per client address across every worker.

* Users and keys are made with the real commands (``atlas-taxii users add``,
  ``users key create``), then the store is read raw (every byte of the SQLite files;
  every row of every PostgreSQL table as text): no password or key secret is there,
  only scrypt hashes of passwords at the production cost, salted so equal passwords
  differ, and SHA-256 hashes of key secrets.
* Every way a password login can fail costs exactly one scrypt check at the production
  cost, the same as a wrong password for a real user, and every way a key login can
  fail exactly one SHA-256 and no scrypt, the same as a wrong secret for a real key:
  the time of a 401 does not tell whether a user name or key id exists (counted, not
  timed).
* A key made before keys were hashed with SHA-256 (a store upgraded from schema 3)
  still works, and is rehashed on first use.
* Failed logins are counted per client address in the store: two apps on one store
  (two workers, or two hosts) share the limit and give the same answer whatever each
  has cached; an IPv6 client is limited per /64; ``X-Forwarded-For`` counts only from
  the configured proxy addresses.
"""

from __future__ import annotations

import hashlib
import io
import itertools
import re
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import psycopg.sql
import pytest
from flask import Flask

from taxii_server import credentials
from taxii_server.auth import Authenticator
from taxii_server.cli import main
from taxii_server.credentials import hash_api_key, hash_secret, new_api_key
from taxii_server.storage import inspect_schema, open_storage, sql, sql_schema
from taxii_server.storage.base import ApiKey, Storage, User
from taxii_server.storage.sql_dialect import Mode
from tests.pg import PgCluster
from tests.server.conftest import SHARED, Caller, World, basic, password_of, url

OBJECTS = url(SHARED, "objects")
PASSWORD = "correct horse battery staple 2024"
_HASH = re.compile(r"^scrypt\$(\d+)\$(\d+)\$(\d+)\$[A-Za-z0-9+/=]{24}\$[A-Za-z0-9+/=]{44}$")
_KEY_HASH = re.compile(r"^sha256\$[A-Za-z0-9+/=]{44}$")
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


def test_secrets_are_stored_only_as_hashes(
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
    for stored in (alice.password_hash, bob.password_hash):
        match = _HASH.match(stored or "")
        assert match, stored
        n, r, p = (int(g) for g in match.groups())
        assert n >= 2**15 and r >= 8 and p >= 1  # the production cost (~70 ms, 32 MiB)
    assert alice.password_hash != bob.password_hash  # salted: equal passwords differ
    assert credentials.verify_secret(PASSWORD, alice.password_hash or "")
    # A key secret is 192 random bits: SHA-256 is enough (taxii_server.credentials).
    assert _KEY_HASH.match(key.secret_hash), key.secret_hash
    assert credentials.verify_api_key(secret, key.secret_hash)
    wrong = secret[:-1] + ("y" if secret.endswith("x") else "x")  # one character changed
    assert not credentials.verify_api_key(wrong, key.secret_hash)


# -- a 401 costs the same whether or not the name exists ------------------------------------


@pytest.fixture
def production_world(world: World) -> Iterator[World]:
    """The seeded world plus accounts hashed at the production cost."""
    storage = world.storage
    storage.put_user(User("prod", 2, hash_secret(PASSWORD)))
    storage.put_user(User("keyonly", 2, None))
    token = new_api_key()
    storage.add_api_key(ApiKey(token.key_id, "prod", hash_api_key(token.secret)))
    world.api_keys["prod"] = token.token
    yield world


@dataclass
class HashChecks:
    """The hash checks made while a test ran: scrypt costs, and SHA-256 key checks."""

    scrypt: list[tuple[int, int, int]] = field(default_factory=list)
    sha256: int = 0


def _hash_checks(monkeypatch: pytest.MonkeyPatch) -> HashChecks:
    checks = HashChecks()
    real_scrypt, real_sha256 = hashlib.scrypt, credentials._sha256

    def scrypt(password: bytes, **kwargs: Any) -> bytes:
        checks.scrypt.append((kwargs["n"], kwargs["r"], kwargs["p"]))
        return real_scrypt(password, **kwargs)

    def sha256(secret: str) -> bytes:
        checks.sha256 += 1
        return real_sha256(secret)

    monkeypatch.setattr(credentials.hashlib, "scrypt", scrypt)
    monkeypatch.setattr(credentials, "_sha256", sha256)
    return checks


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
        "wrong-key-secret-as-basic-password": basic("prod", f"atk_{key_id}_{'C' * 32}"),
        "wrong-key-secret-as-token": f"Token atk_{key_id}_{'B' * 32}",
        "key-under-another-name": basic("keyonly", token),
    }[case]


SCRYPT_ONCE = [(2**15, 8, 1)]  # one check at the production cost (~70 ms, 32 MiB)


@pytest.mark.parametrize(
    ("case", "scrypt", "sha256"),
    [
        # A password login: one scrypt check, never cheaper (that would tell the name
        # is unknown).
        ("wrong-password", SCRYPT_ONCE, 0),
        ("unknown-user", SCRYPT_ONCE, 0),
        ("key-only-user-with-a-password", SCRYPT_ONCE, 0),
        # A key login: one SHA-256, whether or not the key id exists.
        ("wrong-key-secret", [], 1),
        ("unknown-key-id", [], 1),
        ("unknown-key-as-basic-password", [], 1),
        ("wrong-key-secret-as-basic-password", [], 1),
        ("wrong-key-secret-as-token", [], 1),
        ("key-under-another-name", [], 1),
    ],
)
def test_every_failed_login_costs_what_a_real_one_does(
    production_world: World,
    taxii: Callable[..., Caller],
    monkeypatch: pytest.MonkeyPatch,
    case: str,
    scrypt: list[tuple[int, int, int]],
    sha256: int,
) -> None:
    header = _header(production_world, case)
    checks = _hash_checks(monkeypatch)
    response = taxii(authorization=header).get(OBJECTS)
    assert response.status_code == 401
    assert (checks.scrypt, checks.sha256) == (scrypt, sha256)


def test_the_reference_a_real_user_and_a_real_key_cost(
    production_world: World, taxii: Callable[..., Caller], monkeypatch: pytest.MonkeyPatch
) -> None:
    checks = _hash_checks(monkeypatch)
    assert taxii(authorization=basic("prod", PASSWORD)).get(OBJECTS).status_code in (200, 404)
    assert (checks.scrypt, checks.sha256) == (SCRYPT_ONCE, 0)
    token = production_world.api_keys["prod"]
    assert taxii(authorization=f"Bearer {token}").get(OBJECTS).status_code in (200, 404)
    assert (checks.scrypt, checks.sha256) == (SCRYPT_ONCE, 1)


# -- keys made before the upgrade ---------------------------------------------------------------


def test_a_key_made_before_the_upgrade_still_works(
    store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A store written at schema 3, whose key secrets were scrypt hashes at the
    production cost, upgraded the way an operator does (``open_storage(migrate=True)``,
    as ``atlas-taxii db upgrade`` and ``serve`` do): the key works, its first use costs
    one scrypt check and rewrites its hash, and later uses cost a SHA-256."""
    with monkeypatch.context() as old_code:
        old_code.setattr(sql_schema, "MIGRATIONS", sql_schema.MIGRATIONS[:3])
        old_code.setattr(sql_schema, "LATEST", 3)
        storage = open_storage(store_url, migrate=True)
        storage.close()
        database = sql.open_database(store_url, create=False)
        with database.transaction(Mode.WRITE) as tx:  # a user as schema 3 stored them
            tx.run(
                "INSERT INTO users (name, clearance, password_hash, admin) VALUES (?, ?, ?, ?)",
                ("sentinel", 1, None, False),
            )
        database.close()
        storage = open_storage(store_url, migrate=True)
        token = new_api_key()
        storage.add_api_key(ApiKey(token.key_id, "sentinel", hash_secret(token.secret)))
        storage.close()
    assert inspect_schema(store_url) == (3, sql_schema.LATEST)
    storage = open_storage(store_url, migrate=True)
    try:
        authenticator = Authenticator(storage, cache_ttl=60, failures_per_minute=30)
        fast = hash_api_key(token.secret)
        checks = _hash_checks(monkeypatch)
        assert authenticator.authenticate(basic("sentinel", token.token), "192.0.2.1").name == (
            "sentinel"
        )
        assert (checks.scrypt, checks.sha256) == ([(2**15, 8, 1)], 1)  # the check, the new hash
        stored = storage.get_api_key(token.key_id)
        assert stored is not None and stored.secret_hash == fast
        assert authenticator.authenticate(f"Bearer {token.token}", "192.0.2.1").name == "sentinel"
        assert (checks.scrypt, checks.sha256) == ([(2**15, 8, 1)], 2)
    finally:
        storage.close()


# -- failed logins are limited per address, across processes ---------------------------------


def _from(client: Any, address: str, header: str, *, peer: str = "127.0.0.1") -> int:
    """A request from ``address`` as a proxy at ``peer`` (loopback, the default
    ``server.trusted_proxy_addresses``) forwards it."""
    response = client.get(
        OBJECTS,
        headers={"Authorization": header, "X-Forwarded-For": address,
                 "Accept": "application/taxii+json;version=2.1"},
        environ_base={"REMOTE_ADDR": peer},
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


def test_every_worker_gives_a_locked_out_address_the_same_answer(
    make_app: Callable[..., Flask], world: World
) -> None:
    """Two workers (apps) on one store, the password verified and cached by the first
    only: once the address is at the limit, both refuse the password, cached or not
    (a per-worker decision let it through on half the requests), and both let its
    valid API key in (a SIEM behind the attacker's NAT keeps polling with its key)."""
    first = make_app(auth_failures_per_minute=2, trusted_proxies=1).test_client()
    second = make_app(auth_failures_per_minute=2, trusted_proxies=1).test_client()
    right = basic("alice", password_of("alice"))
    key = f"Bearer {world.api_keys['alice']}"
    assert _from(first, "192.0.2.50", right) == 200
    guesses = [_from(c, "192.0.2.50", basic("alice", "guess")) for c in (first, second, first)]
    assert guesses == [401, 401, 429]
    assert [_from(c, "192.0.2.50", right) for c in (first, second) * 2] == [429] * 4
    assert [_from(c, "192.0.2.50", key) for c in (first, second)] == [200, 200]
    assert _from(second, "192.0.2.50", f"{key[:-4]}XXXX") == 429


def test_forwarded_for_counts_only_from_the_proxy_addresses(
    make_app: Callable[..., Flask],
) -> None:
    """With ``trusted_proxies = 1``, a client reaching the server directly cannot pick
    the address its failures count under by rotating X-Forwarded-For."""
    client = make_app(auth_failures_per_minute=3, trusted_proxies=1).test_client()
    wrong = basic("alice", "wrong")
    direct = [_from(client, f"198.51.100.{n}", wrong, peer="203.0.113.5") for n in range(1, 6)]
    assert direct == [401, 401, 401, 429, 429]
    # Through the proxy (loopback by default) the forwarded address is the client's.
    assert _from(client, "203.0.113.5", wrong) == 429
    assert _from(client, "198.51.100.1", wrong) == 401


def test_the_proxy_addresses_are_configurable(make_app: Callable[..., Flask]) -> None:
    client = make_app(
        auth_failures_per_minute=2, trusted_proxies=1, trusted_proxy_addresses=("10.0.0.0/24",)
    ).test_client()
    wrong = basic("alice", "wrong")
    assert [_from(client, f"198.51.100.{n}", wrong, peer="10.0.0.7") for n in range(3)] == [401] * 3
    # Loopback is no longer a proxy: its X-Forwarded-For is ignored.
    assert [_from(client, f"198.51.100.{n}", wrong) for n in range(3, 6)] == [401, 401, 429]


def test_a_chain_of_proxies_is_believed_only_hop_by_hop(make_app: Callable[..., Flask]) -> None:
    """``trusted_proxies = 2``: the outer proxy's entry counts only when the inner one
    recorded a listed proxy; a client that reached the inner proxy directly is
    counted under the address the inner proxy recorded, whatever it forwards."""
    client = make_app(
        auth_failures_per_minute=2, trusted_proxies=2, trusted_proxy_addresses=("10.0.0.0/24",)
    ).test_client()
    wrong = basic("alice", "wrong")
    through = [_from(client, f"198.51.100.{n}, 10.0.0.2", wrong, peer="10.0.0.1") for n in range(3)]
    assert through == [401] * 3
    bypass = [
        _from(client, f"198.51.100.{n}, 203.0.113.9", wrong, peer="10.0.0.1") for n in range(3, 6)
    ]
    assert bypass == [401, 401, 429]


def test_failures_are_kept_in_the_store(make_app: Callable[..., Flask], world: World) -> None:
    client = make_app(auth_failures_per_minute=10, trusted_proxies=1).test_client()
    before = int(time.time() * 1_000_000)
    _from(client, "198.51.100.9", basic("alice", "wrong"))
    _from(client, "198.51.100.9", "Bearer nonsense")
    storage: Storage = world.storage
    assert len(storage.login_failures("198.51.100.9", before - 1)) == 2
