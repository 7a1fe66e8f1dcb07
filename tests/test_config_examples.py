"""The example deployments in config/ load and validate, and say what their names promise."""

from __future__ import annotations

from pathlib import Path

import pytest

from mediaedge.backends import build_backends
from mediaedge.plugins import get_plugin_manager
from mediaedge.settings import SettingsError, load_settings

CONFIG = Path(__file__).resolve().parents[1] / "config"


def test_single_node_is_sqlite_and_local_disk():
    s = load_settings(CONFIG / "single-node.toml", environ={})
    assert s.database.url == "sqlite:////var/lib/mediaedge/mediaedge.db"
    assert s.storage.default == "local"
    assert s.storage.backends["local"]["root"] == "/var/lib/mediaedge/objects"
    assert s.edge.origin_url == "http://127.0.0.1:8000"
    assert s.edge.registration_url == "http://127.0.0.1:8080"
    assert s.demo_tenant is False


def test_multi_node_origin_is_postgresql_s3_and_a_shared_edge_secret():
    s = load_settings(CONFIG / "multi-node-origin.toml", environ={})
    assert s.database.url.startswith("postgresql://")
    assert (s.database.pool_min, s.database.pool_max, s.database.migrate_on_start) == (2, 10, False)
    assert s.storage.default == "s3"
    assert s.storage.backends["s3"]["bucket"] == "mediaedge-media"
    assert s.cluster.edge_secret
    assert s.cluster.edges == ["http://edge-eu-1.internal:8080", "http://edge-us-1.internal:8080"]
    assert s.edge.url == "https://cdn.example.com"
    assert set(build_backends(s, get_plugin_manager())) == {"local", "s3"}


def test_edge_only_points_at_a_remote_origin():
    s = load_settings(CONFIG / "edge-only.toml", environ={})
    assert s.edge.origin_url == "https://api.example.com"
    assert s.edge.registration_url == "http://edge-eu-1.internal:8080"
    assert (s.edge.region, s.edge.url) == ("eu-west", "https://eu.cdn.example.com")
    assert s.edge.disk_cache_dir == "/var/cache/mediaedge/edge-cache"
    assert s.cluster.edge_secret == load_settings(CONFIG / "multi-node-origin.toml", environ={}).cluster.edge_secret


def test_secrets_come_from_the_environment_over_the_file():
    environ = {"MEDIAEDGE_CLUSTER_EDGE_SECRET": "from-env", "MEDIAEDGE_DATABASE_URL": "postgresql://u:p@db/x"}
    s = load_settings(CONFIG / "multi-node-origin.toml", environ=environ)
    assert (s.cluster.edge_secret, s.database.url) == ("from-env", "postgresql://u:p@db/x")


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"MEDIAEDGE_DATABASE_POOL_MAX": "0"}, "database.pool_max: must be positive"),
        ({"MEDIAEDGE_DATABASE_POOL_MIN": "5", "MEDIAEDGE_DATABASE_POOL_MAX": "2"}, "database.pool_min: must not"),
        ({"MEDIAEDGE_DATABASE_MIGRATE_ON_START": "maybe"}, "database.migrate_on_start: expected true or false"),
        ({"MEDIAEDGE_CLUSTER_EDGE_HEARTBEAT": "0"}, "cluster.edge_heartbeat: must be positive"),
        ({"MEDIAEDGE_EDGE_ADVERTISE_URL": "edge:8080"}, "edge.advertise_url: must be an http(s) URL"),
    ],
)
def test_cluster_settings_are_validated(environ, message):
    with pytest.raises(SettingsError) as info:
        load_settings(environ=environ)
    assert str(info.value).startswith(message)
