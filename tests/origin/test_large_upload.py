"""A large direct upload is streamed: the server's memory does not grow with the body."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator

import httpx
import pytest

from tests.fixtures.origin_server import OriginProcess

SIZE = 512 * 1024 * 1024
CHUNK = 1024 * 1024


def multipart_body(boundary: str, digest: hashlib._Hash) -> Iterator[bytes]:
    yield (
        f'--{boundary}\r\nContent-Disposition: form-data; name="userId"\r\n\r\nbig\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.bin"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    block = bytes(range(256)) * (CHUNK // 256)
    for i in range(SIZE // CHUNK):
        chunk = block[i % 256 :] + block[: i % 256]
        digest.update(chunk)
        yield chunk
    yield f"\r\n--{boundary}--\r\n".encode()


@pytest.mark.slow
def test_half_gigabyte_upload_is_streamed_with_bounded_server_memory(origin_server: OriginProcess):
    before = origin_server.rss_bytes()
    peak = before
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.wait(0.05):
            peak = max(peak, origin_server.rss_bytes())

    sampler = threading.Thread(target=sample)
    sampler.start()
    digest = hashlib.sha256()
    boundary = "mediaedgeboundary7f3a"
    try:
        response = httpx.post(
            f"{origin_server.url}/upload/direct-upload",
            headers={**origin_server.headers, "Content-Type": f"multipart/form-data; boundary={boundary}"},
            content=multipart_body(boundary, digest),
            timeout=300,
        )
    finally:
        done.set()
        sampler.join()
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["file_size"] == SIZE
    stored = origin_server.data_dir / "objects" / body["key"]
    with stored.open("rb") as f:
        assert hashlib.file_digest(f, "sha256").hexdigest() == digest.hexdigest()
    assert peak - before < 100 * 1024 * 1024, f"server RSS grew by {(peak - before) / 2**20:.0f} MiB"
