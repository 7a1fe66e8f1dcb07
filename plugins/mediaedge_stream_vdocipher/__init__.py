"""VdoCipher (provider ``vdocipher``): DRM-protected streams of a source URL.

VdoCipher imports the source (``PUT /videos/importUrl`` with ``{url, title}``), encodes and encrypts
it; the video is polled with ``GET /videos/{id}`` until its status is ``ready`` and removed with
``DELETE /videos?videos={id}``. Requests carry ``Authorization: Apisecret <key>``. Playback goes
through VdoCipher's player with a per-view OTP, so a ready stream has no public HLS/DASH URL: its
``uid`` is the VdoCipher video id and ``thumbnail`` its largest poster. Settings:
``[plugins.vdocipher]`` ``api_secret`` and ``base_url``.
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
class VdocipherSettings:
    """``[plugins.vdocipher]``: the API secret (Config → API Keys in VdoCipher's dashboard)."""

    api_secret: str = ""
    base_url: HttpUrlOrEmpty = "https://dev.vdocipher.com/api"


class VdocipherProvider(StreamProvider):
    name = "vdocipher"

    def __init__(self, options: VdocipherSettings) -> None:
        self.base = options.base_url.rstrip("/")
        self.headers = {"Authorization": f"Apisecret {options.api_secret}", "Accept": "application/json"}

    @classmethod
    def from_settings(cls, settings: Settings) -> VdocipherProvider:
        options = settings.plugin("vdocipher", VdocipherSettings)
        if not options.api_secret:
            raise ValueError("vdocipher needs plugins.vdocipher.api_secret")
        return cls(options)

    async def create(
        self, source: StreamSource, qualities: QualitiesConfig | None, ctx: StreamContext
    ) -> ProviderStream:
        request = {"url": source.url, "title": source.name}
        body = await self._call(ctx, "PUT", "/videos/importUrl", "create", json=request)
        video_id = body.get("id") if isinstance(body, dict) else None
        if not video_id:
            raise ProviderUnavailable(f"vdocipher create: unexpected response {str(body)[:200]}")
        return ProviderStream(uid=str(video_id), state="processing", outputs={"status": body.get("status")})

    async def status(self, uid: str, source: StreamSource, ctx: StreamContext) -> ProviderStream:
        video = await self._call(ctx, "GET", f"/videos/{uid}", "status")
        if not isinstance(video, dict):
            raise ProviderUnavailable(f"vdocipher status: unexpected response {str(video)[:200]}")
        status = str(video.get("status") or "")
        outputs = {"status": status}
        if status.lower() == "ready":
            length = video.get("length")
            return ProviderStream(
                uid=uid,
                state="ready",
                progress=100.0,
                thumbnail=_poster(video.get("posters")),
                duration=float(length) if isinstance(length, int | float) else None,
                outputs=outputs,
            )
        if "error" in status.lower() or "fail" in status.lower():
            return ProviderStream(uid=uid, state="failed", error=f"vdocipher: video status {status}", outputs=outputs)
        return ProviderStream(uid=uid, state="processing", outputs=outputs)

    async def delete(self, uid: str, source: StreamSource, ctx: StreamContext) -> None:
        await self._call(ctx, "DELETE", "/videos", "delete", params={"videos": uid})

    async def _call(self, ctx: StreamContext, method: str, path: str, what: str, **kwargs: Any) -> Any:
        return await provider_request(
            ctx.http, method, self.base + path, f"vdocipher {what}", headers=self.headers, **kwargs
        )


def _poster(posters: Any) -> str | None:
    """The URL of the widest poster."""
    if not isinstance(posters, list):
        return None
    usable = [p for p in posters if isinstance(p, dict) and (p.get("posterUrl") or p.get("url"))]
    if not usable:
        return None
    widest = max(usable, key=lambda p: p.get("width") or 0)
    return str(widest.get("posterUrl") or widest.get("url"))


@hookimpl
def register_stream_providers() -> list[type[StreamProvider]]:
    return [VdocipherProvider]


@hookimpl
def plugin_settings() -> dict[str, type[Any]]:
    return {"vdocipher": VdocipherSettings}
