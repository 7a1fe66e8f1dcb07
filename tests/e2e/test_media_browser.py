"""The media API end to end in a real browser (Debian's headless Chromium, playwright-core).

``mediaedge up`` (origin, worker, edge) stores on S3 (moto's server on loopback). A page on another
origin hashes a clip with WebCrypto, asks ``POST /api/v1/media/upload-url`` for a presigned form,
posts the file straight to the bucket, finalizes, adds WebVTT captions while the asset transcodes,
waits until it is ready, follows the signed stream URL to the edge and plays it with hls.js; the
test reads the caption cue from the video's text track and checks every segment came from the edge.
The same bytes declared again answer the same asset. The screenshot is kept in test-artifacts/.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx
import pytest

from loadtests.up import mediaedge_up

pytestmark = pytest.mark.slow

HERE = Path(__file__).parent
ROOT = HERE.parent.parent
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
HLS_JS = ROOT / "origin" / "embed" / "node_modules" / "hls.js" / "dist" / "hls.min.js"
CUE = "Captions from the browser test"
#: The app's page: hashes, uploads, finalizes, captions, plays (``__CUE__`` is replaced by :data:`CUE`).
PAGE = HERE / "media_upload.html"


@contextlib.contextmanager
def serve_page(files: dict[str, tuple[bytes, str]]) -> Iterator[str]:
    """Serve ``files`` (path → body, content type) from a loopback HTTP server: the app's own site."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body, content_type = files.get(urlsplit(self.path).path, (b"not found", "text/plain"))
            self.send_response(200 if urlsplit(self.path).path in files else 404)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def s3_config(path: Path, s3: dict[str, Any]) -> Path:
    backend = "\n".join(f"{key} = {json.dumps(value)}" for key, value in s3.items())
    path.write_text(
        f'[storage]\ndefault = "s3"\n[storage.backends.s3]\n{backend}\n'
        '[plugins.ffmpeg]\npreset = "ultrafast"\n[jobs]\npoll_interval = 0.2\n'
    )
    return path


@pytest.fixture
def driver() -> list[str]:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"NO BROWSER TEST: {CHROMIUM} is missing (apt-get install chromium chromium-driver)")
    if not (HERE / "node_modules" / "playwright-core").is_dir() or not HLS_JS.exists():
        pytest.fail("node modules missing: npm ci --prefix tests/e2e && npm ci --prefix origin/embed")
    return [shutil.which("node") or "node", str(HERE / "media_upload.mjs")]


def test_a_browser_uploads_to_s3_finalizes_and_plays_with_captions(
    driver: list[str], tmp_path: Path, clip: Path, s3_backend_options: dict[str, Any], s3_client: Any
) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    screenshot = ARTIFACTS / "media-upload.png"
    data = clip.read_bytes()
    config = s3_config(tmp_path / "s3.toml", s3_backend_options)
    with mediaedge_up(tmp_path / "var", env={"MEDIAEDGE_CONFIG": str(config)}, log=tmp_path / "up.log") as node:
        files = {
            "/": (PAGE.read_text().replace("__CUE__", CUE).encode(), "text/html; charset=utf-8"),
            "/clip.mp4": (data, "video/mp4"),
            "/hls.min.js": (HLS_JS.read_bytes(), "text/javascript"),
        }
        with serve_page(files) as site:
            page = f"{site}/?{urlencode({'origin': node.origin, 'key': node.api_key})}"
            run = subprocess.run(
                [*driver, page, str(screenshot), "240000"], capture_output=True, text=True, timeout=300
            )
        assert run.returncode == 0, run.stderr
        report = json.loads(run.stdout)
        result = report["page"] or {}
        assert report["ok"] and not result.get("error"), (
            f"{report.get('error')} {result}\nconsole: {report['console'][-10:]}\n"
            f"{(tmp_path / 'up.log').read_text(errors='replace')[-3000:]}"
        )

        assert result["sha256"] == hashlib.sha256(data).hexdigest()
        bucket = s3_backend_options["bucket"]
        assert result["uploadUrl"] == f"{s3_backend_options['endpoint_url']}/{bucket}"  # straight to the bucket
        assert result["postStatus"] in (200, 201, 204) and result["finalizeStatus"] == 200
        assert result["captionStatus"] == 201
        assert s3_client.head_object(Bucket=bucket, Key=result["key"])["ContentLength"] == len(data)
        assert result["streamStatus"] == 200 and result["streamUrl"].startswith(f"{node.edge}/eyJ")
        assert result["subtitleTracks"] == ["en-US"]
        assert any(c["text"] == CUE and c["lang"] == "en-US" for c in result["cues"]), result["cues"]

        edge = urlsplit(node.edge).netloc
        segments = [r for r in report["responses"] if urlsplit(r["url"]).path.endswith((".m4s", ".vtt"))]
        assert any(r["url"].endswith(".vtt") for r in segments) and any(r["url"].endswith(".m4s") for r in segments)
        assert all(urlsplit(r["url"]).netloc == edge and r["status"] in (200, 206) for r in segments), segments
        assert not [f for f in report["failures"] if f["error"] != "net::ERR_ABORTED"], report["failures"]

        bearer = {"Authorization": f"Bearer {node.api_key}"}
        declaration = {"sha256": result["sha256"], "sizeBytes": len(data), "mime": "video/mp4", "filename": "a.mp4"}
        again = httpx.post(f"{node.origin}/api/v1/media/upload-url", headers=bearer, json=declaration)
        assert again.status_code == 200 and again.json()["data"]["assetId"] == result["assetId"]
        assert again.json()["data"]["uploadUrl"] is None
    assert screenshot.stat().st_size > 10_000
