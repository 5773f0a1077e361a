"""Configuration precedence and the refusal to start without identity and secret."""

from __future__ import annotations

import dataclasses
import stat

import pytest

from hub.config import hub_settings
from hub.settings import HubSettings
from node.config import node_settings
from node.settings import NodeSettings
from schemas.runtime.settings import (
    SettingsError,
    load_settings,
    read_secret_key,
    write_config_file,
    write_secret_key,
)

DEFAULTS = {"home": None, "name": "default", "workers": 2, "debug": False}


def test_precedence_defaults_file_env_overrides(tmp_path) -> None:
    write_config_file(str(tmp_path), {"name": "from-file", "workers": 3})
    env = {"TONGBAN_HOME": str(tmp_path), "TONGBAN_WORKERS": "5", "TONGBAN_DEBUG": "true"}
    settings = load_settings(DEFAULTS, environ=env)
    assert settings["name"] == "from-file"
    assert settings["workers"] == 5
    assert settings["debug"] is True
    assert load_settings(DEFAULTS, {"workers": 9}, environ=env)["workers"] == 9


def test_unknown_keys_are_refused(tmp_path) -> None:
    write_config_file(str(tmp_path), {"nmae": "typo"})
    with pytest.raises(SettingsError, match="nmae"):
        load_settings(DEFAULTS, {"home": str(tmp_path)}, environ={})
    with pytest.raises(SettingsError, match="colour"):
        load_settings(DEFAULTS, {"colour": "red"}, environ={})


def test_secret_key_file_is_private_and_stable(tmp_path) -> None:
    path = write_secret_key(str(tmp_path))
    first = read_secret_key(str(tmp_path))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    write_secret_key(str(tmp_path))
    assert read_secret_key(str(tmp_path)) == first
    assert len(first) >= 48


def test_node_refuses_to_start_without_code_or_secret(tmp_path, monkeypatch) -> None:
    for name in ("TONGBAN_HOME", "TONGBAN_CODE", "TONGBAN_SECRET_KEY", "TONGBAN_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(SettingsError, match="code is not set"):
        node_settings({"home": str(tmp_path), "secret_key": "s" * 40})
    with pytest.raises(SettingsError, match="no secret key"):
        node_settings({"home": str(tmp_path), "code": "450981", "level": "county",
                       "kind": "county_city"})
    with pytest.raises(SettingsError, match="county-level code"):
        node_settings({"home": str(tmp_path), "code": "450981", "level": "city",
                       "secret_key": "s" * 40})
    ok = node_settings({"home": str(tmp_path), "code": "450981", "level": "county",
                        "kind": "county_city", "secret_key": "s" * 40})
    assert ok.database_url.endswith("node.db")


def test_hub_refuses_to_start_without_secret(tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("TONGBAN_SECRET_KEY", raising=False)
    with pytest.raises(SettingsError, match="no secret key"):
        hub_settings({"home": str(tmp_path)})
    write_secret_key(str(tmp_path))
    assert hub_settings({"home": str(tmp_path)}).database_url.endswith("hub.db")


NODE = {"code": "450981", "level": "county", "kind": "county_city", "secret_key": "s" * 40}


def test_settings_are_a_frozen_dataclass_of_checked_types(tmp_path, monkeypatch) -> None:
    for name in ("TONGBAN_HOME", "TONGBAN_CONFIG", "TONGBAN_PROXY_HOPS"):
        monkeypatch.delenv(name, raising=False)
    settings = node_settings({"home": str(tmp_path), **NODE, "pull_wait_seconds": 5,
                              "proxy_hops": 1})
    assert isinstance(settings, NodeSettings)
    assert settings.pull_wait_seconds == 5.0
    assert isinstance(settings.pull_wait_seconds, float)
    assert settings.session_cookie_secure is True  # "auto" behind a proxy
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.code = "450900"  # type: ignore[misc]
    assert "secret_key" not in repr(settings)
    assert isinstance(hub_settings({"home": str(tmp_path), "secret_key": "s" * 40}), HubSettings)


def test_a_setting_of_the_wrong_type_stops_the_start_with_every_problem_named(
        tmp_path, monkeypatch) -> None:
    for name in ("TONGBAN_HOME", "TONGBAN_CONFIG", "TONGBAN_MAX_BATCH"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(SettingsError) as refused:
        node_settings({"home": str(tmp_path), **NODE, "max_content_length": "8M",
                       "testing": 1, "hub_url": 5})
    message = str(refused.value)
    assert message.startswith("node cannot start: ")
    assert "max_content_length must be a whole number, not '8M'" in message
    assert "testing must be true or false, not 1" in message
    assert "hub_url must be text, not 5" in message
    write_config_file(str(tmp_path), {"max_batch": 2.5, "secret_key": "s" * 40})
    with pytest.raises(SettingsError, match=r"hub cannot start: max_batch must be a whole "
                                            r"number, not 2\.5"):
        hub_settings({"home": str(tmp_path)})
    monkeypatch.setenv("TONGBAN_MAX_BATCH", "many")
    with pytest.raises(SettingsError, match="TONGBAN_MAX_BATCH must be a number, not 'many'"):
        hub_settings({"home": str(tmp_path)})


def test_the_upload_limits_are_settings_checked_at_start(tmp_path, monkeypatch) -> None:
    for name in ("TONGBAN_HOME", "TONGBAN_CONFIG", "TONGBAN_UPLOAD_MAX_FILE_BYTES",
                 "TONGBAN_UPLOAD_MAX_CASE_BYTES"):
        monkeypatch.delenv(name, raising=False)
    settings = node_settings({"home": str(tmp_path), **NODE})
    assert (settings.upload_max_file_bytes, settings.upload_max_case_bytes) == (
        4 * 1024 * 1024, 8 * 1024 * 1024)
    monkeypatch.setenv("TONGBAN_UPLOAD_MAX_FILE_BYTES", "1000")
    assert node_settings({"home": str(tmp_path), **NODE}).upload_max_file_bytes == 1000
    with pytest.raises(SettingsError, match="upload_max_case_bytes must be a whole number"):
        node_settings({"home": str(tmp_path), **NODE, "upload_max_case_bytes": "8M"})
    with pytest.raises(SettingsError, match="upload_max_file_bytes must be above 0 and at most "
                                            "upload_max_case_bytes, not 9000 and 5000"):
        node_settings({"home": str(tmp_path), **NODE, "upload_max_file_bytes": 9000,
                       "upload_max_case_bytes": 5000})
    with pytest.raises(SettingsError, match="upload_max_file_bytes must be above 0"):
        node_settings({"home": str(tmp_path), **NODE, "upload_max_file_bytes": 0})
