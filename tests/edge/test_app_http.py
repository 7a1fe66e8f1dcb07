"""HTTP semantics of object responses: HEAD, validators and preconditions, ranges, headers, streaming,
and the operational endpoints (purge, health, metrics, access log)."""

from __future__ import annotations

import asyncio
import dataclasses
import email.parser
import email.policy
import json
import logging
from typing import Any

import pytest
from httpx import AsyncClient

from edge import representation
from edge.app import EdgeApp, create_app
from edge.cache import OriginError
from mediaedge.settings import Settings
from mediaedge.tokens import KeySet, SigningKey
from tests.edge.fakes import DATA, PUBLIC, SECRET, SIGNED, FakeCache, FakeOrigin, call, token_for

pytestmark = pytest.mark.anyio

URL = f"/f1/{PUBLIC}"
LM = "Tue, 14 Nov 2023 22:13:20 GMT"  # fakes.LAST_MODIFIED
BEFORE, AFTER = "Tue, 14 Nov 2023 22:13:19 GMT", "Tue, 14 Nov 2023 22:13:21 GMT"


def parse_multipart(content_type: str, body: bytes) -> list[tuple[str, str, bytes]]:
    """(Content-Type, Content-Range, bytes) of each part, with a real MIME parser."""
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + body
    )
    assert message.is_multipart()
    return [(p["Content-Type"], p["Content-Range"], p.get_payload(decode=True)) for p in message.iter_parts()]


async def test_full_response_headers(client: AsyncClient, cache: FakeCache) -> None:
    response = await client.get(URL)
    meta = cache.objects[PUBLIC][0]
    assert response.status_code == 200
    assert response.headers["etag"] == meta.etag
    assert response.headers["last-modified"] == LM
    assert response.headers["accept-ranges"] == "bytes"
    assert response.headers["content-length"] == str(len(DATA))
    assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert response.headers["cache-status"] == "mediaedge; hit"
    assert response.headers["x-content-type-options"] == "nosniff"


async def test_head_has_headers_and_no_body(client: AsyncClient) -> None:
    get, head = await client.get(URL), await client.head(URL)
    assert head.status_code == 200 and head.content == b""
    for name in ("etag", "content-length", "content-type", "cache-control", "accept-ranges", "last-modified"):
        assert head.headers[name] == get.headers[name]
    ranged = await client.head(URL, headers={"Range": "bytes=0-9"})
    assert ranged.status_code == 200 and ranged.headers["content-length"] == str(len(DATA))


@pytest.mark.parametrize(
    ("status", "label"),
    [
        ("hit", "mediaedge; hit"),
        ("miss", "mediaedge; fwd=miss"),
        ("revalidated", "mediaedge; fwd=stale; fwd-status=304"),
        ("stale", "mediaedge; fwd=stale; detail=stale-if-error"),
    ],
)
async def test_cache_status(client: AsyncClient, cache: FakeCache, status: str, label: str) -> None:
    cache.status = status
    assert (await client.get(URL)).headers["cache-status"] == label


@pytest.mark.parametrize(
    ("key", "access", "content_type", "cache_control"),
    [
        ("t1/u/a.m4s", "public", "video/iso.segment", "public, max-age=31536000, immutable"),
        ("t1/u/a.m4a", "public", "audio/mp4", "public, max-age=31536000, immutable"),
        ("t1/u/a.vtt", "public", "text/vtt; charset=utf-8", "public, max-age=31536000, immutable"),
        ("t1/u/thumb.JPG", "public", "image/jpeg", "public, max-age=31536000, immutable"),
        ("t1/u/a.mpd", "public", "application/dash+xml", "public, max-age=2"),
        ("t1/u/a.m3u8", "signed", "application/vnd.apple.mpegurl", "private, max-age=2"),
        ("t1/u/a.webm", "signed", "video/webm", "private, max-age=31536000, immutable"),
        ("t1/u/doc.pdf", "public", "application/pdf", "public, max-age=3600"),
        ("t1/u/data.bin", "public", "application/x-custom", "public, max-age=3600"),  # origin's type
        ("t1/u/noext", "signed", "application/x-custom", "private, max-age=3600"),
    ],
)
async def test_content_type_and_cache_control(
    client: AsyncClient,
    cache: FakeCache,
    signing_key: SigningKey,
    key: str,
    access: str,
    content_type: str,
    cache_control: str,
) -> None:
    cache.add(key, b"0123456789", access=access, file_id="fx", content_type="application/x-custom")
    credential = "fx" if access == "public" else token_for(signing_key, key, file_id="fx")
    response = await client.get(f"/{credential}/{key}")
    assert response.status_code == 200
    assert response.headers["content-type"] == content_type
    assert response.headers["cache-control"] == cache_control


