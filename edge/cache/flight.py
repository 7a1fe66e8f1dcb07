"""Request coalescing for slice bytes: one fetch, any number of readers, bytes fanned out as they arrive.

A :class:`Flight` is fed by exactly one task (the fetch) and read by any number of readers, each with
its own cursor. Readers that join late first replay the chunks already received. When the fetch
fails, every reader gets its own copy of the error; nobody waits past the end of the fetch.
"""

from __future__ import annotations

import asyncio
import copy

__all__ = ["Flight"]


class Flight:
    """The chunks of one slice fetch so far, and whether (and how) it ended."""

    __slots__ = ("_chunks", "_done", "_error", "_wakeup")

    def __init__(self) -> None:
        self._chunks: list[bytes] = []
        self._done = False
        self._error: BaseException | None = None
        self._wakeup = asyncio.Event()

    def feed(self, chunk: bytes) -> None:
        """Append a chunk and wake every reader."""
        if chunk:
            self._chunks.append(chunk)
            self._wake()

    def finish(self, error: BaseException | None = None) -> None:
        """End the flight, successfully or with ``error``; later calls are ignored."""
        if not self._done:
            self._done = True
            self._error = error
            self._wake()

    def data(self) -> bytes:
        """Everything received so far, as one bytes object."""
        return b"".join(self._chunks)

    def _wake(self) -> None:
        event, self._wakeup = self._wakeup, asyncio.Event()
        event.set()

    def __aiter__(self) -> _Reader:
        return _Reader(self)


class _Reader:
    """One reader's cursor over a flight (a plain iterator: nothing to finalise if abandoned)."""

    __slots__ = ("_flight", "_next")

    def __init__(self, flight: Flight) -> None:
        self._flight = flight
        self._next = 0

    def __aiter__(self) -> _Reader:
        return self

    async def __anext__(self) -> bytes:
        flight = self._flight
        while self._next >= len(flight._chunks):
            if flight._done:
                if flight._error is not None:
                    raise copy.copy(flight._error) from flight._error
                raise StopAsyncIteration
            await flight._wakeup.wait()
        self._next += 1
        return flight._chunks[self._next - 1]
