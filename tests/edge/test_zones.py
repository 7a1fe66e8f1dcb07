"""Pull-zone access and storage (docs/caching.md "Configuring a zone"): token-protected zones with
the origin's keys or the zone's own JWKS file, Referer/Origin/app whitelists, the zone disk tier,
validation of ``[edge.zones.*]`` settings, and per-zone request counts in ``/metrics``.

Zones here, all in front of ``{upstream}/base``:
``/tok`` tokens checked against the origin's JWKS, tid ``acme``; ``/own`` tokens checked against a
JWKS file of the zone's own key, tid ``own`` (the zone's name); ``/wl`` Referer/Origin and app
whitelists; ``/disk`` a disk tier of a three-slice budget under a one-byte memory budget.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from edge.app import EdgeApp
from edge.zone_settings import zone_settings
from mediaedge.settings import Settings, SettingsError, load_settings
from mediaedge.tokens import SigningKey, generate_signing_key, jwks, sign_token
from tests.edge.fakes import ORIGIN, SECRET, FakeOrigin
from tests.edge.serving import client_ip
from tests.edge.zone_fixtures import (  # noqa: F401  (pytest fixtures)
    Clock,
    Route,
    Upstream,
    client_fixture,
    clock_fixture,
    edge_fixture,
    http_client,
    open_edge,
    route_on_base,
    settings_with_zones,
    upstream_fixture,
)

pytestmark = pytest.mark.anyio

SLICE = 1024
BODY = bytes(range(256)) * 3 + b"x" * 232  # 1000 bytes: one slice
DISK_BUDGET = 3 * (SLICE + 1024)  # three one-slice objects with their file headers


@pytest.fixture(scope="module")
def zone_key() -> SigningKey:
    """The ``/own`` zone's signing key (not the origin's)."""
    return generate_signing_key("EdDSA")


@pytest.fixture(name="zones")
def zones_fixture(tmp_path: Path, upstream: Upstream, zone_key: SigningKey) -> dict[str, dict[str, Any]]:
    serve_files(upstream)
    key_file = tmp_path / "own-jwks.json"
    key_file.write_bytes(orjson.dumps(jwks([zone_key])))
    base = upstream.url + "/base"
    return {
        "tok": {"prefix": "/tok", "upstream": base, "tokens": True, "token_tenant": "acme"},
        "own": {"prefix": "/own", "upstream": base, "tokens": True, "token_keys": str(key_file)},
        "wl": {
            "prefix": "/wl",
            "upstream": base,
            "whitelisted_domains": ["allowed.com", "*.example.com"],
            "app_ids": ["com.example.app"],
        },
        "disk": {"prefix": "/disk", "upstream": base, "memory_cache_bytes": 1, "disk_cache_bytes": DISK_BUDGET},
    }


@pytest.fixture(name="zone_settings")
def zone_settings_fixture(tmp_path: Path, zones: dict[str, dict[str, Any]]) -> Settings:
    return settings_with_zones(tmp_path, zones, slice_bytes=SLICE)


def serve_files(upstream: Upstream) -> None:
    """Cacheable files of ``BODY`` at the upstream."""
    for path in ("/dir/a.css", "/dir/b.css", "/a", "/b", "/c", "/d", "/e"):
        route_on_base(upstream, Route(headers={"cache-control": "max-age=600", "etag": '"v1"'}, body=BODY), path)


def mint(key: SigningKey, path: str, clock: Clock, *, ttl: int = 3600, **claims: Any) -> str:
    """A token for ``path`` (tid: its first segment) valid for ``ttl`` seconds of the edge's clock."""
    now = int(clock.now)
    return sign_token(key, tenant_id=path.split("/", 1)[0], path=path, expires_at=now + ttl, now=now, **claims)


def tampered(token: str) -> str:
    """``token`` with its payload changed (the signature no longer matches)."""
    header, payload, signature = token.split(".")
    return ".".join((header, payload[:-2] + ("AA" if payload[-2:] != "AA" else "BB"), signature))


