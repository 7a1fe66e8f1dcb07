"""Developer registration (API and CLI), CORS for the editor's origin, users, and presence over a
real WebSocket."""

from __future__ import annotations

import asyncio
import base64
import json
import subprocess
import sys
import time

import httpx
import orjson
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from mediaedge.settings import load_settings
from origin.editor.sealed import open_sealed
from origin.editor.sessions import sweep_sessions
from origin.state import OriginState
from origin.store import open_store
from tests.e2e.procs import ROOT
from tests.editor.conftest import Developer, EditorStack, Session, env_with, open_session, wait_for

pytestmark = pytest.mark.slow

EDITOR_ORIGIN = "https://editor.example"
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUHEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


def assert_error(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"statusCode", "message", "error", "code"}
    assert (body["statusCode"], body["code"]) == (status, code)


def test_registration_keeps_s3_credentials_sealed(editor_stack: EditorStack, developer: Developer) -> None:
    profile = developer.profile
    assert developer.api_key
    assert profile["outputS3Bucket"] == {"awsBucketName": "renders", "awsEndPoint": "https://s3.example"}
    assert "s3cr3t" not in json.dumps(profile) and "AKIAEXAMPLE" not in json.dumps(profile)
    assert profile["fetchFileUrl"] == f"{editor_stack.url}/api/dev/files"
    assert profile["corsOrigins"] == [EDITOR_ORIGIN]

    with editor_stack.client() as client:
        shown = client.get("/api/developer", headers=editor_stack.tenant_headers)
        again = client.post(
            "/api/developer", json={"corsOrigins": [EDITOR_ORIGIN]}, headers=editor_stack.tenant_headers
        )
        bad = client.post("/api/developer", json={"callBackUrl": "ftp://x"}, headers=editor_stack.tenant_headers)
        anonymous = client.get("/api/developer")
    assert shown.status_code == 200 and "apiKey" not in shown.json()
    assert shown.json()["outputS3Bucket"] == profile["outputS3Bucket"]
    assert again.status_code == 200 and "apiKey" not in again.json()  # the key is shown once
    assert_error(bad, 400, "editor.developer.invalid")
    assert_error(anonymous, 401, "auth.missing")

    async def stored() -> str | None:
        store = await open_store(load_settings(environ=editor_stack.env).database.url)
        try:
            (tenant,) = [t for t in await store.tenants.list_all() if t.name == "test"]
            row = await store.editor.developer(tenant.id)
            return row.output_s3 if row else None
        finally:
            await store.close()

    sealed = asyncio.run(stored())
    assert sealed is not None and "s3cr3t" not in sealed and "AKIAEXAMPLE" not in sealed
    opened = json.loads(open_sealed(load_settings(environ=editor_stack.env), sealed))
    assert opened["awsSecreteKey"] == "s3cr3t-never-shown"


def test_cli_registers_and_never_prints_the_secret(editor_stack: EditorStack) -> None:
    env = env_with(editor_stack)

    def cli(*args: str, stdin: str = "") -> dict:
        done = subprocess.run(
            [sys.executable, "-m", "mediaedge", *args], cwd=ROOT, env=env, input=stdin.encode(), capture_output=True
        )
        assert done.returncode == 0, done.stderr.decode()
        assert b"cli-secret" not in done.stdout + done.stderr
        return orjson.loads(done.stdout)

    cli("tenant", "create", "cli-dev", "--json")
    flags = ["--callback-url", "https://cb.example/hook", "--cors-origin", "https://cli-editor.example",
             "--s3-bucket", "out", "--s3-endpoint", "https://s3.example", "--s3-access-key", "AK",
             "--s3-secret-key-stdin", "--json"]  # fmt: skip
    registered = cli("editor", "register", "cli-dev", *flags, stdin="cli-secret\n")
    shown = cli("editor", "show", "cli-dev", "--json")
    assert registered["apiKey"] and "apiKey" not in shown
    assert shown["callBackUrl"] == "https://cb.example/hook"
    assert shown["outputS3Bucket"] == {"awsBucketName": "out", "awsEndPoint": "https://s3.example"}

    # The CLI's key opens editor sessions like the API's.
    with editor_stack.client() as client:
        response = client.post("/api/users", json={"apiKey": registered["apiKey"], "name": "cli"})
    assert response.status_code == 200, response.text


def test_cors_answers_the_editor_origin(editor_stack: EditorStack, developer: Developer) -> None:
    preflight = {
        "Origin": EDITOR_ORIGIN,
        "Access-Control-Request-Method": "PUT",
        "Access-Control-Request-Headers": "content-range",
    }
    with editor_stack.client() as client:
        pre = client.options("/api/upload/media", headers=preflight)
        simple = client.get("/api/version", headers={"Origin": EDITOR_ORIGIN})
        other = client.get("/api/version", headers={"Origin": "https://elsewhere.example"})
    assert pre.status_code == 204
    assert pre.headers["access-control-allow-origin"] == EDITOR_ORIGIN
    assert pre.headers["access-control-allow-headers"].startswith("content-type, authorization")
    assert "PUT" in pre.headers["access-control-allow-methods"]
    assert simple.headers["access-control-allow-origin"] == EDITOR_ORIGIN
    assert "Origin" in simple.headers["vary"]
    assert other.headers["access-control-allow-origin"] == "*"  # the static setting, unchanged
    version = simple.json()["version"]
    major, minor, yymm, dd = version.split(".")
    assert (major, minor) == ("1", "0") and len(yymm) == 4 and len(dd) == 2


