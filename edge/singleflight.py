"""Single flight: at most one piece of work per key at a time, shared by everyone who asks meanwhile.

The first caller of a key starts the work (:meth:`SingleFlight.start`) in a task of its own (a
:class:`Tasks` group), so a caller that goes away never cancels what the others wait for; callers
arriving while it runs :meth:`~SingleFlight.get` its channel instead of starting their own:

- an :class:`Answer` is one value or error. It may be given before the work ends (a lookup answered
  before its bytes are stored); a caller arriving after that starts afresh, since what the work found
  is cached by then.
- a :class:`Stream` is chunks fanned out as they arrive, each reader with its own cursor; a late reader
  first replays what came before. It can be joined until the work ends.

Every reader of a failed channel gets its own copy of the error. Work that raises ends its channel with
that exception; work cancelled (or ending without a word) ends it with the group's ``closed()`` error,
so nobody waits past the end of the work. :meth:`SingleFlight.forget` detaches keys from their work
(a purge): readers already there keep their channel, the next caller starts afresh.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Hashable
from contextlib import asynccontextmanager
from typing import Any, Generic, Protocol, TypeVar

__all__ = ["Answer", "SingleFlight", "Stream", "Tasks"]

log = logging.getLogger(__name__)

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


def _copy(error: BaseException) -> BaseException:
    """A shallow copy of ``error`` for one reader (without calling ``__init__``, whatever its signature)."""
    clone = type(error).__new__(type(error), *error.args)
    clone.__dict__.update(error.__dict__)
    return clone


class Channel(Protocol):
    """What the work of a key reports through."""

    @property
    def joinable(self) -> bool:
        """Whether a caller arriving now should read this channel rather than start afresh."""
        ...

    def fail(self, error: BaseException) -> bool:
        """End with ``error`` unless already ended; whether it did."""
        ...


C = TypeVar("C", bound=Channel)


class Tasks:
    """Background tasks that outlive the request that started them; a failure is logged as ``what``."""

    def __init__(self, what: str = "background task", logger: logging.Logger = log) -> None:
        self._tasks: set[asyncio.Task[None]] = set()
        self._what = what
        self._log = logger

    def spawn(self, work: Coroutine[Any, Any, None]) -> None:
        """Run ``work`` in a task of its own."""
        task = asyncio.get_running_loop().create_task(self._logged(work))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def join(self) -> None:
        """Wait until every task has finished, including tasks they started."""
        while self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def cancel(self) -> None:
        """Cancel every task and wait for them to finish."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _logged(self, work: Coroutine[Any, Any, None]) -> None:
        try:
            await work
        except Exception:
            self._log.exception("%s failed", self._what)


class SingleFlight(Generic[K, C]):
    """Channels of the work under way, by key, run in ``tasks``. ``closed()`` is what the readers of work
    that was cancelled get."""

    def __init__(self, tasks: Tasks, closed: Callable[[], BaseException] = asyncio.CancelledError) -> None:
        self._tasks = tasks
        self._closed = closed
        self._channels: dict[K, C] = {}

    def get(self, key: K) -> C | None:
        """The channel to join for ``key``, or None: start the work."""
        channel = self._channels.get(key)
        if channel is not None and not channel.joinable:
            del self._channels[key]
            return None
        return channel

    def claim(self, key: K, channel: C) -> C:
        """From now on callers of ``key`` join ``channel``; the caller's task feeds it within
        :meth:`feeding`."""
        self._channels[key] = channel
        return channel

    def start(self, key: K, channel: C, work: Coroutine[Any, Any, None], *, share: bool = True) -> C:
        """Run ``work`` (which feeds ``channel``) in a task of its own; with ``share``, callers of
        ``key`` join ``channel`` until the work ends. Returns ``channel``."""
        if share:
            self.claim(key, channel)
        self._tasks.spawn(self._run(key, channel, work))
        return channel

    def forget(self, match: Callable[[K], bool]) -> None:
        """Detach every key ``match`` accepts from its work; its readers keep reading."""
        for key in [k for k in self._channels if match(k)]:
            del self._channels[key]

    @asynccontextmanager
    async def feeding(self, key: K, channel: C) -> AsyncIterator[None]:
        """The work for ``key`` feeding ``channel``: when it is over, the channel is ended (with
        ``closed()`` unless the work ended it) and ``key`` is free."""
        try:
            yield
        finally:
            channel.fail(self._closed())  # a no-op unless cancelled or left without a word
            if self._channels.get(key) is channel:
                del self._channels[key]

    async def _run(self, key: K, channel: C, work: Coroutine[Any, Any, None]) -> None:
        async with self.feeding(key, channel):
            try:
                await work
            except Exception as exc:
                if not channel.fail(exc):
                    log.exception("work for %r failed after it was answered", key)


