"""A third-party stream provider with settings of its own, as docs/plugins.md shows it: only
``mediaedge`` is imported. It hands out URLs under ``cdn`` and finishes ``step`` percent per poll."""

from __future__ import annotations

from typing import Any

from mediaedge import hookimpl
from mediaedge.settings import HttpUrlOrEmpty, PositiveFloat, Settings, settings_table
from mediaedge.streams import ProviderStream, StreamProvider

STREAMS: dict[str, float] = {}  # uid -> progress, shared by the instances of this process


@settings_table
class MyTranscoderSettings:
    """``[plugins.mytranscoder]``; each key also as MEDIAEDGE_PLUGINS_MYTRANSCODER_<KEY>."""

    cdn: HttpUrlOrEmpty = ""
    step: PositiveFloat = 25.0


class MyTranscoder(StreamProvider):
    name = "mytranscoder"

    def __init__(self, options: MyTranscoderSettings) -> None:
        self.options = options

    @classmethod
    def from_settings(cls, settings: Settings) -> MyTranscoder:
        options = settings.plugin("mytranscoder", MyTranscoderSettings)
        if not options.cdn:
            raise ValueError("mytranscoder needs plugins.mytranscoder.cdn")
        return cls(options)

    async def create(self, source: Any, qualities: Any, ctx: Any) -> ProviderStream:
        uid = f"my-{source.stream_id}"
        STREAMS[uid] = 0.0
        return ProviderStream(uid, "processing")

    async def status(self, uid: str, source: Any, ctx: Any) -> ProviderStream:
        STREAMS[uid] = progress = min(100.0, STREAMS[uid] + self.options.step)
        if progress < 100.0:
            return ProviderStream(uid, "processing", progress)
        return ProviderStream(uid, "ready", 100.0, hls_url=f"{self.options.cdn}/{uid}/master.m3u8")

    async def delete(self, uid: str, source: Any, ctx: Any) -> None:
        STREAMS.pop(uid, None)


@hookimpl
def register_stream_providers() -> list[type[StreamProvider]]:
    return [MyTranscoder]


@hookimpl
def plugin_settings() -> dict[str, type[Any]]:
    return {"mytranscoder": MyTranscoderSettings}
