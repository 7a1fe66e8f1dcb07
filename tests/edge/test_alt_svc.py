"""An edge that serves HTTP/3 (``edge.http3_port``) advertises it with exactly one ``Alt-Svc`` on every
answer, whichever way it is reached: the app, the fast path's replays, the lean server; errors too. An
edge without HTTP/3 advertises nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from edge.app import create_app
from mediaedge.settings import Settings, SettingsError, load_settings
from tests.edge.fakes import ORIGIN, PUBLIC, SECRET, FakeCache, FakeOrigin
from tests.edge.serving import edge_client

pytestmark = pytest.mark.anyio


def _settings(tmp_path: Path, **edge: object) -> Settings:
    return load_settings(
        environ={},
        overrides={
            "data_dir": str(tmp_path),
            "cluster": {"edge_secret": SECRET},
            "edge": {"origin_url": ORIGIN, **edge},
        },
    )


@pytest.fixture
async def h3_client(tmp_path: Path, cache: FakeCache, origin: FakeOrigin, via: str) -> AsyncIterator[httpx.AsyncClient]:
    settings = _settings(tmp_path, tls_cert="edge.crt", tls_key="edge.key", http3_port=8443)
    async with create_app(settings, cache=cache, transport=origin.transport()) as app, edge_client(app, via) as http:
        yield http


async def test_every_answer_advertises_http3_once(h3_client: httpx.AsyncClient):
    answers = [await h3_client.get(f"/f1/{PUBLIC}") for _ in range(3)]  # recorded, then replayed
    answers.append(await h3_client.get(f"/f1/{PUBLIC}", headers={"Range": "bytes=0-9"}))
    answers.append(await h3_client.get("/f1/t1/u1/videos/missing.mp4"))
    assert [a.status_code for a in answers] == [200, 200, 200, 206, 404]
    for answer in answers:
        assert answer.headers.get_list("alt-svc") == ['h3=":8443"; ma=86400']


async def test_no_http3_no_alt_svc(client: httpx.AsyncClient):
    answers = [await client.get(f"/f1/{PUBLIC}") for _ in range(2)]
    assert [("alt-svc" in a.headers, a.status_code) for a in answers] == [(False, 200)] * 2


@pytest.mark.parametrize(
    ("edge", "message"),
    [
        ({"http3_port": 8443}, "edge.http3_port: HTTP/3 needs TLS"),
        ({"http3_port": 70000, "tls_cert": "c", "tls_key": "k"}, "edge.http3_port: must be a UDP port"),
        ({"tls_cert": "c"}, "edge.tls_key: edge.tls_cert and edge.tls_key go together"),
    ],
)
def test_http3_settings_are_checked(tmp_path: Path, edge: dict[str, object], message: str):
    with pytest.raises(SettingsError, match=message):
        _settings(tmp_path, **edge)
