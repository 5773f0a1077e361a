"""``tongban hub create-user`` and ``tongban hub save-methodology`` on a real hub home."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from hub import create_app
from hub.cli import hub

PASSWORD = "cli-viewer-pass-7"


def test_create_user_then_log_in_and_save_a_methodology(tmp_path: Path) -> None:
    runner = CliRunner()
    home = str(tmp_path / "hub")
    assert runner.invoke(hub, ["init", "--home", home]).exit_code == 0

    created = runner.invoke(hub, ["create-user", "--home", home, "--username", "yulin",
                                  "--scope", "450900", "--password", PASSWORD])
    assert created.exit_code == 0, created.output
    assert "created hub viewer yulin for scope 450900" in created.output
    again = runner.invoke(hub, ["create-user", "--home", home, "--username", "yulin",
                                "--scope", "450900", "--password", PASSWORD])
    assert again.exit_code == 1
    assert "工作人员账号 'yulin' 已存在" in again.output
    weak = runner.invoke(hub, ["create-user", "--home", home, "--username", "weak",
                               "--scope", "4509", "--password", "short"])
    assert weak.exit_code == 1
    assert "password:" in weak.output
    assert "scope:" in weak.output

    document = tmp_path / "bulletin.json"
    document.write_text(json.dumps({"title": "月度通报", "normalisation": "z_score",
                                    "components": [{"metric": "completed", "weight": 1}]}),
                        encoding="utf-8")
    saved = runner.invoke(hub, ["save-methodology", "--home", home, "--name", "bulletin",
                                str(document)])
    assert saved.exit_code == 0, saved.output
    assert "saved methodology bulletin version 1" in saved.output
    document.write_text(json.dumps({"normalisation": "mean", "components": []}),
                        encoding="utf-8")
    refused = runner.invoke(hub, ["save-methodology", "--home", home, "--name", "bulletin",
                                  str(document)])
    assert refused.exit_code == 1
    assert "normalisation" in refused.output

    app = create_app({"home": home})
    try:
        client = app.test_client()
        login = client.post("/api/v1/staff/login",
                            json={"username": "yulin", "password": PASSWORD})
        assert login.status_code == 200, login.json
        assert login.json["account"]["scope"] == "450900"
        listed = client.get("/api/v1/rankings/methodologies",
                            headers={"Authorization": f"Bearer {login.json['token']}"})
        assert [(m["name"], m["version"], m["title"]) for m in listed.json] == [
            ("bulletin", 1, "月度通报")]
    finally:
        app.extensions["tongban_db"].dispose()
