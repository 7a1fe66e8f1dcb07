"""The dashboard in a real browser: Debian's headless Chromium driven by playwright-core (tests/e2e/dashboard.mjs)
against a real ``mediaedge up`` (origin, worker, edge) and a webhook receiver on loopback.

The browser logs in, fails to submit a form stripped of its CSRF token, points the webhook URL at the
receiver, changes the whitelist (and tests Referers in the settings page), rotates the signing key,
drops a clip on the uploads page (TUS; the progress bar reaches 100 %), plays it on its media page,
redelivers its webhook, logs out and opens the API reference (/docs). The test then checks what the
browser cannot see: the edge refuses a Referer the whitelist no longer allows, the upload's webhook
was signed with the new key, and the redelivery reached the receiver. Screenshots are kept in
test-artifacts/ (docs/dashboard.md).
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import re
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import httpx
import pytest

from loadtests._procs import free_port
from loadtests.up import mediaedge_up
from origin.dashboard.views import USAGE_SERIES
from tests.e2e.test_player import ARTIFACTS, node_driver

pytestmark = pytest.mark.slow


@dataclass
class Hook:
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    port: int
    hooks: list[Hook] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"


@contextlib.contextmanager
def webhook_receiver() -> Iterator[Receiver]:
    """A loopback HTTP server recording every POST and answering 200."""
    receiver = Receiver(free_port())

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            receiver.hooks.append(Hook({k.lower(): v for k, v in self.headers.items()}, body))
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", "8")
            self.end_headers()
            self.wfile.write(b"received")

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", receiver.port), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()


def signed_with(hook: Hook, key: str) -> bool:
    expected = "sha256=" + hmac.new(key.encode(), hook.body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(hook.headers["webhook-signature"], expected)


def poll(check, timeout: float = 30.0, interval: float = 0.2):
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(interval)


@pytest.fixture
def browser_driver() -> list[str]:
    return node_driver("dashboard.mjs")


def test_dashboard_in_a_browser(browser_driver, tmp_path, clip):
    ARTIFACTS.mkdir(exist_ok=True)
    with webhook_receiver() as receiver:
        env = {
            "MEDIAEDGE_NET_ALLOW": f"127.0.0.1:{receiver.port}",
            "MEDIAEDGE_EDGE_TENANT_TTL": "1",
            "MEDIAEDGE_WEBHOOKS_POLL_INTERVAL": "0.1",
            "MEDIAEDGE_EDGE_USAGE_REPORT": "1",
        }
        with mediaedge_up(tmp_path / "var", env=env, log=tmp_path / "mediaedge.log") as node:
            old_key = json.loads((node.data_dir / "demo-tenant.json").read_text())["webhook_signing_key"]
            config = {
                "origin": node.origin,
                "apiKey": node.api_key,
                "clip": str(clip),
                "webhookUrl": receiver.url,
                "screenshots": str(ARTIFACTS),
            }
            run = subprocess.run([*browser_driver, json.dumps(config)], capture_output=True, text=True, timeout=240)
            assert run.returncode == 0, run.stderr
            report = json.loads(run.stdout)
            assert report["ok"], f"{report.get('error')}\nsteps: {report['steps']}\nconsole: {report['console'][-10:]}"

            # Login: the cookie is HttpOnly and SameSite=Strict, scoped to /dashboard; logout ended it.
            cookie = report["cookie"]
            assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and cookie["path"] == "/dashboard"
            assert not cookie["secure"]  # plain HTTP here; Secure under TLS (tests/dashboard/test_session.py)
            assert report["cookieVisibleToScript"] is False
            assert report["afterLogout"] == "/dashboard/login"

            # The form without its CSRF token was refused and changed nothing.
            assert report["csrf"]["status"] == 403 and report["csrf"]["body"]["code"] == "CSRF_INVALID"
            assert "csrf-attack.example" not in report["domains"]
            assert report["testRefused"].startswith("Refused") and "ORIGIN_NOT_WHITELISTED" in report["testRefused"]
            assert report["testAllowed"].startswith("Allowed")

            # The upload went over TUS to the dashboard's endpoint, the bar moving up to 100 %.
            assert report["uploadState"] == "done", report["uploadText"]
            assert report["progress"][-1] == 100 and report["progressShown"] == "100 %"
            assert report["progress"] == sorted(report["progress"])
            tus = [r for r in report["responses"] if urlsplit(r["url"]).path.startswith("/dashboard/tus/files")]
            assert {r["method"] for r in tus} >= {"POST"} and all(r["status"] in (201, 204) for r in tus), tus
            file_id = report["fileId"]
            assert file_id and report["mediaListed"] == 1

            # It played on its media page, from the edge, though the whitelist does not name this host.
            assert report["played"]["currentTime"] >= 1.5 and report["played"]["error"] is None
            edge = urlsplit(node.edge).netloc
            media = [r for r in report["responses"] if urlsplit(r["url"]).netloc == edge]
            assert media and all(r["status"] in (200, 206) for r in media), media
            assert not [r["url"] for r in report["responses"] if node.api_key in r["url"]]

            # The edge now refuses a Referer the whitelist no longer allows, and serves an allowed one
            # (the player's own signed URL; edges cache tenant policy for edge.tenant_ttl, 1 s here).
            play_url = report["played"]["src"]
            assert urlsplit(play_url).netloc == edge
            refused = poll(lambda: httpx.get(play_url, headers={"Referer": "https://evil.example/"}).status_code == 403)
            assert refused, "the edge still serves a Referer the whitelist dropped"
            answer = httpx.get(play_url, headers={"Referer": "https://evil.example/", "Range": "bytes=0-15"})
            assert answer.json()["code"] == "ORIGIN_NOT_WHITELISTED"
            allowed = httpx.get(play_url, headers={"Referer": "https://www.school.example/", "Range": "bytes=0-15"})
            assert allowed.status_code == 206

            # The upload's webhook was signed with the key the browser rotated to, not the old one.
            new_key = report["signingKey"]
            assert new_key.startswith("whsec_") and new_key != old_key
            uploaded = [h for h in receiver.hooks if json.loads(h.body).get("data", {}).get("key") == file_id]
            assert uploaded, [h.body for h in receiver.hooks]
            assert all(signed_with(h, new_key) and not signed_with(h, old_key) for h in uploaded)
            # Redelivered: the same Webhook-Id reached the receiver twice.
            ids = [h.headers["webhook-id"] for h in receiver.hooks]
            assert ids.count(report["deliveryId"]) == 2 and report["attemptRows"] == 2
            assert report["charts"] == len(USAGE_SERIES)  # every series drew its chart
            # The edge's usage report reached the origin: the playback is egress and requests.
            assert re.fullmatch(r"[\d.]+ [KMG]?B", report["edgeBytes"]) and report["edgeBytes"] != "0 B"
            assert re.fullmatch(r"[\d,]+ requests?", report["edgeRequests"]) and report["edgeRequests"] != "0 requests"
            # The API reference renders (Swagger UI under the page's CSP), one section per dialect.
            tags = " ".join(report["docsTags"])
            assert "aauti" in tags and "edge" in tags and report["docsOperations"] >= 30
            assert report["docsErrors"] == []

    for name in ("login", "settings", "uploads", "media", "webhook", "usage"):
        assert (ARTIFACTS / f"dashboard-{name}.png").stat().st_size > 10_000
