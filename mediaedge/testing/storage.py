"""The storage backend contract (DESIGN §5) as a test suite.

What every backend must do, whatever it stores on: ``write`` is atomic (an iterator that fails midway
leaves the old object, or none); ``stat`` and ``open_range`` agree on size and bytes for any inclusive
range; a missing key is :class:`~mediaedge.storage.ObjectNotFound`; ``delete`` is idempotent;
``list`` returns exactly the keys under a prefix, in key order; a presigned GET, when the backend
gives one, downloads the object without credentials.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Callable, Mapping
from pathlib import Path
from typing import Any

import httpx
import pytest

from mediaedge.storage import CHUNK_SIZE, ObjectNotFound, StorageBackend

BODY = bytes(range(256)) * 64  # 16 KiB, every byte value
LARGE = os.urandom(2 * CHUNK_SIZE + 12345)


async def chunks(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


async def failing(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        yield part
    raise RuntimeError("the client went away")


async def read(backend: StorageBackend, key: str, start: int = 0, end: int | None = None) -> bytes:
    return b"".join([chunk async for chunk in backend.open_range(key, start, end)])


async def keys(backend: StorageBackend, prefix: str) -> list[str]:
    return [info.key async for info in backend.list(prefix)]


@pytest.mark.anyio
class StorageBackendContract:
    """Subclass with a ``backend`` fixture (yielding a :class:`~mediaedge.storage.StorageBackend`)."""

    @pytest.fixture
    def anyio_backend(self) -> str:
        return "asyncio"

    @pytest.fixture
    def backend(self) -> StorageBackend:
        raise NotImplementedError("define a `backend` fixture, or use storage_contract()")

    @pytest.fixture
    def prefix(self) -> str:
        """A prefix no other test uses, so a shared bucket needs no cleaning between tests."""
        return f"contract-{uuid.uuid4().hex[:12]}/u1/"

    async def test_write_then_stat_and_read_agree(self, backend: StorageBackend, prefix: str) -> None:
        key = prefix + "videos/a.bin"
        written = await backend.write(key, chunks(BODY[:1000], b"", BODY[1000:]), "application/octet-stream")
        info = await backend.stat(key)
        assert (written.key, written.size, info.key, info.size) == (key, len(BODY), key, len(BODY))
        assert info.etag and info.etag == written.etag
        assert info.last_modified > 0
        assert await read(backend, key) == BODY

    @pytest.mark.parametrize(
        ("start", "end"),
        [(0, 0), (0, 99), (1, 9), (255, 256), (len(BODY) - 1, None), (len(BODY) - 1, len(BODY) - 1), (100, None)],
    )
    async def test_any_inclusive_range_reads_those_bytes(
        self, backend: StorageBackend, prefix: str, start: int, end: int | None
    ) -> None:
        key = prefix + "r.bin"
        await backend.write(key, chunks(BODY))
        assert await read(backend, key, start, end) == BODY[start : None if end is None else end + 1]

    async def test_objects_larger_than_a_chunk_round_trip(self, backend: StorageBackend, prefix: str) -> None:
        key = prefix + "large.bin"
        third = len(LARGE) // 3
        info = await backend.write(key, chunks(LARGE[:third], LARGE[third : 2 * third], LARGE[2 * third :]))
        assert info.size == len(LARGE)
        assert await read(backend, key) == LARGE
        middle = CHUNK_SIZE - 10
        assert await read(backend, key, middle, middle + CHUNK_SIZE) == LARGE[middle : middle + CHUNK_SIZE + 1]

    async def test_a_failed_write_leaves_the_old_object(self, backend: StorageBackend, prefix: str) -> None:
        key = prefix + "atomic.bin"
        await backend.write(key, chunks(b"old"))
        with pytest.raises(RuntimeError):
            await backend.write(key, failing(b"new", b"half"))
        assert await read(backend, key) == b"old"
        assert (await backend.stat(key)).size == 3

    async def test_a_failed_write_of_a_new_key_leaves_nothing(self, backend: StorageBackend, prefix: str) -> None:
        key = prefix + "never.bin"
        with pytest.raises(RuntimeError):
            await backend.write(key, failing(BODY))
        with pytest.raises(ObjectNotFound):
            await backend.stat(key)
        assert await keys(backend, prefix) == []

    async def test_overwriting_changes_bytes_and_etag(self, backend: StorageBackend, prefix: str) -> None:
        key = prefix + "v.bin"
        first = await backend.write(key, chunks(b"version one"))
        second = await backend.write(key, chunks(b"version 2"))
        assert second.etag != first.etag and second.size == 9
        assert await read(backend, key) == b"version 2"

    async def test_missing_keys_are_object_not_found(self, backend: StorageBackend, prefix: str) -> None:
        with pytest.raises(ObjectNotFound):
            await backend.stat(prefix + "missing.bin")
        with pytest.raises(ObjectNotFound):
            await read(backend, prefix + "missing.bin")

    async def test_delete_removes_and_is_idempotent(self, backend: StorageBackend, prefix: str) -> None:
        key = prefix + "d.bin"
        await backend.write(key, chunks(b"x"))
        await backend.delete(key)
        with pytest.raises(ObjectNotFound):
            await backend.stat(key)
        await backend.delete(key)  # a missing key is not an error

    async def test_list_returns_exactly_the_keys_under_a_prefix_in_order(
        self, backend: StorageBackend, prefix: str
    ) -> None:
        names = ["b/2.bin", "a/1.bin", "b/10.bin", "bc/3.bin", "b.bin"]
        for name in names:
            await backend.write(prefix + name, chunks(name.encode()))
        assert await keys(backend, prefix) == sorted(prefix + n for n in names)
        assert await keys(backend, prefix + "b/") == [prefix + "b/10.bin", prefix + "b/2.bin"]
        assert [i.size async for i in backend.list(prefix + "a/")] == [len(b"a/1.bin")]
        assert await keys(backend, prefix + "zzz/") == []

    async def test_put_file_stores_a_local_file(self, backend: StorageBackend, prefix: str, tmp_path: Path) -> None:
        path = tmp_path / "spool.bin"
        path.write_bytes(BODY)
        info = await backend.put_file(prefix + "spooled.bin", str(path))
        assert info.size == len(BODY)
        assert await read(backend, prefix + "spooled.bin") == BODY

    async def test_a_presigned_get_is_none_or_downloads_the_object(self, backend: StorageBackend, prefix: str) -> None:
        """``None`` says the backend does not presign (the origin streams downloads itself); a URL must work."""
        key = prefix + "signed.bin"
        await backend.write(key, chunks(BODY))
        url = await backend.presign_get(key, 300)
        if url is None:
            return
        async with httpx.AsyncClient() as http:
            response = await http.get(url)
        assert (response.status_code, response.content) == (200, BODY)


def storage_contract(cls: type[StorageBackend], options: Mapping[str, Any]) -> type[StorageBackendContract]:
    """The contract suite for ``cls.from_options(options)``; ``{tmp_path}`` in an option is the test's
    temporary directory. Assign the result to a ``Test*`` name in a test module."""

    def backend_fixture(self: Any, tmp_path: Path) -> Any:
        built = {k: v.replace("{tmp_path}", str(tmp_path)) if isinstance(v, str) else v for k, v in options.items()}
        return cls.from_options(built)

    return _suite(StorageBackendContract, cls, "backend", backend_fixture)


def _suite(base: type[Any], cls: type, name: str, fixture: Callable[..., Any]) -> type[Any]:
    """A subclass of ``base`` named after ``cls`` whose ``name`` fixture is ``fixture``, closed after use."""

    async def closing(self: Any, tmp_path: Path) -> AsyncIterator[Any]:
        built = fixture(self, tmp_path)
        try:
            yield built
        finally:
            close = getattr(built, "close", None)
            if close is not None:
                await close()

    return type(f"Test{cls.__name__}Contract", (base,), {name: pytest.fixture(closing), "__test__": True})
