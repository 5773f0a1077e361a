"""Every kind's body (schemas/messages.py): valid and invalid bodies against the marshmallow
schema and against the published JSON Schema, which must be a valid Draft 2020-12 schema and
describe the same fields."""

from __future__ import annotations

import copy
import datetime as dt
import json
from collections.abc import Callable
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from jsonschema import Draft202012Validator
from marshmallow import Schema, fields

from schemas import keys
from schemas.certificates import issue_certificate, issue_revocation
from schemas.envelope import EnvelopeError, Kind
from schemas.message_parts import JSON_SCHEMA_DRAFT
from schemas.messages import (
    JSON_SCHEMAS,
    MESSAGE_SCHEMAS,
    check_publisher,
    check_sender,
    validate_body,
)

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
T1 = dt.datetime(2029, 1, 1, tzinfo=dt.UTC)


def fixed_key(seed: int) -> Ed25519PrivateKey:
    """A deterministic key, so that examples are the same on every run."""
    return Ed25519PrivateKey.from_private_bytes(bytes([seed]) * 32)


ATTACHMENT = {"sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
              "size": 52_341, "media_type": "application/pdf", "name": "营业执照.pdf"}


def summary_body() -> dict[str, Any]:
    return {
        "schema": "tongban.summary", "version": 1,
        "node": {"code": "450981", "name": "北流市政务服务中心", "level": "county",
                 "kind": "county_city", "parent": "450900"},
        "period": {"kind": "month", "label": "2026-11", "start": "2026-11-01",
                   "end": "2026-11-30"},
        "computed_at": "2026-12-02T02:00:00+00:00", "final": True,
        "metrics": {"completed": {"unit": "count", "value": 12},
                    "on_time_rate": {"unit": "basis_points", "numerator": 10,
                                     "denominator": 12, "value": 8333}},
        "catalog": {"should_enter": 650, "entered": 499, "entered_of_should": 499,
                    "authorized": {"accept": 3}},
    }


def case_forward_body() -> dict[str, Any]:
    return {
        "origin": {"node": "450981101", "case_number": "450981101-20261129-0001"},
        "chain": ["450981101"],
        "matter": {"code": "GX-SP-001", "name": "食品经营许可", "standard_code": "000123456000"},
        "applicant": {"name": "张三", "id_number": "450981199001011234",
                      "phone": "13800000000", "kind": "person"},
        "channel": "window",
        "received_on": "2026-11-28",
        "accepted_on": "2026-11-29",
        "promised_days": 10,
        "deadline_on": "2026-12-11",
        "notes": "材料齐全，现场核查已预约",
        "attachments": [dict(ATTACHMENT)],
        "forwarded_at": "2026-11-29T12:00:00+08:00",
    }


def case_forward_three_levels() -> dict[str, Any]:
    body = case_forward_body()
    body["chain"] = ["450981101", "450981"]
    body["applicant"] = {"name": "北流市某某食品有限公司", "id_number": None, "phone": None,
                         "kind": "organisation"}
    body["matter"]["standard_code"] = None
    body["accepted_on"] = body["deadline_on"] = None
    body["attachments"] = []
    return body


def case_result_body() -> dict[str, Any]:
    return {
        "origin": {"node": "450981101", "case_number": "450981101-20261129-0001"},
        "outcome": "approved",
        "decided_on": "2026-12-05",
        "decided_by_node": "450981",
        "documents": [dict(ATTACHMENT, name="许可证.pdf")],
        "fee_due_fen": 0,
    }


def case_result_denied() -> dict[str, Any]:
    return case_result_body() | {"outcome": "denied", "reason": "经营场所不符合要求",
                                 "documents": []}


def case_result_returned() -> dict[str, Any]:
    return case_result_body() | {"outcome": "returned", "reason": "本级无此事项",
                                 "decided_on": None, "documents": []}