class Answer(Generic[V]):
    """One value or error, for any number of waiters. Before the value, the work may post notes
    (:meth:`note`: a pull zone's interim responses); a waiter that asks for them gets every note, in
    order, the ones posted before it arrived first."""

    __slots__ = ("_future", "_notes", "_noted")

    def __init__(self) -> None:
        self._future: asyncio.Future[tuple[V | None, BaseException | None]] = asyncio.get_running_loop().create_future()
        self._notes: list[Any] = []
        self._noted: asyncio.Future[None] | None = None  # resolved by the next note

    @property
    def joinable(self) -> bool:
        return not self._future.done()

    def settle(self, value: V) -> None:
        """Answer ``value`` unless answered already."""
        if not self._future.done():
            self._future.set_result((value, None))

    def fail(self, error: BaseException) -> bool:
        if self._future.done():
            return False
        self._future.set_result((None, error))
        return True

    def note(self, item: Any) -> None:
        """Post ``item`` to the waiters (nothing once answered)."""
        if self._future.done():
            return
        self._notes.append(item)
        noted, self._noted = self._noted, None
        if noted is not None:
            noted.set_result(None)

    async def wait(self, on_note: Callable[[Any], Awaitable[None]] | None = None) -> V:
        """The value, or a copy of the error raised; before it, ``on_note`` of each note posted before
        the answer. Cancelling the waiter leaves the answer alone."""
        if on_note is not None:
            seen = 0
            while True:
                while seen < len(self._notes):
                    seen += 1
                    await on_note(self._notes[seen - 1])
                if self._future.done():
                    break
                if self._noted is None:
                    self._noted = asyncio.get_running_loop().create_future()
                await asyncio.wait((self._future, self._noted), return_when=asyncio.FIRST_COMPLETED)
        value, error = await asyncio.shield(self._future)
        if error is not None:
            raise _copy(error) from error
        return value  # type: ignore[return-value]  # None only with an error


class Stream:
    """The chunks of one fetch so far, and whether (and how) it ended. Fed by one task, read by any
    number of readers (``async for``); a reader that goes away has nothing to finalise."""

    __slots__ = ("_chunks", "_done", "_error", "_wakeup")

    def __init__(self) -> None:
        self._chunks: list[bytes] = []
        self._done = False
        self._error: BaseException | None = None
        self._wakeup = asyncio.Event()

    @property
    def joinable(self) -> bool:
        return True  # until its work ends (and its key is free): late readers replay it

    def feed(self, chunk: bytes) -> None:
        """Append a chunk and wake every reader."""
        if chunk:
            self._chunks.append(chunk)
            self._wake()

    def finish(self) -> None:
        """End the stream successfully unless it has ended."""
        self._end(None)

    def fail(self, error: BaseException) -> bool:
        return self._end(error)

    def _end(self, error: BaseException | None) -> bool:
        if self._done:
            return False
        self._done = True
        self._error = error
        self._wake()
        return True

    def data(self) -> bytes:
        """Everything received so far, as one bytes object."""
        return b"".join(self._chunks)

    def _wake(self) -> None:
        event, self._wakeup = self._wakeup, asyncio.Event()
        event.set()

    def __aiter__(self) -> _Reader:
        return _Reader(self)


class _Reader:
    """One reader's cursor over a stream (a plain iterator: nothing to finalise if abandoned)."""

    __slots__ = ("_next", "_stream")

    def __init__(self, stream: Stream) -> None:
        self._stream = stream
        self._next = 0

    def __aiter__(self) -> _Reader:
        return self

    async def __anext__(self) -> bytes:
        stream = self._stream
        while self._next >= len(stream._chunks):
            if stream._done:
                if stream._error is not None:
                    raise _copy(stream._error) from stream._error
                raise StopAsyncIteration
            await stream._wakeup.wait()
        self._next += 1
        return stream._chunks[self._next - 1]
