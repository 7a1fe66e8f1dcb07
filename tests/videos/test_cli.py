"""``mediaedge tenant create`` prints a stream key pair; ``tenant update`` rotates it and sets the credit."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mediaedge.settings import load_settings
from origin.store import open_store
from tests.test_cli import mediaedge

pytestmark = pytest.mark.anyio


async def _authenticates(data_dir: Path, public: str, secret: str) -> bool:
    store = await open_store(load_settings(environ={"MEDIAEDGE_DATA_DIR": str(data_dir)}).database.url)
    try:
        return await store.api_keys.authenticate_pair(public, secret) is not None
    finally:
        await store.close()


async def test_the_stream_key_pair_is_printed_rotated_and_the_credit_set(tmp_path: Path):
    created = json.loads(mediaedge(tmp_path, "tenant", "create", "studio", "--json").stdout)
    public, secret = created["stream_public_key"], created["stream_secret_key"]
    assert public.startswith("pk_") and secret and secret != created["api_key"]
    assert await _authenticates(tmp_path, public, secret)
    text = mediaedge(tmp_path, "tenant", "create", "other").stdout
    assert "stream_public_key: pk_" in text and "stream_secret_key: " in text

    rotated = json.loads(mediaedge(tmp_path, "tenant", "update", "studio", "--rotate-stream-keys", "--json").stdout)
    assert rotated["stream_public_key"] != public
    assert not await _authenticates(tmp_path, public, secret)  # the old pair stops working at once
    assert await _authenticates(tmp_path, rotated["stream_public_key"], rotated["stream_secret_key"])

    assert (
        json.loads(mediaedge(tmp_path, "tenant", "update", "studio", "--credit", "12.5", "--json").stdout)["credit"]
        == 12.5
    )
    assert (
        json.loads(mediaedge(tmp_path, "tenant", "update", "studio", "--credit", "unlimited", "--json").stdout)[
            "credit"
        ]
        == "unlimited"
    )
    bad = mediaedge(tmp_path, "tenant", "update", "studio", "--credit", "-3", check=False)
    assert bad.returncode != 0 and "--credit must be a non-negative amount" in bad.stderr