def case_update_body() -> dict[str, Any]:
    return {
        "origin": {"node": "450981101", "case_number": "450981101-20261129-0001"},
        "state": "in_review",
        "note": "",
        "at": "2026-11-30T09:15:00.250+08:00",
    }


def directive_body() -> dict[str, Any]:
    return {
        "directive_id": "5b2c8f7e-6a1d-4c3e-9f0a-2b1c3d4e5f60",
        "subject": "case",
        "case_number": "450981101-20261129-0001",
        "text": "请于三日内办结并报告",
        "due_on": "2026-12-03",
        "issued_by": "dc_supervisor",
    }


def directive_about_a_metric() -> dict[str, Any]:
    body = directive_body() | {"subject": "metric", "metric": "on_time_rate"}
    del body["case_number"]
    return body


def directive_in_text() -> dict[str, Any]:
    return directive_body() | {"subject": "text", "case_number": None, "metric": None,
                               "text": "年底前完成窗口授权清单"}


def directive_reply_body() -> dict[str, Any]:
    return {"directive_id": "5b2c8f7e-6a1d-4c3e-9f0a-2b1c3d4e5f60", "state": "done",
            "text": "已办结", "replied_by": "county_admin"}


def complaint_forward_body() -> dict[str, Any]:
    return {"number": "450981101-TS-2026-000001",
            "case": {"node": "450981101", "case_number": "450981101-20261129-0001"},
            "content": "审批超期未告知进度", "contact_phone": "13800138000",
            "received_at": "2026-12-01T10:00:00.000+08:00", "due_on": "2026-12-08"}


def complaint_reply_body() -> dict[str, Any]:
    return {"number": "450981101-TS-2026-000001", "resolution": "已约谈经办人并答复投诉人",
            "resolved_at": "2026-12-03T16:30:00.000+08:00", "resolved_by": "450900"}


def catalog_publish_body() -> dict[str, Any]:
    matter = {
        "standard_code": "000123456000", "name": "食品经营许可",
        "category": "administrative_licence", "handling_level": "county",
        "handling_type": "promised", "legal_limit_days": 20, "promised_limit_days": 10,
        "notify_and_commit": False, "deemed_approval": True,
        "legal_basis": "《中华人民共和国食品安全法》第三十五条", "procedure": "受理、审查、决定",
        "conditions": "有与经营的食品品种、数量相适应的经营场所", "fee_basis": "",
        "fee_standard": "不收费", "fee_amount_fen": 0, "complaint_channel": "12345",
        "materials": [
            {"name": "食品经营许可申请书", "required": True, "form": "original", "copies": 1,
             "note": ""},
            {"name": "营业执照", "required": True, "form": "original_and_copy", "copies": 1,
             "note": "复印件加盖公章"},
        ],
    }
    immediate = matter | {
        "standard_code": "000123456001", "name": "个体工商户登记", "category": "public_service",
        "handling_level": "township", "handling_type": "immediate", "legal_limit_days": 0,
        "promised_limit_days": 0, "fee_amount_fen": 1500, "materials": [],
    }
    return {"catalog_version": 3, "published_at": "2026-11-01T08:00:00+08:00",
            "matters": [matter, immediate]}


def catalog_publish_part() -> dict[str, Any]:
    """The second of three envelopes of one large catalog."""
    return {**catalog_publish_body(), "part": 2, "parts": 3}


def calendar_publish_body() -> dict[str, Any]:
    return {"year": 2027, "version": 2, "published_at": "2026-11-20T09:00:00+08:00",
            "source": "国办发明电〔2026〕测试号",
            "days": [{"date": "2027-01-01", "kind": "holiday", "name": "元旦"},
                     {"date": "2027-02-20", "kind": "workday", "name": "春节"}]}


def cert_body() -> dict[str, Any]:
    city = fixed_key(2)
    county = fixed_key(3)
    document = issue_certificate(
        issuer_code="450900", issuer_key=city, subject="450981", level="county",
        kind="county_city", parent="450900", public_key_b64=keys.public_key_b64(
            county.public_key()), not_before=T0, not_after=T1, serial=7)
    return {"certificate": document}


