"""Aggregates for the origin's ``/metrics`` and the dashboard's usage charts (read-only queries).

- :meth:`StatsRepository.jobs` — queued/running/… jobs by kind, with the oldest due queued job;
- :meth:`StatsRepository.webhooks` — deliveries by status, with the oldest pending one;
- :meth:`StatsRepository.daily_usage` — a tenant's per-day series since a day: files uploaded and their
  bytes, stored bytes (the current files, cumulated by upload day), transcoded minutes (source
  duration of the streams that finished that day), webhook deliveries, and AI units charged by kind
  (caption minutes, speech seconds, images; failed generations are not charged), and what the edges
  delivered (requests and body bytes, the sum of every edge process's last report);
- :meth:`StatsRepository.edge_totals` — every tenant's edge requests and bytes over a span of days
  (the operator's tenant list).

Days are UTC, numbered as days since the epoch (``int(timestamp // 86400)``).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from origin.store.db import Database
from origin.store.schema import ai_generations, edge_usage, files, jobs, streams, webhook_deliveries

DAY = 86400
#: AI generation kinds and what their units are.
AI_KINDS = ("caption", "speech", "image")


@dataclass(frozen=True)
class QueueStat:
    kind: str
    status: str
    count: int
    oldest: float | None  # the earliest run_after of queued jobs that are due; None otherwise


@dataclass(frozen=True)
class WebhookStat:
    status: str
    count: int
    oldest: float | None  # the earliest created_at among them


@dataclass(frozen=True)
class EdgeTotal:
    requests: int
    bytes: int


@dataclass
class DailyUsage:
    """Per-day series of one tenant: ``days[i]`` is the day (since the epoch) of every series' ``[i]``."""

    days: list[int]
    series: dict[str, list[float]] = field(default_factory=dict)


class StatsRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    def _epoch(self, column: Any) -> Any:
        """A timestamp column as POSIX seconds in SQL (timestamptz on PostgreSQL, REAL on SQLite)."""
        if self.db.dialect == "postgresql":
            return sa.extract("epoch", column)
        return sa.type_coerce(column, sa.Double)

    def _day(self, column: Any) -> Any:
        return sa.cast(sa.func.floor(self._epoch(column) / DAY), sa.Integer)

    async def jobs(self, at: float) -> list[QueueStat]:
        """Jobs that are not finished, by kind and status (finished ones are counted by the workers)."""
        due = sa.case(
            (sa.and_(jobs.c.status == "queued", self._epoch(jobs.c.run_after) <= at), self._epoch(jobs.c.run_after))
        )
        statement = (
            sa.select(jobs.c.kind, jobs.c.status, sa.func.count(), sa.func.min(due))
            .where(jobs.c.status.in_(("queued", "running")))
            .group_by(jobs.c.kind, jobs.c.status)
        )
        rows = (await self.db.execute(statement)).all()
        return [
            QueueStat(kind, status, int(count), None if oldest is None else float(oldest))
            for kind, status, count, oldest in map(tuple, rows)
        ]

    async def webhooks(self) -> list[WebhookStat]:
        d = webhook_deliveries.c
        statement = sa.select(d.status, sa.func.count(), sa.func.min(self._epoch(d.created_at))).group_by(d.status)
        return [
            WebhookStat(status, int(count), None if oldest is None else float(oldest))
            for status, count, oldest in map(tuple, (await self.db.execute(statement)).all())
        ]

    async def _per_day(self, column: Any, value: Any, since_day: int, *where: Any) -> dict[int, float]:
        day = self._day(column)
        statement = sa.select(day, value).where(*where, self._epoch(column) >= since_day * DAY).group_by(day)
        return {int(d): float(v or 0) for d, v in map(tuple, (await self.db.execute(statement)).all())}

    async def daily_usage(self, tenant_id: str, since_day: int, until_day: int) -> DailyUsage:
        ready = sa.and_(files.c.tenant_id == tenant_id, files.c.status == "ready")
        uploads = await self._per_day(files.c.created_at, sa.func.count(), since_day, ready)
        upload_bytes = await self._per_day(files.c.created_at, sa.func.sum(files.c.size), since_day, ready)
        before = sa.select(sa.func.coalesce(sa.func.sum(files.c.size), 0)).where(
            ready, self._epoch(files.c.created_at) < since_day * DAY
        )
        stored = float((await self.db.execute(before)).scalar_one())
        minutes = await self._per_day(
            streams.c.updated_at,
            sa.func.sum(streams.c.duration) / 60,
            since_day,
            streams.c.tenant_id == tenant_id,
            streams.c.status == "ready",
        )
        d = webhook_deliveries.c
        deliveries: dict[str, dict[int, float]] = defaultdict(dict)
        day = self._day(d.created_at)
        statement = (
            sa.select(day, d.status, sa.func.count())
            .where(d.tenant_id == tenant_id, self._epoch(d.created_at) >= since_day * DAY)
            .group_by(day, d.status)
        )
        for row_day, status, count in map(tuple, (await self.db.execute(statement)).all()):
            deliveries[status][int(row_day)] = float(count)
        g = ai_generations.c
        ai_day = self._day(g.created_at)
        ai_units: dict[str, dict[int, float]] = defaultdict(dict)
        statement = (
            sa.select(ai_day, g.kind, sa.func.sum(g.units))
            .where(g.tenant_id == tenant_id, g.status != "failed", self._epoch(g.created_at) >= since_day * DAY)
            .group_by(ai_day, g.kind)
        )
        for row_day, kind, units in map(tuple, (await self.db.execute(statement)).all()):
            ai_units[kind][int(row_day)] = float(units or 0)
        u = edge_usage.c
        edge_served: dict[int, tuple[float, float]] = {
            int(row_day): (float(requests), float(sent))
            for row_day, requests, sent in map(
                tuple,
                (
                    await self.db.execute(
                        sa.select(u.day, sa.func.sum(u.requests), sa.func.sum(u.bytes))
                        .where(u.tenant_id == tenant_id, u.day.between(since_day, until_day))
                        .group_by(u.day)
                    )
                ).all(),
            )
        }
        days = list(range(since_day, until_day + 1))
        cumulative = []
        for day_number in days:
            stored += upload_bytes.get(day_number, 0.0)
            cumulative.append(stored)
        usage = DailyUsage(days)
        usage.series["uploads"] = [uploads.get(n, 0.0) for n in days]
        usage.series["upload_bytes"] = [upload_bytes.get(n, 0.0) for n in days]
        usage.series["stored_bytes"] = cumulative
        usage.series["transcoded_minutes"] = [round(minutes.get(n, 0.0), 3) for n in days]
        for status in ("delivered", "failed", "pending", "skipped"):
            usage.series[f"webhooks_{status}"] = [deliveries[status].get(n, 0.0) for n in days]
        for kind in AI_KINDS:
            usage.series[f"ai_{kind}_units"] = [round(ai_units[kind].get(n, 0.0), 3) for n in days]
        usage.series["edge_requests"] = [edge_served.get(n, (0.0, 0.0))[0] for n in days]
        usage.series["edge_bytes"] = [edge_served.get(n, (0.0, 0.0))[1] for n in days]
        return usage

    async def edge_totals(self, since_day: int, until_day: int) -> dict[str, EdgeTotal]:
        """Requests and body bytes the edges delivered per tenant from ``since_day`` to ``until_day``."""
        u = edge_usage.c
        statement = (
            sa.select(u.tenant_id, sa.func.sum(u.requests), sa.func.sum(u.bytes))
            .where(u.day.between(since_day, until_day))
            .group_by(u.tenant_id)
        )
        return {
            tenant_id: EdgeTotal(int(requests), int(sent))
            for tenant_id, requests, sent in map(tuple, (await self.db.execute(statement)).all())
        }
