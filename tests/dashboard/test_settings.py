"""General settings: the whitelist (as the edge matches it) and its tester, the webhook URL (SSRF-checked),
signing key rotation; CSRF refusals leave everything unchanged."""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.anyio


async def _tenant(browser):
    return await browser.state.store.tenants.get(browser.auth.tenant.id)


async def test_whitelist_is_saved_normalised(browser):
    answer = await browser.post(
        "/dashboard/settings/whitelist",
        {
            "domains": "Example.COM\nhttps://www.example.com:8443/path\n*.cdn.example.org\nbücher.example",
            "app_ids": "com.example.app\nweb-1",
        },
    )
    assert answer.status_code == 200, answer.text
    assert "Whitelist saved" in answer.text
    tenant = await _tenant(browser)
    assert tenant.whitelisted_domains == [
        "example.com",
        "www.example.com",
        "*.cdn.example.org",
        "xn--bcher-kva.example",
    ]
    assert tenant.app_ids == ["com.example.app", "web-1"]


async def test_bad_entries_are_refused_and_nothing_changes(browser):
    answer = await browser.post(
        "/dashboard/settings/whitelist",
        {"domains": "good.example\nnot a host\n*.\nexample.com/../x?y", "app_ids": "has space"},
    )
    assert answer.status_code == 400
    assert "Not a host name: not a host" in answer.text
    assert "Not an app ID: has space" in answer.text
    assert "good.example" in answer.text  # the form keeps what was typed
    tenant = await _tenant(browser)
    assert tenant.whitelisted_domains == [] and tenant.app_ids == []


async def test_the_tester_answers_what_the_edge_would(browser):
    await browser.post("/dashboard/settings/whitelist", {"domains": "*.school.example", "app_ids": "app-1"})

    async def verdict(**query: str) -> str:
        page = await browser.client.get("/dashboard/settings", params=query)
        match = re.search(r'id="test-result">\s*(.*?)</p>', page.text, re.S)
        assert match, page.text
        return " ".join(match.group(1).split())

    assert (await verdict(referer="https://www.school.example/lesson")).startswith("Allowed")
    assert "ORIGIN_NOT_WHITELISTED" in await verdict(referer="https://school.example/")  # the bare domain is not
    assert "ORIGIN_NOT_WHITELISTED" in await verdict(referer="https://school.example.evil.com/")
    assert "ORIGIN_NOT_WHITELISTED" in await verdict(referer="https://www.school.example@evil.com/")
    assert "APP_NOT_WHITELISTED" in await verdict(app_id="other-app")
    assert (await verdict(app_id="app-1")).startswith("Allowed")
    # The origin's own pages (the embed player) always pass: they check the whitelist themselves.
    own = browser.state.settings.origin.url
    assert (await verdict(referer=f"{own}/embed")).startswith("Allowed")


async def test_edges_get_the_whitelist_with_the_origins_host(browser):
    await browser.post("/dashboard/settings/whitelist", {"domains": "school.example", "app_ids": ""})
    answer = await browser.client.get(
        f"/_edge/tenants/{browser.auth.tenant.id}", headers={"X-Mediaedge-Edge-Secret": browser.state.edge_secret}
    )
    assert answer.json()["whitelisted_domains"] == ["school.example", "127.0.0.1"]
    await browser.post("/dashboard/settings/whitelist", {"domains": "", "app_ids": ""})
    answer = await browser.client.get(
        f"/_edge/tenants/{browser.auth.tenant.id}", headers={"X-Mediaedge-Edge-Secret": browser.state.edge_secret}
    )
    assert answer.json()["whitelisted_domains"] == []  # no whitelist: nothing to add to


@pytest.mark.parametrize(
    "url, reason",
    [
        ("http://127.0.0.1:9000/hook", "loopback"),
        ("http://10.1.2.3/hook", "private"),
        ("http://[::ffff:169.254.169.254]/latest", "link-local"),
        ("http://0x7f.1/hook", "loopback"),
        ("ftp://example.com/hook", "Only http and https"),
        ("https://user:pw@example.com/hook", "credentials"),
    ],
)
async def test_webhook_urls_the_dispatcher_would_refuse_are_refused(browser, url, reason):
    answer = await browser.post("/dashboard/settings/webhook", {"webhook_url": url})
    assert answer.status_code == 400
    assert "Webhook URL refused" in answer.text and reason in answer.text
    assert (await _tenant(browser)).webhook_url == ""


