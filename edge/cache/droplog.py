"""Invalidations that overtook work in progress.

A fetch or a write that started before a purge must not store what the purge removed once it
finishes. Work takes a mark when it starts and, before storing, asks whether a drop recorded since
covers what it is about to store. Drops are only recorded while some work is pending, and the log
empties whenever none is, so it stays short.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Drop", "DropLog"]


@dataclass(frozen=True, slots=True)
class Drop:
    """One invalidation: ``key`` (or every key under it with ``prefix``), except version ``keep_etag``."""

    key: str
    prefix: bool = False
    keep_etag: str | None = None

    def covers(self, key: str, etag: str) -> bool:
        """Whether version ``etag`` of ``key`` is dropped."""
        matches = key.startswith(self.key) if self.prefix else key == self.key
        return matches and etag != self.keep_etag


class DropLog:
    """The drops recorded while work was pending."""

    __slots__ = ("_drops", "_pending")

    def __init__(self) -> None:
        self._drops: list[Drop] = []
        self._pending = 0

    def start(self) -> int:
        """Register work in progress; the mark to pass to :meth:`overtaken` and :meth:`finish`."""
        self._pending += 1
        return len(self._drops)

    def finish(self) -> None:
        """The work that called :meth:`start` is over."""
        self._pending -= 1
        if not self._pending:
            self._drops.clear()

    def record(self, drop: Drop) -> None:
        """Note a drop, for the work pending now to see."""
        if self._pending:
            self._drops.append(drop)

    def overtaken(self, mark: int, key: str, etag: str) -> bool:
        """Whether a drop recorded since ``mark`` covers version ``etag`` of ``key``."""
        return any(drop.covers(key, etag) for drop in self._drops[mark:])
