"""Server configuration: one frozen :class:`Settings`, loaded from defaults, a TOML
file, then ``ATLAS_TAXII_<SECTION>_<KEY>`` environment variables, then explicit
overrides.  Nothing is read at import time; problems raise :class:`ConfigError` with
the file and key that was wrong.

The file (all sections optional)::

    [server]
    host = "127.0.0.1"
    port = 8000
    workers = 2
    title = "atlas-taxii"
    description = ""
    contact = ""
    default_api_root = "community"     # advertised in discovery (TAXII 2.1 §4.1)
    max_content_length = 10485760      # bytes; per API root unless overridden there
    max_objects_per_request = 50000    # objects in one POSTed envelope
    request_timeout = 120              # seconds a gunicorn worker may spend on a request
    trusted_proxies = 0                # reverse proxies in front whose X-Forwarded-For,
                                       # -Proto and -Host are trusted (client address for
                                       # the failed-login limit, URLs in discovery)
    trusted_proxy_addresses = ["127.0.0.1", "::1"]  # where those proxies connect from
                                       # (addresses or networks); other clients'
                                       # X-Forwarded-* headers are ignored

    [storage]
    url = "sqlite:///atlas-taxii.db"   # or postgresql://…, mongodb://…

    [paging]
    default_limit = 1000               # objects per page when the client sends no limit
    max_limit = 10000                  # the most a client may ask for
    next_ttl = 86400                   # seconds a `next` token stays valid

    [security]
    next_secrets = ["…"]               # signs `next`; first signs, all verify (rotation)
    auth_cache_ttl = 60                # seconds a verified credential is remembered
    status_ttl = 604800                # seconds a status resource is kept (>= 24 h)
    auth_failures_per_minute = 30      # failed logins per client address before 429
    anonymous_requests_per_minute = 120  # requests without credentials per client
                                       # address (IPv6: per /64) before 429; 0: no limit

    [audit]
    retain_days = 365                  # records older are purged (hourly, and by
                                       # `atlas-taxii audit purge`); 0: kept for ever

    [ui]
    enabled = true                     # the analyst workbench at /ui/ (taxii_server.web)
    session_hours = 8                  # a workbench sign-in lasts this long

    [[api_roots]]
    name = "community"                 # the URL path segment
    title = "Community"
    description = ""
    max_content_length = 10485760

    [[collections]]
    api_root = "community"
    title = "Indicators"
    id = "…uuid4…"                     # optional; a random UUIDv4 when created
    alias = "indicators"               # optional
    description = ""
    public = false                     # anyone reads its TLP:CLEAR objects

    [[trusted_keys]]                   # public keys whose bundle signatures the community
    file = "keys/cert-2024.jwk"        # trusts, published at /taxii2/jwks.json: a JWK file
    # jwk = { kty = "OKP", crv = "Ed25519", x = "…", stix_identity = "identity--…" }
    expires = "2026-01-01T00:00:00Z"   # optional: signatures made later fail
    revoked = "2025-03-01T12:00:00Z"   # optional: signatures made at or after it fail
    reason = "laptop lost"             # optional: said with the revocation

Environment: ``ATLAS_TAXII_CONFIG`` names the file; ``ATLAS_TAXII_STORAGE_URL``,
``ATLAS_TAXII_SERVER_PORT``, ``ATLAS_TAXII_PAGING_MAX_LIMIT``,
``ATLAS_TAXII_SECURITY_NEXT_SECRETS`` (comma-separated) … override single keys.
"""

from __future__ import annotations

import os
import re
import tomllib
import uuid
from collections.abc import Mapping
from dataclasses import MISSING, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from taxii_server.forwarded import parse_networks

__all__ = [
    "ApiRootConfig",
    "CollectionConfig",
    "ConfigError",
    "TrustedKeyConfig",
    "ENV_PREFIX",
    "Settings",
    "load_settings",
]

ENV_PREFIX = "ATLAS_TAXII_"

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._~-]*")


class ConfigError(Exception):
    """The configuration is wrong; the message names the file and key."""


@dataclass(frozen=True, slots=True)
class ApiRootConfig:
    """An API root declared in the configuration file."""

    name: str
    title: str
    description: str = ""
    max_content_length: int | None = None


