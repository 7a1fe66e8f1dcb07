"""Settings: defaults, file, environment, and validation messages that name the setting."""

from __future__ import annotations

import dataclasses

import pytest

from mediaedge.settings import SettingsError, load_settings, parse_duration


def test_defaults_are_the_embedded_single_node(tmp_path):
    s = load_settings(environ={"MEDIAEDGE_DATA_DIR": str(tmp_path)})
    assert (s.origin.port, s.edge.port) == (8000, 8080)
    assert s.database.url == f"sqlite:///{tmp_path}/mediaedge.db"
    assert s.storage.backends["local"] == {"kind": "local", "root": f"{tmp_path}/objects"}


def test_file_then_environment_override(tmp_path):
    config = tmp_path / "site.toml"
    config.write_text(
        '[edge]\nport = 9000\norigin_url = "http://origin.internal:8000"\n[net]\nallow = ["10.0.0.0/8"]\n'
    )
    environ = {"MEDIAEDGE_EDGE_PORT": "9100", "MEDIAEDGE_NET_ALLOW": "127.0.0.1:9000, ::1/128"}
    s = load_settings(config, environ=environ)
    assert s.edge.port == 9100
    assert s.edge.origin_url == "http://origin.internal:8000"
    assert s.net.allow == ["127.0.0.1:9000", "::1/128"]


def test_config_file_from_environment(tmp_path):
    config = tmp_path / "c.toml"
    config.write_text("[origin]\nworkers = 3\n")
    assert load_settings(environ={"MEDIAEDGE_CONFIG": str(config)}).origin.workers == 3


def test_nested_backend_tables_have_environment_names(tmp_path):
    s = load_settings(environ={"MEDIAEDGE_STORAGE_BACKENDS_LOCAL_ROOT": str(tmp_path / "o")})
    assert s.storage.backends["local"]["root"] == str(tmp_path / "o")


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"MEDIAEDGE_EDGE_PORT": "70000"}, "edge.port: must be a TCP port"),
        ({"MEDIAEDGE_ORIGIN_WORKERS": "many"}, "origin.workers: expected an integer"),
        ({"MEDIAEDGE_EDGE_ACCESS_LOG": "maybe"}, "edge.access_log: expected true or false"),
        ({"MEDIAEDGE_TOKENS_ALGORITHM": "HS256"}, "tokens.algorithm: must be one of RS256, EdDSA"),
        ({"MEDIAEDGE_TOKENS_DEFAULT_EXPIRES_IN": "forever"}, "tokens.default_expires_in: expected a duration"),
        ({"MEDIAEDGE_DATABASE_URL": "mysql://x"}, "database.url: must be sqlite"),
        ({"MEDIAEDGE_EDGE_ORIGIN_URL": "ftp://x"}, "edge.origin_url: must be an http(s) URL"),
        ({"MEDIAEDGE_STORAGE_DEFAULT": "nope"}, "storage.default: no backend named 'nope'"),
        ({"MEDIAEDGE_CONFIG": "/nonexistent.toml"}, "config: file not found"),
    ],
)
def test_invalid_values_name_the_setting(environ, message):
    with pytest.raises(SettingsError) as info:
        load_settings(environ=environ)
    assert str(info.value).startswith(message)


def test_unknown_keys_in_a_file_are_refused(tmp_path):
    config = tmp_path / "c.toml"
    config.write_text("[edge]\nprot = 1\n")
    with pytest.raises(SettingsError, match="edge.prot: unknown setting"):
        load_settings(config, environ={})


@pytest.mark.parametrize(("text", "seconds"), [("5m", 300), ("1h", 3600), ("2d", 172800), ("90", 90), (3600, 3600)])
def test_durations(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "0", "-5", "1w", "1.5h", True])
def test_bad_durations(text):
    with pytest.raises(ValueError):
        parse_duration(text)


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"MEDIAEDGE_NET_ALLOW": "notanaddr"}, "net.allow: 'notanaddr' is not a CIDR, host:port or address"),
        ({"MEDIAEDGE_EDGE_PROT": "9000"}, "MEDIAEDGE_EDGE_PROT: no such setting"),
        ({"MEDIAEDGE_ORIGN_PORT": "9000"}, "MEDIAEDGE_ORIGN_PORT: no such setting"),
    ],
)
def test_bad_or_unknown_variables_are_refused_naming_the_variable(tmp_path, environ, message):
    with pytest.raises(SettingsError) as info:
        load_settings(environ={"MEDIAEDGE_DATA_DIR": str(tmp_path), **environ})
    assert str(info.value).startswith(message)


def test_other_programs_variables_and_the_test_suites_are_left_alone(tmp_path):
    environ = {"MEDIAEDGE_DATA_DIR": str(tmp_path), "MEDIAEDGE_TEST_PG_DSN": "postgresql://x", "OTHER_EDGE_PORT": "1"}
    assert load_settings(environ=environ).edge.port == 8080


def test_the_data_dir_does_not_depend_on_the_working_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    s = load_settings(environ={"HOME": str(tmp_path / "home")})
    assert s.data_dir == str(tmp_path / "home" / ".local" / "share" / "mediaedge")
    assert s.database.url == f"sqlite:///{s.data_dir}/mediaedge.db"
    xdg = load_settings(environ={"XDG_DATA_HOME": str(tmp_path / "xdg")})
    assert xdg.data_dir == str(tmp_path / "xdg" / "mediaedge")
    assert load_settings(environ={"MEDIAEDGE_DATA_DIR": "rel"}).data_dir == str(tmp_path / "rel")


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ("[edge]\nport = '8080'\n", "edge.port: expected int, got '8080'"),
        ("[edge]\naccess_log = 1\n", "edge.access_log: expected bool, got 1"),
        ("[edge]\nserver = 'nginx'\n", "edge.server: must be one of uvicorn, hypercorn, lean"),
        ("[net]\ntimeout = 0\n", "net.timeout: must be positive (got 0)"),
        ("[origin]\ncors_origins = 'x'\n", "origin.cors_origins: expected list, got 'x'"),
        ("[database]\npool_min = 20\n", "database.pool_min: must not exceed database.pool_max"),
        ("[jobs]\nheartbeat_seconds = 90.0\n", "jobs.heartbeat_seconds: must be shorter than jobs.lease_seconds"),
        ("[storage.backends.x]\nroot = '/x'\n", "storage.backends.x.kind: required"),
        ("[tokens]\n", None),
        ("tokens = 1\n", "tokens: expected a table, got 1"),
    ],
)
def test_file_values_are_checked_against_the_schema(tmp_path, table, message):
    config = tmp_path / "c.toml"
    config.write_text(table)
    if message is None:
        assert load_settings(config, environ={}).tokens.algorithm == "RS256"
        return
    with pytest.raises(SettingsError) as info:
        load_settings(config, environ={})
    assert str(info.value) == message


def test_a_copy_with_a_bad_value_is_refused_too(tmp_path):
    s = load_settings(environ={"MEDIAEDGE_DATA_DIR": str(tmp_path)})
    with pytest.raises(ValueError, match="must be a TCP port"):
        dataclasses.replace(s.edge, port=0)


def test_as_tree_rebuilds_the_same_settings(tmp_path):
    environ = {"MEDIAEDGE_DATA_DIR": str(tmp_path), "MEDIAEDGE_EDGE_PORT": "9100", "MEDIAEDGE_NET_ALLOW": "::1/128"}
    s = load_settings(environ=environ)
    assert load_settings(environ=s.plugins.environ, overrides=s.as_tree()) == s
