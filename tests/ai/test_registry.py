"""Choosing providers by the ``[plugins.ai]`` lists, the errors that name the setting, and moderation."""

from __future__ import annotations

import pytest
from mediaedge_ai_espeak import EspeakProvider
from mediaedge_ai_openai import OpenAISettings
from mediaedge_ai_pocketsphinx import PocketSphinxProvider

from mediaedge import hookimpl
from mediaedge.ai import AIConfig, AIProviders, NotConfigured, Refusal, UnsupportedLanguage
from mediaedge.plugins import configure_plugins, get_plugin_manager
from mediaedge.settings import Settings, SettingsError
from tests.fixtures.origin import make_settings

pytestmark = pytest.mark.anyio


def providers(settings: Settings, *extra: object) -> AIProviders:
    return AIProviders(settings, get_plugin_manager(extra=extra))


async def test_defaults_are_the_local_providers(settings):
    ai = providers(settings)
    assert isinstance(ai.caption("en-GB"), PocketSphinxProvider)
    assert isinstance(await ai.speech("de"), EspeakProvider)


def test_no_image_provider_is_a_clear_not_configured_error(settings):
    with pytest.raises(NotConfigured, match=r"no image provider is configured: list one in plugins\.ai\.images") as e:
        providers(settings).image()
    assert (e.value.status, e.value.code, e.value.setting) == (503, "ai.provider.not_configured", "plugins.ai.images")


def test_listed_openai_without_base_url_names_that_setting(tmp_path):
    settings = make_settings(tmp_path, {"MEDIAEDGE_PLUGINS_AI_IMAGES": "openai"})
    with pytest.raises(NotConfigured, match="MEDIAEDGE_PLUGINS_OPENAI_BASE_URL") as e:
        providers(settings).image()
    assert e.value.setting == "plugins.openai.base_url"


def test_a_language_without_a_local_model_names_the_providers_that_serve_it(settings):
    with pytest.raises(UnsupportedLanguage) as e:
        providers(settings).caption("de-DE")
    assert e.value.candidates == ["openai"] and e.value.status == 422
    assert "providers that serve it: openai (list one in plugins.ai.captions)" in str(e.value)


def test_the_first_listed_provider_serving_the_language_wins(tmp_path):
    environ = {
        "MEDIAEDGE_PLUGINS_AI_CAPTIONS": "pocketsphinx,openai",
        "MEDIAEDGE_PLUGINS_OPENAI_BASE_URL": "http://127.0.0.1:9/v1",
    }
    ai = providers(make_settings(tmp_path, environ))
    assert ai.caption("en").name == "pocketsphinx"
    assert ai.caption("de").name == "openai"


def test_unknown_provider_names_and_bad_values_are_refused(settings, tmp_path):
    with pytest.raises(
        NotConfigured, match=r"plugins\.ai\.speech: no provider named 'nosuch' \(installed: espeak, openai\)"
    ):  # noqa: E501
        providers(settings)._listed("speech", ("nosuch",), providers(settings).speakers)
    with pytest.raises(SettingsError, match="plugins.pocketsphinx.workers"):
        PocketSphinxProvider.from_settings(make_settings(tmp_path, {"MEDIAEDGE_PLUGINS_POCKETSPHINX_WORKERS": "many"}))


class HouseRules:
    @hookimpl
    def moderate_prompt(self, prompt, kind, tenant_id, settings):
        return Refusal("house rules", "house") if "forbidden" in prompt else None


async def test_moderation_asks_every_implementation_and_one_refusal_is_enough(settings):
    ai = providers(settings, HouseRules())
    assert await ai.moderate("a calm lake", "image", "t1") is None
    refusal = await ai.moderate("a forbidden lake", "image", "t1")
    assert refusal == Refusal("house rules", "house") and refusal.code == "ai.refused.safety"


def test_start_up_accepts_the_ai_tables_variables_and_validates_them(tmp_path):
    environ = {"MEDIAEDGE_PLUGINS_OPENAI_BASE_URL": "http://127.0.0.1:9/v1", "MEDIAEDGE_PLUGINS_AI_IMAGES": "openai"}
    settings = configure_plugins(make_settings(tmp_path, environ), get_plugin_manager())
    assert settings.plugin("openai", OpenAISettings).base_url == "http://127.0.0.1:9/v1"
    assert settings.plugin("ai", AIConfig).images == ["openai"]
    with pytest.raises(SettingsError, match=r"plugins\.openai\.base_url: must be an http\(s\) URL"):
        bad = make_settings(tmp_path, {"MEDIAEDGE_PLUGINS_OPENAI_BASE_URL": "ftp://x"})
        configure_plugins(bad, get_plugin_manager())
