"""``run_origin`` hands the settings it was given to every uvicorn worker process."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from mediaedge.settings import WORKER_SETTINGS_ENV, Settings
from mediaedge.uvicorn_http import LingeringHttpToolsProtocol
from origin import asgi, server
from tests.fixtures.servers import free_port


def test_run_origin_passes_settings_to_workers(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    import uvicorn

    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kwargs: calls.append({"app": app, **kwargs}))
    monkeypatch.delenv(WORKER_SETTINGS_ENV, raising=False)
    port = free_port()  # run_origin checks that the port is free
    tuned = settings.replace(origin=dataclasses.replace(settings.origin, port=port, workers=3))
    server.run_origin(tuned)
    (call,) = calls
    assert call["app"] == "origin.asgi:app" and call["factory"]
    assert (call["port"], call["workers"], call["http"]) == (port, 3, LingeringHttpToolsProtocol)
    built: list[Settings] = []
    monkeypatch.setattr(asgi, "create_app", lambda s: built.append(s) or "app")
    assert asgi.app() == "app"
    assert built == [tuned]  # what every worker process rebuilds, overrides given in code included
