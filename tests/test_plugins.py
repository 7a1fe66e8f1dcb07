"""The plugin system: entry-point discovery, block-list, and a third-party storage backend in use."""

from __future__ import annotations

import httpx
import pytest

from mediaedge.backends import build_backends
from mediaedge.plugins import get_plugin_manager, plugin_infos
from mediaedge.settings import SettingsError
from origin.app import create_app
from origin.state import OriginState
from tests.fixtures.origin import make_settings
from tests.plugins import dict_storage


def test_built_in_backends_are_plugins_loaded_from_the_entry_point_group():
    infos = {i.name: i for i in plugin_infos(get_plugin_manager())}
    assert infos["storage_local"].hooks == ("register_storage_backends",)
    assert infos["storage_s3"].module == "mediaedge_storage_s3"
    assert infos["storage_local"].version == "0.1.0"


def test_blocked_plugins_are_not_loaded_and_their_kinds_are_unknown(tmp_path):
    pm = get_plugin_manager(block=["storage_s3"])
    assert "storage_s3" not in {i.name for i in plugin_infos(pm)}
    settings = make_settings(tmp_path, storage={"backends": {"s3": {"kind": "s3", "bucket": "b"}}})
    with pytest.raises(SettingsError, match=r"storage.backends.s3.kind: no plugin provides 's3'"):
        build_backends(settings, pm)


def test_a_backend_option_error_names_the_setting(tmp_path):
    pm = get_plugin_manager(extra=[dict_storage])
    settings = make_settings(tmp_path, storage={"backends": {"mem": {"kind": "dict"}}})
    with pytest.raises(SettingsError, match=r"storage.backends.mem.namespace: required"):
        build_backends(settings, pm)


@pytest.mark.anyio
async def test_origin_stores_uploads_through_a_third_party_backend(tmp_path):
    pm = get_plugin_manager(extra=[dict_storage])
    settings = make_settings(
        tmp_path, storage={"default": "mem", "backends": {"mem": {"kind": "dict", "namespace": "t1"}}}
    )
    state = await OriginState.open(settings, pm)
    try:
        _, api_key = await state.store.tenants.create("plugged", settings.storage.default)
        app = create_app(settings, state)
        app.state.origin = state
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://o") as client:
            response = await client.post(
                "/upload/direct-upload", headers={"API-Key": api_key}, files={"file": ("hello.txt", b"hello plugin")}
            )
        assert response.status_code == 201, response.text
        assert dict_storage.STORED[f"t1:{response.json()['key']}"] == b"hello plugin"
    finally:
        await state.close()
