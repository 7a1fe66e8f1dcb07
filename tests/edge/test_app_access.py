"""Who may read what: file ids, signed URLs (JWT in the path), the seed's error codes."""

from __future__ import annotations

import asyncio
import ipaddress
from collections.abc import Callable

import jwt
import pytest
from httpx import AsyncClient, Response

from edge.app import EdgeApp
from mediaedge.tokens import KeySet, SigningKey, generate_signing_key
from tests.edge.fakes import (
    DATA,
    PLAYLIST,
    PUBLIC,
    SEGMENT,
    SIGNED,
    WL_SIGNED,
    FakeCache,
    FakeOrigin,
    token_for,
)
from tests.edge.serving import client_ip

pytestmark = pytest.mark.anyio

BROWSER_UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/120.0 Safari/537.36"


def assert_error(response: Response, status: int, code: str | None) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert body["statusCode"] == status
    assert isinstance(body["message"], str) and body["message"]
    assert body["error"] == {401: "Unauthorized", 403: "Forbidden", 404: "NotFound"}.get(status, body["error"])
    assert body.get("code") == code


async def test_public_file_by_file_id(client: AsyncClient) -> None:
    response = await client.get(f"/f1/{PUBLIC}")
    assert response.status_code == 200
    assert response.content == DATA
    assert response.headers["content-type"] == "video/mp4"


@pytest.mark.parametrize("path", [f"/f2/{PUBLIC}", f"/nope/{PUBLIC}", "/f1/t1/u1/videos/missing.mp4"])
async def test_wrong_file_id_is_not_found(client: AsyncClient, path: str) -> None:
    assert_error(await client.get(path), 404, "FILE_NOT_FOUND")


async def test_token_works_for_public_file_too(client: AsyncClient, signing_key: SigningKey) -> None:
    response = await client.get(f"/{token_for(signing_key, PUBLIC)}/{PUBLIC}")
    assert response.status_code == 200 and response.content == DATA


async def test_signed_file_with_token(client: AsyncClient, signing_key: SigningKey) -> None:
    response = await client.get(f"/{token_for(signing_key, SIGNED)}/{SIGNED}")
    assert response.status_code == 200
    assert response.content == DATA
    assert response.headers["cache-control"].startswith("private")


# -- the seed's error table (401/403) ----------------------------------------------------------------

SEED_ERRORS = [
    # (path, headers, status, code)
    (f"/f2/{SIGNED}", {"Referer": "https://site.example/watch"}, 401, "SIGNED_URL_REQUIRED"),
    (f"/f2/{SIGNED}", {"Origin": "https://site.example"}, 401, "SIGNED_URL_REQUIRED"),
    (f"/f2/{SIGNED}", {"Sec-Fetch-Mode": "no-cors"}, 401, "SIGNED_URL_REQUIRED"),
    (f"/f2/{SIGNED}", {"User-Agent": BROWSER_UA}, 401, "SIGNED_URL_REQUIRED"),
    (f"/f2/{SIGNED}", {"User-Agent": "curl/8.5.0"}, 401, "JWT_REQUIRED"),
    (
        f"/f2/{SIGNED}",
        {"User-Agent": "AppleCoreMedia/1.0.0.21A329 (iPhone; U; CPU OS 17_0 like Mac OS X)"},
        401,
        "JWT_REQUIRED",
    ),
    (f"/f2/{SIGNED}", {"User-Agent": BROWSER_UA, "X-App-ID": "com.example.app"}, 401, "JWT_REQUIRED"),
    (f"/f6/{WL_SIGNED}", {}, 401, "JWT_REQUIRED"),
    ("/f5/t2/u1/a.mp4", {"Referer": "https://evil.example/"}, 403, "ORIGIN_NOT_WHITELISTED"),
    ("/f5/t2/u1/a.mp4", {"X-App-ID": "com.evil.app"}, 403, "APP_NOT_WHITELISTED"),
]


@pytest.mark.parametrize(("path", "headers", "status", "code"), SEED_ERRORS)
async def test_seed_error_codes(
    client: AsyncClient, path: str, headers: dict[str, str], status: int, code: str
) -> None:
    response = await client.get(path, headers=headers)
    assert_error(response, status, code)
    assert response.headers["access-control-allow-origin"] == "*"  # web players can read the reason
    assert response.headers["cache-control"] == "no-store"


async def test_head_errors_have_no_body(client: AsyncClient) -> None:
    response = await client.head(f"/f2/{SIGNED}")
    assert response.status_code == 401 and response.content == b""
    assert int(response.headers["content-length"]) > 0