def revoke_body() -> dict[str, Any]:
    document = issue_revocation(
        issuer_code="450900", issuer_key=fixed_key(2), subject="450981",
        key_id=keys.key_id(fixed_key(3).public_key()), effective_at=T0 + dt.timedelta(days=90),
        reason="密钥泄露", serial=8)
    return {"revocation": document}


VALID: dict[Kind, list[Callable[[], dict[str, Any]]]] = {
    Kind.SUMMARY: [summary_body],
    Kind.CASE_FORWARD: [case_forward_body, case_forward_three_levels],
    Kind.CASE_RESULT: [case_result_body, case_result_denied, case_result_returned],
    Kind.CASE_UPDATE: [case_update_body],
    Kind.DIRECTIVE: [directive_body, directive_about_a_metric, directive_in_text],
    Kind.DIRECTIVE_REPLY: [directive_reply_body],
    Kind.COMPLAINT_FORWARD: [complaint_forward_body,
                             lambda: complaint_forward_body() | {"contact_phone": None}],
    Kind.COMPLAINT_REPLY: [complaint_reply_body],
    Kind.CATALOG_PUBLISH: [catalog_publish_body, catalog_publish_part],
    Kind.CALENDAR_PUBLISH: [calendar_publish_body],
    Kind.CERT: [cert_body],
    Kind.REVOKE: [revoke_body],
}

VALID_CASES = [
    pytest.param(kind, make, id=make.__name__) for kind, makers in VALID.items() for make in makers
]


def json_schema_errors(kind: str, body: Any) -> list[str]:
    validator = Draft202012Validator(
        JSON_SCHEMAS[kind], format_checker=Draft202012Validator.FORMAT_CHECKER)
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
            for e in validator.iter_errors(body)]


def marshmallow_errors(kind: Kind, body: Any) -> dict[str, Any]:
    return MESSAGE_SCHEMAS[kind]().validate(body)


# -- mutations --------------------------------------------------------------------------------

Mutation = Callable[[dict[str, Any]], None]


def _walk(body: Any, path: str) -> tuple[Any, str | int]:
    *parents, last = path.split(".")
    target = body
    for part in parents:
        target = target[int(part)] if part.isdigit() else target[part]
    return target, int(last) if last.isdigit() else last


def _set(path: str, value: Any) -> Mutation:
    def mutate(body: dict[str, Any]) -> None:
        target, last = _walk(body, path)
        target[last] = value

    mutate.__name__ = f"{path}={value!r}"
    return mutate


def _drop(path: str) -> Mutation:
    def mutate(body: dict[str, Any]) -> None:
        target, last = _walk(body, path)
        del target[last]

    mutate.__name__ = f"no {path}"
    return mutate


def _mutated(make: Callable[[], dict[str, Any]], *mutations: Mutation) -> dict[str, Any]:
    body = copy.deepcopy(make())
    for mutation in mutations:
        mutation(body)
    return body


