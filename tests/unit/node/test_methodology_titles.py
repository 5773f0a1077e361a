"""The node's methodology and composite pages name a saved methodology by its Chinese title
and version (「季度综合评价」第 2 版), the code name only in its 方法代码 column; the form asks
for the title; one saved without a title reads 未命名方法（第 N 版）.  Read as a person reads
them (tests/page_scan.py), against a real hub app behind the node (test_web.hub_behind)."""

from __future__ import annotations

import io
from typing import Any
from urllib.parse import quote

from flask.testing import FlaskClient
from openpyxl import load_workbook

from schemas.runtime.database import Database
from tests.page_scan import page_problems, xlsx_problems
from tests.unit.hub.rank_federation import TOWN_A, TOWN_B, count, rate
from tests.unit.node.conftest import Api
from tests.unit.node.test_pages_read_chinese import PERIOD, name_everyone
from tests.unit.node.test_web import _form_of, csrf_of, hub_behind, log_in  # noqa: F401

COMPONENTS = {"metric1": "completed", "weight1": "2", "direction1": "higher_better",
              "metric2": "on_time_rate", "weight2": "1", "direction2": "higher_better"}


def _report(hub: Any) -> None:
    for code, done in ((TOWN_A, 12), (TOWN_B, 4)):
        hub.report(code, PERIOD, {"completed": count(done), "on_time_rate": rate(done - 1, done)})


def _save(client: FlaskClient, path: str = "/staff/rankings/methodologies", **fields: str) -> Any:
    token = csrf_of(client, "/staff/rankings/methodologies")
    return client.post(path, data={"csrf_token": token, "normalisation": "min_max",
                                   **COMPONENTS, **fields})


def test_the_form_asks_for_the_title_and_the_pages_read_it(
        client: FlaskClient, db: Database, desk: dict[str, Api], app: Any,
        hub_behind: Any) -> None:  # noqa: F811
    code = app.config["TONGBAN"].code
    name = f"{code}.quarterly"
    _report(hub_behind)
    name_everyone(db)
    assert log_in(client, "super1").status_code == 302
    form = client.get("/staff/rankings/methodologies").get_data(as_text=True)
    assert '<label for="f-title">名称' in form
    assert '<label for="f-name">方法代码' in form

    # no title: the node asks for one and sends nothing to the hub
    untitled = _save(client, name="quarterly", title="  ")
    assert untitled.status_code == 422
    assert 'id="e-title"' in untitled.get_data(as_text=True)
    unnamed = _save(client, name=" ", title="季度综合评价")
    assert unnamed.status_code == 422
    assert "请填写方法代码" in unnamed.get_data(as_text=True)
    assert hub_behind.get("/api/v1/rankings/methodologies", code).json == []
    # a title the hub refuses (no Chinese in it) is shown at its field
    latin = _save(client, name="quarterly", title="quarterly")
    assert latin.status_code == 422
    assert 'id="e-title"' in latin.get_data(as_text=True)
    assert "须为中文名称，至少含一个汉字" in latin.get_data(as_text=True)
    assert hub_behind.get("/api/v1/rankings/methodologies", code).json == []

    saved = _save(client, name="quarterly", title="季度综合评价", description="办结量与按时率")
    assert saved.status_code == 302, saved.get_data(as_text=True)[:2000]
    assert "「季度综合评价」第 1 版" in client.get(saved.headers["Location"]).get_data(
        as_text=True)
    edit = _form_of(client, f"/staff/rankings/methodologies?name={name}")
    assert (edit["title"], edit["name"]) == ("季度综合评价", "quarterly")
    again = client.post(f"/staff/rankings/methodologies?name={name}", data=edit)
    assert again.status_code == 302
    listed = hub_behind.get("/api/v1/rankings/methodologies", code).json
    assert [(m["name"], m["version"], m["title"]) for m in listed] == [(name, 2, "季度综合评价")]

    page = client.get("/staff/rankings/methodologies").get_data(as_text=True)
    assert "<td>「季度综合评价」第 2 版</td>" in page
    assert f"<td>{name}</td>" in page  # under 方法代码
    assert page_problems(page) == []

    composite = client.get(f"/staff/rankings/composite?period={PERIOD}&methodology={name}")
    assert composite.status_code == 200
    text = composite.get_data(as_text=True)
    assert '<p id="method-label">「季度综合评价」第 2 版；办结量与按时率</p>' in text
    assert f'<option value="{name}" selected>「季度综合评价」第 2 版</option>' in text
    assert page_problems(text) == []

    exported = client.get(f"/staff/rankings/export?what=composite&format=xlsx&period={PERIOD}"
                          f"&methodology={name}")
    assert exported.status_code == 200
    assert quote(f"综合指数_「季度综合评价」第2版_{code}_{PERIOD}.xlsx") in (
        exported.headers["Content-Disposition"])
    method = [[v for v in row if v is not None] for row in
              load_workbook(io.BytesIO(exported.data))["方法说明"].iter_rows(values_only=True)]
    assert ["名称", "「季度综合评价」第 2 版"] in method
    assert xlsx_problems(exported.data) == []


def test_a_methodology_saved_without_a_title_reads_chinese(
        client: FlaskClient, db: Database, desk: dict[str, Api], app: Any,
        hub_behind: Any) -> None:  # noqa: F811
    """Saved through the API without a title (as before titles existed): the pages say
    未命名方法（第 N 版）, two such told apart on the composite form, never the code name."""
    code = app.config["TONGBAN"].code
    _report(hub_behind)
    document = {"normalisation": "min_max",
                "components": [{"metric": "completed", "weight": 1}]}
    for name in ("bulletin", "monthly"):
        saved = desk["supervisor"].request(
            "PUT", f"/api/v1/rankings/methodologies/{code}.{name}", json=document)
        assert saved.status_code == 200, saved.json
        assert saved.json["title"] is None
    name_everyone(db)
    assert log_in(client, "super1").status_code == 302
    page = client.get("/staff/rankings/methodologies").get_data(as_text=True)
    assert page.count("<td>未命名方法（第 1 版）</td>") == 2
    assert page_problems(page) == []
    composite = client.get(f"/staff/rankings/composite?period={PERIOD}"
                           f"&methodology={code}.monthly").get_data(as_text=True)
    assert '<p id="method-label">未命名方法（第 1 版）；</p>' in composite
    assert ">未命名方法（第 1 版）</option>" in composite
    assert ">未命名方法（第 1 版）（其2）</option>" in composite
    assert page_problems(composite) == []
    # the form opened on it asks for the title it lacks
    edit = _form_of(client, f"/staff/rankings/methodologies?name={code}.monthly")
    assert edit["title"] == ""
