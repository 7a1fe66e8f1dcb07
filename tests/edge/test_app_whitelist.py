"""Domain and app whitelisting (seed 000 "Domain Whitelisting"), CORS, and attempts to spoof them.

Tenant t2 whitelists ``allowed.com`` and ``*.partner.com`` and the app ``com.example.app``;
tenant t1 has empty lists (no restriction).
"""

from __future__ import annotations

import pytest
from httpx import AsyncClient

from edge.app import EdgeApp
from mediaedge.whitelist import Whitelist, url_host
from tests.edge.fakes import FakeOrigin

pytestmark = pytest.mark.anyio

WL = "/f5/t2/u1/a.mp4"
OPEN = "/f1/t1/u1/videos/clip.mp4"

REFERERS = [
    ("https://allowed.com/watch?v=1", True),
    ("http://allowed.com:8080/page", True),
    ("https://ALLOWED.com/", True),
    ("https://allowed.com./", True),
    ("https://video.partner.com/player", True),
    ("https://a.b.partner.com/", True),
    ("https://partner.com/", False),  # the apex is not covered by "*.partner.com"
    ("https://allowed.com.evil.com/", False),
    ("https://evil.com/?allowed.com", False),
    ("https://evil.com/allowed.com", False),
    ("https://evil.com/#allowed.com", False),
    ("https://allowed.com@evil.com/", False),
    ("https://user:pw@allowed.com/", False),  # browsers never send userinfo
    ("https://evil.com#@allowed.com", False),
    ("https://evil.com\\@allowed.com", False),
    ("https://evil.com\\.allowed.com", False),
    ("https://allowed.com%2eevil.com/", False),
    ("https://evilallowed.com/", False),
    ("https://evilpartner.com/", False),
    ("https://partner.com.evil.com/", False),
    ("https://xn--allowed-com.evil/", False),
    ("allowed.com", False),
    ("//allowed.com/", False),
    ("ftp://allowed.com/", False),
    ("javascript:alert(1)//allowed.com", False),
    ("https://allowed.com:99999/", False),
    ("https://[::1/", False),
    ("https:///allowed.com", False),
    ("https://allowed.com\t.evil.com/", False),
    ("https://allowed.com/ https://evil.com/", False),
]


@pytest.mark.parametrize(("referer", "allowed"), REFERERS)
async def test_referer_spoofing_table(client: AsyncClient, referer: str, allowed: bool) -> None:
    response = await client.get(WL, headers={"Referer": referer})
    if allowed:
        assert response.status_code == 200
    else:
        assert response.status_code == 403
        assert response.json()["code"] == "ORIGIN_NOT_WHITELISTED"


async def test_no_referer_is_allowed(client: AsyncClient) -> None:
    assert (await client.get(WL)).status_code == 200
    assert (await client.get(WL, headers={"Referer": ""})).status_code == 200


async def test_two_referer_fields_are_refused(client: AsyncClient) -> None:
    response = await client.get(WL, headers=[("Referer", "https://allowed.com/"), ("Referer", "https://evil.com/")])
    assert response.status_code == 403


@pytest.mark.parametrize(
    ("origin_header", "status", "allow_origin"),
    [
        ("https://allowed.com", 200, "https://allowed.com"),
        ("https://cdn.partner.com", 200, "https://cdn.partner.com"),
        ("https://evil.com", 403, "*"),  # error answers are readable anywhere
        ("null", 200, None),  # opaque origins count as no origin; nothing is reflected
    ],
)
async def test_origin_without_referer(
    client: AsyncClient, origin_header: str, status: int, allow_origin: str | None
) -> None:
    response = await client.get(WL, headers={"Origin": origin_header})
    assert response.status_code == status
    assert response.headers.get("access-control-allow-origin") == allow_origin
    if status == 200:
        assert response.headers["vary"] == "Origin"


async def test_referer_and_origin_must_both_pass(client: AsyncClient) -> None:
    headers = {"Referer": "https://allowed.com/", "Origin": "https://evil.com"}
    assert (await client.get(WL, headers=headers)).status_code == 403


@pytest.mark.parametrize(
    ("app_id", "status", "code"),
    [("com.example.app", 200, None), ("com.evil.app", 403, "APP_NOT_WHITELISTED"), ("", 403, "APP_NOT_WHITELISTED")],
)
async def test_app_id(client: AsyncClient, app_id: str, status: int, code: str | None) -> None:
    response = await client.get(WL, headers={"X-App-ID": app_id})
    assert response.status_code == status
    assert (response.json().get("code") if status != 200 else None) == code


async def test_empty_whitelist_allows_everyone_with_any_origin_cors(client: AsyncClient) -> None:
    headers = {"Referer": "https://anything.example/", "Origin": "https://anything.example", "X-App-ID": "whatever"}
    response = await client.get(OPEN, headers=headers)
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "*"
    assert "Content-Range" in response.headers["access-control-expose-headers"]
    assert "Cache-Status" in response.headers["access-control-expose-headers"]


