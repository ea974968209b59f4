"""Configuration values are range-checked, and a bad one is reported with where it came
from (issue 9, item 10): ``workers = 100000`` forked without end, a negative rate limit
or a NaN time switched a protection off without a word, port 70000 was a traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from taxii_server.settings import ApiRootConfig, ConfigError, Settings, load_settings
from taxii_server.storage.base import StorageError
from taxii_server.storage.sql_postgres import _pool_options

ATLAS_TAXII = str(Path(sys.executable).with_name("atlas-taxii"))


@pytest.mark.parametrize(
    ("section", "key", "value"),
    [
        ("server", "workers", "100000"),
        ("server", "workers", "0"),
        ("server", "port", "70000"),
        ("server", "port", "0"),
        ("server", "max_content_length", "-1"),
        ("server", "max_objects_per_request", "0"),
        ("server", "request_timeout", "0"),
        ("server", "trusted_proxies", "-1"),
        ("paging", "max_limit", "0"),
        ("paging", "default_limit", "0"),
        ("paging", "next_ttl", "-5"),
        ("security", "auth_failures_per_minute", "-1"),
        ("security", "auth_cache_ttl", "nan"),
        ("security", "auth_cache_ttl", "inf"),
        ("security", "auth_cache_ttl", "-1.0"),
        ("security", "status_ttl", "3600"),
    ],
)
def test_a_value_out_of_range_names_the_file_and_key(
    tmp_path: Path, section: str, key: str, value: str
) -> None:
    config = tmp_path / "atlas.toml"
    config.write_text(f"[{section}]\n{key} = {value}\n")
    with pytest.raises(ConfigError) as raised:
        load_settings(config, environ={})
    assert f"{config}: {section}.{key}" in str(raised.value)
    assert "out of range; expected" in str(raised.value)


def test_an_environment_value_out_of_range_names_the_variable() -> None:
    with pytest.raises(ConfigError, match=r"^ATLAS_TAXII_SERVER_WORKERS: 100000 is out of range"):
        load_settings(environ={"ATLAS_TAXII_SERVER_WORKERS": "100000"})


def test_a_command_line_value_out_of_range_says_so() -> None:
    with pytest.raises(ConfigError, match=r"server.port \(given on the command line\): 70000"):
        load_settings(environ={}, port=70000)


def test_values_at_the_ends_of_their_ranges_are_accepted() -> None:
    settings = load_settings(
        environ={},
        port=65535,
        workers=256,
        auth_failures_per_minute=0,  # documented: switches the limit off
        auth_cache_ttl=0.0,
        status_ttl=86_400,
    )
    assert settings.workers == 256 and settings.port == 65535


def test_an_api_roots_max_content_length_is_range_checked() -> None:
    with pytest.raises(ConfigError, match="'community': max_content_length -3 is out of range"):
        Settings(api_roots=(ApiRootConfig("community", "C", max_content_length=-3),)).validate()


@pytest.mark.parametrize(
    "query", ["pool_size=0", "pool_size=100000", "pool_timeout=nan", "pool_timeout=inf"]
)
def test_postgres_pool_parameters_are_range_checked(query: str) -> None:
    with pytest.raises(StorageError, match="expected a number above 0 and at most"):
        _pool_options(f"postgresql://u@localhost/db?{query}")


@pytest.mark.slow
def test_serve_refuses_a_port_out_of_range_without_a_traceback(tmp_path: Path) -> None:
    config = tmp_path / "atlas.toml"
    config.write_text(f'[server]\nport = 70000\n[storage]\nurl = "sqlite:///{tmp_path}/a.db"\n')
    result = subprocess.run(
        [ATLAS_TAXII, "serve", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "server.port: 70000 is out of range; expected 1 to 65535" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.slow
def test_serve_refuses_too_many_threads(tmp_path: Path) -> None:
    result = subprocess.run(
        [ATLAS_TAXII, "serve", "--demo", "--demo-dir", str(tmp_path), "--threads", "100000"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2 and "is more than 256" in result.stderr


def test_the_server_guide_states_every_range() -> None:
    from taxii_server.settings import _RANGES, _setting_name

    guide = (Path(__file__).resolve().parents[2] / "docs" / "server.md").read_text()
    rows = {
        line.split("|")[1].strip(): line.split("|")[2].strip()
        for line in guide.split("ranges (NaN", 1)[1].split("\n\n")[1].splitlines()
        if line.startswith("| `")
    }
    for attr, (low, high) in _RANGES.items():
        row = next((cells for key, cells in rows.items() if f"`{_setting_name(attr)}`" in key), "")
        assert row.startswith(f"{low}") and f"to {high}" in row, (attr, row)
