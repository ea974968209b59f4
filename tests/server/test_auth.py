"""Authentication: Basic (any case, password or API key), Bearer, Token; 401s that
challenge; a cache that never outlives a changed secret; a failed-login limit."""

from __future__ import annotations

import base64
from collections.abc import Callable

import orjson
import pytest
from flask import Flask

from taxii_server import auth as auth_module
from taxii_server.auth import Authenticator
from taxii_server.errors import TooManyRequests, Unauthorized
from taxii_server.storage.base import User

from .conftest import KEY_ONLY_USER, SHARED, Caller, World, basic, cheap_hash, password_of, url
from .test_negotiation import assert_taxii_error

OBJECTS = url(SHARED, "objects")


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


@pytest.mark.parametrize(
    "make_header",
    [
        pytest.param(lambda keys: basic("alice", password_of("alice")), id="basic-password"),
        pytest.param(
            lambda keys: basic("alice", password_of("alice"), "basic"), id="basic-lowercase-misp"
        ),
        pytest.param(lambda keys: basic("alice", password_of("alice"), "BASIC"), id="basic-upper"),
        pytest.param(lambda keys: basic("alice", keys["alice"]), id="basic-key-as-password"),
        pytest.param(lambda keys: basic("apikey", keys["alice"]), id="basic-key-any-user"),
        pytest.param(lambda keys: basic(keys["alice"], ""), id="basic-key-as-user"),
        pytest.param(lambda keys: f"Bearer {keys['alice']}", id="bearer"),
        pytest.param(lambda keys: f"bearer {keys['alice']}", id="bearer-lowercase"),
        pytest.param(lambda keys: f"Token {keys['alice']}", id="token-taxii2-client"),
        pytest.param(
            lambda keys: f"  Basic   {_b64('alice:' + password_of('alice'))} ", id="spaces"
        ),
    ],
)
def test_accepted_credentials(
    taxii: Callable[..., Caller], world: World, make_header: Callable[[dict[str, str]], str]
) -> None:
    response = taxii(authorization=make_header(world.api_keys)).get(OBJECTS)
    assert response.status_code == 200, response.data


def test_key_only_user_authenticates_with_keys(taxii: Callable[..., Caller], world: World) -> None:
    key = world.api_keys[KEY_ONLY_USER]
    assert taxii(authorization=f"Bearer {key}").get(OBJECTS).status_code == 200
    assert taxii(authorization=basic(KEY_ONLY_USER, key)).get(OBJECTS).status_code == 200
    refused = taxii(authorization=basic(KEY_ONLY_USER, "guess")).get(OBJECTS)
    assert_taxii_error(refused, 401)


@pytest.mark.parametrize(
    ("header", "says"),
    [
        pytest.param(
            basic("alice", "wrong"), "unknown user or wrong password", id="wrong-password"
        ),
        pytest.param(basic("mallory", "x"), "unknown user or wrong password", id="unknown-user"),
        pytest.param(basic("", "x"), "unknown user or wrong password", id="empty-user"),
        pytest.param(
            "Bearer atk_aaaaaaaaaaaa_" + "A" * 32, "unknown or revoked API key", id="unknown-key"
        ),
        pytest.param("Bearer not-a-key", "not an atlas-taxii API key", id="bearer-not-a-key"),
        pytest.param("Basic !!!", "not valid base64", id="bad-base64"),
        pytest.param(f"Basic {_b64('alice')}", "user:password", id="no-colon"),
        pytest.param("Digest username=alice", "unsupported authorization scheme", id="digest"),
    ],
)
def test_refused_credentials_are_401_with_a_challenge(
    taxii: Callable[..., Caller], header: str, says: str
) -> None:
    response = taxii(authorization=header).get(OBJECTS)
    body = assert_taxii_error(response, 401)
    assert says in body["description"]
    assert response.headers["WWW-Authenticate"].startswith("Basic realm=")


def test_bad_credentials_are_refused_even_where_anonymous_may_read(
    taxii: Callable[..., Caller],
) -> None:
    assert_taxii_error(taxii(authorization=basic("alice", "wrong")).get("/taxii2/"), 401)


def test_anonymous_caller_of_a_private_collection_is_challenged(
    taxii: Callable[..., Caller],
) -> None:
    response = taxii(None).get(OBJECTS)
    assert_taxii_error(response, 401)
    assert "WWW-Authenticate" in response.headers


