"""Plugins' own settings tables, duplicate names refused at start, startup called with the real tier."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import pytest
from mediaedge_stream_ffmpeg import FfmpegProvider

from mediaedge import hookimpl
from mediaedge.plugins import PluginError, configure_plugins, get_plugin_manager, start_plugins
from mediaedge.settings import PositiveFloat, Settings, SettingsError, load_settings, settings_table
from mediaedge.storage import MemoryStorage
from mediaedge.streams import MemoryStreamProvider
from tests.fixtures.origin import make_settings


@settings_table
class EchoSettings:
    greeting: str = "hello"
    delay: PositiveFloat = 1.0
    mode: Literal["fast", "slow"] = "fast"
    loud: bool = False


class EchoPlugin:
    def __init__(self) -> None:
        self.started: list[tuple[str, EchoSettings]] = []

    @hookimpl
    def plugin_settings(self) -> dict[str, type[Any]]:
        return {"echo": EchoSettings}

    @hookimpl
    def startup(self, settings: Settings, tier: str) -> None:
        self.started.append((tier, settings.plugin("echo", EchoSettings)))


def configured(tmp_path: Path, environ: dict[str, str] | None = None, **plugins: Any) -> EchoSettings:
    """``[plugins.echo]`` validated, from the ``plugins`` tables and ``environ``."""
    environ = {"MEDIAEDGE_DATA_DIR": str(tmp_path), **(environ or {})}
    settings = load_settings(environ=environ, overrides={"plugins": plugins})
    return configure_plugins(settings, get_plugin_manager(extra=[EchoPlugin()])).plugin("echo", EchoSettings)


def test_a_plugin_table_takes_the_schema_defaults_then_the_file_then_the_environment(tmp_path):
    assert configured(tmp_path) == EchoSettings()
    assert configured(tmp_path, echo={"greeting": "hi", "delay": 2}) == EchoSettings(greeting="hi", delay=2.0)
    environ = {"MEDIAEDGE_PLUGINS_ECHO_DELAY": "0.5", "MEDIAEDGE_PLUGINS_ECHO_LOUD": "yes"}
    assert configured(tmp_path, environ) == EchoSettings(delay=0.5, loud=True)


@pytest.mark.parametrize(
    ("table", "environ", "message"),
    [
        ({"echo": {"delay": 0}}, None, "plugins.echo.delay: must be positive (got 0)"),
        ({"echo": {"mode": "warp"}}, None, "plugins.echo.mode: must be one of fast, slow"),
        ({"echo": {"greting": "hi"}}, None, "plugins.echo.greting: unknown setting"),
        ({"echo": {"greeting": 5}}, None, "plugins.echo.greeting: "),
        ({"ehco": {"greeting": "hi"}}, None, "plugins.ehco: no loaded plugin reads this table"),
        ({}, {"MEDIAEDGE_PLUGINS_ECHO_DELAY": "soon"}, "plugins.echo.delay: expected a number, got 'soon'"),
        ({}, {"MEDIAEDGE_PLUGINS_ECHO_GRETING": "hi"}, "MEDIAEDGE_PLUGINS_ECHO_GRETING: no loaded plugin has"),
    ],
)
def test_plugin_settings_errors_name_the_key(tmp_path, table, environ, message):
    with pytest.raises(SettingsError) as info:
        configured(tmp_path, environ, **table)
    assert str(info.value).startswith(message)


def test_the_built_in_providers_read_their_own_tables(tmp_path):
    settings = make_settings(tmp_path, plugins={"ffmpeg": {"preset": "slow", "segment_seconds": 6}})
    provider = FfmpegProvider.from_settings(configure_plugins(settings, get_plugin_manager()))
    assert (provider.options.preset, provider.options.segment_seconds) == ("slow", 6.0)
    with pytest.raises(SettingsError, match="plugins.ffmpeg.segment_seconds: must be a multiple of"):
        configure_plugins(make_settings(tmp_path, plugins={"ffmpeg": {"segment_seconds": 5}}), get_plugin_manager())
    with pytest.raises(SettingsError, match="plugins.streams: no loaded plugin"):  # not where they used to be
        configure_plugins(make_settings(tmp_path, plugins={"streams": {}}), get_plugin_manager())


@pytest.mark.parametrize("tier", ["origin", "worker", "edge"])
def test_startup_gets_the_tier_and_the_validated_settings(tmp_path, tier: Literal["origin", "worker", "edge"]):
    plugin = EchoPlugin()
    settings = make_settings(tmp_path, plugins={"echo": {"greeting": "hi"}})
    started = start_plugins(settings, get_plugin_manager(extra=[plugin]), tier)
    assert plugin.started == [(tier, EchoSettings(greeting="hi"))]
    assert started.plugins.config["echo"] == EchoSettings(greeting="hi")


class SecondMemory(MemoryStreamProvider):
    """Another plugin's provider that claims the name ``memory`` too."""


class Providers:
    def __init__(self, *classes: type) -> None:
        self.classes = list(classes)

    @hookimpl
    def register_stream_providers(self) -> list[type]:
        return self.classes


class Backends(Providers):
    @hookimpl
    def register_storage_backends(self) -> list[type]:
        return self.classes


class OtherEcho:
    @hookimpl
    def plugin_settings(self) -> dict[str, type[Any]]:
        @settings_table
        class Other:
            x: int = 1

        return {"echo": Other}


@pytest.mark.parametrize(
    ("plugins", "message"),
    [
        (
            [Providers(MemoryStreamProvider), Providers(SecondMemory)],
            "two plugins provide the stream provider 'memory'",
        ),
        (
            [Backends(type("Local2", (MemoryStorage,), {"kind": "local"}))],  # the built-in local's kind
            "two plugins provide the storage backend kind 'local'",
        ),
        ([EchoPlugin(), OtherEcho()], "plugins.echo: two plugins read this table"),
    ],
)
def test_two_plugins_claiming_one_name_are_refused_at_start(tmp_path, plugins, message):
    with pytest.raises(PluginError, match=message):
        start_plugins(make_settings(tmp_path), get_plugin_manager(extra=plugins), "origin")


def test_one_plugin_registering_its_class_twice_is_not_a_conflict(tmp_path):
    pm = get_plugin_manager(extra=[Providers(MemoryStreamProvider), Providers(MemoryStreamProvider)])
    start_plugins(make_settings(tmp_path), pm, "origin")


@pytest.mark.anyio
async def test_origin_worker_and_edge_processes_start_their_plugins_with_their_tier(tmp_path):
    from edge.app import create_app
    from origin.state import OriginState

    plugin = EchoPlugin()
    pm = get_plugin_manager(extra=[plugin])
    settings = make_settings(tmp_path, plugins={"echo": {"mode": "slow"}})
    for tier in ("origin", "worker"):
        state = await OriginState.open(settings, pm, tier=tier)
        await state.close()
        assert state.settings.plugin("echo", EchoSettings).mode == "slow"
    edge = create_app(settings, pm=pm)
    await edge.client.aclose()
    assert [tier for tier, _ in plugin.started] == ["origin", "worker", "edge"]
    with pytest.raises(SettingsError, match="plugins.echo.mode"):
        create_app(make_settings(tmp_path, plugins={"echo": {"mode": "warp"}}), pm=pm)
