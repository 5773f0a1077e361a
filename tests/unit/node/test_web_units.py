"""Units people read on the pages: the matter form takes the fee in 元 (the API keeps 分)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from flask.testing import FlaskClient

from tests.unit.node.conftest import Api
from tests.unit.node.test_web import _admin_client, _form_of, log_in

PATH = "/staff/admin/matters/NC1/edit"  # a matter with a fee of 5000 分


def test_the_matter_form_shows_and_takes_the_fee_in_yuan(
        client: FlaskClient, desk: dict[str, Api], make_user: Any) -> None:
    _admin_client(client, make_user)
    form = _form_of(client, PATH)
    assert form["fee_amount_yuan"] == "50.00"
    assert "fee_amount_fen" not in form
    page = client.get(PATH).get_data(as_text=True)
    assert "收费金额（元）" in page
    assert "（分）" not in page

    form.update(fee_amount_yuan="1,640.5")
    saved = client.post(PATH, data=form)
    assert saved.status_code == 302, saved.get_data(as_text=True)[:2000]
    assert desk["admin"].get("/api/v1/matters/NC1").json["fee_amount_fen"] == 164050
    assert _form_of(client, PATH)["fee_amount_yuan"] == "1640.50"


def test_a_bad_fee_in_yuan_is_named_and_changes_nothing(
        client: FlaskClient, desk: dict[str, Api], make_user: Any) -> None:
    _admin_client(client, make_user)
    form = _form_of(client, PATH)
    for typed, message in (("二十", "请填写金额（元）"), ("-1", "金额须在 0 至"),
                           ("20.505", "最多两位小数"), ("NaN", "金额须在 0 至")):
        form.update(fee_amount_yuan=typed)
        refused = client.post(PATH, data=form)
        assert refused.status_code == 422, typed
        assert message in refused.get_data(as_text=True), typed
    assert desk["admin"].get("/api/v1/matters/NC1").json["fee_amount_fen"] == 5000


class _RecordingHub:
    """Answers any rankings question with an XLSX and keeps what was asked."""

    def __init__(self) -> None:
        from openpyxl import Workbook

        from schemas.runtime.spreadsheet import workbook_bytes

        workbook = Workbook()
        workbook.active.append(["名称", "办结数"])
        self.body = workbook_bytes(workbook)
        self.asked: list[tuple[str, str, list[tuple[str, str]]]] = []

    def ask(self, method: str, what: str, query: list[tuple[str, str]], body: bytes) -> Any:
        from node.rankings.hub import HubAnswer
        from schemas.runtime.spreadsheet import XLSX_MEDIA_TYPE

        self.asked.append((method, what, query))
        return HubAnswer(200, XLSX_MEDIA_TYPE, self.body)


def test_an_export_is_named_after_what_it_holds(
        app: Any, client: FlaskClient, desk: dict[str, Api]) -> None:
    from urllib.parse import quote

    from node.composition import NodeServices
    from node.web.core import today

    app.config["TONGBAN"] = replace(app.config["TONGBAN"], hub_url="http://hub.invalid")
    hub = _RecordingHub()
    NodeServices.of_app(app.extensions).rankings_hub = hub
    assert log_in(client, "super1").status_code == 302

    league = client.get("/staff/rankings/export?what=league&format=xlsx&period=2026-11"
                        "&metric=completed&scope=450981")
    disposition = league.headers["Content-Disposition"]
    assert f"filename*=UTF-8''{quote('排名_办结数_450981_2026-11.xlsx')}" in disposition
    assert 'filename="450981_2026-11.xlsx"' in disposition

    fees = client.get("/staff/rankings/export?what=league&format=csv&period=2026-11"
                      "&metric=fees_center_fen")
    assert quote("排名_中心收费（元）_450981_2026-11.csv") in fees.headers["Content-Disposition"]

    # without a period, the file holds the page's period and is named after it
    client.get("/staff/rankings/export?what=league&format=xlsx&metric=completed")
    this_month = f"{today():%Y-%m}"
    assert dict(hub.asked[-1][2])["period"] == this_month
    composite = client.get("/staff/rankings/export?what=composite&format=xlsx&metric1=completed")
    assert quote(f"综合指数_自定义_450981_{this_month}.xlsx") in (
        composite.headers["Content-Disposition"])
    assert "composite-" not in composite.headers["Content-Disposition"]