# -- tokens in the path ------------------------------------------------------------------------------


async def test_token_for_another_file_is_forbidden(client: AsyncClient, signing_key: SigningKey) -> None:
    token = token_for(signing_key, PUBLIC)
    assert_error(await client.get(f"/{token}/{SIGNED}"), 403, "TOKEN_PATH_MISMATCH")


async def test_token_of_another_tenant_is_forbidden(client: AsyncClient, signing_key: SigningKey) -> None:
    token = token_for(signing_key, WL_SIGNED)
    assert_error(await client.get(f"/{token}/{SIGNED}"), 403, "TOKEN_PATH_MISMATCH")


async def test_token_tenant_must_own_the_object(client: AsyncClient, cache: FakeCache, signing_key: SigningKey) -> None:
    cache.add("t1/u1/moved.mp4", DATA, access="signed", tenant_id="t9")  # key says t1, origin says t9
    token = token_for(signing_key, "t1/u1/moved.mp4")
    assert_error(await client.get(f"/{token}/t1/u1/moved.mp4"), 403, "TOKEN_PATH_MISMATCH")


async def test_prefix_token_serves_a_stream(client: AsyncClient, signing_key: SigningKey) -> None:
    token = token_for(signing_key, "t1/u1/hls/", scope="prefix")
    playlist = await client.get(f"/{token}/{PLAYLIST}")
    assert playlist.status_code == 200
    assert playlist.headers["content-type"] == "application/vnd.apple.mpegurl"
    assert playlist.headers["cache-control"] == "private, max-age=2"
    segment = await client.get(f"/{token}/{SEGMENT}")
    assert segment.status_code == 200 and segment.headers["content-type"] == "video/mp2t"
    assert_error(await client.get(f"/{token}/{SIGNED}"), 403, "TOKEN_PATH_MISMATCH")


# -- a token opens only the content it was minted for ---------------------------------------------------


