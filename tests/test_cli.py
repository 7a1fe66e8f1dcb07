"""The mediaedge command line, run as a user runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest


def mediaedge(data_dir: Path, *args: str, check: bool = True, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mediaedge", *args],
        env={**os.environ, "MEDIAEDGE_DATA_DIR": str(data_dir), **env},
        capture_output=True,
        text=True,
        check=check,
        timeout=60,
    )


def test_version():
    out = subprocess.run([sys.executable, "-m", "mediaedge", "--version"], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "mediaedge 0.1.0"


def test_tenant_create_list_update_round_trip(tmp_path):
    created = json.loads(
        mediaedge(
            tmp_path,
            "tenant",
            "create",
            "acme",
            "--whitelist",
            "example.com",
            "--whitelist",
            "*.cdn.example.com",
            "--app-id",
            "com.acme.app",
            "--webhook-url",
            "https://hooks.example.com/m",
            "--json",
        ).stdout
    )
    assert created["api_key"].startswith("tk_") and created["webhook_signing_key"].startswith("whsec_")
    assert created["whitelisted_domains"] == ["example.com", "*.cdn.example.com"]
    listed = json.loads(mediaedge(tmp_path, "tenant", "list", "--json").stdout)
    assert [t["id"] for t in listed] == [created["id"]]
    assert "api_key" not in listed[0] and "webhook_signing_key" not in listed[0]
    updated = json.loads(
        mediaedge(tmp_path, "tenant", "update", "acme", "--app-id", "com.acme.tv", "--rotate-key", "--json").stdout
    )
    assert updated["app_ids"] == ["com.acme.tv"]
    assert updated["api_key"] != created["api_key"]


def test_a_tenant_gets_named_keys_lists_them_and_revokes_one(tmp_path):
    mediaedge(tmp_path, "tenant", "create", "acme")
    ci = json.loads(
        mediaedge(tmp_path, "tenant", "api-key", "create", "acme", "--name", "ci", "--scope", "upload", "--json").stdout
    )
    assert ci["secret"].startswith("tk_") and ci["scopes"] == ["upload"] and ci["public_key"] is None
    pair = json.loads(
        mediaedge(tmp_path, "tenant", "api-key", "create", "acme", "--name", "player", "--pair", "--json").stdout
    )
    assert pair["public_key"].startswith("pk_")
    listed = json.loads(mediaedge(tmp_path, "tenant", "api-key", "list", "acme", "--json").stdout)
    assert [(k["name"], k["revoked"]) for k in listed] == [  # tenant create made the stream key pair
        ("default", False),
        ("stream", False),
        ("ci", False),
        ("player", False),
    ]
    assert all("secret" not in k for k in listed)
    after = json.loads(mediaedge(tmp_path, "tenant", "api-key", "revoke", "acme", ci["id"], "--json").stdout)
    assert [(k["name"], k["revoked"]) for k in after] == [
        ("default", False),
        ("stream", False),
        ("ci", True),
        ("player", False),
    ]
    again = mediaedge(tmp_path, "tenant", "api-key", "revoke", "acme", ci["id"], check=False)
    assert again.returncode == 1 and f"has no active key {ci['id']!r}" in again.stderr
    text = mediaedge(tmp_path, "tenant", "api-key", "list", "acme").stdout
    assert f"{ci['id']}  ci  revoked  last used never" in text


def test_update_of_unknown_tenant_fails(tmp_path):
    result = mediaedge(tmp_path, "tenant", "update", "ghost", "--name", "x", check=False)
    assert result.returncode == 1 and "no tenant 'ghost'" in result.stderr


def test_plugins_lists_built_ins_with_their_hooks(tmp_path):
    rows = json.loads(mediaedge(tmp_path, "plugins", "--json").stdout)
    by_name = {r["name"]: r for r in rows}
    assert "register_storage_backends" in by_name["storage_local"]["hooks"]


def test_blocked_plugin_disappears_from_the_list(tmp_path):
    rows = json.loads(mediaedge(tmp_path, "plugins", "--json", MEDIAEDGE_PLUGINS_BLOCK="storage_s3").stdout)
    assert "storage_s3" not in {r["name"] for r in rows}


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (["origin", "--port", "0"], {}, "invalid setting: origin.port: must be a TCP port"),
        (["plugins"], {"MEDIAEDGE_EDGE_WORKERS": "zero"}, "invalid setting: edge.workers: expected an integer"),
    ],
)
def test_invalid_settings_exit_2_naming_the_setting(tmp_path, args, env, message):
    result = mediaedge(tmp_path, *args, check=False, **env)
    assert result.returncode == 2
    assert message in result.stderr


def test_tenant_names_are_unique(tmp_path):
    first = json.loads(mediaedge(tmp_path, "tenant", "create", "acme", "--json").stdout)
    again = mediaedge(tmp_path, "tenant", "create", "acme", check=False)
    assert again.returncode == 1 and again.stdout == ""
    assert f"tenant name 'acme' is taken (tenant {first['id']})" in again.stderr
    mediaedge(tmp_path, "tenant", "create", "other")
    renamed = mediaedge(tmp_path, "tenant", "update", "other", "--name", "acme", check=False)
    assert renamed.returncode == 1 and "tenant name 'acme' is taken" in renamed.stderr
    listed = json.loads(mediaedge(tmp_path, "tenant", "list", "--json").stdout)
    assert [t["name"] for t in listed] == ["acme", "other"]
    updated = json.loads(mediaedge(tmp_path, "tenant", "update", "acme", "--disable", "--json").stdout)
    assert (updated["id"], updated["active"]) == (first["id"], False)


def test_keys_rotate_prints_the_new_active_key(tmp_path):
    first = mediaedge(tmp_path, "keys", "rotate").stdout
    second = mediaedge(tmp_path, "keys", "rotate").stdout
    assert "new active key" in first
    assert second.count("retired") == 1 and second.count("active") == 2  # header line + one active key


def test_db_migrate_is_idempotent(tmp_path):
    versions = Path(__file__).parents[1] / "origin" / "store" / "migrations" / "versions"
    newest = max(path.name.split("_", 1)[0] for path in versions.glob("[0-9]*_*.py"))  # counted independently
    latest = f"schema at revision {newest}\n"
    assert mediaedge(tmp_path, "db", "migrate").stdout == latest
    assert mediaedge(tmp_path, "db", "migrate").stdout == latest


def test_edge_purge_reaches_the_edges_registered_in_the_metadata_db(tmp_path):
    import asyncio
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from mediaedge.cluster import EDGE_SECRET_HEADER
    from origin.store import open_store

    received: list[tuple[str, str | None, dict]] = []

    class Edge(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            received.append((self.path, self.headers.get(EDGE_SECRET_HEADER), body))
            self.send_response(200)
            self.send_header("Content-Length", "13")
            self.end_headers()
            self.wfile.write(b'{"purged": 1}')

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Edge)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    registered = f"http://127.0.0.1:{server.server_address[1]}"
    env = {"MEDIAEDGE_CLUSTER_EDGE_SECRET": "s3cret", "MEDIAEDGE_EDGE_PUBLIC_URL": registered}
    mediaedge(tmp_path, "db", "migrate", **env)

    async def register() -> None:
        store = await open_store(f"sqlite:///{tmp_path}/mediaedge.db")
        try:
            await store.edges.register(registered, "eu")
        finally:
            await store.close()

    asyncio.run(register())
    try:
        out = mediaedge(tmp_path, "edge", "purge", "t1/u1/", "--prefix", **env)
    finally:
        server.shutdown()
        server.server_close()
    assert f"{registered}: 200" in out.stdout
    assert received == [("/_edge/purge", "s3cret", {"keys": [], "prefixes": ["t1/u1/"]})]


def test_commands_say_which_database_they_opened_wherever_they_run(tmp_path):
    home = {"HOME": str(tmp_path / "home"), "XDG_DATA_HOME": ""}
    env = {k: v for k, v in os.environ.items() if k != "MEDIAEDGE_DATA_DIR"} | home
    database = tmp_path / "home" / ".local" / "share" / "mediaedge" / "mediaedge.db"

    def run(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
        cwd.mkdir(exist_ok=True)
        return subprocess.run(
            [sys.executable, "-m", "mediaedge", *args],
            env=env,
            cwd=cwd,
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        )

    created = run(tmp_path / "a", "tenant", "create", "acme", "--json")
    assert f"mediaedge: database {database} (new: data_dir is {database.parent}" in created.stderr
    listed = run(tmp_path / "b", "tenant", "list", "--json")  # another directory: the same database
    assert [t["name"] for t in json.loads(listed.stdout)] == ["acme"]
    assert listed.stderr.strip() == f"mediaedge: database {database}"
