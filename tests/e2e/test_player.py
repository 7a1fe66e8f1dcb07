"""The embed player in a real browser: Debian's headless Chromium driven by playwright-core (tests/e2e/player.mjs).

A real ``mediaedge up`` transcodes the test clip; a page on another origin iframes the embed player
the way the seed shows, and the test checks the postMessage API (ready with the duration, play,
seek, getState, pause) and that every segment came from the edge. The screenshot is kept in
test-artifacts/player.png.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import pytest

from loadtests.seed import seed
from loadtests.up import mediaedge_up

pytestmark = pytest.mark.slow

HERE = Path(__file__).parent
ARTIFACTS = HERE.parent.parent / "test-artifacts"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
SEEK_TO = 6.0
SEGMENT_SUFFIXES = (".ts", ".m4s", ".aac", ".mp4")
TEST_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>embed test</title>
<script>
window.playerEvents = [];
window.addEventListener('message', (e) => {{
  if (e.data && e.data.source === {source}) window.playerEvents.push(e.data);
}});
</script></head>
<body style="margin:0">
<iframe id="player" src="{src}" width="800" height="450" frameborder="0"
        allow="autoplay; fullscreen; encrypted-media" allowfullscreen></iframe>
</body></html>
"""


@contextlib.contextmanager
def serve_page(html: str) -> Iterator[str]:
    """Serve ``html`` at every path of a loopback HTTP server (the embedding site); its URL."""
    body = html.encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/course/lesson-1"
    finally:
        server.shutdown()
        server.server_close()


def node_driver(script: str) -> list[str]:
    """The command that runs ``tests/e2e/{script}`` (a playwright-core driver); skips the test without
    Chromium, fails it without playwright-core."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"NO BROWSER TEST: {CHROMIUM} is missing (apt-get install chromium chromium-driver)")
    if not (HERE / "node_modules" / "playwright-core").is_dir():
        pytest.fail("playwright-core is not installed: npm install --prefix tests/e2e --no-audit --no-fund")
    return [shutil.which("node") or "node", str(HERE / script)]


@pytest.fixture
def browser_driver() -> list[str]:
    return node_driver("player.mjs")


def test_embed_plays_a_transcoded_stream_through_the_edge(browser_driver, tmp_path, clip):
    ARTIFACTS.mkdir(exist_ok=True)
    screenshot = ARTIFACTS / "player.png"
    with mediaedge_up(tmp_path / "var", log=tmp_path / "mediaedge.log") as node:
        data = seed(node.origin, node.api_key, clip, timeout=120)
        query = {
            "file": data["file_id"],
            "api_key": node.api_key,
            "muted": "true",
            "user_name": "Ada <Viewer>",
            "user_email": "ada@example.com",
        }
        embed = f"{node.origin}/embed?{urlencode(query)}"
        with serve_page(TEST_PAGE.format(source=json.dumps("aauti-embed"), src=embed)) as page:
            run = subprocess.run(
                [*browser_driver, page, str(screenshot), str(SEEK_TO)], capture_output=True, text=True, timeout=90
            )
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout)
    assert report["ok"], f"{report.get('error')}\nevents: {report['events'][-5:]}\nconsole: {report['console']}"
    events = report["events"]

    ready = next(e for e in events if e["event"] == "ready")
    assert ready["playerType"] == "hls.js"
    assert ready["duration"] == pytest.approx(data["duration"], abs=0.5)
    before_seek = [e["currentTime"] for e in events if e["event"] == "timeupdate" and e["currentTime"] < SEEK_TO]
    assert max(before_seek) - min(before_seek) >= 2.0
    assert any(e["event"] == "statechange" and e["state"]["currentTime"] >= SEEK_TO for e in events)
    assert not [e for e in events if e["event"] == "error"]

    edge = urlsplit(node.edge).netloc
    segments = [r for r in report["responses"] if urlsplit(r["url"]).path.endswith(SEGMENT_SUFFIXES)]
    assert len(segments) >= 3, report["responses"]
    assert all(urlsplit(r["url"]).netloc == edge and r["status"] in (200, 206) for r in segments), segments
    assert not [f for f in report["failures"] if f["error"] != "net::ERR_ABORTED"], report["failures"]
    leaking = [
        r["url"]
        for r in report["responses"]
        if r["url"] != embed and (node.api_key in r["url"] or node.api_key in (r["referer"] or ""))
    ]
    assert not leaking, "the API key left the embed page"
    assert screenshot.stat().st_size > 10_000
