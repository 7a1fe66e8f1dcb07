"""The plugin manager: loads plugins from the ``mediaedge`` entry-point group, minus blocked ones.

At a process's start, :func:`start_plugins` refuses two plugins that claim the same storage kind,
stream provider name or settings table, validates every ``[plugins.NAME]`` table against the schema
its plugin declares (``plugin_settings`` hook), and calls each plugin's ``startup`` with the tier.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

import pluggy

from mediaedge import PROJECT_NAME, hookspecs
from mediaedge.hookspecs import Tier
from mediaedge.settings import Settings, SettingsError, env_name, validate_table

__all__ = [
    "PluginError",
    "PluginInfo",
    "configure_plugins",
    "get_plugin_manager",
    "plugin_infos",
    "plugin_schemas",
    "start_plugins",
    "unique",
]

T = TypeVar("T")


class PluginError(SettingsError):
    """Plugins that cannot be loaded together, or a table no plugin reads."""


def get_plugin_manager(block: Iterable[str] = (), extra: Iterable[Any] = ()) -> pluggy.PluginManager:
    """A plugin manager with every installed plugin loaded, except the names in ``block``.

    ``block`` names are entry-point names (``storage_s3``) as listed by ``mediaedge plugins``.
    ``extra`` registers plugin objects directly (tests, embedding applications).
    """
    pm = pluggy.PluginManager(PROJECT_NAME)
    pm.add_hookspecs(hookspecs)
    for name in block:
        pm.set_blocked(name)
    pm.load_setuptools_entrypoints(PROJECT_NAME)
    for plugin in extra:
        pm.register(plugin)
    return pm


def _origin(thing: Any) -> str:
    return f"{thing.__module__}.{thing.__qualname__}" if hasattr(thing, "__qualname__") else repr(thing)


def unique(found: Iterable[Iterable[T]], key: str, what: str) -> dict[str, T]:
    """The classes hook implementations returned, by their ``key`` attribute; two with the same
    value are refused (the second would silently replace the first)."""
    by_key: dict[str, T] = {}
    for items in found:
        for item in items:
            name = getattr(item, key)
            if name in by_key and by_key[name] is not item:
                raise PluginError(
                    f"plugins: two plugins provide the {what} {name!r}: {_origin(by_key[name])} and {_origin(item)}"
                    " (block one with plugins.block)"
                )
            by_key[name] = item
    return by_key


def plugin_schemas(pm: pluggy.PluginManager) -> dict[str, type[Any]]:
    """Every declared ``[plugins.NAME]`` table's schema, by NAME; a NAME declared twice is refused."""
    schemas: dict[str, type[Any]] = {}
    for declared in pm.hook.plugin_settings():
        for name, schema in declared.items():
            if name in schemas and schemas[name] is not schema:
                raise PluginError(
                    f"plugins.{name}: two plugins read this table: {_origin(schemas[name])} and {_origin(schema)}"
                )
            schemas[name] = schema
    return schemas


def configure_plugins(settings: Settings, pm: pluggy.PluginManager) -> Settings:
    """``settings`` with every declared plugin table validated (``settings.plugin(NAME, Schema)``).

    A ``[plugins.NAME]`` table or a ``MEDIAEDGE_PLUGINS_*`` variable that no loaded plugin reads is
    refused, naming it.
    """
    schemas = plugin_schemas(pm)
    plugins = settings.plugins
    for name in plugins.tables:
        if name not in schemas:
            raise PluginError(
                f"plugins.{name}: no loaded plugin reads this table (see `mediaedge plugins`; is it blocked?)"
            )
    config = {
        name: validate_table(schema, plugins.tables.get(name, {}), f"plugins.{name}", plugins.environ)
        for name, schema in schemas.items()
    }
    known = {
        env_name(f"plugins.{name}.{f.name}") for name, schema in schemas.items() for f in dataclasses.fields(schema)
    }
    for variable in plugins.environ:
        if variable not in known:
            raise PluginError(f"{variable}: no loaded plugin has this setting (see `mediaedge plugins`)")
    return settings.replace(plugins=dataclasses.replace(plugins, config=config))


def start_plugins(settings: Settings, pm: pluggy.PluginManager, tier: Tier) -> Settings:
    """What every process does with its plugins before it serves: refuse duplicate kinds and names,
    validate the plugin tables, call ``startup(settings, tier)``. Returns the validated settings."""
    unique(pm.hook.register_storage_backends(), "kind", "storage backend kind")
    unique(pm.hook.register_stream_providers(), "name", "stream provider")
    settings = configure_plugins(settings, pm)
    pm.hook.startup(settings=settings, tier=tier)
    return settings


@dataclass(frozen=True)
class PluginInfo:
    name: str
    module: str
    version: str | None
    hooks: tuple[str, ...]


def plugin_infos(pm: pluggy.PluginManager) -> list[PluginInfo]:
    """What is loaded and which hooks each plugin implements (``mediaedge plugins``)."""
    dists = {id(plugin): dist for plugin, dist in pm.list_plugin_distinfo()}
    infos = []
    for name, plugin in pm.list_name_plugin():
        if plugin is None:  # blocked
            continue
        dist = dists.get(id(plugin))
        hooks = tuple(sorted(h.name for h in pm.get_hookcallers(plugin) or ()))
        infos.append(PluginInfo(name, getattr(plugin, "__name__", repr(plugin)), dist.version if dist else None, hooks))
    return sorted(infos, key=lambda i: i.name)