# -- tokens ------------------------------------------------------------------------------------------


async def test_a_valid_token_is_stripped_before_the_upstream_and_the_cache_key(
    client: httpx.AsyncClient, upstream: Upstream, signing_key: SigningKey, clock: Clock
) -> None:
    token = mint(signing_key, "acme/dir/a.css", clock)
    response = await client.get(f"/tok/{token}/dir/a.css?v=1")
    assert (response.status_code, response.content) == (200, BODY)
    (seen,) = upstream.requests
    assert seen.path == "/base/dir/a.css?v=1"
    assert not any(token in value for value in seen.headers.values())
    other = mint(signing_key, "acme/dir/", clock, scope="prefix")  # another token, same file
    again = await client.get(f"/tok/{other}/dir/a.css?v=1")
    assert (again.status_code, again.content) == (200, BODY)
    assert again.headers["cache-status"].startswith("mediaedge; hit")
    assert len(upstream.requests) == 1
    purge = await client.post(
        "/_edge/purge", json={"zone": "tok", "keys": ["/dir/a.css?v=1"]}, headers={"x-mediaedge-edge-secret": SECRET}
    )
    assert purge.json() == {"purged": 1}  # the stored entry is keyed by the path without the token


async def test_other_methods_are_forwarded_without_the_token(
    client: httpx.AsyncClient, upstream: Upstream, signing_key: SigningKey, clock: Clock
) -> None:
    upstream.routes["/base/dir/form"] = Route(status=201, body=b"made")
    token = mint(signing_key, "acme/dir/form", clock)
    response = await client.post(f"/tok/{token}/dir/form", content=b"x")
    assert (response.status_code, response.content) == (201, b"made")
    assert upstream.requests[-1].path == "/base/dir/form"


@pytest.mark.parametrize(
    ("headers", "code", "message"),
    [
        ({}, "JWT_REQUIRED", "This file requires a JWT in the URL path"),
        (
            {"user-agent": "Mozilla/5.0", "sec-fetch-mode": "no-cors"},
            "SIGNED_URL_REQUIRED",
            "This file requires a signed URL",
        ),
    ],
)
async def test_a_missing_token_is_401_with_the_seed_error_body(
    client: httpx.AsyncClient, upstream: Upstream, headers: dict[str, str], code: str, message: str
) -> None:
    response = await client.get("/tok/dir/a.css", headers=headers)
    assert response.status_code == 401
    assert response.json() == {"statusCode": 401, "message": message, "error": "Unauthorized", "code": code}
    assert upstream.requests == []


@pytest.mark.parametrize(
    ("case", "status", "code"),
    [
        ("wrong path", 403, "TOKEN_PATH_MISMATCH"),
        ("prefix of another directory", 403, "TOKEN_PATH_MISMATCH"),
        ("wrong tenant", 403, "TOKEN_PATH_MISMATCH"),
        ("bound to another address", 403, "TOKEN_IP_MISMATCH"),
        ("expired", 401, "TOKEN_EXPIRED"),
        ("tampered", 401, "TOKEN_INVALID"),
        ("signed by an unknown key", 401, "TOKEN_KEY_UNKNOWN"),
    ],
)
async def test_a_token_that_does_not_grant_the_file_is_refused(
    client: httpx.AsyncClient,
    upstream: Upstream,
    signing_key: SigningKey,
    clock: Clock,
    case: str,
    status: int,
    code: str,
) -> None:
    tokens = {
        "wrong path": lambda: mint(signing_key, "acme/dir/b.css", clock),
        "prefix of another directory": lambda: mint(signing_key, "acme/other/", clock, scope="prefix"),
        "wrong tenant": lambda: mint(signing_key, "tok/dir/a.css", clock),
        "bound to another address": lambda: mint(signing_key, "acme/dir/a.css", clock, ip="198.51.100.7"),
        "expired": lambda: mint(signing_key, "acme/dir/a.css", clock, ttl=60),
        "tampered": lambda: tampered(mint(signing_key, "acme/dir/a.css", clock)),
        "signed by an unknown key": lambda: mint(generate_signing_key("EdDSA"), "acme/dir/a.css", clock),
    }
    token = tokens[case]()
    if case == "expired":
        clock.now += 61
    response = await client.get(f"/tok/{token}/dir/a.css")
    assert response.status_code == status
    assert response.json()["code"] == code
    assert upstream.requests == []