async def test_webhook_url_saved_and_cleared(browser):
    answer = await browser.post("/dashboard/settings/webhook", {"webhook_url": "https://93.184.215.14/hooks"})
    assert answer.status_code == 200, answer.text
    assert (await _tenant(browser)).webhook_url == "https://93.184.215.14/hooks"
    answer = await browser.post("/dashboard/settings/webhook", {"webhook_url": ""})
    assert "Webhooks turned off" in answer.text
    assert (await _tenant(browser)).webhook_url == ""


async def test_an_allowed_loopback_receiver_passes(browser):
    browser.state.settings = browser.state.settings.replace(
        net=type(browser.state.settings.net)(allow=["127.0.0.1:9000"], connect_timeout=1.0, timeout=1.0)
    )
    answer = await browser.post("/dashboard/settings/webhook", {"webhook_url": "http://127.0.0.1:9000/hook"})
    assert answer.status_code == 200
    assert (await _tenant(browser)).webhook_url == "http://127.0.0.1:9000/hook"


async def test_signing_key_rotation_shows_the_new_key_once(browser):
    old = (await _tenant(browser)).webhook_signing_key
    answer = await browser.post("/dashboard/settings/signing-key", {})
    assert answer.status_code == 200
    new = (await _tenant(browser)).webhook_signing_key
    assert new != old and new.startswith("whsec_")
    assert f'id="new-signing-key">{new}<' in answer.text
    assert old not in answer.text
    assert new not in (await browser.client.get("/dashboard/settings")).text


@pytest.mark.parametrize(
    "path, data",
    [
        ("/dashboard/settings/whitelist", {"domains": "evil.example", "app_ids": ""}),
        ("/dashboard/settings/webhook", {"webhook_url": "https://93.184.215.14/x"}),
        ("/dashboard/settings/signing-key", {}),
    ],
)
async def test_forms_without_the_csrf_token_change_nothing(browser, path, data):
    before = await _tenant(browser)
    for csrf in (None, "", "wrong-token"):
        body = dict(data) if csrf is None else {**data, "csrf": csrf}
        answer = await browser.client.post(path, data=body)
        assert answer.status_code == 403
        assert answer.json() == {
            "statusCode": 403,
            "error": "Forbidden",
            "code": "CSRF_INVALID",
            "message": answer.json()["message"],
        }
    assert await _tenant(browser) == before


async def test_editor_registration(browser):
    answer = await browser.post(
        "/dashboard/settings/editor",
        {"callback_url": "https://api.example.com/editor-events", "cors_origins": "https://editor.example.com"},
    )
    assert answer.status_code == 200, answer.text
    assert re.search(r"<title>([^<]*)</title>", answer.text).group(1) == "General settings · mediaedge"
    assert answer.text.count('id="editor-api-key"') == 1  # the new key is shown once, in its card only
    key = re.search(r'id="editor-api-key">([^<]+)<', answer.text).group(1)
    found = await browser.state.store.api_keys.authenticate(key)
    assert found is not None and found[1].name == "editor"
    developer = await browser.state.store.editor.developer(browser.auth.tenant.id)
    assert developer.callback_url == "https://api.example.com/editor-events"
    assert developer.cors_origins == ["https://editor.example.com"]
    page = await browser.client.get("/dashboard/settings")
    assert key not in page.text and "https://editor.example.com" in page.text
    bad = await browser.post("/dashboard/settings/editor", {"callback_url": "ftp://x", "cors_origins": ""})
    assert bad.status_code == 400
    rotated = await browser.post(
        "/dashboard/settings/editor",
        {
            "callback_url": "https://api.example.com/editor-events",
            "cors_origins": "https://editor.example.com",
            "rotate_key": "1",
        },
    )
    new_key = re.search(r'id="editor-api-key">([^<]+)<', rotated.text).group(1)
    assert new_key != key and await browser.state.store.api_keys.authenticate(key) is None
