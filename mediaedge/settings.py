"""Settings: ``config/default.toml`` ← a file (``--config`` / ``MEDIAEDGE_CONFIG``) ← ``MEDIAEDGE_*``.

Every leaf setting has an environment name derived from its path: ``edge.origin_url`` is
``MEDIAEDGE_EDGE_ORIGIN_URL``, ``storage.backends.s3.bucket`` is ``MEDIAEDGE_STORAGE_BACKENDS_S3_BUCKET``.
A ``MEDIAEDGE_*`` variable that names no setting is refused (names under ``MEDIAEDGE_TEST_`` belong to
the test suite). Values are validated once at start against the schema below (pydantic dataclasses:
strict types, one validator per kind of value); a bad one raises :class:`SettingsError` naming the
setting. The defaults live in ``config/default.toml``, with their documentation.

``[plugins.NAME]`` tables belong to plugins: the core keeps them as given and
:func:`mediaedge.plugins.configure_plugins` validates each against the schema its plugin declares
(``plugin_settings`` hook, a :func:`settings_table` class). ``[edge.zones.NAME]`` tables belong to the
edge, which validates them (:mod:`edge.zone_settings`).
"""

from __future__ import annotations

import dataclasses
import os
import re
import tomllib
import typing
from collections.abc import Callable, Mapping
from dataclasses import field
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar
from urllib.parse import urlsplit

import orjson
from pydantic import AfterValidator, ConfigDict, Strict, StrictBool, StrictInt, StrictStr, TypeAdapter, ValidationError
from pydantic.dataclasses import dataclass as pydantic_dataclass

__all__ = [
    "Duration",
    "FieldError",
    "HttpUrlOrEmpty",
    "NonNegativeFloat",
    "Port",
    "PositiveFloat",
    "PositiveInt",
    "WORKER_SETTINGS_ENV",
    "Settings",
    "SettingsError",
    "default_data_dir",
    "env_name",
    "hand_to_workers",
    "load_settings",
    "parse_duration",
    "settings_table",
    "validate_table",
    "worker_settings",
]

ENV_PREFIX = "MEDIAEDGE_"
#: Variables with this prefix are the test suite's own (a PostgreSQL DSN), not settings.
TEST_ENV_PREFIX = ENV_PREFIX + "TEST_"
T = TypeVar("T")


class SettingsError(ValueError):
    """An invalid setting; the message starts with the setting's dotted name (or its variable)."""