def test_verified_credentials_are_cached(
    taxii: Callable[..., Caller], monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []
    real = auth_module.verify_secret

    def counting(secret: str, stored: str) -> bool:
        calls.append(secret)
        return real(secret, stored)

    monkeypatch.setattr(auth_module, "verify_secret", counting)
    for _ in range(3):
        assert taxii("alice").get(OBJECTS).status_code == 200
    assert len(calls) == 1


def test_changed_password_takes_effect_at_once(taxii: Callable[..., Caller], world: World) -> None:
    assert taxii("amy").get(OBJECTS).status_code == 200  # now cached
    old = world.storage.get_user("amy")
    assert old is not None
    world.storage.put_user(User("amy", old.clearance, cheap_hash("a-new-password")))
    assert_taxii_error(taxii("amy").get(OBJECTS), 401)
    new = taxii(authorization=basic("amy", "a-new-password")).get(OBJECTS)
    assert new.status_code == 200


def test_revoked_key_stops_working_at_once(taxii: Callable[..., Caller], world: World) -> None:
    key = world.api_keys["bob"]
    assert taxii(authorization=f"Token {key}").get(OBJECTS).status_code == 200
    world.storage.delete_api_key(key.split("_")[1])
    body = assert_taxii_error(taxii(authorization=f"Token {key}").get(OBJECTS), 401)
    assert "revoked" in body["description"]


def test_deleted_user_is_refused_at_once(taxii: Callable[..., Caller], world: World) -> None:
    assert taxii("bob").get(OBJECTS).status_code == 200
    world.storage.delete_user("bob")
    assert_taxii_error(taxii("bob").get(OBJECTS), 401)


def test_failed_logins_are_limited_per_address(
    make_app: Callable[..., Flask], taxii: Callable[..., Caller]
) -> None:
    client = make_app(auth_failures_per_minute=3).test_client()
    wrong = Caller(client, basic("alice", "wrong"))
    for _ in range(3):
        assert wrong.get(OBJECTS).status_code == 401
    limited = wrong.get(OBJECTS)
    assert_taxii_error(limited, 429)
    assert 0 < int(limited.headers["Retry-After"]) <= 60
    # The limit holds for good credentials from that address too, until the minute ends.
    assert_taxii_error(Caller(client, basic("alice", password_of("alice"))).get(OBJECTS), 429)
    # Anonymous requests carry no credentials to guess with and are not limited.
    assert Caller(client).get("/taxii2/").status_code == 200


def test_failed_login_limit_lifts_after_the_minute(world: World) -> None:
    now = [600.0]
    authenticator = Authenticator(
        world.storage, cache_ttl=60, failures_per_minute=2, clock=lambda: now[0]
    )
    for _ in range(2):
        with pytest.raises(Unauthorized):
            authenticator.authenticate(basic("alice", "wrong"), "192.0.2.1")
    with pytest.raises(TooManyRequests):
        authenticator.authenticate(basic("alice", password_of("alice")), "192.0.2.1")
    # Another address is not affected.
    assert authenticator.authenticate(basic("alice", password_of("alice")), "192.0.2.2").name == (
        "alice"
    )
    now[0] += 60
    assert authenticator.authenticate(basic("alice", password_of("alice")), "192.0.2.1").name == (
        "alice"
    )


def test_cache_entries_expire(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    now = [0.0]
    calls: list[str] = []
    real = auth_module.verify_secret
    monkeypatch.setattr(auth_module, "verify_secret", lambda s, h: calls.append(s) or real(s, h))
    authenticator = Authenticator(
        world.storage, cache_ttl=60, failures_per_minute=0, clock=lambda: now[0]
    )
    header = basic("alice", password_of("alice"))
    authenticator.authenticate(header, None)
    now[0] += 59
    authenticator.authenticate(header, None)
    assert len(calls) == 1
    now[0] += 2
    authenticator.authenticate(header, None)
    assert len(calls) == 2


def test_401_bodies_do_not_say_whether_a_user_exists(taxii: Callable[..., Caller]) -> None:
    unknown = orjson.loads(taxii(authorization=basic("mallory", "x")).get(OBJECTS).data)
    wrong = orjson.loads(taxii(authorization=basic("alice", "x")).get(OBJECTS).data)
    assert unknown == wrong