async def test_exact_token_stops_at_a_new_file_under_its_key(
    client: AsyncClient, cache: FakeCache, signing_key: SigningKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = []
    verify = KeySet.verify
    monkeypatch.setattr(KeySet, "verify", lambda self, token, now=None: calls.append(1) or verify(self, token, now=now))
    old = token_for(signing_key, SIGNED)  # bound to f2
    assert (await client.get(f"/{old}/{SIGNED}")).status_code == 200
    cache.add(SIGNED, DATA[::-1], access="signed", file_id="f2-new")  # deleted, and another file uploaded there
    for _ in range(2):  # the verification is cached; the file binding is still checked, on a cache hit
        assert_error(await client.get(f"/{old}/{SIGNED}"), 404, "FILE_NOT_FOUND")
    assert len(calls) == 1
    new = token_for(signing_key, SIGNED, file_id="f2-new")
    response = await client.get(f"/{new}/{SIGNED}")
    assert response.status_code == 200 and response.content == DATA[::-1]


async def test_exact_token_without_a_file_id_opens_nothing(client: AsyncClient, signing_key: SigningKey) -> None:
    for key in (SIGNED, PUBLIC):
        assert_error(await client.get(f"/{token_for(signing_key, key, file_id=None)}/{key}"), 404, "FILE_NOT_FOUND")


async def test_prefix_token_is_bound_to_its_stream(
    client: AsyncClient, cache: FakeCache, signing_key: SigningKey
) -> None:
    cache.add(PLAYLIST, b"#EXTM3U\n", access="signed", file_id="src", asset_id="stream-1")
    cache.add(SEGMENT, DATA[:500], access="signed", file_id="src", asset_id="stream-1")
    token = token_for(signing_key, "t1/u1/hls/", scope="prefix", asset_id="stream-1")
    assert (await client.get(f"/{token}/{PLAYLIST}")).status_code == 200
    assert (await client.get(f"/{token}/{SEGMENT}")).status_code == 200
    cache.add(SEGMENT, DATA[:400], access="signed", file_id="src", asset_id="stream-2")  # the stream made again
    assert_error(await client.get(f"/{token}/{SEGMENT}"), 404, "FILE_NOT_FOUND")
    directory = token_for(signing_key, "t1/u1/hls/", scope="prefix")  # a plain directory: no asset binding
    assert (await client.get(f"/{directory}/{SEGMENT}")).status_code == 200


async def test_ip_bound_token(client: AsyncClient, signing_key: SigningKey, via: str) -> None:
    good = token_for(signing_key, SIGNED, ip=str(ipaddress.ip_network(f"{client_ip(via)}/24", strict=False)))
    assert (await client.get(f"/{good}/{SIGNED}")).status_code == 200
    bad = token_for(signing_key, SIGNED, ip="198.51.100.7")
    assert_error(await client.get(f"/{bad}/{SIGNED}"), 403, "TOKEN_IP_MISMATCH")


@pytest.mark.parametrize(
    ("make", "code"),
    [
        (lambda k: token_for(k, SIGNED, ttl=-10), "TOKEN_EXPIRED"),
        (lambda k: token_for(generate_signing_key("EdDSA"), SIGNED), "TOKEN_KEY_UNKNOWN"),
        (
            lambda k: jwt.encode({"tid": "t1", "path": SIGNED}, None, algorithm="none", headers={"kid": k.kid}),
            "TOKEN_ALGORITHM",
        ),
        (lambda k: token_for(k, SIGNED)[:-4] + "AAAA", "TOKEN_INVALID"),
        (lambda k: "eyJhbGciOi.eyJzdWIiOi.c2ln", "TOKEN_MALFORMED"),
    ],
    ids=["expired", "unknown-kid", "alg-none", "bad-signature", "malformed"],
)
async def test_invalid_tokens_are_unauthorized(
    client: AsyncClient, signing_key: SigningKey, make: Callable[[SigningKey], str], code: str
) -> None:
    assert_error(await client.get(f"/{make(signing_key)}/{SIGNED}"), 401, code)


async def test_bad_token_costs_no_cache_lookup(client: AsyncClient, cache: FakeCache, signing_key: SigningKey) -> None:
    await client.get(f"/{token_for(signing_key, PUBLIC)}/{SIGNED}")
    await client.get(f"/{token_for(signing_key, SIGNED, ttl=-5)}/{SIGNED}")
    assert cache.lookups == []


async def test_token_never_leaves_in_headers(client: AsyncClient, signing_key: SigningKey) -> None:
    token = token_for(signing_key, SIGNED)
    for path in (f"/{token}/{SIGNED}", f"/{token}/{PUBLIC}", f"/{token}/t1/u1/missing.mp4"):
        response = await client.get(path)
        assert token not in str(response.headers)
        assert token.encode() not in response.content


# -- keys: rotation, withdrawal, the verification cache ------------------------------------------------


async def test_rotated_key_is_fetched_on_unknown_kid(client: AsyncClient, origin: FakeOrigin) -> None:
    fetched = origin.count("/.well-known/jwks.json")
    new_key = generate_signing_key("EdDSA")
    origin.keys.append(new_key)
    response = await client.get(f"/{token_for(new_key, SIGNED)}/{SIGNED}")
    assert response.status_code == 200
    assert origin.count("/.well-known/jwks.json") == fetched + 1
    # made-up kids right after do not make the edge fetch again (rate limit)
    for _ in range(3):
        stranger = token_for(generate_signing_key("EdDSA"), SIGNED)
        assert_error(await client.get(f"/{stranger}/{SIGNED}"), 401, "TOKEN_KEY_UNKNOWN")
    assert origin.count("/.well-known/jwks.json") == fetched + 1


async def test_burst_of_tokens_with_a_new_key_shares_one_fetch(client: AsyncClient, origin: FakeOrigin) -> None:
    fetched = origin.count("/.well-known/jwks.json")
    new_key = generate_signing_key("RS256")
    origin.keys.append(new_key)
    token = token_for(new_key, SIGNED)
    responses = await asyncio.gather(*(client.get(f"/{token}/{SIGNED}") for _ in range(5)))
    assert [r.status_code for r in responses] == [200] * 5
    assert origin.count("/.well-known/jwks.json") == fetched + 1


async def test_verified_tokens_are_cached_but_withdrawn_keys_stop_them(
    app: EdgeApp, client: AsyncClient, origin: FakeOrigin, signing_key: SigningKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = []
    verify = KeySet.verify
    monkeypatch.setattr(KeySet, "verify", lambda self, token, now=None: calls.append(1) or verify(self, token, now=now))
    token = token_for(signing_key, SIGNED)
    for _ in range(3):
        assert (await client.get(f"/{token}/{SIGNED}")).status_code == 200
    assert len(calls) == 1
    origin.keys.clear()
    assert await app.keys.refresh()
    assert_error(await client.get(f"/{token}/{SIGNED}"), 401, "TOKEN_KEY_UNKNOWN")


async def test_edge_starts_while_origin_is_down(app: EdgeApp, client: AsyncClient, origin: FakeOrigin) -> None:
    origin.down = True
    assert await app.keys.refresh() is False
    assert len(app.keys.keyset) == 1  # keeps what it had
    assert (await client.get("/healthz")).status_code == 200