def test_users(editor_stack: EditorStack, developer: Developer, session: Session) -> None:
    with editor_stack.client() as client:
        assert client.get(f"/api/users/{session.id}").json() == {"name": "ann", "data": "user-data-ann"}
        patched = client.patch(f"/api/users/{session.id}", json={"data": "changed"})
        assert patched.json() == {"id": session.id}
        assert client.get(f"/api/users/{session.id}").json() == {"name": "ann", "data": "changed"}
        client.patch(f"/api/users/{session.id}", json={"data": "user-data-ann"})
        assert_error(client.post("/api/users", json={"name": "x"}), 401, "editor.api_key.invalid")
        assert_error(client.post("/api/users", json={"apiKey": "nope"}), 401, "editor.api_key.invalid")
        assert_error(client.get("/api/users/es_unknown"), 404, "editor.user.not_found")
        assert_error(client.get("/api/mediafiles"), 401, "editor.auth.missing")
        assert_error(client.get("/api/mediafiles", headers={"Authorization": "forged"}), 401, "editor.auth.invalid")
        # Both the session id and the developer's apiAuthToken authenticate; so does ?auth_token=.
        for headers, params in (({"Authorization": session.id}, {}), ({"Authorization": session.api_auth_token}, {}),
                                ({}, {"auth_token": session.id})):  # fmt: skip
            assert client.get("/api/stat", headers=headers, params=params).status_code == 200


def _active_users(stack: EditorStack, token: str) -> int:
    with stack.client(token) as client:
        return int(client.get("/api/stat").json()["activeUsersCount"])


def _ws_url(stack: EditorStack) -> str:
    return stack.url.replace("http://", "ws://") + "/websocket"


def test_presence_over_websocket(editor_stack: EditorStack, developer: Developer) -> None:
    bob = open_session(editor_stack, developer, "bob")
    assert _active_users(editor_stack, bob.id) == 0
    with connect(_ws_url(editor_stack)) as socket:
        socket.send(json.dumps({"type": "user_event", "payload": {"authToken": bob.id}}))
        assert json.loads(socket.recv(timeout=10))["payload"]["status"] == "online"
        pings = 0
        deadline = time.monotonic() + 10
        while pings < 3 and time.monotonic() < deadline:  # answered pings keep the socket open
            if json.loads(socket.recv(timeout=5)) == {"type": "ping"}:
                pings += 1
                socket.send(json.dumps({"type": "pong"}))
        assert pings == 3
        assert wait_for(lambda: _active_users(editor_stack, bob.id) == 1, what="bob online")
        with editor_stack.client(bob.id) as client:
            added = client.post("/api/overlay_img", json={"data": base64.b64encode(PNG).decode()}).json()
            assert added["status"] == "" and added["id"]
            assert base64.b64decode(client.get(f"/api/overlay_img/{added['id']}").json()["data"]) == PNG
            assert (
                client.post("/api/overlay_img", json={"data": base64.b64encode(b"GIF89a").decode()}).status_code == 400
            )
    assert wait_for(lambda: _active_users(editor_stack, bob.id) == 0, what="bob offline")
    with editor_stack.client(bob.id) as client:  # overlays go when the user disconnects
        assert client.get(f"/api/overlay_img/{added['id']}").status_code == 404


def test_websocket_refuses_unknown_tokens_and_silent_clients(editor_stack: EditorStack, developer: Developer) -> None:
    with connect(_ws_url(editor_stack)) as socket:
        socket.send(json.dumps({"type": "user_event", "payload": {"authToken": str(int(time.time() * 1000))}}))
        assert json.loads(socket.recv(timeout=10))["payload"]["code"] == "editor.auth.invalid"
        with pytest.raises(ConnectionClosed) as closed:
            socket.recv(timeout=10)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401

    carol = open_session(editor_stack, developer, "carol")
    with connect(_ws_url(editor_stack)) as socket:  # the developer's apiAuthToken works too
        socket.send(json.dumps({"type": "user_event", "payload": {"authToken": carol.api_auth_token}}))
        assert json.loads(socket.recv(timeout=10))["payload"]["id"] == carol.id
        with pytest.raises(ConnectionClosed) as closed:  # never answers a ping
            while True:
                socket.recv(timeout=10)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4408


def test_idle_sessions_expire(editor_stack: EditorStack, developer: Developer) -> None:
    dave = open_session(editor_stack, developer, "dave")

    async def sweep(later: float) -> list[str]:
        state = await OriginState.open(load_settings(environ=editor_stack.env))
        try:
            return await sweep_sessions(state, at=time.time() + later)
        finally:
            await state.close()

    assert dave.id not in asyncio.run(sweep(60))  # idle a minute: kept (editor.session_idle is 1 h)
    assert dave.id in asyncio.run(sweep(2 * 3600))
    with editor_stack.client(dave.id) as client:
        assert_error(client.get("/api/stat"), 401, "editor.auth.invalid")