async def test_a_token_bound_to_the_client_address_is_accepted(
    client: httpx.AsyncClient, signing_key: SigningKey, clock: Clock, via: str
) -> None:
    token = mint(signing_key, "acme/dir/a.css", clock, ip=client_ip(via))
    assert (await client.get(f"/tok/{token}/dir/a.css")).status_code == 200


async def test_a_token_expiring_while_its_file_is_cached_is_refused(
    client: httpx.AsyncClient, upstream: Upstream, signing_key: SigningKey, clock: Clock
) -> None:
    token = mint(signing_key, "acme/dir/a.css", clock, ttl=60)
    assert (await client.get(f"/tok/{token}/dir/a.css")).status_code == 200
    clock.now += 59
    assert (await client.get(f"/tok/{token}/dir/a.css")).status_code == 200
    clock.now += 1  # the file stays fresh (max-age=600); the token does not
    expired = await client.get(f"/tok/{token}/dir/a.css")
    assert (expired.status_code, expired.json()["code"]) == (401, "TOKEN_EXPIRED")
    assert upstream.count("/base/dir/a.css") == 1


async def test_a_zone_with_its_own_jwks_file_accepts_its_tokens_only(
    client: httpx.AsyncClient, upstream: Upstream, signing_key: SigningKey, zone_key: SigningKey, clock: Clock
) -> None:
    own = mint(zone_key, "own/dir/a.css", clock)  # token_tenant defaults to the zone name
    response = await client.get(f"/own/{own}/dir/a.css")
    assert (response.status_code, response.content) == (200, BODY)
    assert upstream.requests[-1].path == "/base/dir/a.css"
    origins = await client.get(f"/own/{mint(signing_key, 'own/dir/a.css', clock)}/dir/a.css")
    assert (origins.status_code, origins.json()["code"]) == (401, "TOKEN_KEY_UNKNOWN")
    zones = await client.get(f"/tok/{mint(zone_key, 'acme/dir/a.css', clock)}/dir/a.css")
    assert (zones.status_code, zones.json()["code"]) == (401, "TOKEN_KEY_UNKNOWN")
    wrong_tenant = await client.get(f"/own/{mint(zone_key, 'acme/dir/a.css', clock)}/dir/a.css")
    assert (wrong_tenant.status_code, wrong_tenant.json()["code"]) == (403, "TOKEN_PATH_MISMATCH")
    assert len(upstream.requests) == 1


async def test_origin_keys_are_fetched_from_the_origins_jwks(
    client: httpx.AsyncClient, origin: FakeOrigin, signing_key: SigningKey, clock: Clock
) -> None:
    assert (await client.get(f"/tok/{mint(signing_key, 'acme/dir/a.css', clock)}/dir/a.css")).status_code == 200
    fetched = origin.count("/.well-known/jwks.json")
    rotated = generate_signing_key("EdDSA")
    origin.keys.append(rotated)  # a key the edge has not seen yet: its kid makes the edge refetch the JWKS
    response = await client.get(f"/tok/{mint(rotated, 'acme/dir/a.css', clock)}/dir/a.css")
    assert response.status_code == 200
    assert origin.count("/.well-known/jwks.json") == fetched + 1


