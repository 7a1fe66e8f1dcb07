"""The background service that keeps the history tables bounded.

Finished jobs (``GET /upload/jobs/{id}``) and settled webhook deliveries (``GET /webhooks/deliveries``)
are kept for ``jobs.retention`` and ``webhooks.retention`` after they last changed, then deleted.
Rows still queued, running or due for a retry are never touched. File reservations whose ingest died
with its process (``uploading`` for over :data:`STALE_RESERVATION`; an ingest holds one only while it
stores a finished file) are deleted with any object they got to write, freeing their names. Expired
dashboard sessions are deleted too. On SQLite the sweep then refreshes the query planner's statistics
(:meth:`~origin.store.db.Database.analyze`: SQLite has none otherwise). Every origin process runs the
sweep; deleting is idempotent, so several at once are harmless.
"""

from __future__ import annotations

import asyncio
import logging
import time

from mediaedge.settings import parse_duration
from origin.state import OriginState

log = logging.getLogger("mediaedge.origin.retention")

SWEEP_INTERVAL = 3600.0
STALE_RESERVATION = 86_400.0


async def history_pruner(state: OriginState) -> None:
    """Run :func:`prune` (and on SQLite refresh the planner's statistics) every hour until cancelled."""
    while True:
        try:
            await prune(state)
            if state.store.db.dialect == "sqlite":  # PostgreSQL's autovacuum keeps its statistics itself
                await state.store.db.analyze()
        except Exception:
            log.exception("retention: prune failed")
        await asyncio.sleep(SWEEP_INTERVAL)


async def prune(state: OriginState, now: float | None = None) -> tuple[int, int, int]:
    """Delete expired history; returns ``(jobs, deliveries, reservations)`` deleted. ``now`` overrides
    the clock."""
    now = time.time() if now is None else now
    settings = state.settings
    jobs = await state.store.jobs.prune(now - parse_duration(settings.jobs.retention))
    deliveries = await state.store.webhooks.prune(now - parse_duration(settings.webhooks.retention))
    reservations = 0
    for record in await state.store.files.stale_reservations(now - STALE_RESERVATION):
        bucket = await state.store.buckets.get(record.tenant_id, record.bucket)
        if bucket is not None:
            await state.backend(bucket).delete(record.key)  # the key was this reservation's alone
        await state.store.files.delete(record.id)
        reservations += 1
    sessions = await state.store.dashboard_sessions.prune()
    if sessions:
        log.info("retention: deleted %d expired dashboard sessions", sessions)
    if jobs or deliveries or reservations:
        log.info(
            "retention: deleted %d finished jobs, %d settled webhook deliveries, %d stale reservations",
            jobs,
            deliveries,
            reservations,
        )
    return jobs, deliveries, reservations