# Bodies both validators refuse: (kind, valid body maker, mutations).
INVALID_FOR_BOTH: dict[str, tuple[Kind, Callable[[], dict[str, Any]], list[Mutation]]] = {
    "forward: unknown key": (Kind.CASE_FORWARD, case_forward_body, [_set("priority", 1)]),
    "forward: no origin": (Kind.CASE_FORWARD, case_forward_body, [_drop("origin")]),
    "forward: empty case number": (
        Kind.CASE_FORWARD, case_forward_body, [_set("origin.case_number", "")]),
    "forward: empty chain": (Kind.CASE_FORWARD, case_forward_body, [_set("chain", [])]),
    "forward: a five-digit code in the chain": (
        Kind.CASE_FORWARD, case_forward_body, [_set("chain.0", "45098")]),
    "forward: a repeated node in the chain": (
        Kind.CASE_FORWARD, case_forward_body, [_set("chain", ["450981101", "450981101"])]),
    "forward: an unknown applicant kind": (
        Kind.CASE_FORWARD, case_forward_body, [_set("applicant.kind", "robot")]),
    "forward: an empty id number": (
        Kind.CASE_FORWARD, case_forward_body, [_set("applicant.id_number", "")]),
    "forward: no phone key": (Kind.CASE_FORWARD, case_forward_body, [_drop("applicant.phone")]),
    "forward: an unknown channel": (Kind.CASE_FORWARD, case_forward_body, [_set("channel", "fax")]),
    "forward: a day with slashes": (
        Kind.CASE_FORWARD, case_forward_body, [_set("received_on", "2026/11/28")]),
    "forward: a basic-format day": (
        Kind.CASE_FORWARD, case_forward_body, [_set("received_on", "20261128")]),
    "forward: negative promised days": (
        Kind.CASE_FORWARD, case_forward_body, [_set("promised_days", -1)]),
    "forward: promised days as text": (
        Kind.CASE_FORWARD, case_forward_body, [_set("promised_days", "10")]),
    "forward: promised days as a float": (
        Kind.CASE_FORWARD, case_forward_body, [_set("promised_days", 10.5)]),
    "forward: promised days as a boolean": (
        Kind.CASE_FORWARD, case_forward_body, [_set("promised_days", True)]),
    "forward: an upper-case hash": (
        Kind.CASE_FORWARD, case_forward_body, [_set("attachments.0.sha256", "9F" * 32)]),
    "forward: a short hash": (
        Kind.CASE_FORWARD, case_forward_body, [_set("attachments.0.sha256", "a" * 63)]),
    "forward: an empty attachment": (
        Kind.CASE_FORWARD, case_forward_body, [_set("attachments.0.size", 0)]),
    "forward: a media type without subtype": (
        Kind.CASE_FORWARD, case_forward_body, [_set("attachments.0.media_type", "pdf")]),
    "forward: a naive forwarded_at": (
        Kind.CASE_FORWARD, case_forward_body, [_set("forwarded_at", "2026-11-29T12:00:00")]),
    "forward: notes as a number": (Kind.CASE_FORWARD, case_forward_body, [_set("notes", 3)]),
    "result: an unknown outcome": (Kind.CASE_RESULT, case_result_body, [_set("outcome", "maybe")]),
    "result: denied without a reason": (
        Kind.CASE_RESULT, case_result_body, [_set("outcome", "denied")]),
    "result: returned with a null reason": (
        Kind.CASE_RESULT, case_result_returned, [_set("reason", None)]),
    "result: a blank reason": (Kind.CASE_RESULT, case_result_denied, [_set("reason", "  ")]),
    "result: approved without a day": (
        Kind.CASE_RESULT, case_result_body, [_set("decided_on", None)]),
    "result: denied without a day": (
        Kind.CASE_RESULT, case_result_denied, [_set("decided_on", None)]),
    "result: a negative fee": (Kind.CASE_RESULT, case_result_body, [_set("fee_due_fen", -1)]),
    "result: a bad deciding node": (
        Kind.CASE_RESULT, case_result_body, [_set("decided_by_node", "4509810")]),
    "result: a document without a hash": (
        Kind.CASE_RESULT, case_result_body, [_drop("documents.0.sha256")]),
    "update: an unknown state": (Kind.CASE_UPDATE, case_update_body, [_set("state", "lost")]),
    "update: a naive time": (
        Kind.CASE_UPDATE, case_update_body, [_set("at", "2026-11-30T09:15:00")]),
    "update: a time without seconds": (
        Kind.CASE_UPDATE, case_update_body, [_set("at", "2026-11-30T09:15+08:00")]),
    "update: no note": (Kind.CASE_UPDATE, case_update_body, [_drop("note")]),
    "directive: about a case without its number": (
        Kind.DIRECTIVE, directive_body, [_drop("case_number")]),
    "directive: about a metric with a case number": (
        Kind.DIRECTIVE, directive_about_a_metric, [_set("case_number", "X-1")]),
    "directive: about a case with a metric": (
        Kind.DIRECTIVE, directive_body, [_set("metric", "on_time_rate")]),
    "directive: in blank text": (Kind.DIRECTIVE, directive_in_text, [_set("text", " \n")]),
    "directive: an upper-case id": (
        Kind.DIRECTIVE, directive_body,
        [_set("directive_id", "5B2C8F7E-6A1D-4C3E-9F0A-2B1C3D4E5F60")]),
    "directive: an unknown subject": (Kind.DIRECTIVE, directive_body, [_set("subject", "staff")]),
    "directive: a metric key in capitals": (
        Kind.DIRECTIVE, directive_about_a_metric, [_set("metric", "On_time")]),
    "directive: no due day": (Kind.DIRECTIVE, directive_body, [_drop("due_on")]),
    "directive: an empty issuer": (Kind.DIRECTIVE, directive_body, [_set("issued_by", "")]),
    "reply: an unknown state": (
        Kind.DIRECTIVE_REPLY, directive_reply_body, [_set("state", "ignored")]),
    "reply: an id that is no UUID": (
        Kind.DIRECTIVE_REPLY, directive_reply_body, [_set("directive_id", "42")]),
    "reply: no replier": (Kind.DIRECTIVE_REPLY, directive_reply_body, [_drop("replied_by")]),
    "reply: text as a number": (Kind.DIRECTIVE_REPLY, directive_reply_body, [_set("text", 1)]),
    "complaint: no case": (Kind.COMPLAINT_FORWARD, complaint_forward_body, [_drop("case")]),
    "complaint: blank content": (
        Kind.COMPLAINT_FORWARD, complaint_forward_body, [_set("content", "  ")]),
    "complaint: a naive time": (Kind.COMPLAINT_FORWARD, complaint_forward_body,
                                [_set("received_at", "2026-12-01T10:00:00")]),
    "complaint: a due day that is no date": (
        Kind.COMPLAINT_FORWARD, complaint_forward_body, [_set("due_on", "2026/12/08")]),
    "complaint reply: no resolution": (
        Kind.COMPLAINT_REPLY, complaint_reply_body, [_drop("resolution")]),
    "complaint reply: an unknown key": (
        Kind.COMPLAINT_REPLY, complaint_reply_body, [_set("resolver", "x")]),
    "complaint reply: resolved by no center": (
        Kind.COMPLAINT_REPLY, complaint_reply_body, [_set("resolved_by", "city")]),
    "catalog: version 0": (Kind.CATALOG_PUBLISH, catalog_publish_body,
                           [_set("catalog_version", 0)]),
    "catalog: part 0": (Kind.CATALOG_PUBLISH, catalog_publish_body,
                        [_set("part", 0), _set("parts", 2)]),
    "catalog: parts as text": (Kind.CATALOG_PUBLISH, catalog_publish_body,
                               [_set("part", 1), _set("parts", "2")]),
    "catalog: no matters": (Kind.CATALOG_PUBLISH, catalog_publish_body, [_set("matters", [])]),
    "calendar: no days": (Kind.CALENDAR_PUBLISH, calendar_publish_body, [_set("days", [])]),
    "calendar: version 0": (Kind.CALENDAR_PUBLISH, calendar_publish_body,
                            [_set("version", 0)]),
    "calendar: a day of unknown kind": (
        Kind.CALENDAR_PUBLISH, calendar_publish_body, [_set("days.0.kind", "off")]),
    "calendar: a nameless day": (
        Kind.CALENDAR_PUBLISH, calendar_publish_body, [_set("days.0.name", "")]),
    "calendar: a date as 20270101": (
        Kind.CALENDAR_PUBLISH, calendar_publish_body, [_set("days.0.date", "20270101")]),
    "catalog: an unknown category": (
        Kind.CATALOG_PUBLISH, catalog_publish_body, [_set("matters.0.category", "tax")]),
    "catalog: a village level": (
        Kind.CATALOG_PUBLISH, catalog_publish_body, [_set("matters.0.handling_level", "village")]),
    "catalog: an unknown handling type": (
        Kind.CATALOG_PUBLISH, catalog_publish_body, [_set("matters.0.handling_type", "slow")]),
    "catalog: \"yes\" for a boolean": (
        Kind.CATALOG_PUBLISH, catalog_publish_body, [_set("matters.0.materials.0.required",
                                                          "yes")]),
    "catalog: 1 for a boolean": (
        Kind.CATALOG_PUBLISH, catalog_publish_body, [_set("matters.0.deemed_approval", 1)]),
    "catalog: an unknown material form": (
        Kind.CATALOG_PUBLISH, catalog_publish_body, [_set("matters.0.materials.1.form", "fax")]),
    "catalog: no copies": (
        Kind.CATALOG_PUBLISH, catalog_publish_body, [_set("matters.0.materials.0.copies", 0)]),
    "catalog: a negative fee": (
        Kind.CATALOG_PUBLISH, catalog_publish_body, [_set("matters.1.fee_amount_fen", -5)]),
    "catalog: a matter without materials": (
        Kind.CATALOG_PUBLISH, catalog_publish_body, [_drop("matters.0.materials")]),
    "catalog: a float limit": (
        Kind.CATALOG_PUBLISH, catalog_publish_body, [_set("matters.0.legal_limit_days", 20.5)]),
    "cert: no signature": (Kind.CERT, cert_body, [_drop("certificate.sig")]),
    "cert: a short signature": (Kind.CERT, cert_body, [_set("certificate.sig", "AAAA")]),
    "cert: a padded public key": (
        Kind.CERT, cert_body, [_set("certificate.certificate.public_key", "A" * 42 + "=")]),
    "cert: a village level": (
        Kind.CERT, cert_body, [_set("certificate.certificate.level", "village")]),
    "cert: an extra field": (
        Kind.CERT, cert_body, [_set("certificate.certificate.role", "admin")]),
    "cert: serial 0": (Kind.CERT, cert_body, [_set("certificate.certificate.serial", 0)]),
    "cert: a naive not_before": (
        Kind.CERT, cert_body, [_set("certificate.certificate.not_before", "2026-01-01T00:00:00")]),
    "cert: an upper-case key id": (
        Kind.CERT, cert_body, [_set("certificate.certificate.key_id", "ABCDEF0123456789")]),
    "cert: the document unwrapped": (
        Kind.CERT, cert_body, [lambda body: body.update(body.pop("certificate"))]),
    "revoke: an empty reason": (Kind.REVOKE, revoke_body, [_set("revocation.revocation.reason",
                                                                "")]),
    "revoke: no issuer": (Kind.REVOKE, revoke_body, [_drop("revocation.revocation.issuer")]),
    "revoke: a short key id": (
        Kind.REVOKE, revoke_body, [_set("revocation.revocation.key_id", "abc")]),
}

