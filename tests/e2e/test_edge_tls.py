"""The edge over TLS, as a real process behind a self-signed certificate: `edge.server = "hypercorn"`
speaks HTTP/2, the default lean server HTTPS/1.1; both serve an upload whole and by range."""

from __future__ import annotations

import datetime
import ipaddress
import os
import ssl
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.e2e.procs import running_edge
from tests.fixtures.origin_server import OriginProcess

pytestmark = pytest.mark.slow


def self_signed(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key, as PEM files."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "edge.crt", directory / "edge.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


@pytest.fixture
def tls_edge(
    origin_server: OriginProcess, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[tuple[str, ssl.SSLContext]]:
    cert, key = self_signed(tmp_path)
    env = {
        "MEDIAEDGE_EDGE_SERVER": request.param,
        "MEDIAEDGE_EDGE_TLS_CERT": str(cert),
        "MEDIAEDGE_EDGE_TLS_KEY": str(key),
    }
    trust = ssl.create_default_context(cafile=str(cert))
    with running_edge(origin_server, env, tmp_path / "edge.log", scheme="https", verify=trust) as url:
        yield url, trust


@pytest.mark.parametrize(
    ("tls_edge", "version"), [("hypercorn", "HTTP/2"), ("lean", "HTTP/1.1")], indirect=["tls_edge"]
)
def test_edge_serves_over_tls(origin_server: OriginProcess, tls_edge: tuple[str, ssl.SSLContext], version: str):
    edge, trust = tls_edge
    body = os.urandom(100_000)
    up = httpx.post(
        f"{origin_server.url}/upload/direct-upload",
        headers=origin_server.headers,
        files={"file": ("clip.bin", body)},
        data={"userId": "u1"},
    )
    assert up.status_code == 201, up.text
    path = up.json()["url"].split("8080", 1)[1]
    with httpx.Client(http2=True, verify=trust) as client:  # offers h2 and http/1.1 by ALPN
        whole = client.get(f"{edge}{path}")
        part = client.get(f"{edge}{path}", headers={"Range": "bytes=10-19"})
    assert (whole.http_version, whole.status_code, whole.content) == (version, 200, body)
    assert (part.http_version, part.status_code, part.content) == (version, 206, body[10:20])
    assert part.headers["content-range"] == f"bytes 10-19/{len(body)}"
