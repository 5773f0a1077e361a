"""The hot lists' lean row dump (node/cases/schemas.py, ``summary_row``) says exactly what
``CaseSummarySchema`` says (issues 17 and 20): a property over made-up cases (hypothesis), and
the API's answer against the schema's dump of the same rows (both databases)."""

from __future__ import annotations

import datetime as dt
import json

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from node.auth.models import User
from node.cases.models import Case, Channel, TongbanRole
from node.cases.schemas import CaseSummarySchema, summary_row
from node.cases.states import CaseState
from node.cases.views import CaseView
from node.cases.warnings import Warning
from node.catalog.models import Department, Matter, Window
from node.forms import cursor_page_of
from tests.unit.node.conftest import Api
from tests.unit.node.test_cases_api import submit

SCHEMA = CaseSummarySchema()
# every field the schema dumps: a field added to it and not to summary_row fails here
FIELDS = set(SCHEMA.dump_fields)
PAGE_FIELDS = set(cursor_page_of(CaseSummarySchema)().dump_fields)

days = st.dates(min_value=dt.date(2020, 1, 1), max_value=dt.date(2030, 12, 31))
text = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=20)
codes = st.text(alphabet="0123456789", min_size=1, max_size=18)


@st.composite
def cases(draw: st.DrawFn) -> CaseView:
    origin = draw(st.none() | st.tuples(codes, text))
    case = Case(
        id=draw(st.integers(1, 2**31 - 1)), number=draw(text), version=draw(st.integers(1, 99)),
        state=draw(st.sampled_from(CaseState)), channel=draw(st.sampled_from(Channel)),
        applicant_name=draw(text),
        applicant_id_number=draw(st.none() | st.just("") | codes),
        applicant_phone=draw(st.none() | st.just("") | codes),
        received_on=draw(days), accepted_on=draw(st.none() | days),
        deadline_on=draw(st.none() | days), deadline_provisional=draw(st.none() | st.booleans()),
        completed_on=draw(st.none() | days),
        forwarded_to=draw(st.none() | codes), received_from=draw(st.none() | codes),
        tongban_role=draw(st.none() | st.sampled_from(TongbanRole)),
        tongban_division=draw(st.none() | codes), forwarded_number=draw(st.none() | text),
        origin_node_code=origin[0] if origin else draw(st.none() | st.just("")),
        origin_case_number=origin[1] if origin else None,
    )
    case.matter = Matter(code=draw(codes), name=draw(text))
    case.department = Department(code=draw(codes), name=draw(text))
    case.window = draw(st.none() | st.builds(Window, code=codes, name=text))
    case.owner = draw(st.none() | st.builds(User, username=text))
    return CaseView(case, warning_now=draw(st.none() | st.sampled_from(Warning)),
                    allowed_now=["accept"])


@settings(max_examples=300)
@given(cases())
def test_the_lean_row_is_the_schemas_dump(view: CaseView) -> None:
    lean, schema = summary_row(view), SCHEMA.dump(view)
    assert set(lean) == FIELDS
    assert lean == schema
    # and written as JSON they read back the same (orjson for the lean, Flask's json for the
    # schema's: the enums are written by value)
    assert orjson.loads(orjson.dumps(lean)) == json.loads(json.dumps(schema))


def test_the_lists_answer_as_the_schema_dumps(desk, db) -> None:
    clerk, supervisor = desk["clerk"], desk["supervisor"]
    first = submit(clerk)
    submit(clerk, applicant_name="李四", applicant_phone="0775-1234567")
    clerk.post(f"/api/v1/cases/{first['id']}/accept", {})
    checked = 0
    for api, url in ((supervisor, "/api/v1/cases"), (clerk, "/api/v1/cases?state=accepted"),
                     (supervisor, "/api/v1/supervision/warnings")):
        answer = _get(api, url)
        assert set(answer) == PAGE_FIELDS
        with db.unit_of_work(write=False) as session:
            for item in answer["items"]:
                case = session.scalar(select(Case).where(Case.id == item["id"]))
                assert case is not None
                expected = SCHEMA.dump(CaseView(case, warning_now=_colour(item)))
                assert item == json.loads(json.dumps(expected))
                checked += 1
    assert checked >= 3


def _get(api: Api, url: str) -> dict[str, object]:
    response = api.get(url)
    assert response.status_code == 200, response.json
    assert response.headers["Content-Type"] == "application/json"
    return dict(response.json)


def _colour(item: dict[str, object]) -> Warning | None:
    return Warning(item["warning"]) if item["warning"] is not None else None