async def test_active_content_is_sandboxed(client: AsyncClient, cache: FakeCache) -> None:
    cache.add("t1/u/page.html", b"<script>alert(1)</script>", file_id="fh")
    response = await client.get("/fh/t1/u/page.html")
    assert response.headers["content-security-policy"].startswith("sandbox")
    assert "content-security-policy" not in (await client.get(URL)).headers


# -- preconditions -----------------------------------------------------------------------------------


async def test_conditional_requests(client: AsyncClient, cache: FakeCache) -> None:
    etag = cache.objects[PUBLIC][0].etag
    weak = "W/" + etag
    cases = [
        ({"If-None-Match": etag}, 304),
        ({"If-None-Match": weak}, 304),  # weak comparison
        ({"If-None-Match": f'"other", {etag}'}, 304),
        ({"If-None-Match": "*"}, 304),
        ({"If-None-Match": '"other"'}, 200),
        ({"If-None-Match": '"other"', "If-Modified-Since": AFTER}, 200),  # If-None-Match wins
        ({"If-Modified-Since": LM}, 304),
        ({"If-Modified-Since": AFTER}, 304),
        ({"If-Modified-Since": BEFORE}, 200),
        ({"If-Modified-Since": "not a date"}, 200),
        ({"If-Match": etag}, 200),
        ({"If-Match": "*"}, 200),
        ({"If-Match": weak}, 412),  # strong comparison
        ({"If-Match": '"other"'}, 412),
        ({"If-Unmodified-Since": BEFORE}, 412),
        ({"If-Unmodified-Since": LM}, 200),
        ({"If-Match": etag, "If-Unmodified-Since": BEFORE}, 200),  # If-Match wins
        ({"If-Match": '"other"', "If-None-Match": etag}, 412),  # 412 before 304
    ]
    for headers, status in cases:
        response = await client.get(URL, headers=headers)
        assert response.status_code == status, headers
        if status == 304:
            assert response.content == b""
            assert response.headers["etag"] == etag
            assert response.headers["cache-control"].startswith("public")
            assert "content-length" not in response.headers
        if status == 412:
            assert response.json()["statusCode"] == 412
        head = await client.head(URL, headers=headers)
        assert head.status_code == status


@pytest.mark.parametrize(
    "headers",
    [
        [("If-Modified-Since", LM), ("If-Modified-Since", LM)],  # sent twice
        [("If-Modified-Since", f"{AFTER}, {AFTER}")],  # a list
        [("If-Modified-Since", AFTER.replace("GMT", "UTC"))],
        [("If-Modified-Since", "Tue, 14 Nov 23 22:13:21 GMT")],  # two-digit year
        [("If-Unmodified-Since", f"{BEFORE}, {BEFORE}")],
        [("If-Unmodified-Since", BEFORE), ("If-Unmodified-Since", BEFORE)],
        [("If-Unmodified-Since", BEFORE.replace("GMT", "EST"))],
        [("If-Unmodified-Since", BEFORE.replace("GMT", "+0000"))],
        [("If-Unmodified-Since", BEFORE + " garbage")],
        [("If-Unmodified-Since", "Tue, 14 Nov 2023 22.13.19 GMT")],
    ],
    ids=lambda h: " | ".join(f"{n}: {v}" for n, v in h),
)
async def test_date_conditions_that_are_not_exactly_one_http_date_are_ignored(
    client: AsyncClient, headers: list[tuple[str, str]]
) -> None:
    response = await client.get(URL, headers=headers)
    assert (response.status_code, response.content) == (200, DATA)


async def test_the_obsolete_http_date_forms_are_dates(client: AsyncClient) -> None:
    assert (await client.get(URL, headers={"If-Modified-Since": "Tuesday, 14-Nov-23 22:13:21 GMT"})).status_code == 304
    assert (await client.get(URL, headers={"If-Modified-Since": "Tue Nov 14 22:13:21 2023"})).status_code == 304
    assert (await client.get(URL, headers={"If-Unmodified-Since": "Tue Nov 14 22:13:19 2023"})).status_code == 412


