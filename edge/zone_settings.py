"""The ``[edge.zones.NAME]`` tables: one pull zone each, validated when the edge starts.

A zone serves requests for ``host`` (or under ``prefix``, stripped) from ``upstream`` through the edge
cache, with RFC 9111 semantics (docs/caching.md). Errors name the setting, as every settings error does.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import field
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import AfterValidator, StrictBool, StrictInt, StrictStr

from mediaedge.settings import (
    FieldError,
    PositiveFloat,
    PositiveInt,
    SettingsError,
    settings_table,
    validate_table,
)

__all__ = ["ZoneSettings", "zone_settings"]

_ZONE_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
_ZONE_PREFIX = re.compile(r"^/[A-Za-z0-9._~-]+$")
#: Paths the edge answers itself: no zone may take them.
RESERVED_PREFIXES = ("/_edge", "/healthz", "/metrics")


def _upstream(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query:
        raise ValueError("must be an http(s) URL without a query")
    return url


def _prefix(prefix: str) -> str:
    if prefix and not _ZONE_PREFIX.match(prefix):
        raise ValueError("must be one path segment like /static")
    if prefix in RESERVED_PREFIXES:
        raise ValueError(f"{prefix} is the edge's own")
    return prefix


def _disk_budget(size: int) -> int:
    if size < 0:
        raise ValueError("must be 0 (no disk tier) or positive")
    return size


@settings_table
class ZoneSettings:
    """One pull zone; ``name`` is its table's name, ``token_tenant`` defaults to it."""

    name: StrictStr
    upstream: Annotated[StrictStr, AfterValidator(_upstream)]
    host: StrictStr = ""
    prefix: Annotated[StrictStr, AfterValidator(_prefix)] = ""
    headers: dict[str, StrictStr] = field(default_factory=dict)
    tokens: StrictBool = False
    token_keys: StrictStr = "origin"  # noqa: S105  (not a secret: "origin" or a JWKS file path)
    token_tenant: StrictStr = ""
    whitelisted_domains: list[StrictStr] = field(default_factory=list)
    app_ids: list[StrictStr] = field(default_factory=list)
    memory_cache_bytes: PositiveInt = 64 << 20
    disk_cache_bytes: Annotated[StrictInt, AfterValidator(_disk_budget)] = 0
    timeout: PositiveFloat = 30.0

    def __post_init__(self) -> None:
        if not self.host and not self.prefix:
            raise FieldError("", "set host or prefix (or both)")


def zone_settings(zones: Mapping[str, Any]) -> list[ZoneSettings]:
    """Validate ``edge.zones``; raises :class:`SettingsError` naming the setting."""
    found: list[ZoneSettings] = []
    routes: set[tuple[str, str]] = set()
    for name, table in zones.items():
        path = f"edge.zones.{name}"
        if not _ZONE_NAME.match(name):
            raise SettingsError(f"{path}: a zone name is lower-case letters, digits, - and _")
        if not isinstance(table, Mapping):
            raise SettingsError(f"{path}: expected a table")
        if "name" in table:
            raise SettingsError(f"{path}.name: unknown setting")
        zone = validate_table(ZoneSettings, {"name": name, "token_tenant": name, **table}, path)
        zone = dataclasses.replace(zone, host=zone.host.lower())
        if (zone.host, zone.prefix) in routes:
            raise SettingsError(f"{path}: another zone has the same host and prefix")
        routes.add((zone.host, zone.prefix))
        found.append(zone)
    return found
