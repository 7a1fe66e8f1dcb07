"""Media pages: the catalogue (search, filters, paging), an asset's page (player preview, renditions and
streams with live status, captions, signed URL generator, iframe snippet); API keys on the settings page."""

from __future__ import annotations

import html
import re
import time
from urllib.parse import parse_qs, urlsplit

import pytest

from mediaedge.tokens import KeySet
from origin.catalogue.assets import file_stored
from origin.catalogue.status import Status
from origin.store import FileMeta
from tests.dashboard.conftest import csrf_of

pytestmark = pytest.mark.anyio


async def stored_file(state, tenant_id: str, name: str, mime: str = "video/mp4", duration: float | None = 12.0):
    record, _ = await state.store.files.register(
        tenant_id,
        "default",
        f"{tenant_id}/u/{name}",
        name,
        "u",
        True,
        FileMeta(size=4096, etag="e", mime=mime, duration=duration),
    )
    async with state.store.transaction() as tx:
        return await file_stored(state.store, record, tx), record


async def test_catalogue_lists_searches_filters_and_pages(browser):
    store, tenant_id = browser.state.store, browser.auth.tenant.id
    made = [
        await store.assets.create(
            tenant_id, kind="video", title=f"Lesson {n:02d}", status=Status.READY.value, dialect="videos"
        )
        for n in range(30)
    ]
    await store.assets.create(tenant_id, kind="audio", title="Podcast <one>", tags=["show"], dialect="media")
    other, _ = await store.tenants.create("other", browser.state.settings.storage.default)
    await store.assets.create(other.id, kind="video", title="Lesson secret")

    first = await browser.client.get("/dashboard/media")
    assert first.status_code == 200
    assert "31 items, showing 1–25" in first.text
    assert first.text.count("data-asset-id=") == 25 and "Lesson secret" not in first.text
    nxt = html.unescape(re.search(r'href="([^"]+)" id="next-page"', first.text).group(1))
    second = await browser.client.get(nxt)
    assert second.text.count("data-asset-id=") == 6 and 'id="next-page"' not in second.text

    found = await browser.client.get("/dashboard/media", params={"q": "lesson 0"})
    assert found.text.count("data-asset-id=") == 10
    assert all(f'data-asset-id="{a.id}"' in found.text for a in made[:10])
    audio = await browser.client.get("/dashboard/media", params={"kind": "audio"})
    assert audio.text.count("data-asset-id=") == 1 and "Podcast &lt;one&gt;" in audio.text
    by_tag = await browser.client.get("/dashboard/media", params={"q": "show"})
    assert "Podcast &lt;one&gt;" in by_tag.text
    queued = await browser.client.get("/dashboard/media", params={"status": "queued"})
    assert queued.text.count("data-asset-id=") == 1


async def test_media_page_plays_in_a_preview_the_whitelist_does_not_block(browser):
    state, tenant_id = browser.state, browser.auth.tenant.id
    await state.store.tenants.update(tenant_id, whitelisted_domains=["school.example"])
    asset, record = await stored_file(state, tenant_id, "talk.mp4")
    await state.store.renditions.add(asset.id, "hls", "720p", status=Status.PROCESSING)
    await state.store.captions.add(asset.id, "en", format="vtt", key=f"{tenant_id}/u/talk.en.vtt", label="English")

    page = await browser.client.get(f"/dashboard/media/{asset.id}")
    assert page.status_code == 200
    assert "English" in page.text and "720p" in page.text
    assert 'id="media-live"' in page.text  # a rendition is unfinished: the page polls
    src = html.unescape(re.search(r'<iframe id="player" src="([^"]+)"', page.text).group(1))
    assert "api_key" not in src
    referer = f"http://origin.test/dashboard/media/{asset.id}"
    player = await browser.client.get(src, headers={"Referer": referer})
    assert player.status_code == 200, player.text
    assert "frame-ancestors 'self'" in player.headers["content-security-policy"]
    assert "school.example" not in player.headers["content-security-policy"]
    # The preview token plays on the dashboard only: another site framing it is refused.
    elsewhere = await browser.client.get(src, headers={"Referer": "https://school.example/page"})
    assert elsewhere.status_code == 403
    # An ordinary embed of the same file still obeys the whitelist.
    token = parse_qs(urlsplit(src).query)["token"][0]
    assert token
    plain = await browser.client.get(
        "/embed", params={"file": record.id, "api_key": browser.auth.api_key}, headers={"Referer": referer}
    )
    assert plain.status_code == 403

    status = (await browser.client.get(f"/dashboard/media/{asset.id}/status")).json()
    assert status["status"] == "ready" and status["final"] is False
    assert [r["status"] for r in status["renditions"]] == ["processing"]
    snippet = html.unescape(
        re.search(r'<pre class="snippet" id="iframe-snippet">(.*?)</pre>', page.text, re.S).group(1)
    )
    assert snippet.startswith(f'<iframe src="{state.settings.origin.url}/embed?file={record.id}&api_key=YOUR_API_KEY"')


