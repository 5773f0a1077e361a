"""The completeness page and the league table say how each lower center's figures fared
against its case records (issue 21): 数据核验：通过 / 未通过 / 未应答, a summary refused for
its commitment with its reason, an audit's findings by case and field; the node relays the
answers of a real hub app."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select

from hub.audits.models import Audit
from schemas.envelope import Kind
from schemas.merkle import inclusion_proof
from schemas.runtime.database import Database
from tests.page_scan import page_problems
from tests.unit.hub.federation import count
from tests.unit.hub.rank_federation import TOWN_A, TOWN_B, summary
from tests.unit.hub.test_audits import LEAVES, committed_summary
from tests.unit.node.test_pages_read_chinese import name_everyone
from tests.unit.node.test_web import CSRF, csrf_of, hub_behind, log_in

__all__ = ["hub_behind"]

PERIOD = "2026-11"


def committed(code: str, leaves: list[dict[str, Any]]) -> tuple[dict[str, Any], list[Any]]:
    body, levels = committed_summary(leaves)
    return summary(code, PERIOD, body["metrics"]) | {"commitment": body["commitment"]}, levels


def row_of(page: str, code: str) -> str:
    return page[page.index(f"（{code}）</td>"):].split("</tr>", 1)[0]


def test_the_pages_show_each_centers_verification(
    client: FlaskClient, desk: Any, hub_behind: Any, app: Any, db: Database,
) -> None:
    fed = hub_behind
    code = app.config["TONGBAN"].code
    # TOWN_A: an audit answered with a case changed since the summary
    body, levels = committed(TOWN_A, LEAVES)
    fed.push_summary(body)
    audit = fed.post("/api/v1/audits", {"node": TOWN_A, "period": PERIOD, "sample_size": 3},
                     caller=code)
    assert audit.status_code == 201, audit.json
    audit = audit.json
    summary_id = audit["summary"]
    answer = {"audit": audit["id"], "summary": summary_id, "seed": audit["seed"],
              "size": len(LEAVES), "root": levels[-1][0].hex(), "as_of": "2026-11-30",
              "items": [{"index": i, "leaf": LEAVES[i],
                         "proof": [p.hex() for p in inclusion_proof(levels, i)],
                         "current": LEAVES[i] | ({"completed": "2026-11-06"}
                                                 if n == 0 else {})}
                        for n, i in enumerate(audit["indexes"])]}
    fed._push(fed.nodes[TOWN_A], Kind.AUDIT_RESPONSE, answer)
    # TOWN_B: a summary whose on-time count was inflated is refused, then nothing better
    inflated, _ = committed(TOWN_B, LEAVES)
    inflated["metrics"]["completed_on_time"]["value"] += 3
    wire = fed.nodes[TOWN_B].envelope(Kind.SUMMARY, "hub", inflated)
    assert fed.nodes[TOWN_B].results(wire, now=fed.now)[0]["reason"] == "commitment_mismatch"
    fed.now += dt.timedelta(seconds=1)

    name_everyone(db)
    assert log_in(client, "super1").status_code == 302
    response = client.get(f"/staff/rankings/completeness?scope={code}&period={PERIOD}")
    page = response.get_data(as_text=True)
    assert response.status_code == 200, page[:2000]
    assert '<div class="value" id="verification-failures">2</div>' in page
    failed = row_of(page, TOWN_A)
    assert 'data-verification="failed">数据核验：未通过（抽查 3 件' in failed
    changed = LEAVES[audit["indexes"][0]]["case"]
    assert f"办件 {changed}：办件记录在报表之后被改动（办结日期" in failed
    refused = row_of(page, TOWN_B)
    assert 'data-verification="refused">数据核验：未通过（报表与承诺不符，已拒收）' in refused
    assert "报表数字与所承诺的办件记录合计不符（按时办结：报表 30，承诺 27）" in refused
    assert page_problems(page) == []

    league = client.get(f"/staff/rankings?scope={code}&period={PERIOD}"
                        "&metric=completed&level=township")
    table = league.get_data(as_text=True)
    assert league.status_code == 200, table[:2000]
    assert 'data-verification="failed"' in row_of(table, TOWN_A)
    assert "数据核验：未通过" in row_of(table, TOWN_A)
    assert 'data-verification="refused"' in row_of(table, TOWN_B)
    # each verdict of a ranking table leads to its details: the center's completeness cell
    assert f'<td id="verification-{TOWN_A}">' in failed
    assert f'<td id="verification-{TOWN_B}">' in refused
    details = (f'href="/staff/rankings/completeness?scope={code}&amp;period={PERIOD}'
               f'#verification-{{}}" data-verification-details="{{}}"')
    for town in (TOWN_A, TOWN_B):
        assert details.format(town, town) in row_of(table, town)
    composite = client.get(f"/staff/rankings/composite?scope={code}&period={PERIOD}"
                           "&normalisation=min_max&metric1=completed&weight1=1")
    text = composite.get_data(as_text=True)
    assert composite.status_code == 200, text[:2000]
    assert '<th scope="col">数据核验</th>' in text
    for town, verdict in ((TOWN_A, "failed"), (TOWN_B, "refused")):
        assert f'data-verification="{verdict}"' in row_of(text, town)
        assert details.format(town, town) in row_of(text, town)
    assert page_problems(table) == []
    assert page_problems(text) == []


def test_a_passed_audit_reads_passed(
    client: FlaskClient, desk: Any, hub_behind: Any, app: Any, db: Database,
) -> None:
    fed = hub_behind
    code = app.config["TONGBAN"].code
    body, levels = committed(TOWN_A, LEAVES)
    fed.push_summary(body)
    audit = fed.post("/api/v1/audits", {"node": TOWN_A, "period": PERIOD, "sample_size": 4},
                     caller=code).json
    fed._push(fed.nodes[TOWN_A], Kind.AUDIT_RESPONSE, {
        "audit": audit["id"], "summary": audit["summary"], "seed": audit["seed"],
        "size": len(LEAVES), "root": levels[-1][0].hex(), "as_of": "2026-11-30",
        "items": [{"index": i, "leaf": LEAVES[i],
                   "proof": [p.hex() for p in inclusion_proof(levels, i)],
                   "current": LEAVES[i]} for i in audit["indexes"]]})
    name_everyone(db)
    assert log_in(client, "super1").status_code == 302
    page = client.get(f"/staff/rankings/completeness?scope={code}&period={PERIOD}"
                      ).get_data(as_text=True)
    assert 'data-verification="passed">数据核验：通过（抽查 4 件' in row_of(page, TOWN_A)
    assert "未核验" in row_of(page, TOWN_B)


def test_a_summary_without_a_commitment_reads_uncommitted(
    client: FlaskClient, desk: Any, hub_behind: Any, app: Any, db: Database,
) -> None:
    fed = hub_behind
    code = app.config["TONGBAN"].code
    body, _ = committed(TOWN_A, LEAVES)
    del body["commitment"]
    fed.push_summary(body)
    name_everyone(db)
    assert log_in(client, "super1").status_code == 302
    page = client.get(f"/staff/rankings/completeness?scope={code}&period={PERIOD}"
                      ).get_data(as_text=True)
    assert '<div class="value" id="verification-failures">1</div>' in page
    assert ('data-verification="uncommitted">数据核验：未提交承诺（第 1 版报表未附办件记录承诺，'
            '数字无法核验）') in row_of(page, TOWN_A)
    assert page_problems(page) == []
    table = client.get(f"/staff/rankings?scope={code}&period={PERIOD}"
                       "&metric=completed&level=township").get_data(as_text=True)
    assert 'data-verification="uncommitted"' in row_of(table, TOWN_A)
    assert "数据核验：未提交承诺" in row_of(table, TOWN_A)


def test_the_completeness_page_opens_an_audit_through_the_node(
    client: FlaskClient, desk: Any, hub_behind: Any, app: Any, db: Database,
) -> None:
    fed = hub_behind
    code = app.config["TONGBAN"].code
    body, _ = committed(TOWN_A, LEAVES)
    fed.push_summary(body)
    name_everyone(db)
    assert log_in(client, "super1").status_code == 302
    path = f"/staff/rankings/completeness?scope={code}&period={PERIOD}"
    page = client.get(path).get_data(as_text=True)
    assert f'data-open-audit="{TOWN_A}"' in row_of(page, TOWN_A)
    assert "data-open-audit" not in row_of(page, TOWN_B)  # nothing sent, nothing to audit
    token = CSRF.search(page)
    assert token
    assert '<input type="hidden" name="name" value="北流镇甲">' in row_of(page, TOWN_A)
    form = {"csrf_token": token.group(1), "node": TOWN_A, "name": "北流镇甲", "period": PERIOD,
            "scope": code}
    opened = client.post("/staff/rankings/completeness/audit", data=form)
    assert opened.status_code == 302
    assert opened.headers["Location"].endswith(f"/staff/rankings/completeness?scope={code}"
                                               f"&period={PERIOD}")
    with fed.app.extensions["tongban_db"].sessions() as session:
        (audit,) = session.execute(select(Audit.node, Audit.requested_by, Audit.sample_size))
    assert tuple(audit) == (TOWN_A, f"node:{code}", 30)
    page = client.get(path).get_data(as_text=True)
    assert f"已对北流镇甲（{TOWN_A}）发起 {PERIOD} 数据核验（第 1 版报表，抽查 30 件；" in page
    assert "假记录占 1.00% 时查出概率 57.69%、假记录占 5.00% 时查出概率 93.03%" in page
    assert 'data-verification="pending">数据核验：待应答（抽查 30 件' in row_of(page, TOWN_A)
    # the hub's refusal, in Chinese, and nothing opened
    client.post("/staff/rankings/completeness/audit", data=form | {"node": TOWN_B,
                                                                      "name": "北流镇乙"})
    page = client.get(path).get_data(as_text=True)
    assert f"枢纽未对北流镇乙（{TOWN_B}）发起数据核验：该中心还没有报送这一期的统计汇总" in page
    assert page_problems(page) == []
    # a clerk may not
    clerk = app.test_client()
    assert log_in(clerk, "clerk1").status_code == 302
    refused = clerk.post("/staff/rankings/completeness/audit", data=form | {
        "csrf_token": csrf_of(clerk, "/staff/desk/new?matter_code=11450981MB0001")})
    assert refused.status_code == 403
    assert count(fed.app, Audit) == 1


def test_a_rate_dressed_up_beside_honest_counts_is_refused_and_shown(
    client: FlaskClient, desk: Any, hub_behind: Any, app: Any, db: Database,
) -> None:
    """The reports' own example: an on-time rate of 100 % whatever the cases say, its counts
    left honest, is refused like an inflated count and read by its figure on the page."""
    fed = hub_behind
    code = app.config["TONGBAN"].code
    body, _ = committed(TOWN_A, LEAVES)
    tallied = body["commitment"]["tallies"]
    body["metrics"]["on_time_rate"] = {"unit": "basis_points", "value": 10000,
                                       "numerator": tallied["completed"],
                                       "denominator": tallied["completed"]}
    wire = fed.nodes[TOWN_A].envelope(Kind.SUMMARY, "hub", body)
    (result,) = fed.nodes[TOWN_A].results(wire, now=fed.now)
    assert (result["status"], result["reason"]) == ("rejected", "commitment_mismatch")
    assert result["message"] == "on_time_rate is 10000 in the summary but 6750 by its commitment"
    fed.now += dt.timedelta(seconds=1)
    name_everyone(db)  # the fixtures name people by their usernames (super1)
    assert log_in(client, "super1").status_code == 302
    page = client.get(f"/staff/rankings/completeness?scope={code}&period={PERIOD}"
                      ).get_data(as_text=True)
    refused = row_of(page, TOWN_A)
    assert 'data-verification="refused">数据核验：未通过（报表与承诺不符，已拒收）' in refused
    assert "（按时办结率：报表 100.00%，承诺 67.50%）" in refused
    assert page_problems(page) == []


def test_an_audit_not_answered_in_time_reads_unanswered(
    client: FlaskClient, desk: Any, hub_behind: Any, app: Any,
) -> None:
    """The audit's time to answer (audit_answer_seconds) runs out with no answer: the
    completeness page and the league table read 数据核验：未应答, counted among the failures."""
    fed = hub_behind
    code = app.config["TONGBAN"].code
    body, _ = committed(TOWN_A, LEAVES)
    fed.push_summary(body)
    opened = fed.post("/api/v1/audits", {"node": TOWN_A, "period": PERIOD, "sample_size": 5},
                      caller=code)
    assert opened.status_code == 201, opened.json
    assert log_in(client, "super1").status_code == 302
    path = f"/staff/rankings/completeness?scope={code}&period={PERIOD}"
    page = client.get(path).get_data(as_text=True)
    assert 'data-verification="pending">数据核验：待应答（抽查 5 件' in row_of(page, TOWN_A)
    with fed.app.extensions["tongban_db"].unit_of_work() as session:
        audit = session.get(Audit, opened.json["id"])
        assert audit is not None
        audit.due_at = audit.opened_at - dt.timedelta(seconds=1)  # the time ran out
    page = client.get(path + "&late_after_days=6").get_data(as_text=True)  # not the kept page
    assert 'data-verification="unanswered">数据核验：未应答（抽查 5 件' in row_of(page, TOWN_A)
    assert '<div class="value" id="verification-failures">1</div>' in page
    table = client.get(f"/staff/rankings?scope={code}&period={PERIOD}"
                       "&metric=completed&level=township").get_data(as_text=True)
    assert 'data-verification="unanswered"' in row_of(table, TOWN_A)
    assert "数据核验：未应答" in row_of(table, TOWN_A)
