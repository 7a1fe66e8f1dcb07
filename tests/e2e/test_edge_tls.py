"""The edge over TLS, as a real process behind a self-signed certificate: `edge.server = "hypercorn"`
speaks HTTP/2, the default lean server HTTPS/1.1; both serve an upload whole and by range. With
`edge.http3_port` the same edge serves HTTP/3 over QUIC too and advertises it on the TCP answers."""

from __future__ import annotations

import asyncio
import os
import socket
import ssl
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.procs import running_edge
from tests.fixtures.h3client import h3_client
from tests.fixtures.origin_server import OriginProcess
from tests.fixtures.servers import free_port
from tests.fixtures.tls import self_signed

pytestmark = pytest.mark.slow


@pytest.fixture
def tls_edge(
    origin_server: OriginProcess, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[tuple[str, ssl.SSLContext]]:
    cert, key = self_signed(tmp_path)
    server, http3_port = request.param if isinstance(request.param, tuple) else (request.param, 0)
    env = {
        "MEDIAEDGE_EDGE_SERVER": server,
        "MEDIAEDGE_EDGE_TLS_CERT": str(cert),
        "MEDIAEDGE_EDGE_TLS_KEY": str(key),
        "MEDIAEDGE_EDGE_HTTP3_PORT": str(http3_port),
    }
    trust = ssl.create_default_context(cafile=str(cert))
    with running_edge(origin_server, env, tmp_path / "edge.log", scheme="https", verify=trust) as url:
        yield url, trust


def _upload(origin_server: OriginProcess, body: bytes) -> str:
    """The edge path of a new upload of ``body``."""
    return str(origin_server.upload("clip.bin", body)["url"]).split("8080", 1)[1]


@pytest.mark.parametrize(
    ("tls_edge", "version"), [("hypercorn", "HTTP/2"), ("lean", "HTTP/1.1")], indirect=["tls_edge"]
)
def test_edge_serves_over_tls(origin_server: OriginProcess, tls_edge: tuple[str, ssl.SSLContext], version: str):
    edge, trust = tls_edge
    body = os.urandom(100_000)
    path = _upload(origin_server, body)
    with httpx.Client(http2=True, verify=trust) as client:  # offers h2 and http/1.1 by ALPN
        whole = client.get(f"{edge}{path}")
        part = client.get(f"{edge}{path}", headers={"Range": "bytes=10-19"})
    assert (whole.http_version, whole.status_code, whole.content) == (version, 200, body)
    assert (part.http_version, part.status_code, part.content) == (version, 206, body[10:20])
    assert part.headers["content-range"] == f"bytes 10-19/{len(body)}"


HTTP3_PORT = free_port(socket.SOCK_DGRAM)


@pytest.mark.parametrize("tls_edge", [("lean", HTTP3_PORT)], indirect=True)
def test_edge_serves_http3_beside_tcp(origin_server: OriginProcess, tls_edge: tuple[str, ssl.SSLContext], tmp_path):
    edge, trust = tls_edge
    body = os.urandom(300_000)
    path = _upload(origin_server, body)
    with httpx.Client(verify=trust) as client:
        over_tcp = client.get(f"{edge}{path}")  # fills the cache; its answer advertises HTTP/3
    assert over_tcp.status_code == 200 and over_tcp.content == body
    assert over_tcp.headers.get_list("alt-svc") == [f'h3=":{HTTP3_PORT}"; ma=86400']

    async def over_quic() -> list:
        async with h3_client("127.0.0.1", HTTP3_PORT, cafile=tmp_path / "edge.crt") as h3:
            return await asyncio.gather(
                h3.get(path, [(b"range", b"bytes=1000-200999")]),
                h3.get(path),
                h3.get(path, [(b"if-none-match", over_tcp.headers["etag"].encode())]),
            )

    part, whole, unchanged = asyncio.run(over_quic())
    assert (part.status, part.body) == (206, body[1000:201000])
    assert part.header(b"content-range") == f"bytes 1000-200999/{len(body)}".encode()
    assert (whole.status, whole.body) == (200, body)
    assert (unchanged.status, unchanged.body) == (304, b"")
    assert [r.header(b"date") is not None for r in (part, whole, unchanged)] == [True] * 3