@dataclass(frozen=True, slots=True)
class CollectionConfig:
    """A collection declared in the configuration file; ensured in the store at start."""

    api_root: str
    title: str
    id: str | None = None
    alias: str | None = None
    description: str = ""
    public: bool = False


@dataclass(frozen=True, slots=True)
class TrustedKeyConfig:
    """A public signing key the community trusts (``[[trusted_keys]]``): a JWK inline or
    in a file (relative to the configuration file), with optional expiry and revocation
    times (RFC 3339).  Read by :func:`taxii_server.trust.trusted_keys`."""

    jwk: dict[str, Any] | None = None
    file: str | None = None
    expires: str | None = None
    revoked: str | None = None
    reason: str = ""


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything the server reads from its configuration."""

    # [server]
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 2
    title: str = "atlas-taxii"
    description: str = "STIX 2.1 / TAXII 2.1 server for cybercrime-mapping communities"
    contact: str = ""
    default_api_root: str | None = None
    max_content_length: int = 10 * 1024 * 1024
    max_objects_per_request: int = 50_000
    request_timeout: int = 120
    trusted_proxies: int = 0
    trusted_proxy_addresses: tuple[str, ...] = ("127.0.0.1", "::1")
    # [storage]
    storage_url: str = "sqlite:///atlas-taxii.db"
    # [paging]
    default_limit: int = 1000
    max_limit: int = 10_000
    next_ttl: int = 86_400
    # [security]
    next_secrets: tuple[str, ...] = ()
    auth_cache_ttl: float = 60.0
    status_ttl: int = 7 * 86_400
    auth_failures_per_minute: int = 30
    anonymous_requests_per_minute: int = 120
    # [audit]
    audit_retain_days: int = 365
    # [ui]
    ui_enabled: bool = True
    ui_session_hours: int = 8
    # [[api_roots]], [[collections]]
    api_roots: tuple[ApiRootConfig, ...] = ()
    collections: tuple[CollectionConfig, ...] = field(default_factory=tuple)
    # [[trusted_keys]]
    trusted_keys: tuple[TrustedKeyConfig, ...] = ()

    def validate(self, origins: Mapping[str, str] | None = None) -> Settings:
        """Check every value's range and the cross-field rules; return self or raise
        :class:`ConfigError` naming the setting (``origins`` maps an attribute to where
        its value came from: the file and key, an environment variable)."""
        where = origins or {}
        for attr, (low, high) in _RANGES.items():
            value = getattr(self, attr)
            # Written so that NaN, which compares false with everything, is refused.
            if not low <= value <= high:
                raise ConfigError(
                    f"{where.get(attr, _setting_name(attr))}: {value!r} is out of range; "
                    f"expected {low} to {high}"
                )
        if self.default_limit > self.max_limit:
            raise ConfigError(
                f"paging.default_limit ({self.default_limit}) must be between 1 and "
                f"paging.max_limit ({self.max_limit})"
            )
        try:
            parse_networks(self.trusted_proxy_addresses)
        except ValueError as exc:
            raise ConfigError(f"server.trusted_proxy_addresses: {exc}") from None
        if self.trusted_proxies and not self.trusted_proxy_addresses:
            raise ConfigError(
                "server.trusted_proxy_addresses is empty: list the addresses the "
                f"server.trusted_proxies ({self.trusted_proxies}) proxies connect from"
            )
        if any(len(secret) < 16 for secret in self.next_secrets):
            raise ConfigError("security.next_secrets: each secret needs at least 16 characters")
        names = [root.name for root in self.api_roots]
        for root in self.api_roots:
            if not _NAME.fullmatch(root.name):
                raise ConfigError(f"api_roots: {root.name!r} is not a usable URL path segment")
            if names.count(root.name) > 1:
                raise ConfigError(f"api_roots: {root.name!r} is declared twice")
            low, high = _RANGES["max_content_length"]
            length = root.max_content_length
            if length is not None and not low <= length <= high:
                raise ConfigError(
                    f"api_roots: {root.name!r}: max_content_length {length} is out of range; "
                    f"expected {low} to {high}"
                )
        if self.default_api_root is not None and self.default_api_root not in names:
            raise ConfigError(
                f"server.default_api_root {self.default_api_root!r} is not one of the api_roots"
            )
        for coll in self.collections:
            if coll.api_root not in names:
                raise ConfigError(
                    f"collections: {coll.title!r} names api_root {coll.api_root!r}, "
                    "which is not declared in [[api_roots]]"
                )
            if coll.id is not None and not _is_uuid4(coll.id):
                raise ConfigError(
                    f"collections: id {coll.id!r} of {coll.title!r} is not a UUIDv4 "
                    "(Microsoft Sentinel refuses other collection ids)"
                )
        for i, trusted in enumerate(self.trusted_keys):
            if (trusted.jwk is None) == (trusted.file is None):
                raise ConfigError(f"trusted_keys[{i}]: give either jwk or file")
        return self


def _is_uuid4(text: str) -> bool:
    try:
        return uuid.UUID(text).version == 4 and str(uuid.UUID(text)) == text.lower()
    except ValueError:
        return False


# Which file section each scalar setting lives in, and its name there.
_SECTION_OF: dict[str, str] = {
    "host": "server",
    "port": "server",
    "workers": "server",
    "title": "server",
    "description": "server",
    "contact": "server",
    "default_api_root": "server",
    "max_content_length": "server",
    "max_objects_per_request": "server",
    "request_timeout": "server",
    "trusted_proxies": "server",
    "trusted_proxy_addresses": "server",
    "storage_url": "storage",
    "default_limit": "paging",
    "max_limit": "paging",
    "next_ttl": "paging",
    "next_secrets": "security",
    "auth_cache_ttl": "security",
    "status_ttl": "security",
    "auth_failures_per_minute": "security",
    "anonymous_requests_per_minute": "security",
    "audit_retain_days": "audit",
    "ui_enabled": "ui",
    "ui_session_hours": "ui",
}


# Settings whose key in the file is not their attribute's name.
_KEYS: dict[str, str] = {
    "storage_url": "url",
    "audit_retain_days": "retain_days",
    "ui_enabled": "enabled",
    "ui_session_hours": "session_hours",
}


def _key_in_section(attr: str) -> str:
    return _KEYS.get(attr, attr)


def _setting_name(attr: str) -> str:
    """``section.key``, as the file spells a setting."""
    return f"{_SECTION_OF[attr]}.{_key_in_section(attr)}"


#: What each numeric setting may be, inclusive.  Out of range is a mistake to report,
#: not to run with: ``workers = 100000`` would fork without end, a negative rate
#: limit or a NaN time would switch a protection off without a word.  0 switches off
#: only where the documentation says so (``auth_failures_per_minute``).
_RANGES: dict[str, tuple[int, int]] = {
    "port": (1, 65_535),
    "workers": (1, 256),
    "max_content_length": (1, 1 << 30),
    "max_objects_per_request": (1, 1_000_000),
    "request_timeout": (1, 86_400),
    "trusted_proxies": (0, 32),
    "default_limit": (1, 100_000),
    "max_limit": (1, 100_000),
    "next_ttl": (1, 31_536_000),
    "auth_cache_ttl": (0, 86_400),
    "status_ttl": (86_400, 315_360_000),  # at least 24 h: TAXII 2.1 §4.3
    "auth_failures_per_minute": (0, 1_000_000),
    "anonymous_requests_per_minute": (0, 1_000_000),
    "audit_retain_days": (0, 36_500),
    "ui_session_hours": (1, 720),
}


_SCALARS: dict[tuple[str, str], str] = {
    (section, _key_in_section(attr)): attr for attr, section in _SECTION_OF.items()
}
_TYPES: dict[str, Any] = {f.name: f.type for f in fields(Settings)}


def _coerce(attr: str, value: Any, where: str) -> Any:
    kind = _TYPES[attr]
    try:
        if kind == "bool":
            return _boolean(value)
        if kind == "int":
            if isinstance(value, bool) or not isinstance(value, int | str):
                raise TypeError
            return int(value)
        if kind == "float":
            if isinstance(value, bool) or not isinstance(value, int | float | str):
                raise TypeError
            return float(value)
        if kind == "tuple[str, ...]":
            if isinstance(value, str):
                return tuple(part.strip() for part in value.split(",") if part.strip())
            if isinstance(value, list) and all(isinstance(v, str) for v in value):
                return tuple(value)
            raise TypeError
        if kind == "str | None":
            return None if value in (None, "") else str(value)
        if not isinstance(value, str):
            raise TypeError
        return value
    except (TypeError, ValueError):
        raise ConfigError(f"{where}: expected {kind}, got {value!r}") from None


_TRUE = frozenset({"true", "1", "yes", "on"})
_FALSE = frozenset({"false", "0", "no", "off"})


def _boolean(value: Any) -> bool:
    """A TOML boolean, or its spelling in an environment variable (``true``/``false``,
    ``1``/``0``, ``yes``/``no``, ``on``/``off``)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise TypeError


