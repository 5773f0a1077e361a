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
