"""Authentication: Basic (any case, password or API key), Bearer, Token; 401s that
challenge; API keys checked without scrypt or cache, keys from before SHA-256 upgraded
on first use; a password cache that never outlives a changed secret; a failed-login
limit over a sliding minute."""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import replace

import orjson
import pytest
from flask import Flask

from taxii_server import auth as auth_module
from taxii_server.auth import Authenticator
from taxii_server.credentials import hash_api_key, new_api_key
from taxii_server.errors import TooManyRequests, Unauthorized
from taxii_server.storage.base import ApiKey, User

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
        pytest.param(lambda keys: basic("", keys["alice"]), id="basic-key-empty-user"),
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


@pytest.mark.parametrize("name", ["bob", "apikey", "Alice", "alice "])
def test_a_key_sent_under_another_users_name_is_refused(
    taxii: Callable[..., Caller], world: World, name: str
) -> None:
    """Sentinel and QRadar send a key as the Basic password: the user name must then be
    its owner's (or empty), never anyone's."""
    response = taxii(authorization=basic(name, world.api_keys["alice"])).get(OBJECTS)
    body = assert_taxii_error(response, 401)
    assert "does not belong to user" in body["description"]


def test_api_keys_need_no_scrypt_and_no_cache(
    taxii: Callable[..., Caller], world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    scrypt: list[str] = []
    real = auth_module.verify_secret
    monkeypatch.setattr(auth_module, "verify_secret", lambda s, h: scrypt.append(s) or real(s, h))
    checked: list[str] = []
    real_key = auth_module.verify_api_key
    monkeypatch.setattr(
        auth_module, "verify_api_key", lambda s, h: checked.append(s) or real_key(s, h)
    )
    key = world.api_keys["alice"]
    for header in (f"Bearer {key}", f"Token {key}", basic("alice", key), basic(key, "")) * 2:
        assert taxii(authorization=header).get(OBJECTS).status_code == 200
    assert scrypt == []
    assert len(checked) == 8  # one SHA-256 check per request: nothing is cached
    stored = world.storage.get_api_key(key[4:16])
    assert stored is not None and stored.secret_hash.startswith("sha256$")


def test_a_key_from_before_sha256_works_and_is_upgraded_on_first_use(
    taxii: Callable[..., Caller], world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A key made by an older atlas-taxii (its secret hashed with scrypt) keeps working
    with nothing to redo; its first use rewrites the stored hash in the fast form."""
    token = new_api_key()
    legacy = ApiKey(token.key_id, "bob", cheap_hash(token.secret), "old", created=5)
    world.storage.add_api_key(legacy)
    scrypt: list[str] = []
    real = auth_module.verify_secret
    monkeypatch.setattr(auth_module, "verify_secret", lambda s, h: scrypt.append(s) or real(s, h))
    wrong = f"atk_{token.key_id}_{'A' * 32}"
    assert_taxii_error(taxii(authorization=f"Bearer {wrong}").get(OBJECTS), 401)
    assert world.storage.get_api_key(token.key_id) == legacy  # a wrong secret changes nothing
    assert taxii(authorization=basic("bob", token.token)).get(OBJECTS).status_code == 200
    assert len(scrypt) == 2
    upgraded = replace(legacy, secret_hash=hash_api_key(token.secret))
    assert world.storage.get_api_key(token.key_id) == upgraded
    for header in (f"Bearer {token.token}", f"Token {token.token}"):
        assert taxii(authorization=header).get(OBJECTS).status_code == 200
    assert len(scrypt) == 2  # from now on: SHA-256 only


def test_verified_passwords_are_cached(
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


def test_the_failed_login_window_slides(world: World) -> None:
    """The limit counts the last 60 s, not the calendar minute: three failures late in
    one minute still count early in the next (a fixed window let an attacker try twice
    the limit across the boundary), and each frees its place 60 s after it was made."""
    now = [657.0]
    authenticator = Authenticator(
        world.storage, cache_ttl=60, failures_per_minute=3, clock=lambda: now[0]
    )
    wrong, right = basic("alice", "wrong"), basic("alice", password_of("alice"))
    for moment in (657.0, 658.0, 659.5):
        now[0] = moment
        with pytest.raises(Unauthorized):
            authenticator.authenticate(wrong, "192.0.2.1")
    now[0] = 661.0  # a new calendar minute
    with pytest.raises(TooManyRequests) as limited:
        authenticator.authenticate(right, "192.0.2.1")
    assert limited.value.headers["Retry-After"] == "56"  # 657 + 60 - 661
    # Another address is not affected.
    assert authenticator.authenticate(right, "192.0.2.2").name == "alice"
    now[0] = 717.5  # the first failure has left the window: one attempt is free again
    with pytest.raises(Unauthorized):
        authenticator.authenticate(wrong, "192.0.2.1")
    with pytest.raises(TooManyRequests):
        authenticator.authenticate(right, "192.0.2.1")
    now[0] = 719.6  # 658 and 659.5 have left; 717.5 is still counted
    assert authenticator.authenticate(right, "192.0.2.1").name == "alice"


def test_a_locked_out_address_is_refused_passwords_even_cached_but_not_valid_keys(
    world: World,
) -> None:
    """The answer for an address at the limit never depends on which worker (with its
    own password cache) the request reaches: a password is refused before it is
    checked, cached or not.  A valid API key still works: checking one costs nothing
    worth protecting and no one can guess one, so a SIEM behind the attacker's NAT
    keeps polling.  A wrong key is refused with 429 like a password."""
    now = [1000.0]
    authenticator = Authenticator(
        world.storage, cache_ttl=60, failures_per_minute=2, clock=lambda: now[0]
    )
    right = basic("alice", password_of("alice"))
    key = world.api_keys["alice"]
    assert authenticator.authenticate(right, "192.0.2.9").name == "alice"  # now cached
    for _ in range(2):
        with pytest.raises(Unauthorized):
            authenticator.authenticate(basic("alice", "guess"), "192.0.2.9")
    with pytest.raises(TooManyRequests):
        authenticator.authenticate(right, "192.0.2.9")
    for header in (f"Bearer {key}", f"Token {key}", basic("alice", key)):
        assert authenticator.authenticate(header, "192.0.2.9").name == "alice"
    with pytest.raises(TooManyRequests):
        authenticator.authenticate(f"Bearer {key[:-4]}XXXX", "192.0.2.9")
    with pytest.raises(TooManyRequests):
        authenticator.authenticate(f"Bearer atk_{'a' * 12}_{'A' * 32}", "192.0.2.9")


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
