"""Every extension point of mediaedge, as pluggy hook specifications.

Plugins implement these with ``@mediaedge.hookimpl``; see docs/plugins.md for an example of each.
Built-in behaviour (disk and S3 storage, stream providers) is provided by plugins registered
exactly like third-party ones, through the ``mediaedge`` entry-point group.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pluggy

from mediaedge import PROJECT_NAME

if TYPE_CHECKING:
    from mediaedge.settings import Settings
    from mediaedge.storage import StorageBackend

hookspec = pluggy.HookspecMarker(PROJECT_NAME)


@hookspec
def register_storage_backends() -> list[type[StorageBackend]]:
    """Return storage backend classes this plugin provides.

    Each class sets a unique ``kind`` (the value of ``kind =`` in a ``[storage.backends.NAME]``
    settings table) and implements :class:`mediaedge.storage.StorageBackend`.
    """


@hookspec
def register_stream_providers() -> list[type[Any]]:
    """Return stream provider classes this plugin provides.

    Each class sets a unique ``name`` (the ``provider`` field of ``POST /streams/v1/create``) and
    implements :class:`mediaedge.streams.StreamProvider`.
    """


@hookspec
def startup(settings: Settings, tier: str) -> None:
    """Called once when a process starts; ``tier`` is ``"origin"``, ``"edge"`` or ``"worker"``.

    Use it to validate the plugin's own settings (raise ``ValueError`` with a clear message).
    """


@hookspec
def webhook_event(tenant_id: str, event: dict[str, Any]) -> None:
    """Called after a webhook event is committed to the outbox, before it is delivered.

    For observers (audit logs, metrics). The event is the exact payload the receiver will get.
    """