# -- whitelists --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("referer", "allowed"),
    [
        ("https://allowed.com/page", True),
        ("https://video.example.com/player", True),
        ("https://a.b.example.com/", True),
        ("https://example.com/", False),  # the apex is not covered by "*.example.com"
        ("https://allowed.com.evil.com/", False),
        ("https://evil.com/?allowed.com", False),
        ("https://allowed.com@evil.com/", False),
        ("https://evilexample.com/", False),
    ],
)
async def test_referer_whitelist(client: httpx.AsyncClient, upstream: Upstream, referer: str, allowed: bool) -> None:
    response = await client.get("/wl/a", headers={"Referer": referer})
    if allowed:
        assert (response.status_code, response.content) == (200, BODY)
    else:
        assert response.status_code == 403
        assert response.json()["code"] == "ORIGIN_NOT_WHITELISTED"
        assert upstream.requests == []


async def test_requests_without_referer_or_origin_are_allowed(client: httpx.AsyncClient) -> None:
    assert (await client.get("/wl/a")).status_code == 200


@pytest.mark.parametrize(
    ("origin_header", "status"),
    [("https://shop.example.com", 200), ("https://evil.com", 403), ("https://allowed.com.evil.com", 403)],
)
async def test_origin_whitelist(client: httpx.AsyncClient, origin_header: str, status: int) -> None:
    response = await client.get("/wl/a", headers={"Origin": origin_header})
    assert response.status_code == status
    if status == 403:
        assert response.json()["code"] == "ORIGIN_NOT_WHITELISTED"
        assert response.headers["access-control-allow-origin"] == "*"  # error answers are readable anywhere


@pytest.mark.parametrize(("app_id", "status"), [("com.example.app", 200), ("com.evil.app", 403), ("", 403)])
async def test_app_id_whitelist(client: httpx.AsyncClient, app_id: str, status: int) -> None:
    response = await client.get("/wl/a", headers={"X-App-ID": app_id})
    assert response.status_code == status
    if status == 403:
        assert response.json()["code"] == "APP_NOT_WHITELISTED"


async def test_whitelists_apply_to_every_method(client: httpx.AsyncClient, upstream: Upstream) -> None:
    response = await client.post("/wl/a", content=b"x", headers={"Referer": "https://evil.com/"})
    assert (response.status_code, response.json()["code"]) == (403, "ORIGIN_NOT_WHITELISTED")
    assert upstream.requests == []


async def test_allowed_responses_carry_the_upstreams_cors_headers(
    client: httpx.AsyncClient, upstream: Upstream
) -> None:
    cors = {"access-control-allow-origin": "*", "access-control-expose-headers": "Content-Range"}
    route_on_base(upstream, Route(headers={"cache-control": "max-age=600", **cors}, body=BODY))
    for _ in range(2):  # fetched, then from the cache
        response = await client.get("/wl/a", headers={"Origin": "https://shop.example.com"})
        assert response.status_code == 200
        assert {k: response.headers.get(k) for k in cors} == cors
    assert upstream.count("/base/a") == 1


async def test_the_edge_adds_no_cors_headers_of_its_own_in_zones(client: httpx.AsyncClient) -> None:
    response = await client.get("/wl/b", headers={"Origin": "https://shop.example.com"})
    assert response.status_code == 200
    assert "access-control-allow-origin" not in response.headers  # the upstream sent none


# -- disk tier ---------------------------------------------------------------------------------------


async def test_an_object_larger_than_the_memory_budget_is_served_from_disk(
    edge: EdgeApp, client: httpx.AsyncClient, upstream: Upstream
) -> None:
    cache = edge.zones.by_name["disk"].cache
    assert (await client.get("/disk/a")).content == BODY
    await cache.join()
    assert cache.bytes_cached()["memory"] == 0
    assert cache.bytes_cached()["disk"] > len(BODY)
    hits = cache.stats["disk.hit"]
    again = await client.get("/disk/a")
    assert (again.content, again.headers["cache-status"]) == (BODY, "mediaedge; hit; ttl=600")
    assert cache.stats["disk.hit"] == hits + 1
    assert upstream.count("/base/a") == 1


