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


# -- AI generation providers (DESIGN §11; contracts in mediaedge.ai.providers) ---------------------

if TYPE_CHECKING:
    from mediaedge.ai import CaptionProvider, ImageProvider, Refusal, SpeechProvider


@hookspec
def register_caption_providers() -> list[type[CaptionProvider]]:
    """Return caption provider classes this plugin provides.

    Each class sets a unique ``name`` (listed in ``plugins.ai.captions``), the ``languages`` it can
    recognise, and implements :class:`mediaedge.ai.CaptionProvider`.
    """


@hookspec
def register_speech_providers() -> list[type[SpeechProvider]]:
    """Return speech provider classes this plugin provides.

    Each class sets a unique ``name`` (listed in ``plugins.ai.speech``) and implements
    :class:`mediaedge.ai.SpeechProvider`.
    """


@hookspec
def register_image_providers() -> list[type[ImageProvider]]:
    """Return image provider classes this plugin provides.

    Each class sets a unique ``name`` (listed in ``plugins.ai.images``) and implements
    :class:`mediaedge.ai.ImageProvider`.
    """


@hookspec
def moderate_prompt(
    prompt: str, kind: str, tenant_id: str | None, settings: Settings
) -> Refusal | None | Awaitable[Refusal | None]:
    """Judge a prompt or text before any generation work starts.

    ``kind`` is ``"caption"``, ``"speech"`` or ``"image"``. Return a :class:`mediaedge.ai.Refusal` to
    refuse it (the request fails with ``ai.refused.safety``), ``None`` to let it through; an ``async``
    implementation is awaited. Every implementation is asked; one refusal is enough.
    """


# -- media assets ----------------------------------------------------------------------------------


@hookspec
def scan_asset(path: str, mime: str, kind: str, settings: Settings) -> str | None:
    """Judge an uploaded file before it becomes an asset (``POST /api/v1/media/{id}/finalize``).

    ``path`` is a local file holding the bytes (read it, never change it), ``mime`` and ``kind``
    (``video``, ``audio``, ``image``, ``other``) what the upload declared. Return a reason to quarantine
    the asset (it answers ``media.quarantined`` and is never served), or ``None``. Every
    implementation is asked; the first reason wins. Runs after the built-in content sniffing, in a
    worker thread (a scan may take a while without holding up other requests).
    """
