"""Several edge worker processes on one machine (``edge.workers`` > 1), kept consistent.

Worker processes share a listening socket and nothing else, so three things are coordinated here,
through files under ``edge.disk_cache_dir``:

- **Slots.** Each worker holds an exclusive ``flock`` on ``slot-N.lock`` for its life and caches in
  ``wN/`` with 1/N of the memory and disk budgets, so the machine stays within the configured
  budgets and no two processes evict each other's files. A restarted worker takes a free slot and
  finds its disk tier as it was.
- **Purges.** A purge reaches one worker (whichever accepts the origin's connection). It applies it
  and appends it to a journal (``purges.sqlite``, WAL); every worker applies the others' entries
  within :data:`POLL_INTERVAL`. Entries older than :data:`JOURNAL_TTL` are dropped.
- **Fetches.** A cold miss or a missing slice is fetched from the origin under a lock shared by the
  workers (``fetch/``); a worker that waited on it reads the result from the sibling's disk tier
  instead of fetching again (:mod:`edge.cache.siblings`).
- **Metrics.** Each worker writes its counters to ``metrics/wN.json`` every second; ``/metrics`` on
  any worker answers the sum (the others' counters at most a second old).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import fcntl
import logging
import os
import sqlite3
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import orjson

from edge.cache.siblings import Siblings
from edge.metrics import Snapshot
from mediaedge.settings import Settings

log = logging.getLogger(__name__)

POLL_INTERVAL = 0.2
METRICS_INTERVAL = 1.0
JOURNAL_TTL = 3600.0


def _claim_slot(directory: Path, count: int) -> tuple[int, int]:
    """``(slot, fd)``: the first free slot of ``count``, locked until the process exits."""
    directory.mkdir(parents=True, exist_ok=True)
    for slot in range(count):
        fd = os.open(directory / f"slot-{slot}.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            continue
        return slot, fd
    raise RuntimeError(f"all {count} edge worker slots in {directory} are taken: is another edge using it?")


class WorkerGroup:
    """This worker's place among ``count`` siblings: its slot, the purge journal, shared metrics."""

    def __init__(self, directory: Path, count: int) -> None:
        self.directory = directory
        self.count = count
        self.slot, self._lock_fd = _claim_slot(directory, count)
        self._journal = sqlite3.connect(directory / "purges.sqlite", timeout=5, check_same_thread=False)
        self._journal.execute("PRAGMA journal_mode=WAL")
        with self._journal:
            self._journal.execute(
                "CREATE TABLE IF NOT EXISTS purges"
                " (id INTEGER PRIMARY KEY AUTOINCREMENT, slot INTEGER, body BLOB, at REAL)"
            )
            # What each slot has applied: a restarted worker replays the purges it missed while down,
            # since its disk tier survived (a first start has nothing cached and skips the backlog).
            self._journal.execute("CREATE TABLE IF NOT EXISTS slots (slot INTEGER PRIMARY KEY, seen INTEGER)")
        row = self._journal.execute("SELECT seen FROM slots WHERE slot = ?", (self.slot,)).fetchone()
        self._seen = row[0] if row else self._journal.execute("SELECT COALESCE(MAX(id), 0) FROM purges").fetchone()[0]
        self._metrics_dir = directory / "metrics"
        self._metrics_dir.mkdir(exist_ok=True)
        self._task: asyncio.Task[None] | None = None
        self._db_lock = asyncio.Lock()

    def worker_settings(self, settings: Settings) -> Settings:
        """``settings`` for this worker: its own cache directory and 1/N of the cache budgets."""
        edge = settings.edge
        return dataclasses.replace(
            settings,
            edge=dataclasses.replace(
                edge,
                disk_cache_dir=str(self.directory / f"w{self.slot}"),
                memory_cache_bytes=max(edge.memory_cache_bytes // self.count, 1),
                disk_cache_bytes=edge.disk_cache_bytes // self.count,
            ),
        )

    def siblings(self, slice_bytes: int) -> Siblings:
        """The fetch lock shared with the other workers and their disk tiers (:mod:`edge.cache.siblings`)."""
        roots = [self.directory / f"w{slot}" for slot in range(self.count) if slot != self.slot]
        return Siblings(self.directory / "fetch", roots, slice_bytes)

    async def start(self, apply: Callable[[dict[str, Any]], Awaitable[int]], snapshot: Callable[[], Snapshot]) -> None:
        """Apply the siblings' purges and publish this worker's metrics until :meth:`close`."""
        self._task = asyncio.create_task(self._run(apply, snapshot))

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._journal.close()
        os.close(self._lock_fd)

    async def publish_purge(self, body: dict[str, Any]) -> None:
        """Journal a purge this worker has applied, for its siblings."""
        now = time.time()

        def write() -> int:
            with self._journal:
                self._journal.execute("DELETE FROM purges WHERE at < ?", (now - JOURNAL_TTL,))
                cursor = self._journal.execute(
                    "INSERT INTO purges (slot, body, at) VALUES (?, ?, ?)", (self.slot, orjson.dumps(body), now)
                )
            return cursor.lastrowid or 0

        async with self._db_lock:
            await asyncio.to_thread(write)

    async def pending_purges(self) -> list[dict[str, Any]]:
        """Purges journaled by siblings since the last call."""

        def read() -> list[tuple[int, int, bytes]]:
            return self._journal.execute(
                "SELECT id, slot, body FROM purges WHERE id > ? ORDER BY id", (self._seen,)
            ).fetchall()

        async with self._db_lock:
            rows = await asyncio.to_thread(read)
        if rows:
            self._seen = rows[-1][0]
        return [orjson.loads(body) for _, slot, body in rows if slot != self.slot]

    async def mark_applied(self) -> None:
        """Remember that every purge returned so far by :meth:`pending_purges` was applied."""

        def write() -> None:
            with self._journal:
                self._journal.execute(
                    "INSERT INTO slots (slot, seen) VALUES (?, ?)"
                    " ON CONFLICT (slot) DO UPDATE SET seen = excluded.seen",
                    (self.slot, self._seen),
                )

        async with self._db_lock:
            await asyncio.to_thread(write)

    def write_metrics(self, snap: Snapshot) -> None:
        """Publish this worker's counters (atomically: readers never see half a file)."""
        path = self._metrics_dir / f"w{self.slot}.json"
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(orjson.dumps(snap))
        tmp.replace(path)

    def peer_metrics(self) -> list[Snapshot]:
        """The last published counters of the other workers."""
        peers: list[Snapshot] = []
        for slot in range(self.count):
            if slot == self.slot:
                continue
            with contextlib.suppress(FileNotFoundError, orjson.JSONDecodeError):
                peers.append(orjson.loads((self._metrics_dir / f"w{slot}.json").read_bytes()))
        return peers

    async def _run(self, apply: Callable[[dict[str, Any]], Awaitable[int]], snapshot: Callable[[], Snapshot]) -> None:
        published = 0.0
        while True:
            try:
                bodies = await self.pending_purges()
                for body in bodies:
                    await apply(body)
                if bodies:
                    await self.mark_applied()
                if time.monotonic() - published >= METRICS_INTERVAL:
                    self.write_metrics(snapshot())
                    published = time.monotonic()
            except Exception:
                log.exception("edge worker %d: coordination failed", self.slot)
            await asyncio.sleep(POLL_INTERVAL)
