"""Settings: ``config/default.toml`` ← a file (``--config`` / ``MEDIAEDGE_CONFIG``) ← ``MEDIAEDGE_*``.

Every leaf setting has an environment name derived from its path: ``edge.origin_url`` is
``MEDIAEDGE_EDGE_ORIGIN_URL``, ``storage.backends.s3.bucket`` is ``MEDIAEDGE_STORAGE_BACKENDS_S3_BUCKET``.
Values are validated once at start; a bad one raises :class:`SettingsError` naming the setting.
"""

from __future__ import annotations

import dataclasses
import os
import re
import tomllib
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

__all__ = ["Settings", "SettingsError", "ZoneSettings", "load_settings", "parse_duration", "zone_settings"]

ENV_PREFIX = "MEDIAEDGE_"


class SettingsError(ValueError):
    """An invalid setting; the message starts with the setting's dotted name."""


_DURATION = re.compile(r"^\s*(\d+)\s*([smhd]?)\s*$")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(value: str | int) -> int:
    """``"5m"`` → 300, ``"2d"`` → 172800, ``3600`` → 3600. Raises ``ValueError`` otherwise."""
    if isinstance(value, bool):
        raise ValueError("expected a duration like 5m, 1h, 2d or seconds")
    if isinstance(value, int):
        if value <= 0:
            raise ValueError("duration must be positive")
        return value
    match = _DURATION.match(str(value))
    if not match or int(match.group(1)) <= 0:
        raise ValueError(f"expected a duration like 5m, 1h, 2d or seconds, got {value!r}")
    return int(match.group(1)) * _UNITS[match.group(2)]


# -- validators ------------------------------------------------------------------------------------


def _port(v: int) -> None:
    if not 0 < v < 65536:
        raise ValueError("must be a TCP port between 1 and 65535")


def _positive(v: int) -> None:
    if v <= 0:
        raise ValueError("must be positive")


def _non_negative(v: float) -> None:
    if v < 0:
        raise ValueError("must not be negative")


def _cors_origins(v: list[str]) -> None:
    for origin in v:
        if origin != "*" and not re.fullmatch(r"https?://[^/\s]+", origin.rstrip("/")):
            raise ValueError(f'must be "*" or origins like https://app.example.com (got {origin!r})')


def _url_or_empty(v: str) -> None:
    if v and (urlsplit(v).scheme not in ("http", "https") or not urlsplit(v).hostname):
        raise ValueError("must be an http(s) URL")


def _choice(*options: str) -> Callable[[str], None]:
    def check(v: str) -> None:
        if v not in options:
            raise ValueError(f"must be one of {', '.join(options)}")

    return check


def _db_url(v: str) -> None:
    if not (v.startswith("sqlite:///") or v.startswith(("postgresql://", "postgres://"))):
        raise ValueError("must be sqlite:///PATH or postgresql://...")


def _net_allow(v: list[str]) -> None:
    from mediaedge.net import parse_allow_entry  # imports httpx: loaded only where settings are checked

    for entry in v:
        parse_allow_entry(entry)


def _check(fn: Callable[[Any], object]) -> Any:
    return field(metadata={"check": fn})


# -- sections --------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class OriginSettings:
    host: str
    port: int = _check(_port)
    public_url: str = _check(_url_or_empty)
    workers: int = _check(_positive)
    max_file_size: int = _check(_positive)
    spool_dir: str = ""
    trust_forwarded: bool = False
    cors_origins: list[str] = _check(_cors_origins)

    @property
    def url(self) -> str:
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")


@dataclass(frozen=True, kw_only=True)
class EdgeSettings:
    host: str
    port: int = _check(_port)
    public_url: str = _check(_url_or_empty)
    origin_url: str = _check(_url_or_empty)
    workers: int = _check(_positive)
    server: str = _check(_choice("uvicorn", "hypercorn", "lean"))
    tls_cert: str = ""
    tls_key: str = ""
    memory_cache_bytes: int = _check(_positive)
    disk_cache_bytes: int = 0
    disk_cache_dir: str = ""
    slice_bytes: int = _check(_positive)
    object_ttl: int = 60
    tenant_ttl: int = _check(_positive)
    jwks_refresh: int = _check(_positive)
    access_log: bool = False
    region: str = ""
    advertise_url: str = _check(_url_or_empty)
    zones: dict[str, dict[str, Any]] = field(default_factory=dict)  # pull zones, see ZoneSettings

    @property
    def url(self) -> str:
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")

    @property
    def registration_url(self) -> str:
        """Where origins reach this edge instance for purges: ``advertise_url``, else :attr:`url`."""
        return (self.advertise_url or self.url).rstrip("/")


