"""The stream provider contract (DESIGN §5), and an in-memory test double beside it.

A provider turns a source video into an adaptive stream (HLS/DASH). Built-ins live in
``plugins/mediaedge_stream_*`` and are registered through the ``register_stream_providers`` hook:
``ffmpeg`` transcodes locally and writes into the source's bucket; ``cloudflare_stream`` and
``vdocipher`` hand the source URL to those services.

The origin drives a provider from a job: :meth:`StreamProvider.create`, then — for a ``remote``
provider whose work goes on after ``create`` returns — :meth:`StreamProvider.status` every
``streams.poll_interval`` seconds until the stream is ``ready`` or ``failed``. Providers report
progress through :attr:`StreamContext.report`. :class:`ProviderRejected` fails a stream for good (the
service said 4xx, the input is unusable); any other exception, :class:`ProviderUnavailable`
included, is retried with backoff.
"""

from __future__ import annotations

import abc
import itertools
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal

import httpx
import pluggy

from mediaedge.plugins import unique
from mediaedge.qualities import QualitiesConfig
from mediaedge.storage import StorageBackend

if TYPE_CHECKING:
    from mediaedge.settings import Settings

__all__ = [
    "MemoryStreamProvider",
    "ProviderRejected",
    "ProviderStream",
    "ProviderUnavailable",
    "StreamContext",
    "StreamProvider",
    "StreamSource",
    "check_response",
    "provider_classes",
    "provider_request",
]

ProviderState = Literal["processing", "ready", "failed"]


class ProviderRejected(Exception):
    """The provider refused the stream (4xx, unusable source or config): do not retry."""


class ProviderUnavailable(Exception):
    """The provider failed transiently (5xx, network): try again later."""


@dataclass(frozen=True)
class StreamSource:
    """What to stream, and where a local provider reads and writes.

    ``url`` is the URL the stream was created from (remote providers fetch it). When the source is
    a file on this platform, ``key`` and ``storage`` locate its bytes and ``output_prefix`` (``{key}.stream/``)
    is where a local provider writes the stream, so one prefix token plays all of it.
    """

    stream_id: str
    url: str
    name: str
    meta: Mapping[str, Any] = field(default_factory=dict)
    require_signed: bool = False
    key: str | None = None
    storage: StorageBackend | None = None
    output_prefix: str | None = None


async def _nothing_published(stream: ProviderStream) -> None:
    """The default :attr:`StreamContext.publish`: nobody is told."""


@dataclass
class StreamContext:
    """What the platform lends a provider while it works on one stream."""

    http: httpx.AsyncClient
    #: Scratch directory for this attempt; the platform removes it afterwards.
    work_dir: Path
    #: ``await report("processing", 42.0)`` records progress; ``report("downloading", None)`` says the
    #: encode is done and the outputs are being put in place.
    report: Callable[[str, float | None], Awaitable[None]]
    #: Delivery URL of an object key of the source's bucket (``{EDGE}/{fileId}/{key}``).
    url_for: Callable[[str], str]
    #: A provider that makes renditions one at a time calls this each time one was published, with the
    #: stream so far (``processing``; its URLs once something plays; ``outputs`` with each rendition's status).
    publish: Callable[[ProviderStream], Awaitable[None]] = _nothing_published
    #: The ``outputs`` of the stream as an earlier attempt left them (what it finished is kept).
    previous: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ProviderStream:
    """A provider's view of one stream."""

    uid: str
    state: ProviderState
    progress: float = 0.0  # percent
    hls_url: str | None = None
    dash_url: str | None = None
    thumbnail: str | None = None
    duration: float | None = None
    error: str | None = None
    #: Provider specifics worth showing (renditions, storyboard, provider status text).
    outputs: Mapping[str, Any] = field(default_factory=dict)


class StreamProvider(abc.ABC):
    """A way to make streams. Subclasses set ``name`` and implement the abstract methods."""

    name: ClassVar[str]
    #: ``True`` when the work goes on at the provider after :meth:`create` returns: a retried job
    #: then polls :meth:`status` with the uid it has instead of creating the stream again.
    remote: ClassVar[bool] = True
    #: Whether :meth:`create` honours a ``qualities`` ladder (seed 001); others refuse one.
    accepts_qualities: ClassVar[bool] = False

    @classmethod
    @abc.abstractmethod
    def from_settings(cls, settings: Settings) -> StreamProvider:
        """Build from settings; raise ``ValueError`` naming the setting when it cannot work."""

    def check_source(self, source: StreamSource) -> None:  # noqa: B027 - optional hook with a no-op default
        """Refuse (:class:`ProviderRejected`) a source this provider cannot use, before anything is queued;
        :class:`ProviderUnavailable` when the provider cannot make any stream here (a missing tool)."""

    @abc.abstractmethod
    async def create(
        self, source: StreamSource, qualities: QualitiesConfig | None, ctx: StreamContext
    ) -> ProviderStream:
        """Start (remote) or do (local) the work; returns the stream with its ``uid``."""

    @abc.abstractmethod
    async def status(self, uid: str, source: StreamSource, ctx: StreamContext) -> ProviderStream:
        """The stream's current state and progress."""

    @abc.abstractmethod
    async def delete(self, uid: str, source: StreamSource, ctx: StreamContext) -> None:
        """Remove the stream and its outputs; deleting a missing stream is not an error."""


