"""The plugin manager: loads plugins from the ``mediaedge`` entry-point group, minus blocked ones."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import pluggy

from mediaedge import PROJECT_NAME, hookspecs

__all__ = ["PluginInfo", "get_plugin_manager", "plugin_infos"]


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
        infos.append(
            PluginInfo(name, getattr(plugin, "__name__", repr(plugin)), dist.version if dist else None, hooks)
        )
    return sorted(infos, key=lambda i: i.name)
