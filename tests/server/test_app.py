"""The application factory: no module-level app, the store built from settings, the
WSGI factory gunicorn runs (``taxii_server.app:create_app()``)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import orjson
import pytest
from flask import Flask

import taxii_server.app as app_module
from taxii_server.app import create_app, get_service, get_settings, get_storage
from taxii_server.query import Endpoint, Filters, NextToken
from taxii_server.settings import ConfigError, load_settings
from taxii_server.storage.base import ApiRoot

from .conftest import basic, password_of


def test_no_module_level_app() -> None:
    assert not [name for name, value in vars(app_module).items() if isinstance(value, Flask)]


def test_store_is_built_from_settings(tmp_path: Path) -> None:
    settings = load_settings(environ={}, storage_url=f"sqlite:///{tmp_path / 'built.db'}")
    app = create_app(settings)
    with app.app_context():
        get_storage().put_api_root(ApiRoot("made", "Made here"))
        assert get_settings() is settings
        assert get_service().storage is get_storage()
    body = orjson.loads(app.test_client().get("/taxii2/").data)
    assert body["api_roots"] == ["http://localhost/made/"]
    assert (tmp_path / "built.db").exists()


def test_wsgi_factory_reads_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "atlas.toml"
    config.write_text(
        f'[server]\ntitle = "From the file"\n[storage]\nurl = "sqlite:///{tmp_path / "env.db"}"\n'
    )
    monkeypatch.setenv("ATLAS_TAXII_CONFIG", str(config))
    monkeypatch.setenv("ATLAS_TAXII_SERVER_CONTACT", "soc@example.org")
    app = create_app()  # what gunicorn 'taxii_server.app:create_app()' calls
    body = orjson.loads(app.test_client().get("/taxii2/").data)
    assert body["title"] == "From the file"
    assert body["contact"] == "soc@example.org"


def test_apps_on_one_store_share_the_next_signing_secret(tmp_path: Path) -> None:
    settings = load_settings(environ={}, storage_url=f"sqlite:///{tmp_path / 'shared.db'}")
    first, second = create_app(settings), create_app(settings)
    with first.app_context():
        codec_a = get_service().codec
    with second.app_context():
        codec_b = get_service().codec
    token = NextToken("r", "c", Endpoint.OBJECTS, None, Filters(), 10, 1, 2**62)
    assert codec_b.decode(codec_a.encode(token), now=0) == token


def _discovery_urls(app: Flask, headers: dict[str, str], peer: str = "127.0.0.1") -> list[str]:
    response = app.test_client().get(
        "/taxii2/", headers=headers, environ_base={"REMOTE_ADDR": peer}
    )
    return list(orjson.loads(response.data)["api_roots"])


def test_proxy_headers_are_trusted_only_when_configured(
    make_app: Callable[..., Flask],
) -> None:
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "taxii.example.org"}
    assert "http://localhost/community/" in _discovery_urls(make_app(), forwarded)
    behind_proxy = make_app(trusted_proxies=1)  # on loopback, the default proxy address
    assert "https://taxii.example.org/community/" in _discovery_urls(behind_proxy, forwarded)
    # A client that reaches the server directly is not a proxy.
    direct = _discovery_urls(behind_proxy, forwarded, peer="203.0.113.5")
    assert "http://localhost/community/" in direct


def test_failed_logins_are_counted_per_forwarded_client_behind_a_proxy(
    make_app: Callable[..., Flask],
) -> None:
    client = make_app(trusted_proxies=1, auth_failures_per_minute=2).test_client()
    wrong = {"Authorization": basic("alice", "wrong")}
    for _ in range(2):
        client.get("/taxii2/", headers={**wrong, "X-Forwarded-For": "198.51.100.1"})
    assert (
        client.get("/taxii2/", headers={**wrong, "X-Forwarded-For": "198.51.100.1"}).status_code
        == 429
    )
    other = {
        "Authorization": basic("alice", password_of("alice")),
        "X-Forwarded-For": "198.51.100.2",
    }
    assert client.get("/taxii2/", headers=other).status_code == 200


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        pytest.param(
            {"ATLAS_TAXII_SERVER_TRUSTED_PROXY_ADDRESSES": "10.0.0.1,proxy.example.org"},
            "'proxy.example.org' is not an IP address or network",
            id="a-name",
        ),
        pytest.param(
            {
                "ATLAS_TAXII_SERVER_TRUSTED_PROXIES": "1",
                "ATLAS_TAXII_SERVER_TRUSTED_PROXY_ADDRESSES": "",
            },
            "trusted_proxy_addresses is empty",
            id="none-with-proxies",
        ),
    ],
)
def test_proxy_addresses_are_checked_when_loaded(environ: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_settings(environ=environ)


def test_proxy_addresses_take_networks_from_the_environment() -> None:
    settings = load_settings(
        environ={"ATLAS_TAXII_SERVER_TRUSTED_PROXY_ADDRESSES": "10.0.0.0/24, 2001:db8::1"}
    )
    assert settings.trusted_proxy_addresses == ("10.0.0.0/24", "2001:db8::1")