def provider_classes(pm: pluggy.PluginManager) -> dict[str, type[StreamProvider]]:
    """Every stream provider class plugins register, by ``name`` (two with one name are refused)."""
    return unique(pm.hook.register_stream_providers(), "name", "stream provider")


async def provider_request(
    http: httpx.AsyncClient, method: str, url: str, what: str, *, missing_ok: bool = False, **kwargs: Any
) -> Any:
    """One call to a provider's JSON API, returning the decoded body.

    HTTP errors map as :func:`check_response` says; network failures are :class:`ProviderUnavailable`.
    ``missing_ok``: a 404 answers ``None`` (deleting what is already gone is not an error).
    """
    try:
        response = await http.request(method, url, **kwargs)
    except httpx.HTTPError as exc:
        raise ProviderUnavailable(f"{what}: {type(exc).__name__}: {exc}") from exc
    if missing_ok and response.status_code == 404:
        return None
    check_response(response, what)
    try:
        return response.json() if response.content else None
    except ValueError:
        raise ProviderUnavailable(f"{what}: the response is not JSON") from None


def check_response(response: httpx.Response, what: str) -> httpx.Response:
    """Map a provider API's HTTP errors: 4xx → :class:`ProviderRejected`, 5xx → :class:`ProviderUnavailable`."""
    if response.status_code < 400:
        return response
    detail = f"{what}: HTTP {response.status_code} {response.text[:300]}"
    if response.status_code >= 500 or response.status_code in (408, 429):
        raise ProviderUnavailable(detail)
    raise ProviderRejected(detail)


class MemoryStreamProvider(StreamProvider):
    """Pretends to encode: each :meth:`status` call advances a stream by ``step`` percent.

    The test double for code that needs *a* provider. ``meta["fail"]`` steers it: ``"rejected"``
    makes :meth:`create` raise :class:`ProviderRejected`, ``"unavailable"`` raise
    :class:`ProviderUnavailable`, ``"encode"`` end the stream ``failed``.
    """

    name = "memory"
    accepts_qualities = True
    step = 50.0
    #: Streams by uid, shared by all instances of this process (providers are built per use).
    streams: ClassVar[dict[str, ProviderStream]] = {}
    deleted: ClassVar[list[str]] = []
    _ids = itertools.count(1)

    @classmethod
    def from_settings(cls, settings: Settings) -> MemoryStreamProvider:
        return cls()

    async def create(
        self, source: StreamSource, qualities: QualitiesConfig | None, ctx: StreamContext
    ) -> ProviderStream:
        fail = source.meta.get("fail")
        if fail == "rejected":
            raise ProviderRejected("memory: source refused")
        if fail == "unavailable":
            raise ProviderUnavailable("memory: try again later")
        uid = f"mem{next(self._ids)}"
        stream = ProviderStream(uid, "processing")
        if fail == "encode":
            stream = replace(stream, state="failed", error="memory: encode failed")
        self.streams[uid] = stream
        return stream

    async def status(self, uid: str, source: StreamSource, ctx: StreamContext) -> ProviderStream:
        stream = self.streams.get(uid)
        if stream is None:
            raise ProviderRejected(f"memory: no stream {uid}")
        if stream.state == "processing":
            progress = min(100.0, stream.progress + self.step)
            stream = replace(stream, progress=progress)
            if progress >= 100:
                base = f"https://memory.test/{uid}"
                stream = replace(
                    stream,
                    state="ready",
                    hls_url=f"{base}/video.m3u8",
                    dash_url=f"{base}/video.mpd",
                    thumbnail=f"{base}/thumbnail.jpg",
                    duration=10.0,
                )
            self.streams[uid] = stream
        return stream

    async def delete(self, uid: str, source: StreamSource, ctx: StreamContext) -> None:
        self.streams.pop(uid, None)
        self.deleted.append(uid)
