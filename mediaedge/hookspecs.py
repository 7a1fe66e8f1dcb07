"""Every extension point of mediaedge, as pluggy hook specifications.

Plugins implement these with ``@mediaedge.hookimpl``; see docs/plugins.md for an example of each.
Built-in behaviour (disk and S3 storage, stream providers) is provided by plugins registered
exactly like third-party ones, through the ``mediaedge`` entry-point group.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

import pluggy

from mediaedge import PROJECT_NAME

if TYPE_CHECKING:
    from collections.abc import Awaitable, Mapping

    from starlette.requests import Request
    from starlette.responses import Response

    from mediaedge.settings import Settings
    from mediaedge.storage import StorageBackend
    from mediaedge.streams import StreamProvider

hookspec = pluggy.HookspecMarker(PROJECT_NAME)

#: The process a plugin is started in: ``mediaedge origin``, ``edge`` or ``worker``.
Tier = Literal["origin", "edge", "worker"]


@hookspec
def register_storage_backends() -> list[type[StorageBackend]]:
    """Return storage backend classes this plugin provides.

    Each class sets a unique ``kind`` (the value of ``kind =`` in a ``[storage.backends.NAME]``
    settings table) and implements :class:`mediaedge.storage.StorageBackend`.
    """


@hookspec
def register_stream_providers() -> list[type[StreamProvider]]:
    """Return stream provider classes this plugin provides.

    Each class sets a unique ``name`` (the ``provider`` field of ``POST /streams/v1/create``) and
    implements :class:`mediaedge.streams.StreamProvider`.
    """


@hookspec
def plugin_settings() -> dict[str, type[Any]]:
    """Return this plugin's settings tables: ``{"NAME": Schema}`` for each ``[plugins.NAME]`` it reads.

    ``Schema`` is a :func:`mediaedge.settings.settings_table` class whose fields have defaults
    (or are required). At start the table in the settings, with its ``MEDIAEDGE_PLUGINS_NAME_KEY``
    variables, is validated against it; errors name the key (``plugins.NAME.KEY: ...``). Read the
    result with ``settings.plugin("NAME", Schema)``.
    """


@hookspec
def startup(settings: Settings, tier: Tier) -> None:
    """Called once when a process starts, after the plugin settings are validated.

    ``tier`` is ``"origin"``, ``"edge"`` or ``"worker"``. Check what a schema cannot (a binary
    installed, settings that depend on each other): raise ``ValueError`` with a clear message.
    """


@hookspec
def webhook_event(tenant_id: str, event: dict[str, Any]) -> None:
    """Called after a webhook event is committed to the outbox, before it is delivered.

    For observers (audit logs, metrics). The event is the exact payload the receiver will get.
    """


@hookspec
def edge_request_filter(
    request: Request,
) -> Response | Mapping[str, str] | Awaitable[Response | Mapping[str, str] | None] | None:
    """Called by the edge for every request before it is routed (deliveries, pull zones and the
    control routes alike), with a Starlette ``Request`` whose body is left to the route.

    Return None to let the request through, a Starlette ``Response`` to answer it instead (custom
    auth), or a mapping of header names to values to add to the edge's answer. May be ``async def``;
    raising :class:`mediaedge.errors.HTTPError` answers with its JSON error body. Runs on the
    edge's hot path: keep it to what the request itself carries, or cache what it looks up.
    """
