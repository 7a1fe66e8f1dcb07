"""Streaming one PATCH body onto an upload's spool file, interruptibly.

The body is pumped from ``request.stream()`` into a :class:`~origin.tus.spool.SpoolWriter` by one task
per request (never per chunk). The request's own coroutine watches that task, the lock's ``stop``
event, and a heartbeat timer: on ``stop`` (another request wants the upload) the pump is cancelled,
whatever it has received is written and synced, and the outcome says so. A client that goes away
mid-body ends the same way, keeping its bytes.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

from starlette.requests import ClientDisconnect

from origin.tus.locks import HeldLock
from origin.tus.spool import SpoolWriter


class Outcome(Enum):
    DONE = "done"  # the whole body arrived
    OVERFLOW = "overflow"  # the body went past the room it had; what fitted was kept
    STOPPED = "stopped"  # another request asked for the upload
    DISCONNECTED = "disconnected"  # the client went away mid-body


@dataclass(frozen=True)
class Received:
    offset: int  # the durable offset after this body
    outcome: Outcome
    digest: bytes | None  # of the bytes received, when a hasher was given


async def receive_body(
    chunks: AsyncIterator[bytes],
    path: Path,
    offset: int,
    room: int,
    held: HeldLock,
    heartbeat: Callable[[int], Awaitable[None]],
    hasher: Any = None,
) -> Received:
    """Append at most ``room`` bytes of ``chunks`` at ``offset``.

    ``heartbeat(durable_offset)`` runs about every second while the body streams (renew the lease,
    record progress); it may set ``held.stop``.
    """
    writer = SpoolWriter(path, offset, hasher)
    pump = asyncio.ensure_future(_pump(chunks, writer, room))
    stopped = asyncio.ensure_future(held.stop.wait())
    tick = min(1.0, held.lease / 3)
    try:
        while not (pump.done() or stopped.done()):
            await asyncio.wait((pump, stopped), timeout=tick, return_when=asyncio.FIRST_COMPLETED)
            if not (pump.done() or stopped.done()):
                await heartbeat(writer.durable)
    finally:
        pump.cancel()
        stopped.cancel()
        try:
            await asyncio.wait((pump,))  # the writer has one user at a time
        finally:
            durable = await writer.close()
    return Received(durable, _outcome(pump), writer.digest() if hasher is not None else None)


async def _pump(chunks: AsyncIterator[bytes], writer: SpoolWriter, room: int) -> Outcome:
    async for chunk in chunks:
        if len(chunk) > room:
            await writer.write(chunk[:room])
            return Outcome.OVERFLOW
        room -= len(chunk)
        if chunk:
            await writer.write(chunk)
    return Outcome.DONE


def _outcome(pump: asyncio.Future[Outcome]) -> Outcome:
    if pump.cancelled():
        return Outcome.STOPPED
    if isinstance(pump.exception(), ClientDisconnect):
        return Outcome.DISCONNECTED
    return pump.result()  # re-raises anything else (a failed write)