async def test_whitelisted_tenant_without_origin_gets_no_cors_header(client: AsyncClient) -> None:
    response = await client.get(WL)
    assert response.status_code == 200
    assert "access-control-allow-origin" not in response.headers


async def test_policy_is_cached_and_purgeable(client: AsyncClient, origin: FakeOrigin) -> None:
    for _ in range(3):
        await client.get(WL, headers={"Referer": "https://newsite.example/"})
    assert origin.count("/_edge/tenants/t2") == 1
    origin.tenants["t2"]["whitelisted_domains"].append("newsite.example")
    purge = await client.post(
        "/_edge/purge", json={"tenants": ["t2"]}, headers={"X-Mediaedge-Edge-Secret": "test-edge-secret"}
    )
    assert purge.status_code == 200
    assert (await client.get(WL, headers={"Referer": "https://newsite.example/"})).status_code == 200


async def test_stale_policy_serves_when_origin_is_down(client: AsyncClient, origin: FakeOrigin, app: EdgeApp) -> None:
    await client.get(WL)
    origin.down = True
    app.policies._entries.put("t2", (0.0, app.policies._entries.get("t2")[1]))  # expire it
    assert (await client.get(WL, headers={"Referer": "https://allowed.com/"})).status_code == 200
    assert (await client.get(WL, headers={"Referer": "https://evil.com/"})).status_code == 403


async def test_unknown_policy_with_origin_down_is_502(client: AsyncClient, origin: FakeOrigin) -> None:
    origin.down = True
    response = await client.get(WL)
    assert response.status_code == 502
    assert response.json()["code"] == "ORIGIN_UNAVAILABLE"


# -- CORS preflight ----------------------------------------------------------------------------------


PREFLIGHT = {"Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "range"}


async def test_preflight_whitelisted_origin(client: AsyncClient) -> None:
    response = await client.options(WL, headers={"Origin": "https://allowed.com", **PREFLIGHT})
    assert response.status_code == 204
    assert response.headers["access-control-allow-origin"] == "https://allowed.com"
    assert response.headers["access-control-allow-methods"] == "GET, HEAD, OPTIONS"
    allowed = {h.strip().lower() for h in response.headers["access-control-allow-headers"].split(",")}
    assert {"range", "if-none-match", "if-modified-since", "if-range", "x-app-id"} <= allowed
    assert response.headers["vary"] == "Origin"
    assert response.content == b""


async def test_preflight_refused_origin(client: AsyncClient) -> None:
    response = await client.options(WL, headers={"Origin": "https://evil.com", **PREFLIGHT})
    assert response.status_code == 403
    assert response.json()["code"] == "ORIGIN_NOT_WHITELISTED"


async def test_preflight_open_tenant_and_token_urls(client: AsyncClient) -> None:
    response = await client.options(OPEN, headers={"Origin": "https://any.example", **PREFLIGHT})
    assert response.status_code == 204
    assert response.headers["access-control-allow-origin"] == "*"
    # a preflight never carries credentials: a token-shaped first segment is not even verified
    response = await client.options(
        "/eyJhbGciOiJub25lIn0.e30./t1/u1/x.mp4", headers={"Origin": "https://a.example", **PREFLIGHT}
    )
    assert response.status_code == 204


async def test_preflight_unknown_tenant_and_plain_options(client: AsyncClient) -> None:
    response = await client.options("/f1/t404/u/x.mp4", headers={"Origin": "https://a.example", **PREFLIGHT})
    assert response.status_code == 404
    plain = await client.options(OPEN)
    assert plain.status_code == 204 and plain.headers["allow"] == "GET, HEAD, OPTIONS"


# -- the matching rules themselves -------------------------------------------------------------------


def test_whitelist_entries_are_normalised() -> None:
    whitelist = Whitelist.of(["https://Example.com:8443/path", " *.Media.Example.org ", "bücher.de", "", "*"])
    assert whitelist.allows_host("example.com")
    assert whitelist.allows_host("cdn.media.example.org")
    assert not whitelist.allows_host("media.example.org")
    assert whitelist.allows_host("xn--bcher-kva.de")
    assert not whitelist.allows_host("anything.com")  # "*" alone is not a wildcard
    assert Whitelist.of(["", "  "]).allows_url("https://anything.example/")
    assert not Whitelist.of(["*"]).allows_url("https://anything.example/")


@pytest.mark.parametrize(
    ("value", "host"),
    [
        ("https://Example.COM/x", "example.com"),
        ("http://[2001:db8::1]:8080/", "2001:db8::1"),
        ("https://a@b.com/", None),
        ("https://b.com:bad/", None),
        ("data:text/html,hi", None),
        ("https://exa mple.com/", None),
        ("https://ex\x00ample.com/", None),
    ],
)
def test_url_host(value: str, host: str | None) -> None:
    assert url_host(value) == host