async def test_a_recreated_edge_serves_the_zone_from_disk(
    edge: EdgeApp, zone_settings: Settings, origin: FakeOrigin, upstream: Upstream, clock: Clock, via: str
) -> None:
    async with http_client(edge, via) as client:
        assert (await client.get("/disk/a")).content == BODY
    await edge.zones.by_name["disk"].cache.join()
    await edge.close()
    async with open_edge(zone_settings, origin, clock) as second, http_client(second, via) as client:
        response = await client.get("/disk/a")
        assert (response.status_code, response.content) == (200, BODY)
        assert response.headers["cache-status"] == "mediaedge; hit; ttl=600"
    assert upstream.count("/base/a") == 1


async def test_the_zone_disk_tier_keeps_to_its_budget(
    edge: EdgeApp, client: httpx.AsyncClient, upstream: Upstream
) -> None:
    cache = edge.zones.by_name["disk"].cache
    for path in ("/a", "/b", "/c", "/d", "/e"):
        assert (await client.get("/disk" + path)).content == BODY
        await cache.join()
        assert 0 < cache.bytes_cached()["disk"] <= DISK_BUDGET
    assert (await client.get("/disk/e")).content == BODY  # recent: still on disk
    assert upstream.count("/base/e") == 1
    assert (await client.get("/disk/a")).content == BODY  # least recent: evicted, fetched again
    assert upstream.count("/base/a") == 2


# -- settings ----------------------------------------------------------------------------------------

GOOD = {"prefix": "/static", "upstream": "https://www.example.com/assets"}

BAD_ZONES: list[tuple[str, dict[str, Any], str]] = [
    ("bad name", {"Static Files": GOOD}, "edge.zones.Static Files: a zone name"),
    ("not a table", {"static": "https://www.example.com"}, "edge.zones.static: expected a table"),
    ("unknown key", {"static": {**GOOD, "ttl": 60}}, "edge.zones.static.ttl: unknown setting"),
    ("wrong type (bool)", {"static": {**GOOD, "tokens": "yes"}}, "edge.zones.static.tokens: expected bool"),
    ("wrong type (int)", {"static": {**GOOD, "memory_cache_bytes": "64MB"}}, "edge.zones.static.memory_cache_bytes"),
    ("bool for an int", {"static": {**GOOD, "disk_cache_bytes": True}}, "edge.zones.static.disk_cache_bytes"),
    ("wrong type (list)", {"static": {**GOOD, "app_ids": "com.example.app"}}, "edge.zones.static.app_ids"),
    ("headers not strings", {"static": {**GOOD, "headers": {"X-Auth": 1}}}, "edge.zones.static.headers"),
    ("no upstream", {"static": {"prefix": "/static"}}, "edge.zones.static.upstream"),
    ("upstream not http", {"static": {**GOOD, "upstream": "ftp://www.example.com/"}}, "edge.zones.static.upstream"),
    ("upstream without host", {"static": {**GOOD, "upstream": "https:///assets"}}, "edge.zones.static.upstream"),
    ("upstream with query", {"static": {**GOOD, "upstream": "https://e.com/a?x=1"}}, "edge.zones.static.upstream"),
    ("neither host nor prefix", {"static": {"upstream": GOOD["upstream"]}}, "edge.zones.static: set host or prefix"),
    ("prefix without slash", {"static": {**GOOD, "prefix": "static"}}, "edge.zones.static.prefix"),
    ("prefix of two segments", {"static": {**GOOD, "prefix": "/a/b"}}, "edge.zones.static.prefix"),
    ("prefix /", {"static": {**GOOD, "prefix": "/"}}, "edge.zones.static.prefix"),
    ("reserved /metrics", {"static": {**GOOD, "prefix": "/metrics"}}, "edge.zones.static.prefix: /metrics"),
    ("reserved /_edge", {"static": {**GOOD, "prefix": "/_edge"}}, "edge.zones.static.prefix: /_edge"),
    ("reserved /healthz", {"static": {**GOOD, "prefix": "/healthz"}}, "edge.zones.static.prefix: /healthz"),
    ("duplicate prefix", {"a": GOOD, "b": GOOD}, "edge.zones.b: another zone has the same host and prefix"),
    (
        "duplicate host (case)",
        {"a": {**GOOD, "host": "cdn.example.com"}, "b": {**GOOD, "host": "CDN.example.com"}},
        "edge.zones.b: another zone",
    ),
    ("memory budget 0", {"static": {**GOOD, "memory_cache_bytes": 0}}, "edge.zones.static.memory_cache_bytes"),
    ("disk budget < 0", {"static": {**GOOD, "disk_cache_bytes": -1}}, "edge.zones.static.disk_cache_bytes"),
    ("timeout 0", {"static": {**GOOD, "timeout": 0}}, "edge.zones.static.timeout"),
]