class FieldError(ValueError):
    """Raised by a table's ``__post_init__`` check: the error is about ``field`` of that table."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(message)
        self.field = field_name


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


# -- kinds of values: a type and its check, used by the core's tables and by plugins' --------------


def _check(test: Callable[[Any], bool], message: str) -> AfterValidator:
    def check(value: Any) -> Any:
        if not test(value):
            raise ValueError(message)
        return value

    return AfterValidator(check)


def _is_http_url(value: str) -> bool:
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def _duration(value: str) -> str:
    parse_duration(value)
    return value


def _cors_origins(origins: list[str]) -> list[str]:
    for origin in origins:
        if origin != "*" and not re.fullmatch(r"https?://[^/\s]+", origin.rstrip("/")):
            raise ValueError(f'must be "*" or origins like https://app.example.com (got {origin!r})')
    return origins


def _net_allow(entries: list[str]) -> list[str]:
    from mediaedge.net import parse_allow_entry  # imports httpx: loaded only where settings are checked

    for entry in entries:
        parse_allow_entry(entry)
    return entries


StrictFloat = Annotated[float, Strict()]  # an int is accepted, a bool or a string is not
Port = Annotated[StrictInt, _check(lambda v: 0 < v < 65536, "must be a TCP port between 1 and 65535")]
PositiveInt = Annotated[StrictInt, _check(lambda v: v > 0, "must be positive")]
PositiveFloat = Annotated[StrictFloat, _check(lambda v: v > 0, "must be positive")]
NonNegativeFloat = Annotated[StrictFloat, _check(lambda v: v >= 0, "must not be negative")]
HttpUrlOrEmpty = Annotated[StrictStr, _check(lambda v: not v or _is_http_url(v), "must be an http(s) URL")]
Duration = Annotated[StrictStr, AfterValidator(_duration)]
_DB_SCHEMES = ("sqlite:///", "postgresql://", "postgres://")
DatabaseUrl = Annotated[
    StrictStr, _check(lambda v: v.startswith(_DB_SCHEMES), "must be sqlite:///PATH or postgresql://...")
]
StrList = list[StrictStr]


@typing.dataclass_transform(kw_only_default=True, frozen_default=True, field_specifiers=(field,))
def settings_table(cls: type[T]) -> type[T]:
    """Declare a settings table: a frozen, keyword-only dataclass validated with strict types.

    Fields use the types above (``PositiveFloat``, ``HttpUrlOrEmpty``, ``Literal[...]``, …) or plain
    ``StrictStr``/``StrictBool``; checks across fields go in ``__post_init__`` and raise
    :class:`FieldError`. Plugins declare their ``[plugins.NAME]`` table this way.
    """
    return typing.cast(type[T], pydantic_dataclass(frozen=True, kw_only=True, config=ConfigDict(extra="forbid"))(cls))


# -- the core's tables -----------------------------------------------------------------------------


@settings_table
class OriginSettings:
    host: StrictStr
    port: Port
    public_url: HttpUrlOrEmpty
    workers: PositiveInt
    max_file_size: PositiveInt
    spool_dir: StrictStr
    trust_forwarded: StrictBool
    cors_origins: Annotated[StrList, AfterValidator(_cors_origins)]

    @property
    def url(self) -> str:
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")


@settings_table
class EdgeSettings:
    host: StrictStr
    port: Port
    public_url: HttpUrlOrEmpty
    origin_url: HttpUrlOrEmpty
    workers: PositiveInt
    server: Literal["uvicorn", "hypercorn", "lean"]
    tls_cert: StrictStr = ""
    tls_key: StrictStr = ""
    #: UDP port of the HTTP/3 (QUIC) listener beside the TCP one; 0 = none (edge.server docs/edge.md).
    http3_port: StrictInt = 0
    memory_cache_bytes: PositiveInt
    disk_cache_bytes: StrictInt = 0
    disk_cache_dir: StrictStr = ""
    slice_bytes: PositiveInt
    object_ttl: StrictInt = 60
    tenant_ttl: PositiveInt
    jwks_refresh: PositiveInt
    access_log: StrictBool = False
    region: StrictStr = ""
    advertise_url: HttpUrlOrEmpty = ""
    #: Seconds between the edge's usage reports to the origin (edge.usage).
    usage_report: PositiveInt = 60
    #: Pull zones as given; the edge validates them (edge.zone_settings).
    zones: dict[str, Any] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")

    @property
    def registration_url(self) -> str:
        """Where origins reach this edge instance for purges: ``advertise_url``, else :attr:`url`."""
        return (self.advertise_url or self.url).rstrip("/")

    @property
    def processes(self) -> int:
        """The edge processes serving requests on this machine: the workers, plus the HTTP/3 one."""
        return self.workers + (1 if self.http3_port else 0)

    def __post_init__(self) -> None:
        if bool(self.tls_cert) != bool(self.tls_key):
            raise FieldError("tls_key" if self.tls_cert else "tls_cert", "edge.tls_cert and edge.tls_key go together")
        if self.http3_port:
            if not 0 < self.http3_port < 65536:
                raise FieldError("http3_port", "must be a UDP port (1-65535) or 0 for none")
            if not self.tls_cert:
                raise FieldError("http3_port", "HTTP/3 needs TLS: set edge.tls_cert and edge.tls_key")


@settings_table
class DatabaseSettings:
    url: DatabaseUrl
    pool_min: PositiveInt
    pool_max: PositiveInt
    migrate_on_start: StrictBool = True

    def __post_init__(self) -> None:
        if self.pool_min > self.pool_max:
            raise FieldError("pool_min", "must not exceed database.pool_max")


@settings_table
class StorageSettings:
    default: StrictStr
    #: ``[storage.backends.NAME]`` tables; each backend kind validates its own options.
    backends: dict[str, dict[str, Any]]

    def __post_init__(self) -> None:
        if self.default not in self.backends:
            raise FieldError("default", f"no backend named {self.default!r}")
        for name, backend in self.backends.items():
            if not isinstance(backend.get("kind"), str):
                raise FieldError(f"backends.{name}.kind", "required")


@settings_table
class TokenSettings:
    default_expires_in: Duration
    max_expires_in: Duration
    algorithm: Literal["RS256", "EdDSA"]


@settings_table
class ClusterSettings:
    edge_secret: StrictStr
    edges: StrList
    edge_heartbeat: PositiveInt


@settings_table
class PluginSettings:
    #: Entry-point names of plugins not to load.
    block: StrList
    #: ``[plugins.NAME]`` tables as given (file and overrides), validated by their plugins.
    tables: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: ``MEDIAEDGE_PLUGINS_*`` variables given, resolved against the plugins' schemas.
    environ: dict[str, str] = field(default_factory=dict)
    #: Validated tables by name, once :func:`mediaedge.plugins.configure_plugins` ran (derived from the above).
    config: dict[str, Any] = field(default_factory=dict, compare=False)


@settings_table
class NetSettings:
    allow: Annotated[StrList, AfterValidator(_net_allow)]
    connect_timeout: PositiveFloat
    timeout: PositiveFloat


@settings_table
class WebhookSettings:
    timeout: PositiveFloat
    backoff_scale: NonNegativeFloat
    lease_seconds: PositiveFloat
    poll_interval: PositiveFloat
    batch: PositiveInt
    retention: Duration


@settings_table
class TusSettings:
    max_size: PositiveInt
    expires_after: Duration
    cleanup_interval: PositiveInt
    lock_timeout: PositiveInt
    lock_lease: PositiveInt


@settings_table
class JobSettings:
    concurrency: PositiveInt
    lease_seconds: PositiveFloat
    heartbeat_seconds: PositiveFloat
    poll_interval: PositiveFloat
    backoff_scale: NonNegativeFloat
    retention: Duration

    def __post_init__(self) -> None:
        if self.heartbeat_seconds >= self.lease_seconds:
            raise FieldError("heartbeat_seconds", "must be shorter than jobs.lease_seconds")


@settings_table
class StreamSettings:
    default_provider: StrictStr
    poll_interval: PositiveFloat
    timeout: PositiveFloat
    work_dir: StrictStr


@settings_table
class EmbedSettings:
    source: StrictStr
    playback_expires_in: Duration
    url_expires_in: Duration


@settings_table
class VideoSettings:
    """``[videos]``: the video objects API (``/api/videos``)."""

    min_part_bytes: PositiveInt
    max_part_bytes: PositiveInt
    parts_expire_after: Duration
    cleanup_interval: PositiveInt
    link_expires_in: Duration
    prices: dict[str, NonNegativeFloat]

    def __post_init__(self) -> None:
        if self.min_part_bytes > self.max_part_bytes:
            raise FieldError("min_part_bytes", "must not exceed videos.max_part_bytes")


@settings_table
class DashboardSettings:
    enabled: StrictBool
    session_idle: Duration
    session_lifetime: Duration
    #: Not validated here: a validation error would echo the value. Shorter than 32 characters = no operator login.
    operator_key: StrictStr = ""


@settings_table
class YoutubeSettings:
    api_key: StrictStr
    base_url: HttpUrlOrEmpty


@settings_table
class EditorSettings:
    secret_key: StrictStr
    ping_interval: PositiveFloat
    session_idle: Duration
    user_quota: PositiveInt
    thumbnail_width: PositiveInt
    thumbnail_step: PositiveFloat
    version: StrictStr
    action_history_depth: PositiveInt
    render_preset: StrictStr
    render_timeout: PositiveFloat
    render_max_seconds: PositiveFloat
    audiolib_json: StrictStr
    audiolib_dir: StrictStr


@settings_table
class MediaSettings:
    """The ``/api/v1/media`` API (docs/api-media.md)."""

    #: Lifetime of a presigned upload form (``POST /api/v1/media/upload-url``).
    upload_url_ttl: Duration
    #: MIME types an upload may declare: exact types or ``type/*``.
    allowed_mimes: StrList
    #: Requests per user per ``rate_window`` seconds: upload-URL creation, caption generation.
    upload_url_rate: PositiveInt
    caption_rate: PositiveInt
    rate_window: PositiveInt
    #: Widths of the resized variants made from an uploaded image (WebP and JPEG each).
    image_widths: list[PositiveInt]
    #: Lifetime of the edge token behind a stream URL (at least the asset's duration x 2).
    stream_url_ttl: Duration


@settings_table
class Settings:
    data_dir: StrictStr
    demo_tenant: StrictBool
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
    editor: EditorSettings
    videos: VideoSettings
    media: MediaSettings
    dashboard: DashboardSettings

    def replace(self, **changes: Any) -> Settings:
        """A copy with top-level sections replaced (tests use it)."""
        return dataclasses.replace(self, **changes)

    @property
    def data_path(self) -> Path:
        return Path(self.data_dir)

    def plugin(self, name: str, schema: type[T]) -> T:
        """The ``[plugins.NAME]`` table as ``schema`` (validated at start, else now)."""
        table = self.plugins.config.get(name)
        if isinstance(table, schema):
            return table
        return validate_table(schema, self.plugins.tables.get(name, {}), f"plugins.{name}", self.plugins.environ)

    def as_tree(self) -> dict[str, Any]:
        """The settings as a tree: ``load_settings(environ=self.plugins.environ, overrides=tree)``
        rebuilds them exactly (plugin tables as given, before their plugins validated them)."""
        tree = dataclasses.asdict(self)
        tree["plugins"] = {"block": self.plugins.block, **self.plugins.tables}
        return tree


# -- validation -----------------------------------------------------------------------------------

_EXPECTED = {
    "int_type": "int",
    "float_type": "float",
    "string_type": "str",
    "bool_type": "bool",
    "list_type": "list",
    "dict_type": "a table",
    "dataclass_type": "a table",
}


def _message(error: Mapping[str, Any], path: str) -> str:
    """One pydantic error as ``dotted.setting: what is wrong``."""
    loc = ".".join(str(part) for part in error["loc"])
    where = f"{path}.{loc}" if path and loc else path or loc
    kind, value = error["type"], error.get("input")
    if kind in ("unexpected_keyword_argument", "extra_forbidden"):
        return f"{where}: unknown setting"
    if kind == "missing":
        return f"{where}: missing"
    if kind == "value_error":
        exc = error["ctx"]["error"]
        if isinstance(exc, FieldError):
            return f"{'.'.join(p for p in (where, exc.field) if p)}: {exc}"
        return f"{where}: {exc} (got {value!r})"
    if kind == "literal_error":
        choices = re.findall(r"'([^']*)'", error["ctx"]["expected"])
        return f"{where}: must be one of {', '.join(choices)}"
    if kind in _EXPECTED:
        return f"{where}: expected {_EXPECTED[kind]}, got {value!r}"
    return f"{where}: {error['msg']}"


def validate_table(
    schema: type[T], table: Mapping[str, Any], path: str = "", environ: Mapping[str, str] | None = None
) -> T:
    """``table`` as an instance of ``schema`` (a :func:`settings_table`), or :class:`SettingsError`.

    ``path`` prefixes the names in messages; ``environ`` may override each field of a flat table
    (``MEDIAEDGE_<PATH>_<FIELD>``), parsed as the field's type.
    """
    tree = dict(table)
    if environ:
        hints = typing.get_type_hints(schema)
        for f in dataclasses.fields(schema):  # type: ignore[arg-type]
            name = env_name(f"{path}.{f.name}")
            if name in environ:
                tree[f.name] = _from_env(environ[name], _env_kind(hints[f.name]), f"{path}.{f.name}")
    try:
        return TypeAdapter(schema).validate_python(tree)
    except ValidationError as exc:
        raise SettingsError(_message(exc.errors()[0], path)) from None


# -- environment ----------------------------------------------------------------------------------


def env_name(path: str) -> str:
    return ENV_PREFIX + path.replace(".", "_").upper()


def _env_kind(hint: Any) -> type:
    """What an environment string is parsed as for a field of type ``hint``."""
    while typing.get_origin(hint) is Annotated:
        hint = typing.get_args(hint)[0]
    hint = typing.get_origin(hint) or hint
    return hint if hint in (bool, int, float, list) else str


def _from_env(text: str, kind: type, path: str) -> Any:
    """Parse an environment string as a ``kind`` value (bool, int, float, list or str)."""
    source = f"(from {env_name(path)})"
    if kind is bool:
        if text.lower() in ("1", "true", "yes", "on"):
            return True
        if text.lower() in ("0", "false", "no", "off", ""):
            return False
        raise SettingsError(f"{path}: expected true or false, got {text!r} {source}")
    if kind is int:
        try:
            return int(text)
        except ValueError:
            raise SettingsError(f"{path}: expected an integer, got {text!r} {source}") from None
    if kind is float:
        try:
            return float(text)
        except ValueError:
            raise SettingsError(f"{path}: expected a number, got {text!r} {source}") from None
    if kind is list:
        return [item.strip() for item in text.split(",") if item.strip()]
    return text


def _leaves(tree: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    found: dict[str, Any] = {}
    for key, value in tree.items():
        path = f"{prefix}{key}"
        if isinstance(value, Mapping):
            found.update(_leaves(value, path + "."))
        else:
            found[path] = value
    return found


def _set(tree: dict[str, Any], path: str, value: Any) -> None:
    *parents, last = path.split(".")
    for part in parents:
        tree = tree.setdefault(part, {})
    tree[last] = value


def _apply_env(tree: dict[str, Any], environ: Mapping[str, str]) -> dict[str, str]:
    """Apply the variables naming a leaf of ``tree``; returns the ``MEDIAEDGE_PLUGINS_*`` ones given
    for plugin tables. Any other ``MEDIAEDGE_*`` variable is refused."""
    leaves = _leaves({k: v for k, v in tree.items() if k != "plugins"})
    leaves["plugins.block"] = tree.get("plugins", {}).get("block", [])
    known = {env_name(path): path for path in leaves}
    known.update({ENV_PREFIX + "CONFIG": "", ENV_PREFIX + "DATA_DIR": "data_dir"})
    plugin_prefix = env_name("plugins.")
    deferred: dict[str, str] = {}
    for name, text in environ.items():
        if not name.startswith(ENV_PREFIX) or name.startswith(TEST_ENV_PREFIX):
            continue
        path = known.get(name)
        if path:
            _set(tree, path, _from_env(text, _env_kind(type(leaves.get(path, ""))), path))
        elif path is None and name.startswith(plugin_prefix):
            deferred[name] = text
        elif path is None:
            raise SettingsError(
                f"{name}: no such setting (a MEDIAEDGE_* variable names one, e.g. MEDIAEDGE_EDGE_PORT for edge.port)"
            )
    return deferred


# -- loading ---------------------------------------------------------------------------------------


def default_data_dir(environ: Mapping[str, str]) -> str:
    """Where state lives when ``data_dir`` is empty: ``$XDG_DATA_HOME/mediaedge``, else
    ``~/.local/share/mediaedge`` — the same directory whichever directory a command runs from."""
    home = environ.get("HOME") or os.path.expanduser("~")
    base = environ.get("XDG_DATA_HOME") or os.path.join(home, ".local", "share")
    return os.path.join(base, "mediaedge")


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
    plugin_environ = _apply_env(tree, environ)
    if overrides:
        tree = _merge(tree, overrides)
    data_dir = tree.get("data_dir")
    if not isinstance(data_dir, str):
        raise SettingsError(f"data_dir: expected a directory path, got {data_dir!r}")
    data_dir = os.path.abspath(os.path.expanduser(data_dir or default_data_dir(environ)))
    tree = {**_substitute({k: v for k, v in tree.items() if k != "data_dir"}, data_dir), "data_dir": data_dir}
    plugins = tree.get("plugins")
    if isinstance(plugins, Mapping):
        tables = {k: v for k, v in plugins.items() if k != "block"}
        tree["plugins"] = {"block": plugins.get("block", []), "tables": tables, "environ": plugin_environ}
    return validate_table(Settings, tree)


# -- handing settings to a server's worker processes ------------------------------------------------

#: Where :func:`hand_to_workers` leaves the settings for the worker processes a server forks or spawns.
WORKER_SETTINGS_ENV = "_MEDIAEDGE_SETTINGS"


def hand_to_workers(settings: Settings) -> None:
    """Leave ``settings`` in the environment, so every worker process the server starts rebuilds
    exactly these (overrides given in code included) with :func:`worker_settings`."""
    given = {"tree": settings.as_tree(), "environ": settings.plugins.environ}
    os.environ[WORKER_SETTINGS_ENV] = orjson.dumps(given).decode()


def worker_settings() -> Settings:
    """The settings :func:`hand_to_workers` left; without them (a server started on its own, e.g.
    ``uvicorn origin.asgi:app --factory``) the settings the environment names."""
    handed = os.environ.get(WORKER_SETTINGS_ENV)
    if handed is None:
        return load_settings()
    given = orjson.loads(handed)
    return load_settings(environ=given["environ"], overrides=given["tree"])