async def test_304_carries_cors(client: AsyncClient, cache: FakeCache) -> None:
    etag = cache.objects[PUBLIC][0].etag
    response = await client.get(URL, headers={"If-None-Match": etag, "Origin": "https://x.example"})
    assert response.status_code == 304 and response.headers["access-control-allow-origin"] == "*"


async def test_if_range(client: AsyncClient, cache: FakeCache) -> None:
    etag = cache.objects[PUBLIC][0].etag
    for if_range, status in [
        (etag, 206),
        ("W/" + etag, 200),
        ('"old"', 200),
        (LM, 206),
        (BEFORE, 200),
        ("junk", 200),
        (LM + " garbage", 200),  # the date must match Last-Modified exactly
        (f"{LM}, {LM}", 200),
        (LM.replace("GMT", "UTC"), 200),
    ]:
        response = await client.get(URL, headers={"Range": "bytes=0-9", "If-Range": if_range})
        assert response.status_code == status, if_range
        assert response.content == (DATA[:10] if status == 206 else DATA)


# -- ranges ------------------------------------------------------------------------------------------


async def test_single_ranges(client: AsyncClient) -> None:
    size = len(DATA)
    for header, first, last in [
        ("bytes=0-99", 0, 99),
        ("bytes=-500", size - 500, size - 1),
        ("bytes=100-", 100, size - 1),
        ("bytes=2000-99999", 2000, size - 1),
        ("bytes=-99999", 0, size - 1),
    ]:
        response = await client.get(URL, headers={"Range": header})
        assert response.status_code == 206, header
        assert response.headers["content-range"] == f"bytes {first}-{last}/{size}"
        assert response.headers["content-length"] == str(last - first + 1)
        assert response.headers["content-type"] == "video/mp4"
        assert response.content == DATA[first : last + 1]


async def test_unsatisfiable_range(client: AsyncClient) -> None:
    response = await client.get(URL, headers={"Range": f"bytes={len(DATA)}-"})
    assert response.status_code == 416
    assert response.headers["content-range"] == f"bytes */{len(DATA)}"
    assert response.json()["statusCode"] == 416


@pytest.mark.parametrize(
    "header",
    [
        "bytes=5-3",
        "bytes=abc",
        "items=0-5",
        "bytes=",
        "bytes=0-1,x",
        "0-5",
        "bytes=" + ",".join(f"{i}-{i}" for i in range(0, 40, 2)),
    ],
)
async def test_malformed_or_abusive_range_is_ignored(client: AsyncClient, header: str) -> None:
    response = await client.get(URL, headers={"Range": header})
    assert response.status_code == 200 and response.content == DATA


async def test_multipart_byteranges(client: AsyncClient) -> None:
    response = await client.get(URL, headers={"Range": "bytes=0-9, 100-109, 5-14, -10"})
    assert response.status_code == 206
    content_type = response.headers["content-type"]
    assert content_type.startswith("multipart/byteranges; boundary=")
    assert int(response.headers["content-length"]) == len(response.content)
    parts = parse_multipart(content_type, response.content)
    size = len(DATA)
    assert (
        parts
        == [
            ("video/mp4", f"bytes 0-14/{size}", DATA[0:15]),  # 0-9 and 5-14 coalesced
            ("video/mp4", f"bytes 100-109/{size}", DATA[100:110]),
            ("video/mp4", f"bytes {size - 10}-{size - 1}/{size}", DATA[-10:]),
        ]
    )


async def test_overlapping_ranges_collapse_to_one_part(client: AsyncClient) -> None:
    response = await client.get(URL, headers={"Range": "bytes=0-9,10-19,5-25"})
    assert response.status_code == 206
    assert response.headers["content-range"] == f"bytes 0-25/{len(DATA)}"
    assert response.content == DATA[:26]


async def test_empty_object(client: AsyncClient, cache: FakeCache) -> None:
    cache.add("t1/u/empty.txt", b"", file_id="fe")
    full = await client.get("/fe/t1/u/empty.txt")
    assert full.status_code == 200 and full.content == b"" and full.headers["content-length"] == "0"
    ranged = await client.get("/fe/t1/u/empty.txt", headers={"Range": "bytes=0-"})
    assert ranged.status_code == 416 and ranged.headers["content-range"] == "bytes */0"


