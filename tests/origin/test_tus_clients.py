"""TUS with real clients against a real origin process: tuspy (Python) and tus-js-client (node).

Covers what only a real server shows: resuming after a connection is cut mid-chunk, after the origin
is SIGKILLed mid-PATCH and restarted, a stalled PATCH stopped by the resuming client, and
tus-js-client's parallel uploads (concatenation). Every upload ends with the source's sha256.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import random
import shutil
import socket
import sqlite3
import struct
import subprocess
import termios
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, BinaryIO

import httpx
import pytest
from tusclient.client import TusClient
from tusclient.exceptions import TusCommunicationError

from tests.fixtures.origin_server import ROOT, OriginProcess, TcpProxy

MiB = 1024 * 1024
JS_DIR = ROOT / "tests" / "js"


def make_file(tmp_path: Path, size: int) -> Path:
    path = tmp_path / "source.bin"
    path.write_bytes(random.Random(size).randbytes(size))
    return path


@pytest.fixture
def source(tmp_path: Path) -> Iterator[Callable[[int], BinaryIO]]:
    """Open a generated file of N bytes for tuspy (given a path, tuspy leaks file handles)."""
    with contextlib.ExitStack() as files:
        yield lambda size: files.enter_context(make_file(tmp_path, size).open("rb"))


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def file_sha256(f: BinaryIO) -> str:
    f.seek(0)
    return sha256(f.read())


def uploaded_sha256(server: OriginProcess, url: str) -> str:
    """The sha256 of a finished upload, fetched from the origin itself (GET /files/{id})."""
    response = httpx.get(f"{server.url}/files/{url.rsplit('/', 1)[1]}", headers=server.headers, timeout=30)
    assert response.status_code == 200, response.text
    return sha256(response.content)


def spool_size(server: OriginProcess, url: str) -> int:
    return (server.data_dir / "spool" / "tus" / f"{url.rsplit('/', 1)[1]}.bin").stat().st_size


def recorded_offset(server: OriginProcess, url: str, above: int, timeout: float = 10) -> int:
    """The upload's offset in the origin's database once it exceeds ``above``.

    Read from the database, not through the API: a HEAD would stop a PATCH still running.
    """
    deadline = time.monotonic() + timeout
    with contextlib.closing(sqlite3.connect(server.data_dir / "mediaedge.db")) as db:
        while (
            offset := db.execute(
                "SELECT upload_offset FROM tus_uploads WHERE id = ?", (url.rsplit("/", 1)[1],)
            ).fetchone()[0]
        ) <= above:
            assert time.monotonic() < deadline, f"offset still {offset}"
            time.sleep(0.05)
    return int(offset)


def _server_unread(sock: socket.socket) -> int | None:
    """Bytes the server's kernel holds for its end of ``sock`` that the server has not read yet
    (``rx_queue`` in /proc/net/tcp), or None while that socket is not listed."""

    def hex_address(address: tuple[str, int]) -> str:
        return f"{socket.htonl(int.from_bytes(socket.inet_aton(address[0]), 'big')):08X}:{address[1]:04X}"

    local, remote = hex_address(sock.getpeername()), hex_address(sock.getsockname())
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if fields[1] == local and fields[2] == remote:
            return int(fields[4].split(":")[1], 16)
    return None


def wait_read_by_server(sock: socket.socket, timeout: float = 10) -> None:
    """Poll until the origin process has read every byte sent on ``sock``: none left in our send
    queue (SIOCOUTQ: unsent or unacknowledged) and none unread in its receive queue."""
    deadline = time.monotonic() + timeout
    while True:
        unsent = struct.unpack("i", fcntl.ioctl(sock.fileno(), termios.TIOCOUTQ, b"\0" * 4))[0]
        if unsent == 0 and _server_unread(sock) == 0:
            return
        assert time.monotonic() < deadline, f"{unsent} bytes unsent, {_server_unread(sock)} unread by the origin"
        time.sleep(0.01)


def open_patch(server: OriginProcess, url: str, offset: int, length: int) -> socket.socket:
    """A PATCH whose head is sent; the caller sends (some of) the body."""
    sock = socket.create_connection(("127.0.0.1", server.port))
    path = "/files/" + url.rsplit("/", 1)[1]
    sock.sendall(
        f"PATCH {path} HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\nAPI-Key: {server.api_key}\r\n"
        f"Tus-Resumable: 1.0.0\r\nUpload-Offset: {offset}\r\nContent-Type: application/offset+octet-stream\r\n"
        f"Content-Length: {length}\r\n\r\n".encode()
    )
    return sock


def read_response(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    """Status, headers (lower-case) and body of one HTTP/1.1 response with a Content-Length."""
    data = b""
    while b"\r\n\r\n" not in data:
        data += sock.recv(65536) or b"\0"  # (a closed socket fails the parse below)
    head, _, body = data.partition(b"\r\n\r\n")
    status_line, *lines = head.decode().split("\r\n")
    headers = {name.lower(): value.strip() for name, _, value in (line.partition(":") for line in lines)}
    while len(body) < int(headers.get("content-length", 0)):
        body += sock.recv(65536)
    return int(status_line.split()[1]), headers, body


def tuspy(server: OriginProcess, base: str | None = None) -> TusClient:
    return TusClient(f"{base or server.url}/files", headers=server.headers)


# -- tuspy -----------------------------------------------------------------------------------------


def test_tuspy_uploads_in_chunks_with_metadata_and_checksums(shared_origin_server: OriginProcess, source):
    origin_server = shared_origin_server
    f = source(3 * MiB + 123)
    uploader = tuspy(origin_server).uploader(
        file_stream=f,
        chunk_size=MiB,
        upload_checksum=True,
        metadata={
            "filename": "lecture.bin",
            "userId": "user123",
            "destination": "course/materials",
            "requireSignedUrl": "true",
        },
    )
    uploader.upload()
    finished = uploader.request.response_headers
    assert finished["x-mediaedge-key"].endswith("/user123/course/materials/lecture.bin")
    assert uploaded_sha256(origin_server, uploader.url) == file_sha256(f)


def test_tuspy_resumes_after_the_connection_is_cut_mid_chunk(shared_origin_server: OriginProcess, source):
    f = source(4 * MiB)
    with TcpProxy(shared_origin_server.port) as proxy:
        uploader = tuspy(shared_origin_server, proxy.url).uploader(file_stream=f, chunk_size=2 * MiB)
        uploader.upload_chunk()
        proxy.cut_after = MiB  # the next PATCH loses its connection half-way through its chunk
        with pytest.raises(TusCommunicationError):
            uploader.upload_chunk()
        assert proxy.cuts == 1
        saved = recorded_offset(shared_origin_server, uploader.url, above=2 * MiB)  # the server saw the cut
        offset = uploader.get_offset()
        assert offset == saved and 3 * MiB - 1024 < offset < 3 * MiB, "the bytes that arrived before the cut"
        uploader.offset = offset
        uploader.upload()
    assert uploaded_sha256(shared_origin_server, uploader.url) == file_sha256(f)


def test_tuspy_resumes_after_the_origin_is_killed_mid_patch(origin_server: OriginProcess, source):
    f = source(4 * MiB)
    data = f.read()
    uploader = tuspy(origin_server).uploader(file_stream=f, chunk_size=MiB)
    uploader.upload(stop_at=MiB)
    with open_patch(origin_server, uploader.url, MiB, 2 * MiB) as sock:
        sock.sendall(data[MiB : 2 * MiB])
        time.sleep(1.1)  # a slow body: what arrived is synced with the next bytes (once a second)...
        sock.sendall(data[2 * MiB : 2 * MiB + 65536])
        saved = recorded_offset(origin_server, uploader.url, above=2 * MiB)  # ...and a heartbeat records it
        origin_server.kill()  # SIGKILL, mid-PATCH
    on_disk = spool_size(origin_server, uploader.url)
    origin_server.start()
    resumed = tuspy(origin_server).uploader(file_stream=f, url=uploader.url, chunk_size=MiB)
    assert resumed.offset == saved <= on_disk, "HEAD reports what was recorded, never more than is on disk"
    resumed.upload()
    assert uploaded_sha256(origin_server, uploader.url) == sha256(data)


def test_a_stalled_patch_is_stopped_by_the_resuming_client(shared_origin_server: OriginProcess, source):
    origin_server = shared_origin_server
    f = source(2 * MiB)
    data = f.read()
    uploader = tuspy(origin_server).uploader(file_stream=f, chunk_size=MiB)
    uploader.set_url(uploader.create_url())
    with open_patch(origin_server, uploader.url, 0, MiB) as stalled:
        stalled.sendall(data[:300_000])  # ...and then nothing: the client believes this connection dead
        wait_read_by_server(stalled)
        resumed = tuspy(origin_server).uploader(file_stream=f, url=uploader.url, chunk_size=MiB)
        assert resumed.offset == 300_000
        status, headers, body = read_response(stalled)
    assert status == 400 and json.loads(body)["code"] == "UPLOAD_INTERRUPTED"
    assert headers["upload-offset"] == "300000"
    resumed.upload()
    assert uploaded_sha256(origin_server, uploader.url) == sha256(data)


def test_concurrent_patches_of_one_upload_never_corrupt_it(shared_origin_server: OriginProcess, source):
    f = source(MiB)
    data = f.read()
    uploader = tuspy(shared_origin_server).uploader(file_stream=f, chunk_size=MiB)
    uploader.set_url(uploader.create_url())
    with open_patch(shared_origin_server, uploader.url, 0, MiB) as first:
        first.sendall(data[:200_000])
        wait_read_by_server(first)
        with open_patch(shared_origin_server, uploader.url, 0, MiB) as second:
            second.sendall(data)  # arrives while the first runs: the first saves what it has and ends...
            second_status, second_headers, _ = read_response(second)
        first_status, first_headers, _ = read_response(first)
    assert (first_status, first_headers["upload-offset"]) == (400, "200000")
    assert (second_status, second_headers["upload-offset"]) == (409, "200000")  # ...so this one is refused
    resumed = tuspy(shared_origin_server).uploader(file_stream=f, url=uploader.url, chunk_size=MiB)
    assert resumed.offset == 200_000
    resumed.upload()
    assert uploaded_sha256(shared_origin_server, uploader.url) == sha256(data)


# -- tus-js-client ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def node() -> str:
    found = shutil.which("node")
    if found is None:
        pytest.skip("SKIPPED LOUDLY: node is not installed, so tus-js-client was not tested (needs node >= 20)")
    if not (JS_DIR / "node_modules" / "tus-js-client").is_dir():
        pytest.fail("tus-js-client is not installed: run `npm ci --prefix tests/js`")
    return found


def run_tus_js(
    node: str, options: dict[str, Any], on_event: Callable[[dict[str, Any]], None] | None = None, timeout: float = 60
) -> list[dict[str, Any]]:
    """Run tests/js/tus_upload.mjs; returns its events, the last being ``success``."""
    proc = subprocess.Popen(
        [node, str(JS_DIR / "tus_upload.mjs"), json.dumps(options)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    watchdog = threading.Timer(timeout, proc.kill)
    watchdog.start()
    try:
        assert proc.stdout is not None
        events = []
        for line in proc.stdout:
            events.append(json.loads(line))
            if on_event:
                on_event(events[-1])
        _, stderr = proc.communicate()
    finally:
        watchdog.cancel()
    assert proc.returncode == 0 and events[-1]["event"] == "success", (events[-3:], stderr)
    return events


def js_options(server: OriginProcess, path: Path, base: str | None = None, **options: Any) -> dict[str, Any]:
    return {"endpoint": f"{base or server.url}/files", "apiKey": server.api_key, "path": str(path), **options}


def test_tus_js_client_uploads_as_in_the_seed_example(node: str, shared_origin_server: OriginProcess, tmp_path: Path):
    origin_server = shared_origin_server
    path = make_file(tmp_path, 3 * MiB + 7)
    events = run_tus_js(
        node,
        js_options(
            origin_server,
            path,
            chunkSize=MiB,
            headers={"Bucket": "default"},
            metadata={
                "filename": "video.mp4",
                "filetype": "video/mp4",
                "userId": "user123",
                "destination": "course/materials",
            },
        ),
    )
    done = events[-1]
    assert done["key"].endswith("/user123/course/materials/video.mp4") and done["fileId"]
    assert [e["sent"] for e in events if e["event"] == "progress"][-1] == path.stat().st_size
    assert uploaded_sha256(origin_server, done["url"]) == sha256(path.read_bytes())


def test_tus_js_client_resumes_after_the_connection_is_cut_mid_chunk(
    node: str, shared_origin_server: OriginProcess, tmp_path: Path
):
    path = make_file(tmp_path, 4 * MiB)
    with TcpProxy(shared_origin_server.port, cut_after=MiB // 2) as proxy:  # cut inside the first chunk
        # the first retry waits a little, so the server has read what arrived before the cut
        options = js_options(shared_origin_server, path, proxy.url, chunkSize=MiB, retryDelays=[500, 1000, 2000])
        events = run_tus_js(node, options)
        assert proxy.cuts == 1
    resumed_at = [int(e["offset"]) for e in events if e["event"] == "response" and e["method"] == "HEAD"]
    assert resumed_at and 0 < resumed_at[0] < MiB, "HEAD reports the bytes of the cut chunk that arrived"
    assert uploaded_sha256(shared_origin_server, events[-1]["url"]) == sha256(path.read_bytes())


def test_tus_js_client_resumes_after_the_origin_is_killed_and_restarted(
    node: str, origin_server: OriginProcess, tcp_proxy: TcpProxy, tmp_path: Path
):
    path = make_file(tmp_path, 4 * MiB)
    tcp_proxy.rate = 4 * MiB  # bytes per second, so the upload is still running when the origin dies
    killed = []

    def kill_once(event: dict[str, Any]) -> None:
        if event["event"] == "progress" and event["sent"] >= MiB and not killed:
            killed.append(event["sent"])
            origin_server.kill()
            origin_server.start()

    # Retries span ~40 s: a restart on a loaded machine (imports, migrations) can take longer than the
    # client's default ~12 s of retries.
    retries = [0, 500, 1000, 2000, 3000, 5000, 8000, 20000]
    options = js_options(origin_server, path, tcp_proxy.url, chunkSize=MiB, retryDelays=retries)
    events = run_tus_js(node, options, kill_once, timeout=120)
    assert killed
    assert uploaded_sha256(origin_server, events[-1]["url"]) == sha256(path.read_bytes())


def test_tus_js_client_parallel_uploads_are_concatenated(
    node: str, shared_origin_server: OriginProcess, tmp_path: Path
):
    origin_server = shared_origin_server
    path = make_file(tmp_path, 3 * MiB + 5)
    events = run_tus_js(node, js_options(origin_server, path, parallelUploads=3, metadata={"filename": "par.bin"}))
    created = [e for e in events if e["event"] == "response" and e["method"] == "POST"]
    assert len(created) == 4  # three partial uploads and the final one
    assert events[-1]["key"].endswith("/anonymous/par.bin")
    assert uploaded_sha256(origin_server, events[-1]["url"]) == sha256(path.read_bytes())
