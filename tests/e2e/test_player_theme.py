"""Player themes in a real browser: Debian's headless Chromium driven by playwright-core
(tests/e2e/player_theme.mjs) against a real ``mediaedge up``.

The browser logs in to the dashboard, makes a theme on the Players page (colours, a PNG logo at the
bottom left, autoplay + muted, no download button), then opens the embed page with ``player=ID``: the
page's computed colours are the theme's, the video element autoplays muted without the download
button, the logo is drawn where the theme says. Given to the video as ``player_id`` (``PATCH
/api/videos/ID``), the same theme applies to the video's embed page without ``player``. Screenshots
are kept in test-artifacts/ (docs/dashboard.md shows the Players page).
"""

from __future__ import annotations

import json
import subprocess

import httpx
import pytest

from loadtests.up import mediaedge_up
from tests.e2e.test_player import ARTIFACTS, node_driver
from tests.fixtures.media import make_png

pytestmark = pytest.mark.slow

THEME = {"background": "#123456", "text": "#fedcba", "accent": "#ff8800"}


def rgb(colour: str) -> str:
    """``#rrggbb`` as ``getComputedStyle`` shows it."""
    r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgb({r}, {g}, {b})"


@pytest.fixture
def theme_driver() -> list[str]:
    return node_driver("player_theme.mjs")


def test_a_theme_made_on_the_players_page_styles_the_embed_player(theme_driver, tmp_path, clip):
    ARTIFACTS.mkdir(exist_ok=True)
    logo = make_png(tmp_path / "logo.png", "orange", "120x40")
    with mediaedge_up(tmp_path / "var", log=tmp_path / "mediaedge.log") as node:
        with clip.open("rb") as f:
            uploaded = httpx.post(
                f"{node.origin}/upload/direct-upload",
                headers={"API-Key": node.api_key},
                files={"file": ("lesson.mp4", f, "video/mp4")},
                timeout=60,
            )
        assert uploaded.status_code == 201, uploaded.text
        file_id = uploaded.json()["id"]
        listed = httpx.post(
            f"{node.origin}/api/videos", headers={"Authorization": f"Bearer {node.api_key}"}, json={}, timeout=30
        )
        video_id = next(v["id"] for v in listed.json()["data"]["videos"])
        config = {
            "origin": node.origin,
            "apiKey": node.api_key,
            "fileId": file_id,
            "videoId": video_id,
            "logo": str(logo),
            "theme": THEME,
            "screenshots": str(ARTIFACTS),
        }
        run = subprocess.run([*theme_driver, json.dumps(config)], capture_output=True, text=True, timeout=180)
        assert run.returncode == 0, run.stderr
        report = json.loads(run.stdout)
        assert report["ok"], f"{report.get('error')}\nsteps: {report['steps']}\nconsole: {report['console'][-10:]}"
        assert report["playerId"].startswith("pl_")
        assert report["patch"]["status"] == 200, report["patch"]
        video = httpx.get(f"{node.origin}/api/videos/{video_id}", headers={"Authorization": f"Bearer {node.api_key}"})
        assert video.json()["data"]["player_theme"]["name"] == "Academy player"

    for applied in (report["byParameter"], report["byVideo"]):
        assert applied["background"] == applied["videoBackground"] == rgb(THEME["background"])
        assert applied["text"] == rgb(THEME["text"])
        assert applied["accent"] == rgb(THEME["accent"])
        assert applied["autoplay"] is True and applied["muted"] is True
        assert applied["paused"] is False and applied["currentTime"] > 1  # it started on its own
        assert applied["controls"] is True and "nodownload" in applied["controlsList"]
        assert "nofullscreen" not in applied["controlsList"]
        assert applied["watermark"] == "Academy"
        logo_shown = applied["logo"]
        assert (logo_shown["width"], logo_shown["height"]) == (120, 40) and logo_shown["display"] != "none"
        assert f"/embed/players/{report['playerId']}/logo?v=" in logo_shown["src"]
        assert logo_shown["left"] < 50 and logo_shown["bottom"] > applied["viewport"]["height"] / 2  # bottom left
    assert (ARTIFACTS / "dashboard-players.png").stat().st_size > 10_000
