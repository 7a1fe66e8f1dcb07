"""The disk tier's index in SQLite: one row per slice file (size, last access) and the latest meta
per object. Blocking and thread-safe (one connection behind a lock); the disk tier calls it in threads.
A missing or corrupt index file is recreated empty; the disk tier then re-adopts the slice files.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import orjson

from edge.cache.meta import ObjectMeta

__all__ = ["DiskIndex", "SliceRow"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS slices (
    name TEXT PRIMARY KEY, key TEXT NOT NULL, etag TEXT NOT NULL, idx INTEGER NOT NULL,
    size INTEGER NOT NULL, atime REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS objects (key TEXT PRIMARY KEY, meta BLOB NOT NULL);
"""
_PREFIX_MATCH = "substr(key, 1, ?) = ?"


@dataclass(frozen=True, slots=True)
class SliceRow:
    """One slice file: its name, identity, size on disk and last access (POSIX seconds)."""

    name: str
    key: str
    etag: str
    index: int
    size: int
    atime: float


class DiskIndex:
    """The SQLite file at ``path``; every method blocks."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None

    def open(self) -> list[SliceRow]:
        """Open (or recreate) the index; return every slice row, least recently used first."""
        try:
            return self._open()
        except sqlite3.DatabaseError:
            self.close()
            for suffix in ("", "-wal", "-shm"):
                Path(f"{self._path}{suffix}").unlink(missing_ok=True)
            return self._open()

    def _open(self) -> list[SliceRow]:
        db = self._db = sqlite3.connect(self._path, check_same_thread=False, isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.executescript(_SCHEMA)
        rows = db.execute("SELECT name, key, etag, idx, size, atime FROM slices ORDER BY atime").fetchall()
        return [SliceRow(*row) for row in rows]

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            if self._db is None:
                raise RuntimeError("disk index is closed")
            with self._db:  # BEGIN … COMMIT, ROLLBACK on error
                self._db.execute("BEGIN")
                yield self._db

    def add(self, rows: Iterable[SliceRow]) -> None:
        with self._transaction() as db:
            db.executemany(
                "INSERT OR REPLACE INTO slices VALUES (?, ?, ?, ?, ?, ?)",
                [(r.name, r.key, r.etag, r.index, r.size, r.atime) for r in rows],
            )

    def remove(self, names: Iterable[str]) -> None:
        with self._transaction() as db:
            db.executemany("DELETE FROM slices WHERE name = ?", [(n,) for n in names])

    def touch(self, name: str, atime: float) -> None:
        with self._transaction() as db:
            db.execute("UPDATE slices SET atime = ? WHERE name = ?", (atime, name))

    def get_meta(self, key: str) -> ObjectMeta | None:
        """The meta recorded for ``key``; ``None`` if there is none or it cannot be read."""
        with self._transaction() as db:
            row = db.execute("SELECT meta FROM objects WHERE key = ?", (key,)).fetchone()
        try:
            return None if row is None else ObjectMeta.from_dict(orjson.loads(row[0]))
        except (orjson.JSONDecodeError, KeyError, TypeError):
            return None

    def put_meta(self, meta: ObjectMeta, *, replace: bool = True) -> None:
        verb = "INSERT OR REPLACE" if replace else "INSERT OR IGNORE"
        with self._transaction() as db:
            db.execute(f"{verb} INTO objects VALUES (?, ?)", (meta.key, orjson.dumps(meta.to_dict())))  # noqa: S608

    def drop_metas(self, key: str, *, prefix: bool = False) -> set[str]:
        """Forget the meta of ``key`` (or of every key under it); return the keys forgotten."""
        where, args = (_PREFIX_MATCH, (len(key), key)) if prefix else ("key = ?", (key,))
        with self._transaction() as db:
            keys = {row[0] for row in db.execute(f"SELECT key FROM objects WHERE {where}", args)}  # noqa: S608
            db.execute(f"DELETE FROM objects WHERE {where}", args)  # noqa: S608
        return keys

    def drop_orphan_metas(self) -> None:
        """Forget metas of objects that no longer have a slice on disk (keeps the table bounded)."""
        with self._transaction() as db:
            db.execute("DELETE FROM objects WHERE key NOT IN (SELECT DISTINCT key FROM slices)")


def read_meta(path: Path, key: str) -> ObjectMeta | None:
    """The meta another process's index at ``path`` records for ``key``, read-only; None if there is
    none, or the index cannot be read (missing, busy, being replaced)."""
    if not path.exists():
        return None
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=1.0)
        try:
            row = db.execute("SELECT meta FROM objects WHERE key = ?", (key,)).fetchone()
        finally:
            db.close()
        return None if row is None else ObjectMeta.from_dict(orjson.loads(row[0]))
    except (sqlite3.Error, orjson.JSONDecodeError, KeyError, TypeError):
        return None