_ZONE_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
_ZONE_PREFIX = re.compile(r"^/[A-Za-z0-9._~-]+$")


@dataclass(frozen=True, kw_only=True)
class ZoneSettings:
    """One pull zone (``[edge.zones.NAME]``): requests for ``host`` (or under ``prefix``, stripped)
    are served from ``upstream`` through the edge cache, with RFC 9111 semantics (docs/caching.md)."""

    name: str
    upstream: str
    host: str = ""
    prefix: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    tokens: bool = False
    token_keys: str = "origin"  # noqa: S105  (not a secret: "origin" or a JWKS file path)
    token_tenant: str = ""
    whitelisted_domains: list[str] = field(default_factory=list)
    app_ids: list[str] = field(default_factory=list)
    memory_cache_bytes: int = 64 << 20
    disk_cache_bytes: int = 0
    timeout: float = 30.0


def zone_settings(zones: Mapping[str, Any]) -> list[ZoneSettings]:
    """Validate ``edge.zones``; raises :class:`SettingsError` naming the setting."""
    found: list[ZoneSettings] = []
    hints = typing.get_type_hints(ZoneSettings)
    known = {f.name for f in dataclasses.fields(ZoneSettings)} - {"name"}
    routes: set[tuple[str, str]] = set()
    for name, table in zones.items():
        path = f"edge.zones.{name}"
        if not _ZONE_NAME.match(name):
            raise SettingsError(f"{path}: a zone name is lower-case letters, digits, - and _")
        if not isinstance(table, Mapping):
            raise SettingsError(f"{path}: expected a table")
        for key, value in table.items():
            if key not in known:
                raise SettingsError(f"{path}.{key}: unknown setting")
            if not _type_ok(value, hints[key]):
                raise SettingsError(
                    f"{path}.{key}: expected {getattr(hints[key], '__name__', hints[key])}, got {value!r}"
                )
        if not all(isinstance(v, str) for v in table.get("headers", {}).values()):
            raise SettingsError(f"{path}.headers: header values must be strings")
        if "upstream" not in table:
            raise SettingsError(f"{path}.upstream: missing")
        zone = ZoneSettings(name=name, **{"token_tenant": name, **table})
        upstream = urlsplit(zone.upstream)
        if upstream.scheme not in ("http", "https") or not upstream.hostname or upstream.query:
            raise SettingsError(f"{path}.upstream: must be an http(s) URL without a query")
        if not zone.host and not zone.prefix:
            raise SettingsError(f"{path}: set host or prefix (or both)")
        if zone.prefix and not _ZONE_PREFIX.match(zone.prefix):
            raise SettingsError(f"{path}.prefix: must be one path segment like /static")
        if zone.prefix in ("/_edge", "/healthz", "/metrics"):
            raise SettingsError(f"{path}.prefix: {zone.prefix} is the edge's own")
        for key in ("memory_cache_bytes", "timeout"):
            if getattr(zone, key) <= 0:
                raise SettingsError(f"{path}.{key}: must be positive")
        if zone.disk_cache_bytes < 0:
            raise SettingsError(f"{path}.disk_cache_bytes: must be 0 (no disk tier) or positive")
        route = (zone.host.lower(), zone.prefix)
        if route in routes:
            raise SettingsError(f"{path}: another zone has the same host and prefix")
        routes.add(route)
        found.append(dataclasses.replace(zone, host=zone.host.lower()))
    return found


@dataclass(frozen=True, kw_only=True)
class DatabaseSettings:
    url: str = _check(_db_url)
    pool_min: int = _check(_positive)
    pool_max: int = _check(_positive)
    migrate_on_start: bool = True


@dataclass(frozen=True, kw_only=True)
class StorageSettings:
    default: str
    backends: dict[str, dict[str, Any]]


@dataclass(frozen=True, kw_only=True)
class TokenSettings:
    default_expires_in: str = _check(parse_duration)
    max_expires_in: str = _check(parse_duration)
    algorithm: str = _check(_choice("RS256", "EdDSA"))


@dataclass(frozen=True, kw_only=True)
class ClusterSettings:
    edge_secret: str
    edges: list[str]
    edge_heartbeat: int = _check(_positive)


