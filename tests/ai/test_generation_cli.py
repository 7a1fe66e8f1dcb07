"""``mediaedge ai budget|blocklist|usage``, run as an operator runs them; the API sees what they set."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from mediaedge.settings import load_settings
from origin.app import create_app
from origin.state import OriginState
from tests.test_cli import mediaedge

pytestmark = pytest.mark.anyio


async def test_budgets_and_block_list_set_by_the_cli_hold_in_the_api(tmp_path: Path):
    created = json.loads(mediaedge(tmp_path, "tenant", "create", "acme", "--json").stdout)

    usage = json.loads(mediaedge(tmp_path, "ai", "usage", "acme", "--json").stdout)
    assert {unit: row["budget"] for unit, row in usage["units"].items()} == {
        "images": None,
        "audio_seconds": None,
        "caption_minutes": None,
    }

    set_budget = mediaedge(tmp_path, "ai", "budget", "acme", "--audio-seconds", "1", "--images", "3", "--json")
    report = json.loads(set_budget.stdout)
    assert report["units"]["audio_seconds"] == {"used": 0.0, "budget": 1.0}
    assert report["units"]["images"] == {"used": 0.0, "budget": 3.0}
    assert report["period"]["from"].endswith("-01T00:00:00.000Z")

    terms = json.loads(
        mediaedge(tmp_path, "ai", "blocklist", "acme", "--add", "secret project", "--add", "rival", "--json").stdout
    )
    assert terms == ["secret project", "rival"]
    terms = json.loads(mediaedge(tmp_path, "ai", "blocklist", "acme", "--remove", "rival", "--json").stdout)
    assert terms == ["secret project"]

    settings = load_settings(environ={"MEDIAEDGE_DATA_DIR": str(tmp_path)})
    state = await OriginState.open(settings)
    try:
        app = create_app(settings, state)
        app.state.origin = state
        headers = {"Authorization": f"Bearer {created['api_key']}"}
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://o") as client:
            refused = await client.post(
                "/api/v1/media/ai/generate-audio",
                headers=headers,
                json={"text": "about the Secret  Project", "voice": "", "language": "en"},
            )
            assert (refused.status_code, refused.json()["code"]) == (422, "ai.refused.safety")
            # ten words are estimated at four seconds of speech: beyond the one-second budget
            long = await client.post(
                "/api/v1/media/ai/generate-audio",
                headers=headers,
                json={"text": "one two three four five six seven eight nine ten", "voice": "", "language": "en"},
            )
            assert (long.status_code, long.json()["code"]) == (402, "ai.refused.budget")
            shown = await client.get("/api/v1/media/ai/usage", headers=headers)
            assert shown.json()["data"]["units"]["audio_seconds"] == {"used": 0.0, "budget": 1.0}
    finally:
        await state.close()

    back = json.loads(mediaedge(tmp_path, "ai", "budget", "acme", "--default", "--json").stdout)
    assert back["units"]["audio_seconds"]["budget"] is None


def test_unknown_tenant_and_negative_budget_are_refused(tmp_path: Path):
    assert mediaedge(tmp_path, "ai", "usage", "ghost", check=False).returncode == 1
    mediaedge(tmp_path, "tenant", "create", "acme")
    result = mediaedge(tmp_path, "ai", "budget", "acme", "--images", "-1", check=False)
    assert result.returncode == 2 and "must not be negative" in result.stderr
