"""The summary body (schemas/summary.py): valid and invalid bodies against the marshmallow
schema and against the published JSON Schema.

The JSON Schema is checked with ``jsonschema`` (Draft 2020-12, with format checking).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from schemas.summary import (
    POWER_KEYS,
    SUMMARY_JSON_SCHEMA,
    SUMMARY_SCHEMA_ID,
    SUMMARY_VERSION,
    SummarySchema,
)


def json_schema_errors(body: Any, schema: dict[str, Any] = SUMMARY_JSON_SCHEMA) -> list[str]:
    """What the published JSON Schema says is wrong with ``body`` (empty when valid)."""
    Draft202012Validator.check_schema(schema)
    validator = Draft202012Validator(schema, format_checker=FORMAT_CHECKER)
    return [error.message for error in validator.iter_errors(body)]


FORMAT_CHECKER = Draft202012Validator.FORMAT_CHECKER


# -- bodies -------------------------------------------------------------------------------


def valid_body() -> dict[str, Any]:
    return {
        "schema": SUMMARY_SCHEMA_ID,
        "version": SUMMARY_VERSION,
        "node": {"code": "450981", "name": "北流市政务服务中心", "level": "county",
                 "kind": "county_city", "parent": "450900"},
        "period": {"kind": "month", "label": "2026-11", "start": "2026-11-01",
                   "end": "2026-11-30"},
        "computed_at": "2026-12-02T02:00:00+00:00",
        "final": True,
        "metrics": {
            "completed": {"unit": "count", "value": 12},
            "fees_center_fen": {"unit": "fen", "value": 5000},
            "on_time_rate": {"unit": "basis_points", "numerator": 10, "denominator": 12,
                             "value": 8333},
            "satisfaction_rate": {"unit": "basis_points", "numerator": 0, "denominator": 0},
            "completed_monthly_average": {"unit": "per_month", "numerator": 12,
                                          "denominator": 1, "value": 12},
        },
        "catalog": {"should_enter": 650, "entered": 499, "entered_of_should": 499,
                    "authorized": dict.fromkeys(POWER_KEYS, 0)},
    }


def test_a_valid_body_passes_both() -> None:
    body = valid_body()
    assert SummarySchema().validate(body) == {}
    assert json_schema_errors(body) == []


def test_a_township_and_a_province_pass_both() -> None:
    body = valid_body()
    body["node"] = {"code": "450981101", "name": "民安镇便民服务中心", "level": "township",
                    "kind": None, "parent": "450981"}
    assert SummarySchema().validate(body) == {}
    assert json_schema_errors(body) == []
    body["node"] = {"code": "450000", "name": "广西壮族自治区政务服务中心", "level": "province",
                    "kind": None, "parent": None}
    assert SummarySchema().validate(body) == {}
    assert json_schema_errors(body) == []


def test_the_published_schema_is_json_and_names_its_version() -> None:
    published = json.loads(json.dumps(SUMMARY_JSON_SCHEMA))
    assert published["$id"] == "tongban.summary/v1"
    marshmallow_required = {n for n, f in SummarySchema().fields.items() if f.required}
    assert set(published["required"]) == marshmallow_required
    assert published["properties"]["catalog"]["properties"]["authorized"]["propertyNames"] == {
        "enum": list(POWER_KEYS)}


Mutation = Callable[[dict[str, Any]], None]


def _set(path: str, value: Any) -> Mutation:
    def mutate(body: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        target = body
        for key in parents:
            target = target[key]
        target[last] = value

    return mutate


def _drop(path: str) -> Mutation:
    def mutate(body: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        target = body
        for key in parents:
            target = target[key]
        del target[last]

    return mutate


# Bodies both validators refuse.
INVALID_FOR_BOTH: dict[str, Mutation] = {
    "unknown top-level key": _set("ranking", 1),
    "a float value": _set("metrics.completed.value", 11.5),
    "a float rate value": _set("metrics.on_time_rate.value", 8333.3),
    "a boolean value": _set("metrics.completed.value", True),
    "a string value": _set("metrics.completed.value", "12"),
    "a negative numerator": _set("metrics.on_time_rate.numerator", -1),
    "a negative denominator": _set("metrics.satisfaction_rate.denominator", -1),
    "an unknown unit": _set("metrics.completed.unit", "percent"),
    "no unit": _drop("metrics.completed.unit"),
    "an unknown key in a metric": _set("metrics.completed.note", "x"),
    "a metric key in capitals": _set("metrics.Completed", {"unit": "count", "value": 1}),
    "another schema": _set("schema", "tongban.ranking"),
    "version 2": _set("version", 2),
    "a naive computed_at": _set("computed_at", "2026-12-02T02:00:00"),
    "a five-digit node code": _set("node.code", "45098"),
    "an unknown level": _set("node.level", "village"),
    "an unknown county kind": _set("node.kind", "banner"),
    "a week": _set("period.kind", "week"),
    "a period start that is no date": _set("period.start", "2026-11-31"),
    "final as a number": _set("final", 2),
    "no metrics": _drop("metrics"),
    "no catalog": _drop("catalog"),
    "an unknown power": _set("catalog.authorized.veto", 1),
    "a float in the catalog": _set("catalog.entered", 499.5),
    "an unknown catalog key": _set("catalog.windows", 3),
}

# Bodies that break the unit rules of MetricValueSchema (schemas/summary.py, _consistent).
BROKEN_UNIT_RULES: dict[str, Mutation] = {
    "a rate with denominator 0 and a value": _set("metrics.satisfaction_rate.value", 0),
    "a rate with a denominator and no value": _drop("metrics.on_time_rate.value"),
    "a rate without its numerator": _drop("metrics.on_time_rate.numerator"),
    "a rate without its denominator": _drop("metrics.on_time_rate.denominator"),
    "a monthly average without its denominator": _drop(
        "metrics.completed_monthly_average.denominator"),
    "a count with a numerator": _set("metrics.completed.numerator", 12),
    "a count with a denominator": _set("metrics.fees_center_fen.denominator", 1),
    "a count without a value": _drop("metrics.completed.value"),
}


def _mutated(mutation: Mutation) -> dict[str, Any]:
    body = copy.deepcopy(valid_body())
    mutation(body)
    return body


@pytest.mark.parametrize("mutation", INVALID_FOR_BOTH.values(), ids=INVALID_FOR_BOTH.keys())
def test_invalid_bodies_fail_both(mutation: Mutation) -> None:
    body = _mutated(mutation)
    assert SummarySchema().validate(body) != {}
    assert json_schema_errors(body) != []


@pytest.mark.parametrize("mutation", BROKEN_UNIT_RULES.values(), ids=BROKEN_UNIT_RULES.keys())
def test_unit_rules_fail_the_marshmallow_schema(mutation: Mutation) -> None:
    errors = SummarySchema().validate(_mutated(mutation))
    assert "metrics" in errors


def test_the_unit_rule_messages_say_what_is_wrong() -> None:
    zero = SummarySchema().validate(_mutated(BROKEN_UNIT_RULES[
        "a rate with denominator 0 and a value"]))
    assert "denominator 0 has no value" in json.dumps(zero)
    count = SummarySchema().validate(_mutated(BROKEN_UNIT_RULES["a count with a numerator"]))
    assert "a count carries a value and no ratio" in json.dumps(count)


@pytest.mark.parametrize("mutation", BROKEN_UNIT_RULES.values(), ids=BROKEN_UNIT_RULES.keys())
def test_unit_rules_fail_the_published_json_schema(mutation: Mutation) -> None:
    assert json_schema_errors(_mutated(mutation)) != []


def test_final_must_be_a_json_boolean() -> None:
    body = _mutated(_set("final", "yes"))
    assert json_schema_errors(body) != []
    assert SummarySchema().validate(body) != {}


# -- the audit anchor (issue 16, item 9) ------------------------------------------------------

HEAD = "ab" * 32
RESTORE = "5b2c8f7e-6a1d-4c3e-9f0a-2b1c3d4e5f60"


@pytest.mark.parametrize("audit", [
    {"entries": 0, "head": "0" * 64, "restore": None},
    {"entries": 123456, "head": HEAD, "restore": RESTORE},
])
def test_a_body_with_an_audit_anchor_passes_both(audit: dict[str, Any]) -> None:
    body = valid_body() | {"audit": audit}
    assert SummarySchema().validate(body) == {}
    assert json_schema_errors(body) == []


@pytest.mark.parametrize("audit", [
    {"entries": 1, "head": HEAD},  # restore is required (null when none)
    {"entries": -1, "head": HEAD, "restore": None},
    {"entries": 2**53, "head": HEAD, "restore": None},
    {"entries": "1", "head": HEAD, "restore": None},
    {"entries": 1, "head": HEAD.upper(), "restore": None},
    {"entries": 1, "head": HEAD + "\n", "restore": None},
    {"entries": 1, "head": HEAD[:-1], "restore": None},
    {"entries": 1, "head": HEAD, "restore": RESTORE.upper()},
    {"entries": 1, "head": HEAD, "restore": None, "actor": "张三"},  # nothing else travels
    "ab",
], ids=str)
def test_a_malformed_audit_anchor_fails_both(audit: Any) -> None:
    body = valid_body() | {"audit": audit}
    assert SummarySchema().validate(body) != {}
    assert json_schema_errors(body) != []