# -- streaming (bytes not in memory) ---------------------------------------------------------------


async def test_streamed_responses_match_fast_ones(client: AsyncClient, cache: FakeCache) -> None:
    headers_list = [{}, {"Range": "bytes=10-1500"}, {"Range": "bytes=0-0,50-60,-3"}]
    fast = [await client.get(URL, headers=h) for h in headers_list]
    cache.fast = False
    slow = [await client.get(URL, headers=h) for h in headers_list]
    for a, b in zip(fast, slow, strict=True):
        assert a.status_code == b.status_code
        assert a.headers["content-length"] == b.headers["content-length"] == str(len(b.content))
        if not a.headers["content-type"].startswith("multipart/"):
            assert a.content == b.content


async def test_client_going_away_stops_the_stream(app: EdgeApp, cache: FakeCache) -> None:
    cache.fast = False
    cache.chunk = 10
    sent: list[dict[str, Any]] = []
    first_body = asyncio.Event()
    incoming = [{"type": "http.request", "body": b"", "more_body": False}]

    async def receive() -> dict[str, object]:
        if incoming:
            return incoming.pop()
        await first_body.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)
        if message["type"] == "http.response.body":
            first_body.set()

    scope = {"type": "http", "method": "GET", "path": URL, "raw_path": URL.encode(), "headers": [], "client": None}
    await app(scope, receive, send)
    body = b"".join(m["body"] for m in sent[1:])
    assert 0 < len(body) < len(DATA) // 2
    assert body == DATA[: len(body)]


