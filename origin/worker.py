"""``mediaedge worker``: runs queued jobs (transcodes, fetches from URLs, webhook deliveries).

Each worker process leases up to ``concurrency`` jobs at a time and renews each lease every
``jobs.heartbeat_seconds``. A job whose lease is lost (another worker took it over after this one
stalled) is cancelled here; a job whose worker died is taken over once its lease expires. On a
graceful stop the running jobs are cancelled and handed back without counting the attempt.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import os
import secrets
import signal
import socket
from typing import Any

from mediaedge.settings import Settings
from origin.jobs import Job, JobKind, PermanentJobError, job_kind, registered_kinds
from origin.state import OriginState

log = logging.getLogger("mediaedge.worker")

#: Modules that register job kinds at import; a worker imports them all before it claims anything.
JOB_MODULES: tuple[str, ...] = ("origin.streams.jobs", "origin.fetch_url", "origin.ai.jobs", "origin.editor.jobs")


class Worker:
    """Claims and runs jobs for one process; ``owner`` names it in the jobs' leases."""

    def __init__(self, state: OriginState, owner: str | None = None) -> None:
        for module in JOB_MODULES:
            importlib.import_module(module)
        self.state = state
        self.settings = state.settings.jobs
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"

    async def claim(self) -> Job | None:
        return await self.state.store.jobs.claim(registered_kinds(), self.owner, self.settings.lease_seconds)

    async def run_one(self) -> bool:
        """Claim and run one due job; ``False`` when none was due."""
        job = await self.claim()
        if job is None:
            return False
        await self.execute(job)
        return True

    async def execute(self, job: Job) -> None:
        """Run a claimed job to its outcome: succeeded, queued for a retry, or failed."""
        kind = job_kind(job.kind)
        assert kind is not None  # claim_job only returns registered kinds
        if job.attempt > job.max_attempts:  # its last attempt's worker died
            await self._fail(job, kind, job.last_error or "lease expired")
            return
        run = asyncio.create_task(kind.run(self.state, job))
        heartbeat = asyncio.create_task(self._heartbeat(job, run))
        try:
            result = await run
        except asyncio.CancelledError:
            if heartbeat.done() and not heartbeat.cancelled():  # the heartbeat ends only on a lost lease
                log.warning("job %s (%s): lease lost, another worker has it", job.id, job.kind)
                return
            await asyncio.shield(self.state.store.jobs.release(job.id, self.owner))
            raise
        except PermanentJobError as exc:
            await self._fail(job, kind, _reason(exc))
        except Exception as exc:
            log.warning(
                "job %s (%s) attempt %d/%d failed: %s",
                job.id,
                job.kind,
                job.attempt,
                job.max_attempts,
                _reason(exc),
                exc_info=log.isEnabledFor(logging.DEBUG),
            )
            if job.attempt >= job.max_attempts:
                await self._fail(job, kind, _reason(exc))
            else:
                delay = kind.delay(job.attempt, self.settings.backoff_scale)
                await self.state.store.jobs.retry(job.id, self.owner, _reason(exc), delay)
        else:
            await self.state.store.jobs.finish(job.id, self.owner, result)
        finally:
            heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await heartbeat

    async def _heartbeat(self, job: Job, run: asyncio.Task[dict[str, Any] | None]) -> None:
        """Renew the lease until cancelled; if it was lost, cancel ``run`` and return."""
        while True:
            await asyncio.sleep(self.settings.heartbeat_seconds)
            try:
                renewed = await self.state.store.jobs.renew_lease(job.id, self.owner, self.settings.lease_seconds)
            except Exception:  # the DB hiccuped: try again at the next beat, the lease has slack
                log.exception("job %s: heartbeat failed", job.id)
                continue
            if not renewed:
                run.cancel()
                return

    async def _fail(self, job: Job, kind: JobKind, reason: str) -> None:
        log.error("job %s (%s) failed after %d attempt(s): %s", job.id, job.kind, job.attempt, reason)
        if kind.on_failed is not None:
            try:
                async with self.state.store.transaction() as tx:
                    if await self.state.store.jobs.fail(tx, job.id, self.owner, reason):
                        await kind.on_failed(self.state, job, reason, tx)
                return
            except Exception:
                log.exception("job %s: on_failed hook raised; marking the job failed without it", job.id)
        async with self.state.store.transaction() as tx:
            await self.state.store.jobs.fail(tx, job.id, self.owner, reason)


def _reason(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__


async def run_worker(state: OriginState, concurrency: int, stop: asyncio.Event | None = None) -> None:
    """Run up to ``concurrency`` jobs at once until ``stop`` is set (forever without one)."""
    worker = Worker(state)
    stop = stop or asyncio.Event()
    running: set[asyncio.Task[None]] = set()
    stopping = asyncio.create_task(stop.wait())
    log.info("worker %s: %d slot(s) for %s", worker.owner, concurrency, ", ".join(registered_kinds()))
    try:
        while not stop.is_set():
            try:
                while len(running) < concurrency and (job := await worker.claim()) is not None:
                    running.add(asyncio.create_task(worker.execute(job)))
            except Exception:
                log.exception("worker %s: claiming jobs failed", worker.owner)
            done, _ = await asyncio.wait(
                {stopping, *running}, timeout=worker.settings.poll_interval, return_when=asyncio.FIRST_COMPLETED
            )
            for task in done - {stopping}:
                running.discard(task)
                if not task.cancelled() and task.exception() is not None:
                    log.error("worker %s: job task crashed", worker.owner, exc_info=task.exception())
    finally:
        stopping.cancel()
        for task in running:
            task.cancel()
        await asyncio.gather(*running, stopping, return_exceptions=True)


def main_worker(settings: Settings) -> None:
    """Blocking entry for ``mediaedge worker``: runs until SIGINT or SIGTERM."""

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        state = await OriginState.open(settings, tier="worker")
        try:
            await run_worker(state, settings.jobs.concurrency, stop)
        finally:
            await state.close()

    asyncio.run(main())
