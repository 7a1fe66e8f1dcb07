"""Lingering close: how a server closes a connection whose request body it has not read.

Closing a TCP socket while unread bytes wait in its receive buffer makes the kernel answer with a
reset, and a reset destroys what the client has not read yet: the early answer itself (a 400 to a
1 MB upload without an API key reaches the client as a broken pipe). So, as nginx's
``lingering_close`` does, a server that answered before the body arrived half-closes instead (its
FIN follows the answer), reads and discards what the client still sends, and closes once the client
closes its side, sends nothing for :data:`LINGER_TIMEOUT` seconds, or :data:`LINGER_TIME` seconds have
passed in all: what a client that keeps sending costs is bounded. Such a connection is never reused.

The protocol owning the transport feeds :meth:`Linger.received` from ``data_received`` instead of its
parser and calls :meth:`Linger.cancel` from ``connection_lost``; the client's FIN closes the transport
through the protocol's ``eof_received`` returning a false value (asyncio's default).
"""

from __future__ import annotations

import asyncio

__all__ = ["LINGER_TIME", "LINGER_TIMEOUT", "Linger"]

LINGER_TIME = 30.0  # seconds a lingering connection lives at most (nginx: lingering_time)
LINGER_TIMEOUT = 5.0  # seconds of silence from the client that end it (nginx: lingering_timeout)


class Linger:
    """Half-close ``transport`` now and close it when the client is done, quiet or out of time."""

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self.transport = transport
        self.loop = loop
        now = loop.time()
        self.deadline = now + LINGER_TIME
        self.heard = now
        if transport.can_write_eof():  # TLS cannot half-close: the answer is flushed, the rest discarded
            transport.write_eof()
        transport.resume_reading()
        self.timer = loop.call_later(LINGER_TIMEOUT, self._check)

    def received(self) -> None:
        """The client sent more (discarded): it is not quiet."""
        self.heard = self.loop.time()

    def cancel(self) -> None:
        self.timer.cancel()

    def _check(self) -> None:
        now = self.loop.time()
        close_at = min(self.deadline, self.heard + LINGER_TIMEOUT)
        if now >= close_at:
            self.transport.close()
        else:
            self.timer = self.loop.call_later(close_at - now, self._check)
