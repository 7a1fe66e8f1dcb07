"""Reading an AI plugin's ``[plugins.NAME]`` settings: the one place to change when the core validates
plugin tables itself (then this becomes ``settings.plugin(name, schema)``).

Until then a table is read from ``MEDIAEDGE_PLUGINS_<NAME>_<KEY>`` environment variables — the names
the core will accept — over the schema's defaults: strings as given, numbers and booleans parsed,
lists comma-separated. A value that does not parse raises :class:`SettingsError` naming the setting.
"""

from __future__ import annotations

import dataclasses
import os
import typing
from collections.abc import Mapping
from typing import Any, TypeVar

from mediaedge.settings import Settings, SettingsError, env_name

__all__ = ["plugin_table"]

T = TypeVar("T")
_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off", "")


def _parse(text: str, hint: Any, path: str) -> Any:
    origin = typing.get_origin(hint) or hint
    try:
        if origin is bool:
            if text.lower() not in _TRUE + _FALSE:
                raise ValueError("expected true or false")
            return text.lower() in _TRUE
        if origin in (int, float):
            return origin(text)
        if origin in (tuple, list):
            return origin(item.strip() for item in text.split(",") if item.strip())
    except ValueError as exc:
        raise SettingsError(f"{path}: {exc} (got {text!r} from {env_name(path)})") from None
    return text


def plugin_table(settings: Settings, name: str, schema: type[T], environ: Mapping[str, str] | None = None) -> T:
    """The ``[plugins.NAME]`` table as ``schema``, a frozen dataclass whose fields all have defaults."""
    environ = os.environ if environ is None else environ
    hints = typing.get_type_hints(schema)
    values = {}
    for f in dataclasses.fields(schema):  # type: ignore[arg-type]
        path = f"plugins.{name}.{f.name}"
        if env_name(path) in environ:
            values[f.name] = _parse(environ[env_name(path)], hints[f.name], path)
    try:
        return schema(**values)
    except ValueError as exc:
        raise SettingsError(f"plugins.{name}: {exc}") from None