# Rules only the marshmallow schemas hold (JSON Schema cannot compare two values).
MARSHMALLOW_ONLY: dict[str, tuple[Kind, Callable[[], dict[str, Any]], list[Mutation]]] = {
    "calendar: a date outside the year": (
        Kind.CALENDAR_PUBLISH, calendar_publish_body, [_set("days.0.date", "2028-01-01")]),
    "calendar: a date listed twice": (
        Kind.CALENDAR_PUBLISH, calendar_publish_body, [_set("days.1.date", "2027-01-01"),
                                                       _set("days.1.kind", "holiday")]),
    "calendar: a workday on a weekday": (
        Kind.CALENDAR_PUBLISH, calendar_publish_body, [_set("days.1.date", "2027-02-22")]),
    "forward: a chain that does not start at the origin": (
        Kind.CASE_FORWARD, case_forward_body, [_set("chain", ["450981"])]),
    "forward: accepted before received": (
        Kind.CASE_FORWARD, case_forward_body, [_set("accepted_on", "2026-11-27")]),
    "forward: a deadline without acceptance": (
        Kind.CASE_FORWARD, case_forward_body, [_set("accepted_on", None)]),
    "forward: a deadline before acceptance": (
        Kind.CASE_FORWARD, case_forward_body, [_set("deadline_on", "2026-11-28")]),
    "catalog: a promise longer than the law": (
        Kind.CATALOG_PUBLISH, catalog_publish_body,
        [_set("matters.0.promised_limit_days", 21)]),
    "catalog: a standard code twice": (
        Kind.CATALOG_PUBLISH, catalog_publish_body,
        [_set("matters.1.standard_code", "000123456000")]),
    "catalog: a part beyond the parts": (
        Kind.CATALOG_PUBLISH, catalog_publish_body, [_set("part", 3), _set("parts", 2)]),
    "catalog: a part without parts": (Kind.CATALOG_PUBLISH, catalog_publish_body,
                                      [_set("part", 1)]),
    "cert: not_after before not_before": (
        Kind.CERT, cert_body,
        [_set("certificate.certificate.not_after", "2025-01-01T00:00:00+00:00")]),
}


