"""One slice on disk: ``<root>/<h[:2]>/<h>`` where ``h`` hashes (key, etag, slice size, index), never
the raw key. The slice size is part of the identity, so a changed ``slice_bytes`` setting can never
make a file stand for the wrong bytes.

A file is ``MAGIC | u32 header length | header JSON {"meta", "index", "slice_bytes"} | slice bytes``. The header lets
the disk tier rebuild its index from the directory alone. Writes go to a temporary file in the same
directory and are renamed into place, so a reader never sees a partial slice. Blocking; run in a thread.
"""

from __future__ import annotations

import hashlib
import os
import struct
import uuid
from pathlib import Path
from typing import BinaryIO

import orjson

from edge.cache.meta import ObjectMeta
from edge.cache.slices import SliceId

__all__ = ["TMP_SUFFIX", "read_header", "read_slice", "slice_name", "slice_path", "write_slice"]

MAGIC = b"MEC1"
TMP_SUFFIX = ".tmp"
_PREFIX = struct.Struct(">4sI")


def slice_name(sid: SliceId, slice_bytes: int) -> str:
    """The file name of a slice: hex SHA-256 of its identity."""
    key, etag, index = sid
    return hashlib.sha256(f"{key}\0{etag}\0{slice_bytes}\0{index}".encode()).hexdigest()


def slice_path(root: Path, name: str) -> Path:
    return root / name[:2] / name


def write_slice(root: Path, meta: ObjectMeta, index: int, slice_bytes: int, data: bytes) -> tuple[str, int]:
    """Store slice ``index`` of ``meta``'s version atomically; return its name and file size."""
    name = slice_name((meta.key, meta.etag, index), slice_bytes)
    path = slice_path(root, name)
    path.parent.mkdir(parents=True, exist_ok=True)
    header = orjson.dumps({"meta": meta.to_dict(), "index": index, "slice_bytes": slice_bytes})
    tmp = path.with_name(f".{name}.{uuid.uuid4().hex}{TMP_SUFFIX}")
    try:
        with open(tmp, "wb") as f:
            f.write(_PREFIX.pack(MAGIC, len(header)))
            f.write(header)
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return name, _PREFIX.size + len(header) + len(data)


def _header_length(f: BinaryIO, path: Path) -> int:
    prefix = f.read(_PREFIX.size)
    if len(prefix) != _PREFIX.size:
        raise ValueError(f"{path}: truncated slice file")
    magic, length = _PREFIX.unpack(prefix)
    if magic != MAGIC:
        raise ValueError(f"{path}: not a slice file")
    return int(length)


def read_slice(path: Path) -> bytes:
    """The slice bytes of a file; ``FileNotFoundError`` if gone, ``ValueError`` if malformed."""
    with open(path, "rb") as f:
        f.seek(_PREFIX.size + _header_length(f, path))
        return f.read()


def read_header(path: Path) -> tuple[ObjectMeta, int, int]:
    """The meta, slice index and slice size a file holds; ``ValueError`` if malformed."""
    with open(path, "rb") as f:
        raw = f.read(_header_length(f, path))
    try:
        header = orjson.loads(raw)
        return ObjectMeta.from_dict(header["meta"]), int(header["index"]), int(header["slice_bytes"])
    except (orjson.JSONDecodeError, KeyError, TypeError) as exc:
        raise ValueError(f"{path}: bad slice header") from exc
