"""Every message a person reads comes from the catalog: Chinese by default, English with
``Accept-Language: en``; the error codes and field names stay English (schemas/i18n.py)."""

from __future__ import annotations

from flask.testing import FlaskClient

from node.auth.permissions import Role

EN = {"Accept-Language": "en-US,en;q=0.9"}


def test_a_validation_error_is_chinese_by_default_and_english_when_asked(
        client: FlaskClient) -> None:
    chinese = client.post("/api/v1/auth/login", json={"password": "x"})
    english = client.post("/api/v1/auth/login", json={"password": "x"}, headers=EN)
    for response in (chinese, english):
        assert response.status_code == 422
        assert response.json["error"]["code"] == "validation_failed"
        assert list(response.json["error"]["details"]["fields"]) == ["username"]
    assert chinese.json["error"]["message"] == "输入的内容无效：username。"
    assert chinese.json["error"]["details"]["fields"]["username"] == ["缺少必填项。"]
    assert english.json["error"]["message"] == "The input is not valid: username."
    assert english.json["error"]["details"]["fields"]["username"] == [
        "Missing data for required field."]


def test_a_domain_error_is_chinese_by_default_and_english_when_asked(
        client: FlaskClient, make_user) -> None:
    make_user(Role.CLERK, "clerk")
    body = {"username": "clerk", "password": "not-the-password"}
    chinese = client.post("/api/v1/auth/login", json=body)
    english = client.post("/api/v1/auth/login", json=body, headers=EN)
    assert chinese.status_code == english.status_code == 401
    assert chinese.json["error"]["code"] == english.json["error"]["code"] == "unauthorized"
    assert chinese.json["error"]["message"] == "用户名或密码错误。"
    assert english.json["error"]["message"] == "Wrong username or password."


def test_a_range_message_is_filled_in_the_readers_language(client: FlaskClient) -> None:
    """marshmallow fills its messages in stages ("Must be {min_op} {{min}}."): each stage
    in the reader's language."""
    from marshmallow import Schema, ValidationError, fields, validate

    from schemas.i18n import localize

    class Limit(Schema):
        days = fields.Integer(validate=validate.Range(min=1))

    try:
        Limit().load({"days": 0})
    except ValidationError as exc:
        messages = exc.messages
    assert localize(messages, "zh_Hans_CN") == {"days": ["须大于或等于 1。"]}
    assert localize(messages, "en") == {"days": ["Must be greater than or equal to 1."]}


def test_pages_follow_the_language_too(client: FlaskClient) -> None:
    assert "办事指南" in client.get("/guide").get_data(as_text=True)
    english = client.get("/guide", headers=EN).get_data(as_text=True)
    assert "Service guide" in english
    assert "办事指南" not in english


def _both(api, method: str, path: str, **kwargs) -> tuple:
    """The same request in the default language and with ``Accept-Language: en``."""
    return (api.request(method, path, **kwargs),
            api.request(method, path, headers=EN, **kwargs))


def test_a_case_error_is_chinese_by_default_and_english_when_asked(admin) -> None:
    chinese, english = _both(admin, "GET", "/api/v1/cases/999999")
    assert chinese.status_code == english.status_code == 404
    assert chinese.json["error"]["code"] == english.json["error"]["code"] == "not_found"
    assert chinese.json["error"]["message"] == "没有办件 999999。"
    assert english.json["error"]["message"] == "No case 999999."


def test_a_complaint_problem_is_chinese_by_default_and_english_when_asked(anonymous) -> None:
    body = {"content": "办事来回跑了三趟", "window_code": "W9"}
    chinese, english = _both(anonymous, "POST", "/api/v1/public/complaints", json=body)
    assert chinese.status_code == english.status_code == 422
    assert chinese.json["error"]["details"]["fields"] == {"window_code": ["本中心没有窗口 'W9'"]}
    assert english.json["error"]["details"]["fields"] == {
        "window_code": ["no window 'W9' at this center"]}


def test_an_assessment_problem_is_chinese_by_default_and_english_when_asked(admin) -> None:
    chinese, english = _both(admin, "GET", "/api/v1/metrics/assessment?period=2026")
    assert chinese.status_code == english.status_code == 422
    assert chinese.json["error"]["details"]["fields"]["period"] == [
        "考核按月进行：请填写月份，例如 2026-11，而不是 '2026'"]
    assert english.json["error"]["details"]["fields"]["period"] == [
        "the assessment is monthly: give a month such as 2026-11, not '2026'"]


def test_an_import_problem_is_chinese_by_default_and_english_when_asked(admin) -> None:
    document = {"format": "tongban.catalog", "version": 1, "departments": "SC"}
    chinese, english = _both(admin, "POST", "/api/v1/catalog/import", json=document)
    assert chinese.status_code == english.status_code == 422
    assert chinese.json["error"]["message"] == (
        "目录有 1 处问题，未导入任何内容。每处问题均列出工作表、行、列和原因。")
    assert [row["reason"] for row in chinese.json["error"]["details"]["rows"]] == ["须为列表"]
    assert english.json["error"]["message"].startswith("The catalog has 1 problem(s)")
    assert [row["reason"] for row in english.json["error"]["details"]["rows"]] == [
        "must be a list"]


def test_metric_names_follow_the_language() -> None:
    from schemas.i18n import localize
    from schemas.metrics import ALL_METRICS, shown_name

    received, fees = ALL_METRICS["received"], ALL_METRICS["fees_center_fen"]
    assert localize(received.name, "zh_Hans_CN") == "收件数"
    assert localize(received.name, "en") == "Received"
    assert localize(shown_name(fees), "zh_Hans_CN") == "中心收费（元）"
    assert localize(shown_name(fees), "en") == "Fees at the center (yuan)"
    authorized = ALL_METRICS["authorized_approve"].name
    assert localize(authorized, "zh_Hans_CN") == "审批授权事项"
    assert "授权" not in localize(authorized, "en")


def test_the_pagination_refusals_follow_the_language(client: FlaskClient) -> None:
    """The 422s of the cursor-paged lists (every list of the API): page numbers refused, a
    cursor not given out by the list, a page too long."""
    refusals = {
        ("/api/v1/guide/matters?page=2", "page"): (
            "本列表按游标分页", "this list is paged by cursor"),
        ("/api/v1/guide/matters?page_size=10", "page_size"): (
            "本列表按游标分页", "this list is paged by cursor"),
        ("/api/v1/guide/matters?cursor=nonsense", "cursor"): (
            "不是本列表给出的游标", "not a cursor this list gave out"),
        ("/api/v1/guide/matters?per_page=1000", "per_page"): (
            "须大于或等于 1，且小于或等于 100。", "Must be greater than or equal to 1 and less"),
    }
    for (url, field), (chinese, english) in refusals.items():
        zh = client.get(url)
        en = client.get(url, headers=EN)
        assert zh.status_code == en.status_code == 422, url
        assert zh.json["error"]["details"]["fields"][field][0].startswith(chinese), url
        assert en.json["error"]["details"]["fields"][field][0].startswith(english), url