@dataclass(frozen=True, kw_only=True)
class PluginSettings:
    block: list[str]


@dataclass(frozen=True, kw_only=True)
class NetSettings:
    allow: list[str] = _check(_net_allow)
    connect_timeout: float = _check(_positive)
    timeout: float = _check(_positive)


@dataclass(frozen=True, kw_only=True)
class WebhookSettings:
    timeout: float = _check(_positive)
    backoff_scale: float = _check(_non_negative)
    lease_seconds: float = _check(_positive)
    poll_interval: float = _check(_positive)
    batch: int = _check(_positive)
    retention: str = _check(parse_duration)


@dataclass(frozen=True, kw_only=True)
class TusSettings:
    max_size: int = _check(_positive)
    expires_after: str = _check(parse_duration)
    cleanup_interval: int = _check(_positive)
    lock_timeout: int = _check(_positive)
    lock_lease: int = _check(_positive)


@dataclass(frozen=True, kw_only=True)
class JobSettings:
    concurrency: int = _check(_positive)
    lease_seconds: float = _check(_positive)
    heartbeat_seconds: float = _check(_positive)
    poll_interval: float = _check(_positive)
    backoff_scale: float = _check(_non_negative)
    retention: str = _check(parse_duration)


@dataclass(frozen=True, kw_only=True)
class FfmpegStreamSettings:
    preset: str
    segment_seconds: float = _check(_positive)
    keyframe_seconds: float = _check(_positive)


@dataclass(frozen=True, kw_only=True)
class CloudflareStreamSettings:
    account_id: str
    api_token: str
    base_url: str = _check(_url_or_empty)


@dataclass(frozen=True, kw_only=True)
class VdocipherSettings:
    api_secret: str
    base_url: str = _check(_url_or_empty)


@dataclass(frozen=True, kw_only=True)
class StreamSettings:
    default_provider: str
    poll_interval: float = _check(_positive)
    timeout: float = _check(_positive)
    work_dir: str
    ffmpeg: FfmpegStreamSettings
    cloudflare: CloudflareStreamSettings
    vdocipher: VdocipherSettings


@dataclass(frozen=True, kw_only=True)
class EmbedSettings:
    source: str
    playback_expires_in: str = _check(parse_duration)
    url_expires_in: str = _check(parse_duration)


@dataclass(frozen=True, kw_only=True)
class YoutubeSettings:
    api_key: str
    base_url: str = _check(_url_or_empty)


@dataclass(frozen=True, kw_only=True)
class Settings:
    data_dir: str
    demo_tenant: bool
    origin: OriginSettings
    edge: EdgeSettings
    database: DatabaseSettings
    storage: StorageSettings
    tokens: TokenSettings
    cluster: ClusterSettings
    plugins: PluginSettings
    net: NetSettings
    tus: TusSettings
    jobs: JobSettings
    streams: StreamSettings
    webhooks: WebhookSettings
    embed: EmbedSettings
    youtube: YoutubeSettings

    def replace(self, **changes: Any) -> Settings:
        """A copy with top-level sections replaced (tests use it)."""
        return dataclasses.replace(self, **changes)

    @property
    def data_path(self) -> Path:
        return Path(self.data_dir)


# -- loading ---------------------------------------------------------------------------------------


def _defaults() -> dict[str, Any]:
    with resources.files("mediaedge").joinpath("default.toml").open("rb") as f:
        return tomllib.load(f)