async def test_signed_url_generator(browser):
    state = browser.state
    asset, record = await stored_file(state, browser.auth.tenant.id, "clip.mp4", duration=None)
    page = f"/dashboard/media/{asset.id}"
    answer = await browser.post(
        f"{page}/signed-url", {"expires_in": "5m", "scope": "exact", "ip": "203.0.113.0/24"}, page=page
    )
    assert answer.status_code == 200, answer.text
    url = html.unescape(re.search(r'id="signed-url-value">([^<]+)<', answer.text).group(1))
    token, key = url.removeprefix(state.settings.edge.url + "/").split("/", 1)
    assert key == record.key
    jwks = (await browser.client.get("/.well-known/jwks.json")).json()
    claims = KeySet.from_jwks(jwks).verify(token)
    assert (claims.tid, claims.path, claims.scope, claims.fid) == (
        browser.auth.tenant.id,
        record.key,
        "exact",
        record.id,
    )
    assert str(claims.ip) == "203.0.113.0/24"
    assert claims.exp - time.time() == pytest.approx(300, abs=5)

    bad = await browser.post(f"{page}/signed-url", {"expires_in": "soon", "scope": "exact"}, page=page)
    assert bad.status_code == 400 and "expiresIn" in bad.text
    no_stream = await browser.post(f"{page}/signed-url", {"expires_in": "1h", "scope": "prefix"}, page=page)
    assert no_stream.status_code == 400 and "This media has no ready stream to sign" in no_stream.text
    forged = await browser.client.post(f"{page}/signed-url", data={"expires_in": "1h"})
    assert forged.status_code == 403


async def test_other_tenants_media_is_not_found(browser):
    other, _ = await browser.state.store.tenants.create("other", browser.state.settings.storage.default)
    asset, _ = await stored_file(browser.state, other.id, "theirs.mp4")
    assert (await browser.client.get(f"/dashboard/media/{asset.id}")).status_code == 404
    assert (await browser.client.get(f"/dashboard/media/{asset.id}/status")).status_code == 404


async def test_api_keys_created_listed_and_revoked(browser):
    created = await browser.post("/dashboard/settings/keys", {"name": "ci <deploy>", "pair": "1"})
    assert created.status_code == 200
    secret = re.search(r'id="new-api-key">([^<]+)<', created.text).group(1)
    assert "ci &lt;deploy&gt;" in created.text and "pk_" in created.text
    found = await browser.state.store.api_keys.authenticate(secret)
    assert found is not None and found[1].name == "ci <deploy>" and found[1].public_key
    again = await browser.client.get("/dashboard/settings")
    assert secret not in again.text and again.text.count("data-key-id=") == 2
    assert (await browser.post("/dashboard/settings/keys", {"name": ""})).status_code == 400

    revoked = await browser.post(f"/dashboard/settings/keys/{found[1].id}/revoke", {})
    assert revoked.status_code == 200 and "API key revoked." in revoked.text
    assert await browser.state.store.api_keys.authenticate(secret) is None
    assert (await browser.post(f"/dashboard/settings/keys/{found[1].id}/revoke", {})).status_code == 404


async def test_revoking_the_login_key_ends_the_session(browser):
    [default] = await browser.state.store.api_keys.list(browser.auth.tenant.id)
    revoked = await browser.post(f"/dashboard/settings/keys/{default.id}/revoke", {})
    assert "this session has ended" in revoked.text
    assert (await browser.client.get("/dashboard/settings")).status_code == 303
    page = await browser.client.get("/dashboard/login")
    answer = await browser.client.post(
        "/dashboard/login", data={"csrf": csrf_of(page.text), "api_key": browser.auth.api_key}
    )
    assert answer.status_code == 401
