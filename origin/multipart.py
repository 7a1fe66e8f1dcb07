"""Streaming ``multipart/form-data`` reader: file parts go straight to a spool file on disk.

The request body is never held whole in memory: python-multipart's push parser turns each
network chunk into callbacks, text fields are collected (bounded), and file bytes are appended to
a temp file in ``spool_dir`` in batches written off the event loop. The caller owns the spool
files and must delete or move them (see :class:`Form`).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from python_multipart.multipart import MultipartParser, parse_options_header

from mediaedge.errors import HTTPError

MAX_FIELD_BYTES = 64 * 1024
MAX_FIELDS = 64
FLUSH_BYTES = 1024 * 1024


@dataclass
class SpooledFile:
    field_name: str
    filename: str
    content_type: str | None
    path: str
    size: int = 0


@dataclass
class Form:
    fields: dict[str, str] = field(default_factory=dict)
    files: list[SpooledFile] = field(default_factory=list)

    def discard(self) -> None:
        """Delete every spool file still on disk."""
        for f in self.files:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(f.path)


class _Collector:
    """Receives parser callbacks; file data is appended to ``pending`` for the async writer."""

    def __init__(self, spool_dir: str, max_file_size: int) -> None:
        self.spool_dir = spool_dir
        self.max_file_size = max_file_size
        self.form = Form()
        self.header_field = bytearray()
        self.header_value = bytearray()
        self.headers: dict[bytes, bytes] = {}
        self.current: SpooledFile | None = None
        self.current_fd = -1
        self.fds: list[int] = []
        self.field_name: str | None = None
        self.field_data = bytearray()
        self.pending: list[tuple[int, bytes]] = []
        self.pending_bytes = 0
        self.ended = False

    # -- parser callbacks --
    def on_part_begin(self) -> None:
        self.headers = {}

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self.header_field += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self.header_value += data[start:end]

    def on_header_end(self) -> None:
        self.headers[bytes(self.header_field).lower()] = bytes(self.header_value)
        self.header_field.clear()
        self.header_value.clear()

    def on_headers_finished(self) -> None:
        _, params = parse_options_header(self.headers.get(b"content-disposition", b""))
        name = params.get(b"name", b"").decode(errors="replace")
        filename = params.get(b"filename")
        if filename is not None:
            fd, path = tempfile.mkstemp(dir=self.spool_dir, prefix="upload-", suffix=".part")
            content_type = self.headers.get(b"content-type")
            self.current = SpooledFile(
                name, filename.decode(errors="replace"), content_type.decode() if content_type else None, path
            )
            self.current_fd = fd
            self.fds.append(fd)
            self.form.files.append(self.current)
        else:
            if len(self.form.fields) >= MAX_FIELDS:
                raise HTTPError(400, "Too many form fields")
            self.field_name = name
            self.field_data.clear()

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self.current is not None:
            self.current.size += end - start
            if self.current.size > self.max_file_size:
                raise HTTPError(413, f"File exceeds the maximum size of {self.max_file_size} bytes")
            self.pending.append((self.current_fd, data[start:end]))
            self.pending_bytes += end - start
        else:
            self.field_data += data[start:end]
            if len(self.field_data) > MAX_FIELD_BYTES:
                raise HTTPError(400, f"Form field {self.field_name!r} is too large")

    def on_part_end(self) -> None:
        if self.current is None and self.field_name is not None:
            self.form.fields[self.field_name] = self.field_data.decode(errors="replace")
            self.field_name = None
        self.current = None

    def on_end(self) -> None:
        self.ended = True

    def take_pending(self) -> list[tuple[int, bytes]]:
        pending, self.pending, self.pending_bytes = self.pending, [], 0
        return pending


def _write_all(pending: list[tuple[int, bytes]]) -> None:
    for fd, data in pending:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]


async def read_form(content_type: str, body: AsyncIterator[bytes], spool_dir: str, max_file_size: int) -> Form:
    """Parse a multipart body, spooling file parts to disk. Raises HTTPError 400/413."""
    ctype, params = parse_options_header(content_type)
    boundary = params.get(b"boundary")
    if ctype != b"multipart/form-data" or not boundary:
        raise HTTPError(400, "Expected a multipart/form-data body with a boundary")
    os.makedirs(spool_dir, exist_ok=True)
    c = _Collector(spool_dir, max_file_size)
    callbacks = {name: getattr(c, name) for name in dir(c) if name.startswith("on_")}
    parser = MultipartParser(boundary, callbacks)  # type: ignore[arg-type]
    try:
        async for chunk in body:
            parser.write(chunk)
            if c.pending_bytes >= FLUSH_BYTES:
                await asyncio.to_thread(_write_all, c.take_pending())
        parser.finalize()
        await asyncio.to_thread(_write_all, c.take_pending())
        if not c.ended:
            raise HTTPError(400, "Multipart body ended early")
    except BaseException as exc:
        _close(c.fds)
        c.form.discard()
        if isinstance(exc, HTTPError | asyncio.CancelledError) or not isinstance(exc, Exception):
            raise
        raise HTTPError(400, f"Malformed multipart body: {exc}") from exc
    _close(c.fds)
    return c.form


def _close(fds: list[int]) -> None:
    for fd in fds:
        with contextlib.suppress(OSError):
            os.close(fd)
