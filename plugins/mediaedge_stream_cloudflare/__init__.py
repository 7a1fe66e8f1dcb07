"""Cloudflare Stream (provider ``cloudflare_stream``, the seed's default provider).

Cloudflare fetches the source URL itself (``POST /accounts/{account_id}/stream/copy``) and encodes
its own ladder; the stream is polled with ``GET /stream/{uid}`` until ``readyToStream`` and removed
with ``DELETE /stream/{uid}``. Settings: ``[plugins.cloudflare]`` ``account_id``, ``api_token`` (a
token with Stream:Edit) and ``base_url``. The source URL must be fetchable from the internet: for
a signed file, pass a signed URL that lives long enough for Cloudflare to download it.
"""

from __future__ import annotations

from typing import Any

from mediaedge import hookimpl
from mediaedge.qualities import QualitiesConfig
from mediaedge.settings import HttpUrlOrEmpty, Settings, settings_table
from mediaedge.streams import (
    ProviderStream,
    ProviderUnavailable,
    StreamContext,
    StreamProvider,
    StreamSource,
    provider_request,
)


@settings_table
class CloudflareStreamSettings:
    """``[plugins.cloudflare]``: the account and an API token with Stream:Edit."""

    account_id: str = ""
    api_token: str = ""
    base_url: HttpUrlOrEmpty = "https://api.cloudflare.com/client/v4"


class CloudflareStreamProvider(StreamProvider):
    name = "cloudflare_stream"

    def __init__(self, options: CloudflareStreamSettings) -> None:
        self.base = f"{options.base_url.rstrip('/')}/accounts/{options.account_id}/stream"
        self.headers = {"Authorization": f"Bearer {options.api_token}"}

    @classmethod
    def from_settings(cls, settings: Settings) -> CloudflareStreamProvider:
        options = settings.plugin("cloudflare", CloudflareStreamSettings)
        if not options.account_id or not options.api_token:
            raise ValueError("cloudflare_stream needs plugins.cloudflare.account_id and plugins.cloudflare.api_token")
        return cls(options)

    async def create(
        self, source: StreamSource, qualities: QualitiesConfig | None, ctx: StreamContext
    ) -> ProviderStream:
        meta = {**source.meta, "name": source.name}
        body = {"url": source.url, "meta": meta, "requireSignedURLs": source.require_signed}
        return _stream(await self._call(ctx, "POST", "/copy", "create", json=body))

    async def status(self, uid: str, source: StreamSource, ctx: StreamContext) -> ProviderStream:
        return _stream(await self._call(ctx, "GET", f"/{uid}", "status"))

    async def delete(self, uid: str, source: StreamSource, ctx: StreamContext) -> None:
        await self._call(ctx, "DELETE", f"/{uid}", "delete", missing_ok=True)  # already gone: deleted

    async def _call(self, ctx: StreamContext, method: str, path: str, what: str, **kwargs: Any) -> Any:
        return await provider_request(
            ctx.http, method, self.base + path, f"cloudflare_stream {what}", headers=self.headers, **kwargs
        )


def _stream(body: Any) -> ProviderStream:
    """A Cloudflare ``{"result": video}`` envelope as a :class:`ProviderStream`."""
    video = body.get("result") if isinstance(body, dict) else None
    if not isinstance(video, dict) or not video.get("uid"):
        raise ProviderUnavailable(f"cloudflare_stream: unexpected response {str(body)[:200]}")
    status = video.get("status") or {}
    state = status.get("state") or ""
    playback = video.get("playback") or {}
    duration = video.get("duration")
    common: dict[str, Any] = {"uid": video["uid"], "outputs": {"state": state}}
    if state == "error":
        reason = status.get("errorReasonText") or status.get("errorReasonCode") or "encoding failed"
        return ProviderStream(state="failed", error=f"cloudflare_stream: {reason}", **common)
    if not (video.get("readyToStream") and state == "ready"):
        return ProviderStream(state="processing", progress=_percent(status.get("pctComplete")), **common)
    return ProviderStream(
        state="ready",
        progress=100.0,
        hls_url=playback.get("hls"),
        dash_url=playback.get("dash"),
        thumbnail=video.get("thumbnail"),
        duration=float(duration) if isinstance(duration, int | float) and duration >= 0 else None,
        **common,
    )


def _percent(value: Any) -> float:
    try:
        return max(0.0, min(100.0, float(value)))
    except (TypeError, ValueError):
        return 0.0


@hookimpl
def register_stream_providers() -> list[type[StreamProvider]]:
    return [CloudflareStreamProvider]


@hookimpl
def plugin_settings() -> dict[str, type[Any]]:
    return {"cloudflare": CloudflareStreamSettings}
