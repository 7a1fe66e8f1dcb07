"""``/api/v1/media/ai/*`` on an origin with the real local providers (PocketSphinx, espeak-ng) and the
OpenAI-compatible provider pointed at the local fake (images, moderation): jobs run by a worker,
results stored in the catalogue, moderation, budgets, the caption rate limit and idempotency."""

from __future__ import annotations

import asyncio
import struct
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from mediaedge.ai import Cue, Transcript, Word
from mediaedge.settings import Settings
from mediaedge.testing.ai import SpokenMedia, ffprobe, found_at_their_times, make_spoken_video
from origin.state import OriginState
from origin.worker import Worker
from tests.ai.conftest import RunningFake
from tests.ai.fake_openai import API_KEY
from tests.fixtures.origin import TenantAuth, make_settings

pytestmark = pytest.mark.anyio

AI = "/api/v1/media/ai"
FAST: dict[str, Any] = {
    "jobs": {"lease_seconds": 30.0, "heartbeat_seconds": 1.0, "poll_interval": 0.05, "backoff_scale": 0.0}
}


@pytest.fixture
def settings(tmp_path: Path, openai_fake: RunningFake) -> Settings:
    return make_settings(
        tmp_path / "var",
        **FAST,
        media={"caption_rate": 10, "rate_window": 3600},  # one window for the whole test
        plugins={
            "ai": {"images": ["openai"], "blocklist": ["forbidden topic"]},
            "openai": {"base_url": openai_fake.base_url, "api_key": API_KEY, "moderation": True, "retries": 0},
            "pocketsphinx": {"workers": 1},
        },
    )


def bearer(tenant: TenantAuth) -> dict[str, str]:
    return {"Authorization": f"Bearer {tenant.api_key}"}


async def drain(state: OriginState) -> int:
    worker, ran = Worker(state), 0
    while await worker.run_one():
        ran += 1
    return ran


async def job(client: httpx.AsyncClient, tenant: TenantAuth, job_id: str) -> dict[str, Any]:
    response = await client.get(f"{AI}/jobs/{job_id}", headers=bearer(tenant))
    assert response.status_code == 200, response.text
    return dict(response.json()["data"])


async def ai_events(state: OriginState, tenant: TenantAuth) -> list[dict[str, Any]]:
    deliveries = await state.store.webhooks.recent(tenant.tenant.id, limit=500)
    return [orjson.loads(d.body) for d in sorted(deliveries, key=lambda d: d.created_at) if d.event_type == "ai"]