# -- the tests --------------------------------------------------------------------------------


def test_every_kind_has_a_schema_and_a_published_json_schema() -> None:
    assert set(MESSAGE_SCHEMAS) == set(Kind)
    assert set(JSON_SCHEMAS) == {kind.value for kind in Kind} | {"envelope"}
    ids = [schema["$id"] for schema in JSON_SCHEMAS.values()]
    assert len(set(ids)) == len(ids)
    assert JSON_SCHEMAS["case.forward"]["$id"] == "tongban.case.forward/v1"


@pytest.mark.parametrize("name", sorted(JSON_SCHEMAS))
def test_json_schemas_are_valid_draft_2020_12(name: str) -> None:
    schema = JSON_SCHEMAS[name]
    assert schema["$schema"] == JSON_SCHEMA_DRAFT
    Draft202012Validator.check_schema(schema)
    assert json.loads(json.dumps(schema)) == schema  # publishable as it is


@pytest.mark.parametrize(("kind", "make"), VALID_CASES)
def test_valid_bodies_pass_both(kind: Kind, make: Callable[[], dict[str, Any]]) -> None:
    body = make()
    assert marshmallow_errors(kind, body) == {}
    assert json_schema_errors(kind.value, body) == []
    validate_body(kind, body)
    validate_body(kind.value, body)


