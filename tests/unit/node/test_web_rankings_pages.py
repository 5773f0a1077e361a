"""The rankings pages say what they compute: the composite form shows the weighting it uses
(no hidden default), the methodology in Chinese, a center alone in its group as not ranked,
and the bulletins' peer groups by their names."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any
from zoneinfo import ZoneInfo

from flask.testing import FlaskClient

from node.auth.permissions import Role
from tests.unit.hub.rank_federation import TOWN_A, TOWN_B, count, rate
from tests.unit.node.test_web import hub_behind, log_in  # noqa: F401

PERIOD = "2026-10"


def _page(client: FlaskClient, path: str) -> tuple[int, str]:
    response = client.get(path)
    text = response.get_data(as_text=True)
    response.close()
    return response.status_code, text


def _selected(text: str, name: str) -> str | None:
    select = re.search(rf'<select id="{name}" name="{name}">(.*?)</select>', text, re.S)
    assert select is not None, name
    chosen = re.search(r'<option value="([^"]*)" selected', select.group(1))
    return chosen.group(1) if chosen else None


def test_the_composite_form_shows_the_weighting_it_uses(
        client: FlaskClient, desk: Any, make_user: Any, hub_behind: Any) -> None:  # noqa: F811
    for code, done in ((TOWN_A, 12), (TOWN_B, 4)):
        hub_behind.report(code, PERIOD, {"completed": count(done),
                                         "on_time_rate": rate(done - 1, done)})
    make_user(Role.SUPERVISOR, username="watch")
    assert log_in(client, "watch").status_code == 302

    status, text = _page(client, f"/staff/rankings/composite?period={PERIOD}")

    assert status == 200
    # the form, as first opened, shows the metrics and weights the table was made with
    assert (_selected(text, "metric1"), _selected(text, "metric2")) == ("completed",
                                                                        "on_time_rate")
    assert 'name="weight1" value="2"' in text
    assert _selected(text, "metric3") is None  # （不用）, and indeed not used
    components = re.search(r'<table id="method-components">.*?</table>', text, re.S)
    assert components is not None
    rows = re.findall(r"<tr><td>(.*?)</td><td>(.*?)</td><td>(.*?)</td><td>(.*?)</td></tr>",
                      components.group(0))
    assert rows == [("办结数", "2", "66.7%", "越大越好"), ("按时办结率", "1", "33.3%", "越大越好")]
    formula = re.search(r'<p class="hint" id="formula">公式：(.*?)</p>', text, re.S)
    assert formula is not None
    assert "综合得分" in formula.group(1)
    assert not re.search(r"\b(score|weight|within|peer)\b", formula.group(1))
    assert "不参与排名（同类仅 1 个）" in text  # the rules
    assert "乡镇（街道）（参评 2 个）" in text

    # the form sent with every metric （不用）: refused on the page, nothing asked of the hub
    status, text = _page(client, f"/staff/rankings/composite?period={PERIOD}"
                                 "&normalisation=min_max&metric1=&metric2=&metric3=")
    assert status == 422
    assert 'id="no-metric"' in text
    assert "综合得分" not in text


def test_a_center_alone_in_its_group_is_not_ranked_on_the_page(
        client: FlaskClient, desk: Any, make_user: Any, hub_behind: Any) -> None:  # noqa: F811
    hub_behind.report(TOWN_A, PERIOD, {"completed": count(12),
                                       "on_time_rate": rate(12, 12)})
    make_user(Role.SUPERVISOR, username="watch")
    assert log_in(client, "watch").status_code == 302

    status, text = _page(client, f"/staff/rankings/composite?period={PERIOD}"
                                 "&normalisation=min_max&metric1=completed&weight1=1")

    assert status == 200
    row = re.search(r"<tr><td>([^<]*)</td><td>北流镇甲（450981101）</td><td>([^<]*)</td>.*?</tr>",
                    text, re.S)
    assert row is not None, text
    assert (row.group(1), row.group(2)) == ("—", "—")  # no rank, no score of 0
    # the status is the last cell but 数据核验 (a summary without a commitment here)
    assert re.search(r'不参与排名（同类仅 1 个）</td><td data-verification="uncommitted"[^>]*>'
                     r"<a [^>]*>数据核验：未提交承诺</a></td></tr>", row.group(0)), row.group(0)
    assert "（参评 0 个）" in text


def _beijing_today() -> dt.date:
    return dt.datetime.now(dt.UTC).astimezone(ZoneInfo("Asia/Shanghai")).date()


def test_completeness_opens_on_the_last_month_whose_reports_are_due(
        client: FlaskClient, desk: Any, make_user: Any, hub_behind: Any) -> None:  # noqa: F811
    make_user(Role.SUPERVISOR, username="watch")
    assert log_in(client, "watch").status_code == 302
    today = _beijing_today()
    last = today.replace(day=1) - dt.timedelta(days=1)  # the last day of the month before
    if today.day <= 5:  # its reports are due by the 5th: before that, the month before it
        last = last.replace(day=1) - dt.timedelta(days=1)
    due = f"{last.year}-{last.month:02d}"

    status, text = _page(client, "/staff/rankings/completeness")

    assert status == 200
    assert f'name="period" value="{due}"' in text
    assert "报送截止" in text
    # a grace of 0 days: the month before is due from the 1st
    status, text = _page(client, "/staff/rankings/completeness?late_after_days=0")
    before = today.replace(day=1) - dt.timedelta(days=1)
    assert f'name="period" value="{before.year}-{before.month:02d}"' in text


def test_a_running_month_is_marked_on_the_trend_and_the_league(
        client: FlaskClient, desk: Any, make_user: Any, hub_behind: Any) -> None:  # noqa: F811
    today = _beijing_today()
    month = f"{today.year}-{today.month:02d}"
    hub_behind.now = dt.datetime.now(dt.UTC)
    hub_behind.report(TOWN_A, month, {"completed": count(7)}, final=False)
    make_user(Role.SUPERVISOR, username="watch")
    assert log_in(client, "watch").status_code == 302
    label = f"{month}（截至 {today.month}月{today.day}日）"

    status, text = _page(client, f"/staff/rankings/trend?metric=completed&from={month}"
                                 f"&to={month}")
    assert status == 200
    assert f"<tr><td>{label}</td>" in text
    assert 'id="running-notice"' in text

    status, text = _page(client, f"/staff/rankings?period={month}&metric=completed")
    assert status == 200
    assert f"统计期 {label}" in text
    assert 'id="running-notice"' in text


def test_the_month_figures_of_a_running_month_compare_the_same_days(app: Any) -> None:
    from flask import render_template

    from schemas.metrics import ALL_METRICS
    from schemas.periods import Period

    figures = {
        "summary": {"metrics": {"completed": {"unit": "count", "value": 671}}},
        "as_of": dt.date(2026, 12, 6),
        "previous": {"period": {"kind": "month", "label": "2026-11", "start": "2026-11-01",
                                "end": "2026-11-06"},
                     "metrics": {"completed": {"unit": "count", "value": 702}},
                     "same_days": True},
        "changes": {"completed": -31},
    }
    with app.test_request_context("/staff/supervision/figures"):
        page = render_template("web/staff/figures.html", period=Period.month(2026, 12),
                               figures=figures, metrics=ALL_METRICS)

    assert "<h1>月度统计（2026-12，截至 12月6日）</h1>" in page
    assert '<th scope="col">上月同期（11月1日至6日）</th>' in page
    assert '<th scope="col">本月（截至 12月6日）</th>' in page
    row = re.search(r"办结数</th>(.*?)</tr>", page, re.S)
    assert row is not None
    assert re.findall(r"<td>(.*?)</td>", row.group(1))[:3] == ["671", "702", "-31"]


def test_the_trend_offers_the_centers_below_by_name_not_a_code_to_type(
        client: FlaskClient, desk: Any, make_user: Any, db: Any,
        hub_behind: Any) -> None:  # noqa: F811
    """Issue 19 (names everywhere): the single center of a trend is picked from the centers
    below by name, as the scope is; no field asks for a code."""
    from node.sync.names import store_names

    with db.unit_of_work() as session:
        store_names(session, {TOWN_A: "北流镇甲", TOWN_B: "北流镇乙"},
                    dt.datetime.now(dt.UTC))
    hub_behind.report(TOWN_A, PERIOD, {"completed": count(7)})
    make_user(Role.SUPERVISOR, username="watch")
    assert log_in(client, "watch").status_code == 302

    status, text = _page(client, f"/staff/rankings/trend?metric=completed&from={PERIOD}"
                                 f"&to={PERIOD}")
    assert status == 200
    assert '<input id="node"' not in text
    assert "中心代码" not in text
    picker = re.search(r'<select id="node" name="node">(.*?)</select>', text, re.S)
    assert picker is not None
    options = re.findall(r'<option value="([^"]*)"[^>]*>([^<]*)</option>', picker.group(1))
    assert options == [("", "（不选：范围合计）"), (TOWN_A, f"北流镇甲（{TOWN_A}）"),
                       (TOWN_B, f"北流镇乙（{TOWN_B}）")]
    assert _selected(text, "node") is None

    status, text = _page(client, f"/staff/rankings/trend?metric=completed&from={PERIOD}"
                                 f"&to={PERIOD}&node={TOWN_A}")
    assert status == 200
    assert _selected(text, "node") == TOWN_A
    assert "<tr><td>2026-10</td><td>1</td><td>7</td>" in text  # the one center's figure
