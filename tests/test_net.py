"""mediaedge.net: the SSRF guard in front of every request the origin makes for users."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from ipaddress import ip_address
from typing import Any
from urllib.parse import quote

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response, StreamingResponse
from starlette.routing import Route

from mediaedge.net import (
    BlockedAddress,
    InvalidURL,
    NetError,
    NetPolicy,
    ResponseTooLarge,
    SafeClient,
    TooManyRedirects,
    TransientNetError,
    blocked_reason,
    literal_address,
    parse_allow_entry,
)
from mediaedge.settings import SettingsError, load_settings
from tests.fixtures.loopback import serve_asgi
from tests.fixtures.servers import free_port

pytestmark = pytest.mark.anyio


class FakeDNS:
    """A resolver from a table; counts lookups. Unknown names fail like NXDOMAIN."""

    def __init__(self, records: dict[str, list[str]]) -> None:
        self.records = records
        self.lookups: list[str] = []

    async def __call__(self, host: str, port: int) -> list[str]:
        self.lookups.append(host)
        if host not in self.records:
            raise TransientNetError(f"DNS lookup of {host} failed")
        return self.records[host]


DNS = {
    "localhost.test": ["127.0.0.1"],
    "v6-loopback.test": ["::1"],
    "metadata.test": ["169.254.169.254"],
    "private.test": ["10.1.2.3"],
    "mixed.test": ["93.184.216.34", "127.0.0.1"],
    "mapped.test": ["::ffff:127.0.0.1"],
}


async def _big(request: Request) -> StreamingResponse:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(64):
            yield b"x" * 16384

    return StreamingResponse(chunks())


async def _slow(request: Request) -> Response:
    await asyncio.sleep(0.5)
    return PlainTextResponse("late")


def _hops(request: Request) -> Response:
    n = int(request.path_params["n"])
    return RedirectResponse(f"/hops/{n - 1}", 302) if n else PlainTextResponse("done")


upstream_app = Starlette(
    routes=[
        Route("/ok", lambda r: PlainTextResponse("ok")),
        Route("/host", lambda r: PlainTextResponse(r.headers["host"])),
        Route("/redirect", lambda r: RedirectResponse(r.query_params["to"], 302)),
        Route("/hops/{n}", _hops),
        Route("/big", _big),
        Route("/declared", lambda r: Response(b"y" * 200_000)),
        Route("/slow", _slow),
    ]
)


@pytest.fixture
async def upstream() -> AsyncIterator[str]:
    async with serve_asgi(upstream_app) as url:
        yield url


def client_for(*allow: str, dns: FakeDNS | None = None, **options: float) -> SafeClient:
    return SafeClient(NetPolicy(allow, dns or FakeDNS(DNS)), **options)


async def fetch(client: SafeClient, url: str, **options: Any) -> tuple[int, bytes]:
    async with client, client.stream("GET", url, **options) as response:
        return response.status_code, b"".join([c async for c in response.iter_bytes()])


REFUSED = [
    # IPv4 loopback in every spelling inet_aton and browsers accept
    ("http://127.0.0.1/", BlockedAddress),
    ("http://2130706433/", BlockedAddress),
    ("http://0177.0.0.1/", (BlockedAddress, InvalidURL)),
    ("http://0x7f.1/", BlockedAddress),
    ("http://0x7f000001/", BlockedAddress),
    ("http://127.1/", BlockedAddress),
    ("http://127.0.0.1./", BlockedAddress),
    ("http://0/", BlockedAddress),
    ("http://0.0.0.0:8000/", BlockedAddress),
    # IPv6 and IPv6 forms that embed IPv4
    ("http://[::]/", BlockedAddress),
    ("http://[::1]/", BlockedAddress),
    ("http://[::ffff:127.0.0.1]/", BlockedAddress),
    ("http://[::ffff:7f00:1]/", BlockedAddress),
    ("http://[::ffff:a9fe:a9fe]/", BlockedAddress),
    ("http://[::7f00:1]/", BlockedAddress),
    ("http://[64:ff9b::7f00:1]/", BlockedAddress),
    ("http://[64:ff9b::a9fe:a9fe]/", BlockedAddress),
    ("http://[::ffff:0:7f00:1]/", BlockedAddress),
    ("http://[2002:7f00:1::]/", BlockedAddress),
    ("http://[2002:c0a8:101::1]/", BlockedAddress),
    ("http://[2001:0:4136:e378:8000:63bf:80ff:fffe]/", BlockedAddress),  # Teredo, client 127.0.0.1
    ("http://[fe80::1]/", BlockedAddress),
    ("http://[fc00::1]/", BlockedAddress),
    ("http://[ff02::1]/", BlockedAddress),
    # private, link-local (cloud metadata), CGNAT, benchmarking, multicast, reserved, broadcast
    ("http://169.254.169.254/latest/meta-data/", BlockedAddress),
    ("http://10.0.0.1/", BlockedAddress),
    ("http://172.16.5.4/", BlockedAddress),
    ("http://192.168.1.1/", BlockedAddress),
    ("http://100.64.0.1/", BlockedAddress),
    ("http://198.18.0.1/", BlockedAddress),
    ("http://224.0.0.1/", BlockedAddress),
    ("http://240.0.0.1/", BlockedAddress),
    ("http://255.255.255.255/", BlockedAddress),
    # host names resolving to internal addresses
    ("http://localhost.test/", BlockedAddress),
    ("http://v6-loopback.test/", BlockedAddress),
    ("http://metadata.test/latest/meta-data/", BlockedAddress),
    ("http://private.test:8080/", BlockedAddress),
    ("http://mixed.test/", BlockedAddress),
    ("https://mapped.test/", BlockedAddress),
    # schemes, credentials and parser confusion
    ("file:///etc/passwd", InvalidURL),
    ("gopher://127.0.0.1:70/_GET", InvalidURL),
    ("ftp://example.com/file", InvalidURL),
    ("dict://127.0.0.1:11211/", InvalidURL),
    ("http://example.com@127.0.0.1/", InvalidURL),
    ("http://user:pass@example.com/", InvalidURL),
    ("http://127.0.0.1:80\\@example.com/", InvalidURL),
    ("http://127.0.0.1#@example.com/", BlockedAddress),
    ("http://127.0.0.1?@example.com/", BlockedAddress),
    ("http://1.2.3.09/", InvalidURL),
    ("http:///no-host", InvalidURL),
    ("http://example.com/" + "a" * 2048, InvalidURL),
]


@pytest.mark.parametrize(("url", "error"), REFUSED, ids=[u[:60] for u, _ in REFUSED])
async def test_internal_targets_are_refused_for_good_before_any_connection(url, error):
    with pytest.raises(error) as refused:
        await fetch(client_for(), url)
    assert refused.value.retryable is False


@pytest.mark.parametrize(
    ("target", "error"),
    [
        ("http://169.254.169.254/latest/meta-data/iam/", BlockedAddress),
        ("http://127.0.0.1:{closed}/admin", BlockedAddress),
        ("http://localhost.test/", BlockedAddress),
        ("http://[::ffff:169.254.169.254]/", BlockedAddress),
        ("file:///etc/passwd", InvalidURL),
        ("http://x@10.0.0.1/", InvalidURL),
    ],
)
async def test_every_redirect_hop_is_checked(upstream, target, error):
    target = target.format(closed=free_port())
    port = upstream.rsplit(":", 1)[1]
    with pytest.raises(error) as refused:
        await fetch(client_for(f"127.0.0.1:{port}"), f"{upstream}/redirect?to={quote(target, safe='')}")
    assert refused.value.retryable is False


async def test_five_redirects_are_followed_and_six_refused(upstream):
    allow = f"127.0.0.1:{upstream.rsplit(':', 1)[1]}"
    assert await fetch(client_for(allow), f"{upstream}/hops/5") == (200, b"done")
    with pytest.raises(TooManyRedirects) as refused:
        await fetch(client_for(allow), f"{upstream}/hops/6")
    assert refused.value.retryable is False


async def test_allow_list_is_per_port_or_network(upstream):
    port = int(upstream.rsplit(":", 1)[1])
    assert await fetch(client_for(f"127.0.0.1:{port}"), f"{upstream}/ok") == (200, b"ok")
    assert await fetch(client_for("127.0.0.0/8"), f"{upstream}/ok") == (200, b"ok")
    with pytest.raises(BlockedAddress):
        await fetch(client_for(f"127.0.0.1:{port + 1}"), f"{upstream}/ok")
    with pytest.raises(BlockedAddress):
        await fetch(client_for("10.0.0.0/8", f"127.0.0.1:{port}"), f"http://127.0.0.1:{free_port()}/")


async def test_a_name_is_resolved_once_and_the_checked_address_is_the_one_connected(upstream):
    """DNS rebinding: the second answer would be internal, but only the first one is ever used."""
    port = int(upstream.rsplit(":", 1)[1])
    answers = iter([["127.0.0.1"], ["10.0.0.1"], ["10.0.0.1"]])
    lookups: list[str] = []

    async def rebinding(host: str, _port: int) -> list[str]:
        lookups.append(host)
        return next(answers)

    client = SafeClient(NetPolicy([f"127.0.0.1:{port}"], rebinding))
    status, body = await fetch(client, f"http://upstream.test:{port}/host")
    # upstream.test exists in no DNS: the socket went to the address the policy checked, and the
    # request still names the host (Host header; SNI and certificate checks use it the same way)
    assert (status, body) == (200, f"upstream.test:{port}".encode())
    assert lookups == ["upstream.test"]


async def test_network_failures_are_transient(upstream):
    with pytest.raises(TransientNetError) as refused:
        await fetch(client_for("127.0.0.0/8"), f"http://127.0.0.1:{free_port()}/")
    assert refused.value.retryable is True
    with pytest.raises(TransientNetError):
        await fetch(client_for(), "http://no-such-host.test/")
    with pytest.raises(TransientNetError, match="0.1 s"):
        await fetch(client_for("127.0.0.0/8"), f"{upstream}/slow", deadline=0.1)


async def test_size_limit_is_enforced_while_streaming(upstream):
    client = client_for("127.0.0.0/8")
    received = 0
    with pytest.raises(ResponseTooLarge) as refused:
        async with client, client.stream("GET", f"{upstream}/big", max_bytes=100_000) as response:
            assert "content-length" not in response.headers
            async for chunk in response.iter_bytes():
                received += len(chunk)
    assert refused.value.retryable is False
    assert received <= 100_000

    with pytest.raises(ResponseTooLarge):
        await fetch(client_for("127.0.0.0/8"), f"{upstream}/declared", max_bytes=100_000)
    assert await fetch(client_for("127.0.0.0/8"), f"{upstream}/declared", max_bytes=200_000) == (200, b"y" * 200_000)


@pytest.mark.parametrize(
    ("host", "address"),
    [
        ("2130706433", "127.0.0.1"),
        ("0177.0.0.1", "127.0.0.1"),
        ("0x7f.1", "127.0.0.1"),
        ("0x7F.0.0.1", "127.0.0.1"),
        ("127.1", "127.0.0.1"),
        ("10.1.258", "10.1.1.2"),
        ("0", "0.0.0.0"),
        ("[::ffff:7f00:1]", "::ffff:127.0.0.1"),
        ("example.com", None),
        ("1.2.3.example", None),
    ],
)
def test_literal_addresses_follow_the_url_standard(host, address):
    assert literal_address(host) == (ip_address(address) if address else None)


@pytest.mark.parametrize("host", ["1.2.3.09", "1.2.3.4.5", "256.0.0.1", "0x100000000", "[::g]"])
def test_malformed_numeric_hosts_are_invalid(host):
    with pytest.raises(InvalidURL):
        literal_address(host)


@pytest.mark.parametrize("address", ["8.8.8.8", "2606:4700:4700::1111", "64:ff9b::808:808", "2002:808:808::1"])
def test_public_addresses_pass(address):
    assert blocked_reason(ip_address(address)) is None


def test_allow_entries_parse_and_bad_ones_fail_settings_validation(tmp_path):
    assert parse_allow_entry("127.0.0.1:9000").port == 9000
    assert parse_allow_entry("[::1]:9000").network == parse_allow_entry("::1").network
    assert parse_allow_entry("hooks.internal:8443").hostname == "hooks.internal"
    for bad in ["10.0.0.0/33", "127.0.0.1:http", "[::1", "127.0.0.1:70000", "a b"]:
        with pytest.raises(ValueError):
            parse_allow_entry(bad)
    with pytest.raises(SettingsError, match="net.allow"):
        load_settings(
            environ={"MEDIAEDGE_NET_ALLOW": "127.0.0.1:9000,10.0.0.0/33"}, overrides={"data_dir": str(tmp_path)}
        )


def test_errors_say_whether_to_retry():
    assert not any(cls.retryable for cls in (InvalidURL, BlockedAddress, TooManyRedirects, ResponseTooLarge))
    assert TransientNetError.retryable and issubclass(TransientNetError, NetError)
