"""What ``serve`` prints: usable URLs, and no database password."""

from __future__ import annotations

from pathlib import Path

import pytest

from taxii_server.bootstrap import BootstrapReport
from taxii_server.cli.banner import demo_banner, server_banner
from taxii_server.cli.launcher import ServerOptions, gunicorn_options
from taxii_server.cli.serve import public_base_url
from taxii_server.demo import Demo, DemoUser
from taxii_server.settings import Settings
from taxii_server.storage.base import Collection


@pytest.mark.parametrize(
    ("host", "url"),
    [
        pytest.param("127.0.0.1", "http://127.0.0.1:8000", id="loopback"),
        pytest.param("0.0.0.0", "http://127.0.0.1:8000", id="every-ipv4-interface"),  # noqa: S104
        pytest.param("::", "http://[::1]:8000", id="every-ipv6-interface"),
        pytest.param("taxii.example.org", "http://taxii.example.org:8000", id="name"),
    ],
)
def test_printed_urls_can_be_called(host: str, url: str) -> None:
    assert public_base_url(Settings(host=host)) == url


def test_the_banner_hides_the_database_password() -> None:
    settings = Settings(storage_url="postgresql://atlas:s3cret-pw@db.example.org/atlas")
    collection = Collection(
        id="0e7d2c4a-8b1f-4c6e-9a3d-5f2b7c1e8d40", api_root="community", title="Indicators"
    )
    text = server_banner(BootstrapReport(collections=(collection,)), settings, "http://h:1")
    assert "s3cret-pw" not in text
    assert "postgresql://atlas:***@db.example.org/atlas" in text
    assert "http://h:1/community/collections/0e7d2c4a-8b1f-4c6e-9a3d-5f2b7c1e8d40/" in text


def test_gunicorn_gets_the_settings_and_a_bracketed_ipv6_bind() -> None:
    settings = Settings(host="::1", port=8443, workers=3, request_timeout=30)
    options = gunicorn_options(settings, ServerOptions(worker_class="sync", threads=8))
    assert options["bind"] == ["[::1]:8443"]
    assert (options["workers"], options["timeout"]) == (3, 30)
    assert (options["worker_class"], options["threads"]) == ("sync", 1)
    assert options["preload_app"] is False  # a database connection must not cross fork
    assert options["control_socket_disable"] is True


@pytest.mark.parametrize(
    ("rejected", "says"),
    [
        pytest.param((), "0 refused, from 1 fixture bundle(s)", id="none"),
        pytest.param(("b.json: x--1: bad",), "1 refused (below), from 1", id="one"),
    ],
)
def test_the_demo_banner_points_below_only_when_something_is_there(
    rejected: tuple[str, ...], says: str
) -> None:
    collection = Collection(id="6a1f7c0e-5b2d-4e8a-9c3f-0d4b8e2a7f15", api_root="demo", title="D")
    demo = Demo(
        collection=collection,
        users=(DemoUser("demo", 2, "pw", "atk_k_s"),),
        bundles=(Path("b.json"),),
        added=3,
        unchanged=0,
        rejected=rejected,
    )
    text = demo_banner(demo, "http://h:1", Path("atlas-demo"))
    assert f"loaded: 3 objects added, 0 already stored, {says}" in text
    assert [line for line in text.splitlines() if line.startswith("refused: ")] == [
        f"refused: {r}" for r in rejected
    ]
