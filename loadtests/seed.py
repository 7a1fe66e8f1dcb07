"""Seed a running origin for the load test: upload a clip, transcode it, sign playback URLs.

    python -m loadtests.seed --origin http://127.0.0.1:8000 --api-key KEY [--clip FILE] [--out seed.json]

Writes what ``loadtests/locustfile.py`` reads (``LOADTEST_SEED``): the origin and edge URLs, the API
key, the file's access URL and duration, a signed MP4 URL and a signed HLS master playlist URL (one
prefix token for the stream's folder, as players use it). Without ``--clip`` a 10 s clip is made.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from tests.fixtures.media import make_clip

TOKEN_LIFETIME = "4h"


def _check(response: httpx.Response, status: int = 200) -> dict[str, Any]:
    if response.status_code != status:
        raise RuntimeError(
            f"{response.request.method} {response.request.url.path}: {response.status_code} {response.text[:300]}"
        )
    body: dict[str, Any] = response.json()
    return body


def wait_for_stream(client: httpx.Client, stream_id: str, timeout: float) -> dict[str, Any]:
    """Poll ``GET /streams/v1/{id}`` until the stream is ready; raise if it fails or takes too long."""
    deadline = time.monotonic() + timeout
    while True:
        stream = _check(client.get(f"/streams/v1/{stream_id}"))
        if stream["status"] == "ready":
            return stream
        if stream["status"] == "failed" or time.monotonic() > deadline:
            raise RuntimeError(f"stream {stream_id} is {stream['status']}: {stream.get('error') or 'timed out'}")
        time.sleep(0.5)


def _signed(client: httpx.Client, url: str, scope: str = "exact") -> str:
    body = _check(client.post("/auth/url-token", json={"url": url, "scope": scope, "expiresIn": TOKEN_LIFETIME}))
    return str(body["url"])


def seed(origin: str, api_key: str, clip: Path, timeout: float = 180.0) -> dict[str, Any]:
    """Upload ``clip``, make its HLS stream and return the load test's seed data."""
    with httpx.Client(base_url=origin, headers={"API-Key": api_key}, timeout=60.0) as client:
        with clip.open("rb") as f:
            file = _check(
                client.post(
                    "/upload/direct-upload",
                    files={"file": (clip.name, f, "video/mp4")},
                    data={"userId": "loadtest", "destination": "seed"},
                ),
                201,
            )
        created = _check(
            client.post("/streams/v1/create", json={"streams": [{"url": file["url"], "meta": {"name": "loadtest"}}]}),
            201,
        )
        stream_id = created["ids"][0] if created["ids"] else created["existing"][0]["id"]
        stream = wait_for_stream(client, stream_id, timeout)
        return {
            "origin": origin,
            "edge": f"{urlsplit(file['url']).scheme}://{urlsplit(file['url']).netloc}",
            "api_key": api_key,
            "file_id": file["id"],
            "file_url": file["url"],
            "duration": file["duration"],
            "mp4": _signed(client, file["url"]),
            "hls": _signed(client, stream["hls_url"], scope="prefix"),  # the playlist, signed for its folder
            "stream_id": stream_id,
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--origin", required=True)
    parser.add_argument("--api-key", required=True)
    parser.add_argument("--clip", type=Path, help="video to upload (default: a generated 10 s clip)")
    parser.add_argument("--out", type=Path, default=Path("seed.json"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        clip = args.clip or make_clip(Path(tmp) / "clip.mp4")
        data = seed(args.origin, args.api_key, clip)
    args.out.write_text(json.dumps(data, indent=2))
    print(f"seeded file {data['file_id']} and stream {data['stream_id']} → {args.out}")


if __name__ == "__main__":
    main()
