"""The Players page: create, edit and delete player themes (CSRF-protected multipart forms, checked
colours and logos), the logo's URL, and what the embed page and the video objects API make of a theme."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.dashboard.conftest import Browser, csrf_of
from tests.dashboard.test_media import stored_file
from tests.fixtures.media import make_png

pytestmark = pytest.mark.anyio

PLAYER_ID = re.compile(r'<code class="id" id="player-id">(pl_[^<]+)</code>')
CONFIG = re.compile(r'<script id="embed-config" type="application/json">(.*?)</script>', re.S)
FORM = {
    "name": "Course player",
    "background_color": "#102030",
    "text_color": "#F0E0D0",
    "accent_color": "#ff8800",
    "watermark": "Acme Academy",
    "controls": "1",
    "buttons": ["fullscreen", "playback_rate"],
    "autoplay": "1",
    "muted": "1",
    "logo_position": "bottom-left",
}


@pytest.fixture
def logo(tmp_path: Path) -> bytes:
    return make_png(tmp_path / "logo.png", "orange", "96x32").read_bytes()


async def create(browser: Browser, logo: bytes | None, **changes: object) -> str:
    data = {"csrf": await browser.csrf("/dashboard/players"), **FORM, **changes}
    files = {"logo": ("logo.png", logo, "image/png")} if logo else {"logo": ("", b"", "application/octet-stream")}
    created = await browser.client.post("/dashboard/players", data=data, files=files)
    assert created.status_code == 303, created.text
    page = await browser.client.get(created.headers["location"])
    assert page.status_code == 200 and "Player created." in page.text
    match = PLAYER_ID.search(page.text)
    assert match
    return match.group(1)


async def test_a_player_is_created_with_its_logo_and_listed(browser: Browser, logo: bytes):
    player_id = await create(browser, logo)
    theme = await browser.state.store.player_themes.get(browser.auth.tenant.id, player_id)
    assert theme is not None
    assert (theme.name, theme.background_color, theme.text_color, theme.accent_color) == (
        "Course player",
        "#102030",
        "#f0e0d0",
        "#ff8800",
    )
    assert (theme.controls, theme.buttons, theme.autoplay, theme.muted, theme.loop) == (
        True,
        ["fullscreen", "playback_rate"],
        True,
        True,
        False,
    )
    assert (theme.watermark, theme.logo_position, theme.logo_type) == ("Acme Academy", "bottom-left", "image/png")
    listed = await browser.client.get("/dashboard/players")
    assert f'data-player-id="{player_id}"' in listed.text and "Course player" in listed.text

    image = await browser.client.get(f"/embed/players/{player_id}/logo", params={"v": theme.logo_version})
    assert image.status_code == 200 and image.content == logo
    assert image.headers["content-type"] == "image/png"
    assert image.headers["cache-control"] == "public, max-age=31536000, immutable"
    again = await browser.client.get(
        f"/embed/players/{player_id}/logo", headers={"if-none-match": image.headers["etag"]}
    )
    assert again.status_code == 304


async def test_bad_fields_and_logos_are_refused_with_the_form_kept(browser: Browser, tmp_path: Path):
    data = {"csrf": await browser.csrf("/dashboard/players"), **FORM, "background_color": "red;x", "name": ""}
    svg = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'
    refused = await browser.client.post(
        "/dashboard/players", data=data, files={"logo": ("l.svg", svg, "image/svg+xml")}
    )
    assert refused.status_code == 400
    assert "A player needs a name" in refused.text
    assert "Background colour must be a colour like #1a2b3c" in refused.text
    assert "The logo must be a PNG, JPEG, GIF or WebP image" in refused.text
    assert 'value="Acme Academy"' in refused.text  # what was typed is still there
    assert await browser.state.store.player_themes.list(browser.auth.tenant.id) == []


async def test_the_forms_need_the_session_csrf_token(browser: Browser, logo: bytes):
    missing = await browser.client.post("/dashboard/players", data=FORM)
    assert (missing.status_code, missing.json()["code"]) == (403, "CSRF_INVALID")
    player_id = await create(browser, logo)
    for path in (f"/dashboard/players/{player_id}", f"/dashboard/players/{player_id}/delete"):
        forged = await browser.client.post(path, data={**FORM, "csrf": "forged"})
        assert (forged.status_code, forged.json()["code"]) == (403, "CSRF_INVALID")
    assert await browser.state.store.player_themes.get(browser.auth.tenant.id, player_id) is not None


async def test_a_player_is_edited_its_logo_removed_and_deleted(browser: Browser, logo: bytes):
    player_id = await create(browser, logo)
    page = f"/dashboard/players/{player_id}"
    changed = {**FORM, "name": "Renamed", "accent_color": "#00ff00", "buttons": [], "muted": "", "loop": "1"}
    saved = await browser.client.post(page, data={"csrf": await browser.csrf(page), **changed, "remove_logo": "1"})
    assert saved.status_code == 200 and "Player saved." in saved.text
    theme = await browser.state.store.player_themes.get(browser.auth.tenant.id, player_id)
    assert theme is not None
    assert (theme.name, theme.accent_color, theme.buttons, theme.muted, theme.loop) == (
        "Renamed",
        "#00ff00",
        [],
        False,
        True,
    )
    assert theme.logo_version is None
    assert (await browser.client.get(f"/embed/players/{player_id}/logo")).status_code == 404

    deleted = await browser.client.post(f"{page}/delete", data={"csrf": csrf_of(saved.text)})
    assert deleted.status_code == 200 and "Player Renamed deleted." in deleted.text
    assert (await browser.client.get(page)).status_code == 404


async def test_another_tenants_player_is_not_found(browser: Browser, logo: bytes):
    other, _ = await browser.state.store.tenants.create("other", browser.state.settings.storage.default)
    theme = await browser.state.store.player_themes.create(other.id, {"name": "theirs", **_colours()}, None)
    assert (await browser.client.get(f"/dashboard/players/{theme.id}")).status_code == 404
    posted = await browser.client.post(
        f"/dashboard/players/{theme.id}/delete", data={"csrf": await browser.csrf("/dashboard/players")}
    )
    assert (posted.status_code, posted.json()["code"]) == (404, "PLAYER_NOT_FOUND")


def _colours() -> dict[str, str]:
    return {"background_color": "#000000", "text_color": "#ffffff", "accent_color": "#ffffff"}


def _config(text: str) -> dict:
    match = CONFIG.search(text)
    assert match, text
    return json.loads(match.group(1))


async def test_the_embed_page_applies_the_chosen_player(browser: Browser, logo: bytes):
    player_id = await create(browser, logo)
    _, record = await stored_file(browser.state, browser.auth.tenant.id, "lesson.mp4")
    api_key = browser.auth.api_key
    page = await browser.client.get("/embed", params={"file": record.id, "api_key": api_key, "player": player_id})
    assert page.status_code == 200, page.text
    config = _config(page.text)
    theme = config["theme"]
    assert theme["colors"] == {"background": "#102030", "text": "#f0e0d0", "accent": "#ff8800"}
    assert theme["buttons"] == ["fullscreen", "playback_rate"] and theme["logoPosition"] == "bottom-left"
    assert theme["logo"].endswith(f"/embed/players/{player_id}/logo?v=" + theme["logo"].rsplit("=", 1)[1])
    assert (config["autoplay"], config["muted"], config["loop"], config["watermark"]) == (
        True,
        True,
        False,
        "Acme Academy",
    )
    origin = browser.state.settings.origin.url
    assert f"img-src {origin};" in page.headers["content-security-policy"]

    # the query's own flags and viewer override the player's defaults
    params = {"file": record.id, "api_key": api_key, "player": player_id, "muted": "false", "user_name": "Ada"}
    overridden = _config((await browser.client.get("/embed", params=params)).text)
    assert (overridden["muted"], overridden["autoplay"], overridden["watermark"]) == (False, True, "Ada")

    other, _ = await browser.state.store.tenants.create("other", browser.state.settings.storage.default)
    theirs = await browser.state.store.player_themes.create(other.id, {"name": "theirs", **_colours()}, None)
    refused = await browser.client.get("/embed", params={"file": record.id, "api_key": api_key, "player": theirs.id})
    assert refused.status_code == 404 and _config(refused.text)["error"] == "Player not found"


async def test_a_videos_player_id_themes_its_embed_page(browser: Browser, logo: bytes):
    player_id = await create(browser, logo)
    asset, record = await stored_file(browser.state, browser.auth.tenant.id, "lesson.mp4")
    query = {"file": record.id, "api_key": browser.auth.api_key}
    assert _config((await browser.client.get("/embed", params=query)).text)["theme"] is None
    bearer = {"Authorization": f"Bearer {browser.auth.api_key}"}
    patched = await browser.client.patch(f"/api/videos/{asset.id}", headers=bearer, json={"player_id": player_id})
    assert patched.status_code == 200, patched.text
    config = _config((await browser.client.get("/embed", params=query)).text)
    assert config["theme"]["id"] == player_id and config["autoplay"] is True
    video = (await browser.client.get(f"/api/videos/{asset.id}", headers=bearer)).json()["data"]
    assert video["player_theme_id"] == player_id
    assert video["player_theme"]["logo_url"] == config["theme"]["logo"]
    assert video["player_theme"]["buttons"] == ["fullscreen", "playback_rate"]