async def test_cache_hit_through_a_signed_url_does_no_io(
    client: AsyncClient, cache: FakeCache, origin: FakeOrigin, signing_key: SigningKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    """DESIGN §9: claims from the LRU, policy from the TTL cache, bytes from memory."""
    url = f"/{token_for(signing_key, SIGNED)}/{SIGNED}"
    assert (await client.get(url)).status_code == 200  # warms token, tenant policy, headers

    def forbidden(*args: object, **kwargs: object) -> None:
        raise AssertionError("I/O or verification on the hot path")

    origin.down = True
    monkeypatch.setattr(KeySet, "verify", forbidden)
    monkeypatch.setattr(FakeCache, "read", forbidden)
    monkeypatch.setattr(representation, "build", forbidden)
    requests_before = len(origin.requests)
    response = await client.get(url, headers={"Range": "bytes=100-199"})
    assert response.status_code == 206 and response.content == DATA[100:200]
    assert len(origin.requests) == requests_before


async def test_origin_error_before_first_byte_is_502(client: AsyncClient, cache: FakeCache) -> None:
    cache.lookup_error = OriginError()
    response = await client.get(URL)
    assert response.status_code == 502 and response.json()["statusCode"] == 502


async def test_object_changed_while_reading_is_retried(client: AsyncClient, cache: FakeCache) -> None:
    cache.fast = False
    cache.change_reads = 1
    response = await client.get(URL)
    assert response.status_code == 200 and response.content == DATA
    assert cache.lookups == [PUBLIC, PUBLIC]


async def test_failure_mid_body_aborts_the_connection(app: EdgeApp, cache: FakeCache) -> None:
    cache.fast = False
    cache.fail_reads = 1
    with pytest.raises(Exception) as info:
        await call(app, "GET", URL.encode())
    assert type(info.value).__name__ == "ResponseAborted"


# -- purge, health, metrics, access log ----------------------------------------------------------------


async def test_purge_requires_the_edge_secret(client: AsyncClient, cache: FakeCache) -> None:
    body = {"keys": [PUBLIC]}
    for headers in ({}, {"X-Mediaedge-Edge-Secret": "wrong"}, {"X-Mediaedge-Edge-Secret": ""}):
        response = await client.post("/_edge/purge", json=body, headers=headers)
        assert response.status_code == 401 and response.json()["code"] == "EDGE_SECRET_INVALID"
    assert cache.purged == []


async def test_purge(client: AsyncClient, cache: FakeCache) -> None:
    response = await client.post(
        "/_edge/purge",
        json={"keys": [PUBLIC], "prefixes": ["t1/u1/hls/"]},
        headers={"X-Mediaedge-Edge-Secret": SECRET},
    )
    assert response.status_code == 200
    assert response.json() == {"purged": 3}
    assert cache.purged == [(PUBLIC, False), ("t1/u1/hls/", True)]
    assert (await client.get(URL)).status_code == 404


@pytest.mark.parametrize(
    "body",
    [b"not json", b"[]", b'{"keys": "t1/a"}', b'{"keys": ["../etc"]}', b'{"prefixes": [""]}', b'{"keys": [1]}'],
)
async def test_purge_validates_its_body(client: AsyncClient, cache: FakeCache, body: bytes) -> None:
    response = await client.post("/_edge/purge", content=body, headers={"X-Mediaedge-Edge-Secret": SECRET})
    assert response.status_code == 400
    assert cache.purged == []


async def test_purge_body_limit(client: AsyncClient) -> None:
    body = json.dumps({"keys": ["t/u/" + "x" * 100] * 20000}).encode()
    response = await client.post("/_edge/purge", content=body, headers={"X-Mediaedge-Edge-Secret": SECRET})
    assert response.status_code == 413


async def test_healthz(client: AsyncClient) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


async def test_metrics(client: AsyncClient, signing_key: SigningKey) -> None:
    token = token_for(signing_key, SIGNED)
    await client.get(URL)
    await client.get(f"/{token}/{SIGNED}", headers={"Range": "bytes=0-9"})
    await client.get("/f1/t1/u1/nothing.mp4")
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    text = response.text
    assert token not in text
    lines = set(text.splitlines())
    assert 'mediaedge_edge_requests_total{code="200"} 1' in lines
    assert 'mediaedge_edge_requests_total{code="206"} 1' in lines
    assert 'mediaedge_edge_requests_total{code="404"} 1' in lines
    assert 'mediaedge_edge_tenant_requests_total{tenant="t1"} 2' in lines
    assert f'mediaedge_edge_tenant_response_bytes_total{{tenant="t1"}} {len(DATA) + 10}' in lines
    assert 'mediaedge_edge_cache_total{tier="memory",stat="hit"} 3' in lines
    assert 'mediaedge_edge_cache_total{stat="coalesced"} 2' in lines
    assert 'mediaedge_edge_origin_fetch_seconds_bucket{le="0.1"} 3' in lines
    assert 'mediaedge_edge_origin_fetch_seconds_bucket{le="+Inf"} 4' in lines
    assert "mediaedge_edge_origin_fetch_seconds_count 4" in lines
    assert "# TYPE mediaedge_edge_origin_fetch_seconds histogram" in lines


async def test_access_log_redacts_tokens(
    settings: Settings, cache: FakeCache, origin: FakeOrigin, signing_key: SigningKey, caplog: pytest.LogCaptureFixture
) -> None:
    logged = settings.replace(edge=dataclasses.replace(settings.edge, access_log=True))
    token = token_for(signing_key, SIGNED)
    async with create_app(logged, cache=cache, transport=origin.transport()) as app:
        with caplog.at_level(logging.INFO, logger="mediaedge.edge.access"):
            await call(app, "GET", f"/{token}/{SIGNED}?token={token}".encode())
            await call(app, "GET", f"/{token}/t1/../x".encode())
    records = [json.loads(r.getMessage()) for r in caplog.records if r.name == "mediaedge.edge.access"]
    assert [r["status"] for r in records] == [200, 400]
    assert records[0]["path"] == f"/-/{SIGNED}" and records[0]["tenant"] == "t1"
    assert records[0]["bytes"] == len(DATA)
    assert token not in caplog.text


async def test_lifespan(settings: Settings, cache: FakeCache, origin: FakeOrigin) -> None:
    app = create_app(settings, cache=cache, transport=origin.transport())
    events = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]
    sent: list[dict[str, object]] = []

    async def receive() -> dict[str, object]:
        if events[0]["type"] == "lifespan.shutdown":  # let the registration task reach the origin
            for _ in range(200):
                if origin.registrations:
                    break
                await asyncio.sleep(0.005)
        return events.pop(0)

    async def send(message: dict[str, object]) -> None:
        sent.append(message)

    await app({"type": "lifespan"}, receive, send)
    assert [m["type"] for m in sent] == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
    assert cache.started and cache.closed
    assert len(app.keys.keyset) == 1
    assert origin.registrations == [{"url": settings.edge.registration_url, "region": settings.edge.region}]