@pytest.mark.parametrize(
    ("kind", "make", "mutations"), INVALID_FOR_BOTH.values(), ids=INVALID_FOR_BOTH.keys())
def test_invalid_bodies_fail_both(
    kind: Kind, make: Callable[[], dict[str, Any]], mutations: list[Mutation]
) -> None:
    body = _mutated(make, *mutations)
    assert marshmallow_errors(kind, body) != {}
    assert json_schema_errors(kind.value, body) != []
    with pytest.raises(EnvelopeError) as caught:
        validate_body(kind, body)
    assert caught.value.code == "bad_body"
    assert caught.value.details["fields"]
    json.dumps(caught.value.details)  # list indexes became string keys


@pytest.mark.parametrize(
    ("kind", "make", "mutations"), MARSHMALLOW_ONLY.values(), ids=MARSHMALLOW_ONLY.keys())
def test_rules_between_values_fail_the_marshmallow_schema(
    kind: Kind, make: Callable[[], dict[str, Any]], mutations: list[Mutation]
) -> None:
    body = _mutated(make, *mutations)
    with pytest.raises(EnvelopeError) as caught:
        validate_body(kind, body)
    assert caught.value.code == "bad_body"
    assert json_schema_errors(kind.value, body) == []
    # the published schema names the rules it cannot check
    assert "Also:" in JSON_SCHEMAS[kind.value]["description"]


