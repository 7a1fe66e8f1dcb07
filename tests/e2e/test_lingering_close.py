"""An answer given before the request body arrived (a 1 MB upload without an API key) reaches the
client whole, on the origin and on the edge (both of its HTTP/1.1 servers): the server half-closes
and discards the rest of the body instead of closing outright, which would reset the connection and
destroy the answer (mediaedge.linger). The client here is a raw socket, so nothing retries or hides
a reset: it sends the whole body, fast or slowly, then reads to the end of the stream."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from mediaedge.linger import LINGER_TIMEOUT
from tests.e2e.procs import running_edge
from tests.fixtures.origin_server import OriginProcess

pytestmark = pytest.mark.slow

BODY = 1_000_000
CHUNK = 64 * 1024


def _head(path: str, close: bool) -> bytes:
    return (
        f"POST {path} HTTP/1.1\r\nHost: test\r\nContent-Type: application/octet-stream\r\n"
        f"Content-Length: {BODY}\r\n{'Connection: close' + chr(13) + chr(10) if close else ''}\r\n"
    ).encode()


def _read_to_eof(sock: socket.socket) -> bytes:
    sock.settimeout(LINGER_TIMEOUT * 3)
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    return data


def _exchange(port: int, path: str, *, close: bool, pause: float) -> tuple[int, dict[str, object]]:
    """Send the head and the whole body (``pause`` seconds between chunks), then read everything the
    server sent until it closed: ``(status, JSON body)``. A reset raises here."""
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(_head(path, close))
        for _ in range(0, BODY, CHUNK):
            sock.sendall(b"x" * CHUNK)
            time.sleep(pause)
        response = _read_to_eof(sock)
    head, _, body = response.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), orjson.loads(body)


@pytest.fixture(params=["lean", "uvicorn"])
def edge_port(request: pytest.FixtureRequest, origin_server: OriginProcess) -> Iterator[int]:
    log = origin_server.data_dir.parent / "edge.log"
    with running_edge(origin_server, {"MEDIAEDGE_EDGE_SERVER": request.param}, log) as url:
        yield int(url.rsplit(":", 1)[1])


MISSING_KEY = {
    "statusCode": 400,
    "message": "Missing API-Key header",
    "error": "BadRequest",
    "code": "API_KEY_REQUIRED",
}


@pytest.mark.parametrize("close", [False, True], ids=["keep-alive", "close"])
@pytest.mark.parametrize("pause", [0.0, 0.005], ids=["fast", "slow"])
def test_the_origin_answers_an_unauthenticated_upload_whole(origin_server: OriginProcess, close: bool, pause: float):
    for _ in range(3):  # a reset depends on timing: every try must get the answer
        assert _exchange(origin_server.port, "/upload/direct-upload", close=close, pause=pause) == (400, MISSING_KEY)


@pytest.mark.parametrize("close", [False, True], ids=["keep-alive", "close"])
@pytest.mark.parametrize("pause", [0.0, 0.005], ids=["fast", "slow"])
def test_the_edge_answers_a_refused_upload_whole(edge_port: int, close: bool, pause: float):
    for _ in range(3):
        status, body = _exchange(edge_port, "/t/u/r/clip.mp4", close=close, pause=pause)
        assert (status, body["statusCode"], body["error"]) == (405, 405, "MethodNotAllowed")


def _sends(sock: socket.socket) -> bool:
    """Whether the connection still takes bytes: once the server closed it, the first send draws a
    reset and the next one fails."""
    try:
        for _ in range(2):
            sock.sendall(b"x")
            time.sleep(0.3)
    except OSError:
        return False
    return True


def test_a_client_that_goes_quiet_is_closed_after_the_linger_timeout(origin_server: OriginProcess, tmp_path: Path):
    """The discarding is bounded: the answer and the server's FIN come at once; the server keeps
    taking (and dropping) bytes while the client sends, and closes :data:`LINGER_TIMEOUT` seconds
    after the client went quiet; on both servers."""
    with running_edge(origin_server, {}, tmp_path / "edge.log") as edge:
        servers = ((origin_server.port, "/upload/direct-upload"), (int(edge.rsplit(":", 1)[1]), "/t/u/r/a.mp4"))
        for port, path in servers:
            with socket.create_connection(("127.0.0.1", port)) as sock:
                sock.sendall(_head(path, close=False) + b"x" * CHUNK)
                assert _read_to_eof(sock).startswith((b"HTTP/1.1 400 ", b"HTTP/1.1 405 "))
                time.sleep(LINGER_TIMEOUT - 2)
                assert _sends(sock)  # still lingering; and the client was heard again just now
                time.sleep(LINGER_TIMEOUT + 1.5)
                assert not _sends(sock)
