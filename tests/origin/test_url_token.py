"""POST /auth/url-token and the JWKS: tokens the edge can verify, scoped and short-lived."""

from __future__ import annotations

import time

import httpx
import pytest

from mediaedge.tokens import KeySet, TokenError
from origin.state import OriginState
from origin.store.streams import NewStream
from tests.fixtures.media import CLIP_SECONDS

pytestmark = pytest.mark.anyio


async def _upload(client: httpx.AsyncClient, headers: dict, name: str, data: bytes) -> dict:
    response = await client.post(
        "/upload/direct-upload",
        headers=headers,
        files={"file": (name, data)},
        data={"userId": "u1", "destination": "course"},
    )
    assert response.status_code == 201
    return response.json()


async def _keyset(client: httpx.AsyncClient) -> KeySet:
    return KeySet.from_jwks((await client.get("/.well-known/jwks.json")).json())


async def test_token_for_a_file_verifies_with_the_published_jwks(origin_client, tenant):
    file = await _upload(origin_client, tenant.headers, "notes.txt", b"hello")
    response = await origin_client.post(
        "/auth/url-token", headers=tenant.headers, json={"url": file["url"], "expiresIn": "5m"}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["signed"] is True
    assert body["url"].endswith(f"/{body['token']}/{file['key']}")
    claims = (await _keyset(origin_client)).verify(body["token"])
    assert claims.tid == tenant.tenant.id
    assert (claims.scope, claims.fid, body["scope"]) == ("exact", file["id"], "exact")  # bound to this file
    assert claims.allows(file["key"], "203.0.113.9")
    assert not claims.allows(file["key"] + "x", "203.0.113.9")
    assert 295 <= claims.exp - time.time() <= 300


@pytest.mark.parametrize(
    ("expires_in", "seconds"), [("5m", 300), ("1h", 3600), ("2d", 172800), (3600, 3600), (None, 4 * 3600)]
)
async def test_expires_in_forms_and_default_of_four_hours(origin_client, tenant, expires_in, seconds):
    file = await _upload(origin_client, tenant.headers, "a.txt", b"a")
    body = {"url": file["url"]} | ({} if expires_in is None else {"expiresIn": expires_in})
    token = (await origin_client.post("/auth/url-token", headers=tenant.headers, json=body)).json()["token"]
    claims = (await _keyset(origin_client)).verify(token)
    assert abs(claims.exp - time.time() - seconds) <= 2


async def test_video_tokens_last_at_least_twice_the_duration(origin_client, tenant, clip):
    file = await _upload(origin_client, tenant.headers, "clip.mp4", clip.read_bytes())
    token = (
        await origin_client.post("/auth/url-token", headers=tenant.headers, json={"url": file["url"], "expiresIn": 5})
    ).json()["token"]
    claims = (await _keyset(origin_client)).verify(token)
    assert claims.exp - time.time() >= 2 * CLIP_SECONDS - 2  # the clip's own length, not what the server probed


async def test_prefix_token_opens_a_directory_and_nothing_outside_it(origin_client, tenant):
    file = await _upload(origin_client, tenant.headers, "master.m3u8", b"#EXTM3U")
    response = await origin_client.post(
        "/auth/url-token", headers=tenant.headers, json={"url": file["url"], "scope": "prefix"}
    )
    body = response.json()
    prefix = file["key"].rsplit("/", 1)[0] + "/"
    assert body["url"].endswith(f"/{body['token']}/{file['key']}")  # the URL asked for, not its directory
    claims = (await _keyset(origin_client)).verify(body["token"])
    assert (claims.path, claims.aid, body["scope"]) == (prefix, None, "prefix")  # a plain directory: no stream
    assert claims.allows(prefix + "720p/seg_001.m4s", "198.51.100.1")
    assert not claims.allows(f"{tenant.tenant.id}/u1/other/x.mp4", "198.51.100.1")
    directory_url = file["url"].rsplit("/", 1)[0] + "/"
    directory = (
        await origin_client.post(
            "/auth/url-token", headers=tenant.headers, json={"url": directory_url, "scope": "prefix"}
        )
    ).json()
    assert directory["url"].endswith(f"/{directory['token']}/{prefix}")


async def _stream_of(state: OriginState, file: dict, duration: float) -> str:
    """A ready local stream of ``file`` whose outputs lie in ``{key}.stream/``; its id."""
    new = NewStream(
        tenant_id=file["key"].split("/", 1)[0],
        provider="ffmpeg",
        url=file["url"],
        source_ref=file["id"],
        meta={},
        require_signed=True,
        source_file_id=file["id"],
        bucket="default",
        output_prefix=file["key"] + ".stream/",
    )
    async with state.store.transaction() as tx:
        stream_id = await state.store.streams.insert(tx, new)
        await state.store.streams.update(tx, stream_id, status="ready", duration=duration)
    return stream_id


@pytest.mark.parametrize("scope", ["prefix", "exact"])
async def test_token_for_a_stream_playlist_answers_the_playlist_and_opens_the_stream(
    origin_client, tenant, origin_state, scope
):
    file = await _upload(origin_client, tenant.headers, "clip.mp4", b"not really a video")
    stream_id = await _stream_of(origin_state, file, duration=3600.0)
    master = f"{file['url']}.stream/master.m3u8"
    response = await origin_client.post(
        "/auth/url-token", headers=tenant.headers, json={"url": master, "scope": scope, "expiresIn": "5m"}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["url"].endswith(f"/{body['token']}/{file['key']}.stream/master.m3u8")
    assert body["scope"] == "prefix"  # an exact request for a stream output is signed for its directory
    claims = (await _keyset(origin_client)).verify(body["token"])
    assert (claims.scope, claims.path, claims.aid, claims.fid) == ("prefix", f"{file['key']}.stream/", stream_id, None)
    assert claims.allows(f"{file['key']}.stream/240p/seg_00001.m4s", "198.51.100.1")
    assert claims.exp - time.time() >= 2 * 3600 - 2  # the stream's duration, twice


async def test_exact_token_for_a_missing_stream_output_is_not_found(origin_client, tenant):
    file = await _upload(origin_client, tenant.headers, "clip.mp4", b"no stream made of it")
    response = await origin_client.post(
        "/auth/url-token", headers=tenant.headers, json={"url": f"{file['url']}.stream/master.m3u8"}
    )
    assert (response.status_code, response.json()["code"]) == (404, "FILE_NOT_FOUND")


async def test_ip_bound_token(origin_client, tenant):
    file = await _upload(origin_client, tenant.headers, "a.txt", b"a")
    token = (
        await origin_client.post(
            "/auth/url-token", headers=tenant.headers, json={"url": file["url"], "ip": "10.1.0.0/16"}
        )
    ).json()["token"]
    claims = (await _keyset(origin_client)).verify(token)
    assert claims.allows(file["key"], "10.1.2.3")
    assert not claims.allows(file["key"], "10.2.0.1")


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({}, 400),
        ({"url": "not a url"}, 400),
        ({"url": "https://e/x/zz/u/f.mp4"}, 403),
        ({"url": "https://e/x/{tid}/u1/course/missing.mp4"}, 404),
        ({"url": "https://e/x/{tid}/u1/a", "expiresIn": "soon"}, 400),
    ],
)
async def test_bad_requests_are_refused_in_seed_format(origin_client, tenant, body, status):
    body = {k: v.replace("{tid}", tenant.tenant.id) if isinstance(v, str) else v for k, v in body.items()}
    response = await origin_client.post("/auth/url-token", headers=tenant.headers, json=body)
    assert response.status_code == status
    assert response.json()["statusCode"] == status


async def test_rotation_keeps_old_tokens_valid_and_signs_new_ones_with_the_new_key(origin_client, tenant, origin_state):
    file = await _upload(origin_client, tenant.headers, "a.txt", b"a")
    old = (await origin_client.post("/auth/url-token", headers=tenant.headers, json={"url": file["url"]})).json()
    new_key = await origin_state.keys.rotate()
    new = (await origin_client.post("/auth/url-token", headers=tenant.headers, json={"url": file["url"]})).json()
    keyset = await _keyset(origin_client)
    assert len(keyset) == 2
    assert keyset.verify(old["token"]).kid != new_key.kid
    assert keyset.verify(new["token"]).kid == new_key.kid


async def test_retired_key_leaves_the_jwks_once_its_tokens_have_expired(origin_client, tenant, origin_state):
    await origin_client.get("/.well-known/jwks.json")
    await origin_state.keys.rotate()  # the first key signed nothing: it can go at once
    keyset = await _keyset(origin_client)
    assert len(keyset) == 1


async def test_garbage_token_is_refused(origin_client):
    with pytest.raises(TokenError):
        (await _keyset(origin_client)).verify("eyJhbGciOiJub25lIn0.e30.")