def test_errors_name_the_bad_fields() -> None:
    body = _mutated(case_forward_body, _set("channel", "fax"), _set("attachments.0.size", 0))
    with pytest.raises(EnvelopeError) as caught:
        validate_body(Kind.CASE_FORWARD, body)
    fields_ = caught.value.details["fields"]
    assert "channel" in fields_
    assert fields_["attachments"]["0"]["size"]
    assert "channel" in str(caught.value)


def test_a_body_must_be_an_object() -> None:
    for body in ([], "text", None, 1):
        with pytest.raises(EnvelopeError) as caught:
            validate_body(Kind.CASE_UPDATE, body)
        assert caught.value.code == "bad_body"


def test_an_unknown_kind_is_refused() -> None:
    with pytest.raises(EnvelopeError, match=r"unknown envelope kind 'case\.delete'") as caught:
        validate_body("case.delete", {})
    assert caught.value.code == "unknown_kind"


def test_a_summary_speaks_only_for_its_sender() -> None:
    check_sender(Kind.SUMMARY, "450981", summary_body())
    with pytest.raises(EnvelopeError, match="cannot come from 450900") as caught:
        check_sender(Kind.SUMMARY, "450900", summary_body())
    assert caught.value.code == "bad_body"
    check_sender(Kind.CASE_UPDATE, "450981", case_update_body())  # no such rule for others


def test_only_the_trust_root_may_send_a_national_schedule() -> None:
    check_publisher(Kind.CALENDAR_PUBLISH, "450000", "450000")
    with pytest.raises(EnvelopeError) as caught:
        check_publisher(Kind.CALENDAR_PUBLISH, "450900", "450000")
    assert caught.value.code == "not_trust_root"
    assert caught.value.details == {"from": "450900", "root": "450000"}
    check_publisher(Kind.CATALOG_PUBLISH, "450900", "450000")  # any ancestor publishes these


def _nullable(js: dict[str, Any]) -> bool:
    options = js.get("anyOf", [])
    return {"type": "null"} in options or None in js.get("enum", [])


def _unwrap(js: dict[str, Any]) -> dict[str, Any]:
    for option in js.get("anyOf", []):
        if option != {"type": "null"}:
            return option
    return js


def _compare(schema: Schema, js: dict[str, Any], path: str) -> None:
    js = _unwrap(js)
    assert js["type"] == "object", path
    assert js.get("additionalProperties") is False, path
    assert set(js["properties"]) == set(schema.fields), path
    required = {name for name, field in schema.fields.items() if field.required}
    assert set(js.get("required", [])) == required, path
    for name, field in schema.fields.items():
        sub = js["properties"][name]
        assert _nullable(sub) == field.allow_none, f"{path}.{name}"
        if isinstance(field, fields.Nested):
            _compare(field.schema, sub, f"{path}.{name}")
        elif isinstance(field, fields.List) and isinstance(field.inner, fields.Nested):
            _compare(field.inner.schema, _unwrap(sub)["items"], f"{path}.{name}[]")


@pytest.mark.parametrize("kind", [kind for kind in Kind if kind is not Kind.SUMMARY])
def test_json_schema_and_marshmallow_schema_list_the_same_fields(kind: Kind) -> None:
    _compare(MESSAGE_SCHEMAS[kind](), JSON_SCHEMAS[kind.value], kind.value)


def test_the_json_schema_alone_can_check_a_forward() -> None:
    """What a third party without tongban's code would do with the published schema."""
    published = json.loads(json.dumps(JSON_SCHEMAS))
    body = json.loads(json.dumps(case_forward_body()))
    assert not list(Draft202012Validator(published["case.forward"]).iter_errors(body))
    body["attachments"][0]["size"] = -1
    assert list(Draft202012Validator(published["case.forward"]).iter_errors(body))