def _merge(base: dict[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def _leaves(tree: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    found: dict[str, Any] = {}
    for key, value in tree.items():
        path = f"{prefix}{key}"
        if isinstance(value, Mapping):
            found.update(_leaves(value, path + "."))
        else:
            found[path] = value
    return found


def env_name(path: str) -> str:
    return ENV_PREFIX + path.replace(".", "_").upper()


def _from_env(text: str, like: Any, path: str) -> Any:
    """Parse an environment string as the type of the setting it overrides."""
    if isinstance(like, bool):
        if text.lower() in ("1", "true", "yes", "on"):
            return True
        if text.lower() in ("0", "false", "no", "off", ""):
            return False
        raise SettingsError(f"{path}: expected true or false, got {text!r} (from {env_name(path)})")
    if isinstance(like, int):
        try:
            return int(text)
        except ValueError:
            raise SettingsError(f"{path}: expected an integer, got {text!r} (from {env_name(path)})") from None
    if isinstance(like, float):
        try:
            return float(text)
        except ValueError:
            raise SettingsError(f"{path}: expected a number, got {text!r} (from {env_name(path)})") from None
    if isinstance(like, list):
        return [item.strip() for item in text.split(",") if item.strip()]
    return text


def _set(tree: dict[str, Any], path: str, value: Any) -> None:
    *parents, last = path.split(".")
    for part in parents:
        tree = tree.setdefault(part, {})
    tree[last] = value


def _apply_env(tree: dict[str, Any], environ: Mapping[str, str]) -> None:
    for path, value in _leaves(tree).items():
        name = env_name(path)
        if name in environ:
            _set(tree, path, _from_env(environ[name], value, path))


def _type_ok(value: Any, hint: Any) -> bool:
    origin = typing.get_origin(hint)
    if hint is Any:
        return True
    if origin in (list,):
        return isinstance(value, list) and all(_type_ok(v, typing.get_args(hint)[0]) for v in value)
    if origin is dict:
        return isinstance(value, dict)
    if origin in (typing.Union, types.UnionType):
        return any(_type_ok(value, h) for h in typing.get_args(hint))
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if hint is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    return isinstance(value, hint)


def _build(cls: type, tree: Mapping[str, Any], prefix: str, data_dir: str) -> Any:
    hints = typing.get_type_hints(cls)
    known = {f.name for f in dataclasses.fields(cls)}
    for key in tree:
        if key not in known:
            raise SettingsError(f"{prefix}{key}: unknown setting")
    kwargs = {}
    for f in dataclasses.fields(cls):
        path = prefix + f.name
        if f.name not in tree:
            raise SettingsError(f"{path}: missing")
        value = tree[f.name]
        hint = hints[f.name]
        if dataclasses.is_dataclass(hint):
            if not isinstance(value, Mapping):
                raise SettingsError(f"{path}: expected a table")
            value = _build(hint, value, path + ".", data_dir)  # type: ignore[arg-type]
        else:
            if not _type_ok(value, hint):
                raise SettingsError(f"{path}: expected {getattr(hint, '__name__', hint)}, got {value!r}")
            value = _substitute(value, data_dir)
            check = f.metadata.get("check")
            if check:
                try:
                    check(value)
                except ValueError as exc:
                    raise SettingsError(f"{path}: {exc} (got {value!r})") from None
        kwargs[f.name] = value
    return cls(**kwargs)


def _substitute(value: Any, data_dir: str) -> Any:
    if isinstance(value, str):
        return value.replace("{data_dir}", data_dir)
    if isinstance(value, dict):
        return {k: _substitute(v, data_dir) for k, v in value.items()}
    if isinstance(value, list):
        return [_substitute(v, data_dir) for v in value]
    return value


def load_settings(
    config: str | os.PathLike[str] | None = None,
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Settings:
    """Load and validate settings. ``overrides`` is a nested dict applied last (CLI flags, tests)."""
    environ = os.environ if environ is None else environ
    tree = _defaults()
    config = config or environ.get(ENV_PREFIX + "CONFIG")
    if config:
        try:
            with open(config, "rb") as f:
                tree = _merge(tree, tomllib.load(f))
        except FileNotFoundError:
            raise SettingsError(f"config: file not found: {config}") from None
        except tomllib.TOMLDecodeError as exc:
            raise SettingsError(f"config: {config} is not valid TOML: {exc}") from None
    _apply_env(tree, environ)
    if overrides:
        tree = _merge(tree, overrides)
    data_dir = tree.get("data_dir")
    if not isinstance(data_dir, str) or not data_dir:
        raise SettingsError("data_dir: a directory path is required")
    settings: Settings = _build(Settings, tree, "", os.path.abspath(data_dir))
    settings = dataclasses.replace(settings, data_dir=os.path.abspath(data_dir))
    if settings.storage.default not in settings.storage.backends:
        raise SettingsError(f"storage.default: no backend named {settings.storage.default!r}")
    for name, backend in settings.storage.backends.items():
        if not isinstance(backend.get("kind"), str):
            raise SettingsError(f"storage.backends.{name}.kind: required")
    if settings.database.pool_min > settings.database.pool_max:
        raise SettingsError("database.pool_min: must not exceed database.pool_max")
    zone_settings(settings.edge.zones)
    if settings.jobs.heartbeat_seconds >= settings.jobs.lease_seconds:
        raise SettingsError("jobs.heartbeat_seconds: must be shorter than jobs.lease_seconds")
    return settings
