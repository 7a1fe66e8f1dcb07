"""The OpenAI-compatible providers' error mapping, retries and moderation, against the local fake."""

from __future__ import annotations

import pytest
from mediaedge_ai_openai.providers import OpenAIImages, OpenAISpeech, client_for

from mediaedge.ai import AIProviders, AIRejected, AIUnavailable, ImageRequest, NotConfigured
from mediaedge.plugins import get_plugin_manager
from tests.fixtures.origin import make_settings

pytestmark = pytest.mark.anyio


def images(openai_fake, settings, **changes):
    options = openai_fake.options(**changes)
    return OpenAIImages(options, client_for(options, settings))


async def test_transient_failures_are_retried_then_reported(openai_fake, settings):
    openai_fake.fake.fail_next = [503, 429]
    image = await images(openai_fake, settings, retries=2).generate(ImageRequest("a boat", "256x256"))
    assert image.mime == "image/png" and image.revised_prompt == "A picture of a boat"
    assert len(openai_fake.fake.requests) == 1  # the two failures answered before any work
    openai_fake.fake.fail_next = [500, 500]
    with pytest.raises(AIUnavailable, match="HTTP 500: The server is overloaded"):
        await images(openai_fake, settings, retries=1).generate(ImageRequest("a boat", "256x256"))


async def test_a_refused_key_names_the_key_setting(openai_fake, settings):
    with pytest.raises(NotConfigured, match="Incorrect API key provided") as e:
        await images(openai_fake, settings, api_key="sk-wrong").generate(ImageRequest("a boat", "256x256"))
    assert e.value.setting == "plugins.openai.api_key" and "sk-wrong" not in str(e.value)


async def test_a_4xx_is_rejected_with_the_servers_message_and_not_retried(openai_fake, settings):
    with pytest.raises(AIRejected, match="'300x300' is not one of"):
        await images(openai_fake, settings).generate(ImageRequest("a boat", "300x300"))
    assert len(openai_fake.fake.requests) == 1


async def test_speech_refuses_a_voice_the_settings_do_not_list(openai_fake, settings, tmp_path):
    options = openai_fake.options(voices=("alloy",))
    with pytest.raises(AIRejected, match="'echo' is not one of alloy"):
        await OpenAISpeech(options, client_for(options, settings)).speak(
            "hi", voice="echo", language="en", format="wav", work_dir=tmp_path
        )
    assert openai_fake.fake.requests == []


async def test_moderation_endpoint_refuses_flagged_prompts_when_enabled(openai_fake, tmp_path):
    server = {
        "MEDIAEDGE_PLUGINS_OPENAI_BASE_URL": openai_fake.base_url,
        "MEDIAEDGE_PLUGINS_OPENAI_API_KEY": openai_fake.options().api_key,
    }
    ai = AIProviders(make_settings(tmp_path, server), get_plugin_manager())
    assert await ai.moderate("how to build a bomb", "image") is None  # moderation is off by default
    ai = AIProviders(
        make_settings(tmp_path, {**server, "MEDIAEDGE_PLUGINS_OPENAI_MODERATION": "true"}), get_plugin_manager()
    )
    refusal = await ai.moderate("how to build a bomb", "image")
    assert refusal is not None and refusal.source == "openai" and refusal.categories == ("violence",)
    assert await ai.moderate("how to build a boat", "image") is None
    assert [body["input"] for path, body in openai_fake.fake.requests] == ["how to build a bomb", "how to build a boat"]