@pytest.mark.parametrize(("zones", "message"), [r[1:] for r in BAD_ZONES], ids=[r[0] for r in BAD_ZONES])
def test_bad_zone_settings_are_refused_naming_the_setting(tmp_path: Path, zones: dict[str, Any], message: str) -> None:
    overrides = {"data_dir": str(tmp_path), "edge": {"origin_url": ORIGIN, "zones": zones}}
    settings = load_settings(environ={}, overrides=overrides)
    with pytest.raises(SettingsError) as info:
        zone_settings(settings.edge.zones)
    assert message in str(info.value)


def test_good_zone_settings_are_accepted(tmp_path: Path) -> None:
    zones = {"static": GOOD, "cdn": {**GOOD, "prefix": "", "host": "CDN.example.com", "disk_cache_bytes": 0}}
    settings = load_settings(environ={}, overrides={"data_dir": str(tmp_path), "edge": {"zones": zones}})
    assert {zone.name for zone in zone_settings(settings.edge.zones)} == {"static", "cdn"}


# -- metrics -----------------------------------------------------------------------------------------


async def test_zone_requests_are_counted_under_the_zone_label(client: httpx.AsyncClient) -> None:
    for _ in range(2):
        assert (await client.get("/wl/a")).status_code == 200
    assert (await client.get("/disk/b")).status_code == 200
    metrics = (await client.get("/metrics")).text
    assert 'mediaedge_edge_tenant_requests_total{tenant="zone:wl"} 2' in metrics
    assert 'mediaedge_edge_tenant_requests_total{tenant="zone:disk"} 1' in metrics
    assert f'mediaedge_edge_tenant_response_bytes_total{{tenant="zone:wl"}} {2 * len(BODY)}' in metrics


async def test_each_zone_cache_reports_its_own_counters(client: httpx.AsyncClient) -> None:
    for _ in range(3):
        assert (await client.get("/wl/a")).status_code == 200
    metrics = (await client.get("/metrics")).text
    assert 'mediaedge_edge_zone_cache_total{zone="wl",tier="lookup",stat="miss"} 1' in metrics
    assert 'mediaedge_edge_zone_cache_total{zone="wl",tier="lookup",stat="hit"} 2' in metrics
    assert 'mediaedge_edge_zone_cache_total{zone="disk",tier="lookup",stat="hit"} 0' in metrics


async def test_the_zone_listing_shows_each_zone_and_its_cache(client: httpx.AsyncClient) -> None:
    assert (await client.get("/wl/a")).status_code == 200
    response = await client.get("/_edge/zones", headers={"x-mediaedge-edge-secret": SECRET})
    assert response.status_code == 200
    listed = {zone["name"]: zone for zone in response.json()["zones"]}
    assert {"wl", "disk"} <= set(listed)
    assert listed["disk"]["prefix"] == "/disk"
    assert listed["wl"]["stats"]["lookup.miss"] == 1
    assert listed["wl"]["bytes"]["memory"] > 0
