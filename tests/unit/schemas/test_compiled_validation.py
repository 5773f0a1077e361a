"""The compiled validator (jsonschema-rs) decides exactly as the marshmallow schema does, for
every kind in schemas.messages.COMPILED_KINDS: the hub checks a summary with the compiled
published JSON Schema and runs marshmallow only to name the fields of a refused body
(docs/performance.md, "The hub ingest benchmark").

Random mutations of valid bodies — a value replaced by any JSON value, a key dropped or an
unknown one added, at any depth — must be refused by both or by neither.
"""

from __future__ import annotations

import copy
import random
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from schemas.envelope import EnvelopeError, Kind
from schemas.messages import _COMPILED, COMPILED_KINDS, MESSAGE_SCHEMAS, validate_body
from tests.bench.enrolment import summary_body as full_summary_body
from tests.unit.schemas.test_messages import summary_body

BODIES = {Kind.SUMMARY: [summary_body,
                         lambda: full_summary_body("450981101", random.Random(3))]}

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53 - 1), 2**53 - 1)
    | st.sampled_from([0, 1, -1, 10000, 10001, ""])
    | st.text(max_size=12) | st.sampled_from(
        ["count", "basis_points", "per_month", "month", "2026-11-31", "2026-11-30",
         "2026-12-02T02:00:00+00:00", "2026-12-02T02:00:00", "450981", "45098", "province",
         "county_city", "accept", "tongban.summary"]),
    lambda children: st.lists(children, max_size=3)
    | st.dictionaries(st.sampled_from(["unit", "value", "numerator", "denominator", "code",
                                       "x"]), children, max_size=4),
    max_leaves=8,
)


def _paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [path]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, (*path, index))
    return found


@st.composite
def mutated(draw: Any, kind: Kind) -> dict[str, Any]:
    body = copy.deepcopy(draw(st.sampled_from(BODIES[kind]))())
    for _ in range(draw(st.integers(1, 3))):
        paths = [p for p in _paths(body) if p]
        path = draw(st.sampled_from(paths))
        *parents, last = path
        target: Any = body
        for part in parents:
            target = target[part]
        action = draw(st.sampled_from(["replace", "drop", "add"]))
        if action == "replace":
            target[last] = draw(json_values)
        elif action == "drop" and isinstance(target, dict):
            del target[last]
        elif isinstance(target, dict):
            target[draw(st.sampled_from(["extra", "unit", "value", "kind", "parent"]))] = \
                draw(json_values)
    return body


@pytest.mark.parametrize("kind", COMPILED_KINDS)
def test_valid_bodies_pass_the_compiled_validator(kind: Kind) -> None:
    for make in BODIES[kind]:
        body = make()
        assert _COMPILED[kind].is_valid(body)
        assert MESSAGE_SCHEMAS[kind]().validate(body) == {}


@pytest.mark.parametrize("kind", COMPILED_KINDS)
@settings(max_examples=600, deadline=None)
@given(data=st.data())
def test_compiled_and_marshmallow_agree_on_every_mutation(kind: Kind, data: Any) -> None:
    body = data.draw(mutated(kind))
    compiled = _COMPILED[kind].is_valid(body)
    marshmallow = MESSAGE_SCHEMAS[kind]().validate(body) == {}
    assert compiled == marshmallow, (body, MESSAGE_SCHEMAS[kind]().validate(body))


def test_a_refused_body_still_names_its_fields() -> None:
    body = summary_body()
    body["metrics"]["completed"]["value"] = "12"
    body["period"]["end"] = "2026-11-31"
    with pytest.raises(EnvelopeError) as caught:
        validate_body(Kind.SUMMARY, body)
    fields = caught.value.details["fields"]
    assert set(fields) == {"metrics", "period"}
    assert "end" in fields["period"]
