"""Build the configured storage backends from the kinds that plugins register."""

from __future__ import annotations

import pluggy

from mediaedge.plugins import unique
from mediaedge.settings import Settings, SettingsError
from mediaedge.storage import StorageBackend


def backend_kinds(pm: pluggy.PluginManager) -> dict[str, type[StorageBackend]]:
    """Every storage backend class plugins provide, by ``kind`` (two with one kind are refused)."""
    return unique(pm.hook.register_storage_backends(), "kind", "storage backend kind")


def build_backends(settings: Settings, pm: pluggy.PluginManager) -> dict[str, StorageBackend]:
    """One backend per ``[storage.backends.NAME]`` table; errors name the offending setting."""
    kinds = backend_kinds(pm)
    backends: dict[str, StorageBackend] = {}
    for name, options in settings.storage.backends.items():
        kind = options["kind"]
        if kind not in kinds:
            known = ", ".join(sorted(kinds)) or "none"
            raise SettingsError(f"storage.backends.{name}.kind: no plugin provides {kind!r} (known: {known})")
        try:
            backends[name] = kinds[kind].from_options(options)
        except ValueError as exc:
            raise SettingsError(f"storage.backends.{name}.{exc}") from None
    return backends