async def upload(client: httpx.AsyncClient, tenant: TenantAuth, path: Path) -> str:
    response = await client.post(
        "/upload/direct-upload", headers=tenant.headers, files={"file": (path.name, path.read_bytes())}
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


@pytest.fixture(scope="module")
def spoken(tmp_path_factory: pytest.TempPathFactory) -> SpokenMedia:
    return make_spoken_video(tmp_path_factory.mktemp("spoken"))


# -- captions --------------------------------------------------------------------------------------


async def test_captions_are_generated_from_speech_with_the_words_at_their_times(
    origin_client, origin_state, tenant, spoken
):
    asset_id = await upload(origin_client, tenant, spoken.path)
    body = {"assetId": asset_id, "language": "en-US", "reviewRequired": True}
    response = await origin_client.post(f"{AI}/generate-caption", headers=bearer(tenant), json=body)
    assert response.status_code == 202, response.text
    queued = response.json()["data"]
    assert (queued["kind"], queued["status"], queued["assetId"], queued["provider"]) == (
        "caption",
        "queued",
        asset_id,
        "pocketsphinx",
    )
    assert response.headers["location"] == f"{AI}/jobs/{queued['id']}"

    assert await drain(origin_state) >= 1
    done = await job(origin_client, tenant, queued["id"])
    assert done["status"] == "ready", done
    assert done["progress"] == 100.0 and done["error"] is None
    assert done["charged"]["unit"] == "caption_minutes"
    assert done["charged"]["amount"] == pytest.approx(spoken.words[-1][2] / 60, abs=0.05)

    captions = await origin_state.store.captions.list(asset_id)
    assert len(captions) == 1
    caption = captions[0]
    assert (caption.id, caption.language, caption.format, caption.source, caption.approved) == (
        done["captionId"],
        "en-US",
        "vtt",
        "generated",
        False,
    )  # review was asked for
    backend = origin_state.backends["local"]
    vtt = b"".join([chunk async for chunk in backend.open_range(caption.key)]).decode()
    assert vtt.startswith("WEBVTT")

    stored = await origin_state.store.transcripts.get(asset_id, "en-US")
    assert stored is not None and stored.caption_id == caption.id
    transcript = Transcript(
        "en-US",
        tuple(
            Cue(c["start"], c["end"], c["text"], tuple(Word(w["text"], w["start"], w["end"]) for w in c["words"]))
            for c in stored.cues
        ),
    )
    found = found_at_their_times(transcript, spoken)
    assert len(found) >= 3, (found, stored.text)
    assert all(word in vtt.lower() for word in found[:3])

    events = await ai_events(origin_state, tenant)
    assert [(e["data"]["id"], e["data"]["status"]) for e in events] == [(queued["id"], "ready")]

    again = await origin_client.post(f"{AI}/generate-caption", headers=bearer(tenant), json=body)
    assert again.status_code == 200 and again.headers["idempotent-replayed"] == "true"
    assert again.json()["data"]["id"] == queued["id"]
    assert await drain(origin_state) == 0  # no second job
    assert len(await origin_state.store.captions.list(asset_id)) == 1


async def test_a_language_without_a_provider_names_the_ones_that_could_serve_it(origin_client, tenant, spoken):
    asset_id = await upload(origin_client, tenant, spoken.path)
    response = await origin_client.post(
        f"{AI}/generate-caption", headers=bearer(tenant), json={"assetId": asset_id, "language": "de"}
    )
    assert (response.status_code, response.json()["code"]) == (422, "ai.language.unsupported")
    assert "openai" in response.json()["message"] and "plugins.ai.captions" in response.json()["message"]


async def test_media_without_speech_fails_the_job_with_the_reason_and_is_not_charged(
    origin_client, origin_state, tenant, tmp_path
):
    silent = tmp_path / "silent.mp4"
    proc = await asyncio.create_subprocess_exec(
        "ffmpeg",
        "-hide_banner",
        "-loglevel",
        "error",
        "-f",
        "lavfi",
        "-i",
        "testsrc=duration=1:size=160x120",
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-pix_fmt",
        "yuv420p",
        str(silent),
    )
    assert await proc.wait() == 0
    asset_id = await upload(origin_client, tenant, silent)
    response = await origin_client.post(
        f"{AI}/generate-caption", headers=bearer(tenant), json={"assetId": asset_id, "language": "en"}
    )
    assert response.status_code == 202, response.text
    await drain(origin_state)
    failed = await job(origin_client, tenant, response.json()["data"]["id"])
    assert failed["status"] == "failed"
    assert failed["error"]["code"] == "ai.rejected", failed
    assert failed["charged"]["amount"] == 0.0
    assert [e["data"]["status"] for e in await ai_events(origin_state, tenant)] == ["failed"]
    assert await origin_state.store.captions.list(asset_id) == []


async def test_caption_requests_are_limited_per_user_like_the_rest_of_the_media_api(origin_client, tenant, spoken):
    asset_id = await upload(origin_client, tenant, spoken.path)
    english = ["en-US", "en-GB", "en-AU", "en-CA", "en-IE", "en-IN", "en-NZ", "en-ZA", "en-SG", "en-PH", "en-JM"]
    answers = [
        await origin_client.post(
            f"{AI}/generate-caption", headers=bearer(tenant), json={"assetId": asset_id, "language": language}
        )
        for language in english
    ]
    assert [a.status_code for a in answers] == [202] * 10 + [429]
    assert [a.headers["ratelimit-remaining"] for a in answers[:10]] == [str(n) for n in range(9, -1, -1)]
    assert answers[-1].json()["code"] == "rate.limited" and int(answers[-1].headers["retry-after"]) > 0
    other = await origin_client.post(
        f"{AI}/generate-image", headers=bearer(tenant), json={"prompt": "not a caption", "size": "256x256"}
    )
    assert other.status_code == 202  # only caption generation is limited


# -- speech ----------------------------------------------------------------------------------------


async def test_speech_becomes_a_generated_audio_asset(origin_client, origin_state, tenant):
    body = {"text": "Hello from the generated audio test.", "voice": "en-us", "language": "en-US", "format": "ogg"}
    response = await origin_client.post(f"{AI}/generate-audio", headers=bearer(tenant), json=body)
    assert response.status_code == 202, response.text
    await drain(origin_state)
    done = await job(origin_client, tenant, response.json()["data"]["id"])
    assert done["status"] == "ready", done
    asset = await origin_state.store.assets.get(tenant.tenant.id, done["assetId"])
    assert asset is not None
    assert (asset.kind, asset.source, asset.status, asset.mime, asset.file_id) == (
        "audio",
        "generated",
        "ready",
        "audio/ogg",
        asset.id,
    )
    file = await origin_state.store.files.get(asset.id)
    assert file is not None and file.status == "ready"
    probe = ffprobe(Path(origin_state.backends["local"].local_path(file.key) or ""))
    assert probe["streams"][0]["codec_name"] == "opus"
    seconds = float(probe["format"]["duration"])
    assert done["charged"] == {"unit": "audio_seconds", "amount": pytest.approx(seconds, abs=0.1)}
    assert done["result"]["format"] == "ogg"


async def test_voices_are_listed_and_an_unknown_voice_is_refused(origin_client, tenant):
    listed = await origin_client.get(f"{AI}/voices", headers=bearer(tenant), params={"language": "en"})
    assert listed.status_code == 200
    voices = listed.json()["data"]
    assert voices and all(v["provider"] == "espeak" and v["language"].lower().startswith("en") for v in voices)
    assert "en-us" in {v["id"] for v in voices}
    refused = await origin_client.post(
        f"{AI}/generate-audio", headers=bearer(tenant), json={"text": "hi", "voice": "no-such-voice", "language": "en"}
    )
    assert (refused.status_code, refused.json()["code"]) == (422, "ai.rejected")


# -- images ----------------------------------------------------------------------------------------


def png_size(data: bytes) -> tuple[int, int]:
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    width, height = struct.unpack(">II", data[16:24])
    return width, height


async def test_an_image_is_generated_by_the_configured_provider(origin_client, origin_state, tenant, openai_fake):
    body = {"prompt": "a lighthouse at dusk", "size": "512x512", "style": "natural", "aspectRatio": "1:1"}
    response = await origin_client.post(f"{AI}/generate-image", headers=bearer(tenant), json=body)
    assert response.status_code == 202, response.text
    assert response.json()["data"]["provider"] == "openai" and response.json()["data"]["model"] == "dall-e-3"
    await drain(origin_state)
    done = await job(origin_client, tenant, response.json()["data"]["id"])
    assert done["status"] == "ready", done
    asset = await origin_state.store.assets.get(tenant.tenant.id, done["assetId"])
    assert asset is not None and (asset.kind, asset.source, asset.mime) == ("image", "generated", "image/png")
    file = await origin_state.store.files.get(asset.id)
    assert file is not None
    data = b"".join([chunk async for chunk in origin_state.backends["local"].open_range(file.key)])
    assert png_size(data) == (512, 512)
    asked = [fields for path, fields in openai_fake.fake.requests if path == "/v1/images/generations"]
    assert asked == [
        {
            "model": "dall-e-3",
            "prompt": "a lighthouse at dusk",
            "n": 1,
            "size": "512x512",
            "response_format": "b64_json",
            "style": "natural",
        }
    ]


async def test_an_invalid_image_request_is_refused_before_any_work(origin_client, tenant, openai_fake):
    for body, status, code in [
        ({"size": "512x512"}, 400, "validation.required"),
        ({"prompt": "x", "size": "huge"}, 422, "ai.rejected"),
        ({"prompt": "x", "size": "512x512", "aspectRatio": "16:9"}, 422, "ai.rejected"),
    ]:
        response = await origin_client.post(f"{AI}/generate-image", headers=bearer(tenant), json=body)
        assert (response.status_code, response.json()["code"]) == (status, code), response.text
    assert not [p for p, _ in openai_fake.fake.requests if p == "/v1/images/generations"]


# -- moderation, budgets, idempotency --------------------------------------------------------------


@pytest.mark.parametrize(
    ("prompt", "source"),
    [
        ("a bomb in the city", "openai"),  # the moderation endpoint flags it
        ("a picture of the FORBIDDEN   Topic", "blocklist"),  # plugins.ai.blocklist, every tenant
        ("the competitor's logo", "blocklist"),  # this tenant's own list
    ],
)
async def test_refused_prompts_answer_ai_refused_safety_and_queue_nothing(
    origin_client, origin_state, tenant, prompt, source
):
    await origin_state.store.ai.set_policy(tenant.tenant.id, blocklist=["competitor's logo"])
    for path, body in [
        ("generate-image", {"prompt": prompt, "size": "256x256"}),
        ("generate-audio", {"text": prompt, "voice": "en-us", "language": "en"}),
    ]:
        response = await origin_client.post(f"{AI}/{path}", headers=bearer(tenant), json=body)
        assert (response.status_code, response.json()["code"]) == (422, "ai.refused.safety"), response.text
        assert f"({source})" in response.json()["message"]
    assert await drain(origin_state) == 0


async def test_a_word_that_merely_contains_a_blocked_term_passes(origin_client, tenant, origin_state):
    await origin_state.store.ai.set_policy(tenant.tenant.id, blocklist=["cat"])
    response = await origin_client.post(
        f"{AI}/generate-image", headers=bearer(tenant), json={"prompt": "a catalogue cover", "size": "256x256"}
    )
    assert response.status_code == 202, response.text


async def test_the_budget_refuses_work_beyond_it_and_a_replay_is_free(origin_client, origin_state, tenant):
    await origin_state.store.ai.set_policy(tenant.tenant.id, budgets={"images": 2})
    first = {"prompt": "a red boat", "size": "256x256"}
    assert (await origin_client.post(f"{AI}/generate-image", headers=bearer(tenant), json=first)).status_code == 202
    second = await origin_client.post(
        f"{AI}/generate-image", headers=bearer(tenant), json={"prompt": "a blue boat", "size": "256x256"}
    )
    assert second.status_code == 202
    await drain(origin_state)
    refused = await origin_client.post(
        f"{AI}/generate-image", headers=bearer(tenant), json={"prompt": "a green boat", "size": "256x256"}
    )
    assert (refused.status_code, refused.json()["code"]) == (402, "ai.refused.budget")
    replay = await origin_client.post(f"{AI}/generate-image", headers=bearer(tenant), json=first)
    assert replay.status_code == 200 and replay.json()["data"]["status"] == "ready"
    assert await drain(origin_state) == 0


async def test_two_identical_requests_at_once_make_one_generation(origin_client, origin_state, tenant, openai_fake):
    body = {"prompt": "two at once", "size": "256x256"}
    answers = await asyncio.gather(
        *(origin_client.post(f"{AI}/generate-image", headers=bearer(tenant), json=body) for _ in range(5))
    )
    assert sorted(a.status_code for a in answers) == [200, 200, 200, 200, 202]
    assert len({a.json()["data"]["id"] for a in answers}) == 1
    assert await drain(origin_state) == 1
    assert len([p for p, _ in openai_fake.fake.requests if p == "/v1/images/generations"]) == 1


async def test_a_generation_needs_a_bearer_key_and_stays_in_its_tenant(origin_client, origin_state, tenant):
    response = await origin_client.post(f"{AI}/generate-image", json={"prompt": "x", "size": "256x256"})
    assert (response.status_code, response.json()["code"]) == (401, "auth.missing")
    mine = await origin_client.post(
        f"{AI}/generate-image", headers=bearer(tenant), json={"prompt": "mine", "size": "256x256"}
    )
    other, other_key = await origin_state.store.tenants.create("other", origin_state.settings.storage.default)
    theirs = await origin_client.get(
        f"{AI}/jobs/{mine.json()['data']['id']}", headers={"Authorization": f"Bearer {other_key}"}
    )
    assert (theirs.status_code, theirs.json()["code"]) == (404, "ai.job.not_found")


async def test_without_an_image_provider_the_endpoint_answers_503_naming_the_setting(tmp_path: Path):
    from origin.app import create_app

    bare = make_settings(tmp_path / "bare")
    state = await OriginState.open(bare)
    try:
        _, key = await state.store.tenants.create("t", bare.storage.default)
        app = create_app(bare, state)
        app.state.origin = state
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://o") as client:
            response = await client.post(
                f"{AI}/generate-image",
                headers={"Authorization": f"Bearer {key}"},
                json={"prompt": "a cat", "size": "256x256"},
            )
    finally:
        await state.close()
    assert (response.status_code, response.json()["code"]) == (503, "ai.provider.not_configured")
    assert "plugins.ai.images" in response.json()["message"]


async def test_the_rate_limit_counts_each_user_of_a_key_apart(origin_client, tenant, spoken):
    asset_id = await upload(origin_client, tenant, spoken.path)
    english = ["en-US", "en-GB", "en-AU", "en-CA", "en-IE", "en-IN", "en-NZ", "en-ZA", "en-SG", "en-PH", "en-JM"]
    for user, expected in (("alice", [202] * 10 + [429]), ("bob", [202])):
        headers = {**bearer(tenant), "X-User-Id": user}
        answers = [
            await origin_client.post(
                f"{AI}/generate-caption",
                headers=headers,
                json={"assetId": asset_id, "language": language, "reviewRequired": user == "bob"},
            )
            for language in english[: len(expected)]
        ]
        assert [a.status_code for a in answers] == expected, [a.text for a in answers]
    bad = await origin_client.get(f"{AI}/voices", headers={**bearer(tenant), "X-User-Id": "no spaces"})
    assert (bad.status_code, bad.json()["code"]) == (400, "validation.user.invalid")


async def test_a_spent_budget_refuses_even_a_request_of_unknown_size(origin_client, origin_state, tenant, spoken):
    asset_id = await upload(origin_client, tenant, spoken.path)
    await origin_state.store.assets.update(tenant.tenant.id, asset_id, duration=None)  # nothing to estimate from
    await origin_state.store.ai.set_policy(tenant.tenant.id, budgets={"caption_minutes": 0.01})
    first = await origin_client.post(
        f"{AI}/generate-caption", headers=bearer(tenant), json={"assetId": asset_id, "language": "en"}
    )
    assert first.status_code == 202
    await drain(origin_state)  # charged the media's minutes once recognised
    again = await origin_client.post(
        f"{AI}/generate-caption", headers=bearer(tenant), json={"assetId": asset_id, "language": "en-GB"}
    )
    assert (again.status_code, again.json()["code"]) == (402, "ai.refused.budget")


async def test_a_new_generated_track_replaces_the_earlier_one_of_its_language(
    origin_client, origin_state, tenant, spoken
):
    asset_id = await upload(origin_client, tenant, spoken.path)
    for review in (True, False):
        response = await origin_client.post(
            f"{AI}/generate-caption",
            headers=bearer(tenant),
            json={"assetId": asset_id, "language": "en-US", "reviewRequired": review},
        )
        assert response.status_code == 202, response.text
        await drain(origin_state)
    (caption,) = await origin_state.store.captions.list(asset_id)
    assert (caption.source, caption.approved, caption.key.endswith(".captions/en-US.generated.vtt")) == (
        "generated",
        True,
        True,
    )
    transcript = await origin_state.store.transcripts.get(asset_id, "en-US")
    assert transcript is not None and transcript.caption_id == caption.id
