"""The stream provider contract (DESIGN §5) as a test suite.

What every provider must do with a source it accepts: ``create`` answers a stream with a ``uid``; a
``remote`` provider's stream reaches ``ready`` by polling ``status`` (a local provider's is ready when
``create`` returns); progress stays within 0–100 and is 100 when ready; the URLs it hands out are
http(s) URLs; ``delete`` is idempotent. Building it from settings that lack what it needs raises
``ValueError`` naming the setting.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from mediaedge.settings import load_settings
from mediaedge.streams import ProviderStream, StreamContext, StreamProvider, StreamSource

#: Status polls a remote provider gets to reach ``ready`` (a fake service moves one state per poll).
MAX_POLLS = 50


@dataclass
class RecordedReports:
    """The ``report(status, progress)`` calls a provider made, in order."""

    calls: list[tuple[str, float | None]] = field(default_factory=list)

    async def __call__(self, status: str, progress: float | None) -> None:
        self.calls.append((status, progress))


def _is_http_url(url: str | None) -> bool:
    return url is not None and urlsplit(url).scheme in ("http", "https") and bool(urlsplit(url).hostname)


def _check_stream(stream: ProviderStream) -> None:
    assert stream.uid, "a stream has a uid"
    assert stream.state in ("processing", "ready", "failed")
    assert 0.0 <= stream.progress <= 100.0
    for url in (stream.hls_url, stream.dash_url, stream.thumbnail):
        assert url is None or _is_http_url(url), f"not an http(s) URL: {url!r}"
    if stream.state == "ready":
        assert stream.progress == 100.0


@pytest.mark.anyio
class StreamProviderContract:
    """Subclass with ``provider`` and ``stream_source`` fixtures; ``qualities`` is optional."""

    @pytest.fixture
    def anyio_backend(self) -> str:
        return "asyncio"

    @pytest.fixture
    def provider(self) -> StreamProvider:
        raise NotImplementedError("define a `provider` fixture, or use stream_provider_contract()")

    @pytest.fixture
    def stream_source(self) -> StreamSource:
        return StreamSource("contract-1", "https://media.example.com/lecture.mp4", "Lecture 1", {"name": "Lecture 1"})

    @pytest.fixture
    def qualities(self) -> Any:
        return None

    @pytest.fixture
    def reports(self) -> RecordedReports:
        return RecordedReports()

    @pytest.fixture
    async def stream_context(self, tmp_path: Path, reports: RecordedReports) -> AsyncIterator[StreamContext]:
        work_dir = tmp_path / "work"
        work_dir.mkdir()
        async with httpx.AsyncClient(timeout=30.0) as http:
            yield StreamContext(http, work_dir, reports, lambda key: f"https://edge.example.com/F1/{key}")

    async def _until_settled(
        self, provider: StreamProvider, stream: ProviderStream, source: StreamSource, ctx: StreamContext
    ) -> list[ProviderStream]:
        seen = [stream]
        while seen[-1].state == "processing" and len(seen) <= MAX_POLLS:
            seen.append(await provider.status(seen[-1].uid, source, ctx))
            _check_stream(seen[-1])
        return seen

    async def test_the_class_declares_a_name(self, provider: StreamProvider) -> None:
        assert isinstance(type(provider).name, str) and type(provider).name
        assert isinstance(type(provider).remote, bool)

    async def test_a_stream_is_created_and_becomes_ready(
        self, provider: StreamProvider, stream_source: StreamSource, qualities: Any, stream_context: StreamContext
    ) -> None:
        provider.check_source(stream_source)
        created = await provider.create(
            stream_source, qualities if provider.accepts_qualities else None, stream_context
        )
        _check_stream(created)
        if not provider.remote:
            assert created.state == "ready", "a local provider's work is done when create returns"
        seen = await self._until_settled(provider, created, stream_source, stream_context)
        assert seen[-1].state == "ready", f"after {len(seen) - 1} polls: {seen[-1]}"
        assert {s.uid for s in seen} == {created.uid}
        progress = [s.progress for s in seen]
        assert progress == sorted(progress), f"progress went backwards: {progress}"

    async def test_status_of_a_ready_stream_stays_ready(
        self, provider: StreamProvider, stream_source: StreamSource, qualities: Any, stream_context: StreamContext
    ) -> None:
        created = await provider.create(
            stream_source, qualities if provider.accepts_qualities else None, stream_context
        )
        ready = (await self._until_settled(provider, created, stream_source, stream_context))[-1]
        again = await provider.status(ready.uid, stream_source, stream_context)
        _check_stream(again)
        assert (again.state, again.hls_url, again.dash_url) == ("ready", ready.hls_url, ready.dash_url)

    async def test_delete_is_idempotent(
        self, provider: StreamProvider, stream_source: StreamSource, qualities: Any, stream_context: StreamContext
    ) -> None:
        created = await provider.create(
            stream_source, qualities if provider.accepts_qualities else None, stream_context
        )
        await provider.delete(created.uid, stream_source, stream_context)
        await provider.delete(created.uid, stream_source, stream_context)  # already gone: not an error


def stream_provider_contract(
    cls: type[StreamProvider], plugins: Mapping[str, Any] | None = None, source: StreamSource | None = None
) -> type[StreamProviderContract]:
    """The contract suite for ``cls.from_settings(settings)``, where ``plugins`` are the
    ``[plugins.NAME]`` tables of the settings (``{tmp_path}`` in a string is the test's temporary
    directory) and ``source`` the stream source (default: a public URL). Assign the result to a
    ``Test*`` name in a test module."""

    def provider_fixture(self: Any, tmp_path: Path) -> StreamProvider:
        tables = {name: {k: _at(v, tmp_path) for k, v in table.items()} for name, table in (plugins or {}).items()}
        settings = load_settings(environ={}, overrides={"data_dir": str(tmp_path / "var"), "plugins": tables})
        return cls.from_settings(settings)

    members: dict[str, Any] = {"provider": pytest.fixture(provider_fixture), "__test__": True}
    if source is not None:
        members["stream_source"] = pytest.fixture(lambda self: source)
    return type(f"Test{cls.__name__}Contract", (StreamProviderContract,), members)


def _at(value: Any, tmp_path: Path) -> Any:
    return value.replace("{tmp_path}", str(tmp_path)) if isinstance(value, str) else value
