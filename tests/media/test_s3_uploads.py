"""Presigned uploads straight to S3 (moto's server on loopback): the policy pins the key, the
Content-Type and the exact size and is signed with the bucket's credentials (SigV4, checked here);
the bytes go to the bucket, not through the origin; finalize hashes them from the bucket."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.fixtures.origin import make_settings
from tests.fixtures.s3 import SECRET_ACCESS_KEY
from tests.media.conftest import FAST, Media, open_media

pytestmark = pytest.mark.anyio


@pytest.fixture
async def s3_media(tmp_path: Path, s3_backend_options: dict[str, Any]) -> AsyncIterator[Media]:
    settings = make_settings(
        tmp_path / "var", storage={"default": "s3", "backends": {"s3": s3_backend_options}}, **FAST
    )
    async for media in open_media(settings):
        yield media


def _sigv4(secret: str, credential: str, policy: str) -> str:
    _, date, region, service, _ = credential.split("/")
    key = ("AWS4" + secret).encode()
    for part in (date, region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return hmac.new(key, policy.encode(), hashlib.sha256).hexdigest()


async def test_the_browser_form_goes_straight_to_the_bucket(
    s3_media: Media, s3_backend_options: dict[str, Any], s3_client: Any, clip: Path
) -> None:
    data = clip.read_bytes()
    declared = await s3_media.declare(data, "video/mp4", "clip.mp4")
    assert declared.status_code == 201, declared.text
    ticket = declared.json()["data"]
    bucket = s3_backend_options["bucket"]
    assert ticket["uploadUrl"] == f"{s3_backend_options['endpoint_url']}/{bucket}"
    fields = ticket["uploadFields"]
    key = f"{s3_media.tenant.id}/anonymous/{ticket['assetId']}/clip.mp4"
    assert fields["key"] == key and fields["Content-Type"] == "video/mp4"

    policy = json.loads(base64.b64decode(fields["policy"]))
    assert ["content-length-range", len(data), len(data)] in policy["conditions"]
    assert {"Content-Type": "video/mp4"} in policy["conditions"]
    assert {"key": key} in policy["conditions"] and {"bucket": bucket} in policy["conditions"]
    expires = datetime.fromisoformat(policy["expiration"].replace("Z", "+00:00")).timestamp()
    assert abs(expires - (time.time() + 900)) < 5
    assert fields["x-amz-algorithm"] == "AWS4-HMAC-SHA256"
    assert hmac.compare_digest(
        fields["x-amz-signature"], _sigv4(SECRET_ACCESS_KEY, fields["x-amz-credential"], fields["policy"])
    )

    async with httpx.AsyncClient() as browser:  # not through the origin
        posted = await browser.post(ticket["uploadUrl"], data=fields, files={"file": ("clip.mp4", data, "video/mp4")})
    assert posted.status_code in (200, 201, 204), posted.text
    head = s3_client.head_object(Bucket=bucket, Key=key)
    assert head["ContentLength"] == len(data) and head["ContentType"] == "video/mp4"

    finalized = await s3_media.client.post(
        f"/api/v1/media/{ticket['assetId']}/finalize", headers=s3_media.headers, json={"etag": head["ETag"]}
    )
    assert finalized.status_code == 200, finalized.text
    asset = finalized.json()["data"]
    assert asset["status"] == "pending" and (asset["width"], asset["height"]) == (640, 360)
    assert asset["sha256"] == hashlib.sha256(data).hexdigest()

    again = await s3_media.declare(data, "video/mp4", "clip-again.mp4")
    assert again.status_code == 200 and again.json()["data"]["assetId"] == ticket["assetId"]
    assert again.json()["data"]["uploadUrl"] is None  # uploaded already


async def test_bytes_that_do_not_match_the_sha256_are_removed_from_the_bucket(
    s3_media: Media, s3_backend_options: dict[str, Any], s3_client: Any
) -> None:
    declared_bytes, sent = b"what the client declared", b"what the client then sent"[:24]
    ticket = (await s3_media.declare(declared_bytes, "text/plain", "note.txt")).json()["data"]
    async with httpx.AsyncClient() as browser:
        await browser.post(ticket["uploadUrl"], data=ticket["uploadFields"], files={"file": ("n", sent, "text/plain")})
    finalized = await s3_media.client.post(f"/api/v1/media/{ticket['assetId']}/finalize", headers=s3_media.headers)
    assert finalized.status_code == 422 and finalized.json()["code"] == "validation.sha256.mismatch"
    listing = s3_client.list_objects_v2(Bucket=s3_backend_options["bucket"])
    assert listing.get("KeyCount", 0) == 0
