"""Units people read on the pages: the matter form takes the fee in 元 (the API keeps 分)."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient

from tests.unit.node.conftest import Api
from tests.unit.node.test_web import _admin_client, _form_of

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
