"""The durable job queue: kinds of jobs, and queuing one inside the caller's transaction.

A module that owns a kind of work registers it once at import::

    register_job("stream.process", run_stream, on_failed=stream_failed, backoff=(5, 10, 20), max_attempts=4)

and queues jobs in the transaction that makes them necessary, so the job exists exactly when the
state change that asked for it does::

    async with state.store.transaction() as tx:
        ...
        await enqueue(tx, "stream.process", tenant.id, {"stream_id": stream_id})

Workers (:mod:`origin.worker`) run jobs with leases and heartbeats. ``run`` raising
:class:`PermanentJobError` fails the job at once; any other exception is retried after
``backoff[attempt - 1] × jobs.backoff_scale`` seconds (the last backoff repeats) until
``max_attempts`` attempts were made, then the job ends ``failed`` with the reason and ``on_failed``
runs inside the transaction that records it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from origin.store.db import Conn
from origin.store.jobs import Job, insert_job

if TYPE_CHECKING:
    from origin.state import OriginState

__all__ = [
    "Job",
    "JobKind",
    "PermanentJobError",
    "RetryableJobError",
    "enqueue",
    "job_kind",
    "register_job",
    "registered_kinds",
]

DEFAULT_BACKOFF: tuple[float, ...] = (5, 10, 20)
DEFAULT_MAX_ATTEMPTS = 4

RunJob = Callable[["OriginState", Job], Coroutine[Any, Any, dict[str, Any] | None]]
OnFailed = Callable[["OriginState", Job, str, Conn], Awaitable[None]]


class PermanentJobError(Exception):
    """The job cannot succeed (bad input, resource gone): fail it without retrying."""


class RetryableJobError(Exception):
    """A transient failure worth another attempt (any other exception is treated the same)."""


@dataclass(frozen=True)
class JobKind:
    kind: str
    run: RunJob
    on_failed: OnFailed | None
    backoff: tuple[float, ...]
    max_attempts: int

    def delay(self, attempt: int, scale: float) -> float:
        """Seconds to wait before the attempt after ``attempt`` (1-based)."""
        backoff = self.backoff or (0,)
        return backoff[min(attempt, len(backoff)) - 1] * scale


_KINDS: dict[str, JobKind] = {}


def register_job(
    kind: str,
    run: RunJob,
    on_failed: OnFailed | None = None,
    backoff: tuple[float, ...] = DEFAULT_BACKOFF,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
) -> None:
    """Make ``kind`` runnable by workers of this process. Registering a kind again replaces it."""
    if max_attempts < 1:
        raise ValueError("max_attempts must be at least 1")
    _KINDS[kind] = JobKind(kind, run, on_failed, tuple(backoff), max_attempts)


def job_kind(kind: str) -> JobKind | None:
    return _KINDS.get(kind)


def registered_kinds() -> list[str]:
    return sorted(_KINDS)


async def enqueue(
    conn: Conn,
    kind: str,
    tenant_id: str,
    payload: dict[str, Any],
    *,
    max_attempts: int | None = None,
    delay: float = 0,
) -> str:
    """Queue a job on ``conn`` (the caller's transaction); returns its id.

    ``max_attempts`` defaults to the kind's registered value (4 when this process has not
    registered the kind); it is fixed when the job is queued.
    """
    if max_attempts is None:
        registered = _KINDS.get(kind)
        max_attempts = registered.max_attempts if registered else DEFAULT_MAX_ATTEMPTS
    return await insert_job(conn, kind, tenant_id, payload, max_attempts, delay)
