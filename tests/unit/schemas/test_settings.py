"""Configuration precedence and the refusal to start without identity and secret."""

from __future__ import annotations

import stat

import pytest

from hub.config import hub_settings
from node.config import node_settings
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
    assert ok["database_url"].endswith("node.db")


def test_hub_refuses_to_start_without_secret(tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("TONGBAN_SECRET_KEY", raising=False)
    with pytest.raises(SettingsError, match="no secret key"):
        hub_settings({"home": str(tmp_path)})
    write_secret_key(str(tmp_path))
    assert hub_settings({"home": str(tmp_path)})["database_url"].endswith("hub.db")