_TABLE_LISTS = ("api_roots", "collections", "trusted_keys")


def _table_list(data: Mapping[str, Any], key: str, where: str) -> list[Mapping[str, Any]]:
    items = data.get(key, [])
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise ConfigError(f"{where}: [[{key}]] must be an array of tables")
    return items


def _record(cls: type[Any], item: Mapping[str, Any], where: str) -> Any:
    known = {f.name: f for f in fields(cls)}
    unknown = sorted(set(item) - set(known))
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {', '.join(unknown)}")
    required = [n for n, f in known.items() if f.default is MISSING and n not in item]
    if required:
        raise ConfigError(f"{where}: missing required key(s) {', '.join(required)}")
    for name, value in item.items():
        expected = known[name].type
        ok = {
            "str": isinstance(value, str),
            "str | None": isinstance(value, str),
            "bool": isinstance(value, bool),
            "int | None": isinstance(value, int) and not isinstance(value, bool),
            "dict[str, Any] | None": isinstance(value, dict),
        }.get(str(expected), True)
        if not ok:
            raise ConfigError(f"{where}.{name}: expected {expected}, got {value!r}")
    return cls(**item)


def _from_file(path: Path, origins: dict[str, str]) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(f"{path}: configuration file not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    values: dict[str, Any] = {}
    for section, content in data.items():
        if section in _TABLE_LISTS:
            continue
        if not isinstance(content, dict):
            raise ConfigError(f"{path}: [{section}] must be a table")
        for key, value in content.items():
            attr = _SCALARS.get((section, key))
            if attr is None:
                raise ConfigError(f"{path}: unknown key {section}.{key}")
            origins[attr] = f"{path}: {section}.{key}"
            values[attr] = _coerce(attr, value, origins[attr])
    unknown_sections = set(data) - {s for s, _ in _SCALARS} - set(_TABLE_LISTS)
    if unknown_sections:
        raise ConfigError(f"{path}: unknown section(s) {', '.join(sorted(unknown_sections))}")
    values["api_roots"] = tuple(
        _record(ApiRootConfig, item, f"{path}: api_roots[{i}]")
        for i, item in enumerate(_table_list(data, "api_roots", str(path)))
    )
    values["collections"] = tuple(
        _record(CollectionConfig, item, f"{path}: collections[{i}]")
        for i, item in enumerate(_table_list(data, "collections", str(path)))
    )
    keys = [
        _record(TrustedKeyConfig, item, f"{path}: trusted_keys[{i}]")
        for i, item in enumerate(_table_list(data, "trusted_keys", str(path)))
    ]
    # A key file is named relative to the configuration file, wherever the server runs.
    values["trusted_keys"] = tuple(
        replace(key, file=str(path.parent / key.file)) if key.file else key for key in keys
    )
    return values


def _from_env(environ: Mapping[str, str], origins: dict[str, str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for (section, key), attr in _SCALARS.items():
        name = f"{ENV_PREFIX}{section.upper()}_{key.upper()}"
        if name in environ:
            origins[attr] = name
            values[attr] = _coerce(attr, environ[name], name)
    return values


def load_settings(
    path: str | os.PathLike[str] | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    **overrides: Any,
) -> Settings:
    """Load settings: defaults < file (``path`` or ``$ATLAS_TAXII_CONFIG``) < environment
    < ``overrides`` (attribute names of :class:`Settings`)."""
    env = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    origins: dict[str, str] = {}
    file_name = path if path is not None else env.get(f"{ENV_PREFIX}CONFIG")
    if file_name:
        values.update(_from_file(Path(file_name), origins))
    values.update(_from_env(env, origins))
    unknown = sorted(set(overrides) - set(_TYPES))
    if unknown:
        raise ConfigError(f"unknown setting(s) {', '.join(unknown)}")
    values.update(overrides)
    for attr in overrides:
        if attr in _SECTION_OF:
            origins[attr] = f"{_setting_name(attr)} (given on the command line)"
    return replace(Settings(), **values).validate(origins)
