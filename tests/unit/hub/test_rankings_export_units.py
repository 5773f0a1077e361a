"""Exports in units people read (hub/rankings/export.py over schemas/runtime/spreadsheet.py's typed
cells): rates as percentages, money in 元, times in Beijing time to the minute, composite
scores with four decimals; XLSX cells are numbers with Excel formats (they can be summed),
CSV writes what the page shows.  Basis points and 分 never reach a file."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from typing import Any

import pytest
from flask import Flask
from openpyxl import load_workbook

from tests.unit.hub.rank_federation import (
    LUCHUAN,
    RONG,
    YULIN,
    RankFederation,
    count,
    rate,
    summary,
)
from tests.unit.hub.test_audits import LEAVES, committed_summary
from tests.unit.hub.test_rankings import PERIOD, composite, report_composite_data


@pytest.fixture
def fed(make_hub: Any) -> RankFederation:
    hub: Flask = make_hub()
    return RankFederation(hub)


def _sheet(data: bytes, title: str) -> list[list[Any]]:
    return [list(row) for row in load_workbook(io.BytesIO(data))[title].iter_rows()]


def _csv(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


def test_a_rate_league_is_in_percent_as_numbers_in_xlsx_and_as_shown_in_csv(
        fed: RankFederation) -> None:
    fed.report(RONG, PERIOD, {"on_time_rate": rate(197, 200)})  # 9850 basis points
    fed.report(LUCHUAN, PERIOD, {"on_time_rate": rate(1, 1)})  # 10000
    path = f"/api/v1/rankings/league?scope={YULIN}&period={PERIOD}&metric=on_time_rate"

    rows = _sheet(fed.get(path + "&format=xlsx").data, "排名")
    value = rows[0].index(next(c for c in rows[0] if c.value == "按时办结率"))
    by_code = {row[3].value: row[value] for row in rows[1:]}
    assert by_code[RONG].value == 0.985
    assert by_code[RONG].number_format == "0.00%"
    assert by_code[LUCHUAN].value == 1

    table = _csv(fed.get(path + "&format=csv").data)
    shown = {row[3]: row[8] for row in table[1:]}
    assert (shown[RONG], shown[LUCHUAN]) == ("98.50%", "100.00%")
    assert not any(cell in ("9850", "10000") for row in table for cell in row)


def test_fees_are_in_yuan(fed: RankFederation) -> None:
    fed.report(RONG, PERIOD, {"fees_center_fen": count(164000)})
    path = f"/api/v1/rankings/league?scope={YULIN}&period={PERIOD}&metric=fees_center_fen"
    rows = _sheet(fed.get(path + "&format=xlsx").data, "排名")
    assert rows[0][8].value == "中心收费（元）"
    rong = next(row for row in rows[1:] if row[3].value == RONG)
    assert (rong[8].value, rong[8].number_format) == (1640, '#,##0.00"元"')
    table = _csv(fed.get(path + "&format=csv").data)
    assert next(row for row in table[1:] if row[3] == RONG)[8] == "1640.00 元"
    assert "164000" not in fed.get(path + "&format=csv").data.decode("utf-8")


def test_completeness_times_are_beijing_time_to_the_minute_with_names(
        fed: RankFederation) -> None:
    at = dt.datetime(2026, 11, 2, 7, 50, 13, 815307, tzinfo=dt.UTC)
    fed.report(RONG, PERIOD, {"completed": count(2)}, at=at)
    path = f"/api/v1/rankings/completeness?scope={YULIN}&period={PERIOD}"
    rows = _sheet(fed.get(path + "&format=xlsx").data, "报送情况")
    headings = [c.value for c in rows[0]]
    rong = next(row for row in rows[1:] if row[0].value == RONG)
    assert rong[headings.index("名称")].value == "容县"
    first = rong[headings.index("首次报送终版时间")]
    # Beijing time (a sheet's times are naive), seconds dropped
    assert first.value == dt.datetime(2026, 11, 2, 15, 50, tzinfo=dt.UTC).replace(tzinfo=None)
    assert first.number_format == "yyyy-mm-dd hh:mm"
    text = fed.get(path + "&format=csv").data.decode("utf-8")
    assert "2026-11-02 15:50" in text
    assert not re.search(r"\d{2}:\d{2}:\d{2}|\+00:00|T\d{2}:", text)


def test_composite_scores_have_four_decimals_and_components_their_units(
        fed: RankFederation) -> None:
    report_composite_data(fed)
    response = composite(fed, {"normalisation": "min_max", "components": [
        {"metric": "completed", "weight": 2}, {"metric": "on_time_rate", "weight": 1}]},
        format="xlsx")
    rows = _sheet(response.data, "综合排名")
    headings = [c.value for c in rows[0]]
    scores = [row[headings.index("综合得分")] for row in rows[1:]
              if row[headings.index("综合得分")].value is not None]
    on_time = [row[headings.index("按时办结率（原值）")] for row in rows[1:]
               if row[headings.index("按时办结率（原值）")].value is not None]
    assert len(scores) >= 2
    assert len(on_time) >= 2
    for score in scores:
        assert score.number_format == "0.0000"
        assert score.value == round(score.value, 4)
    for cell in on_time:
        assert cell.number_format == "0.00%"
        assert 0 <= cell.value <= 1


def test_the_exports_carry_each_centers_verification(fed: RankFederation) -> None:
    fed.report(RONG, PERIOD, {"completed": count(5)})  # no commitment
    body, _ = committed_summary(LEAVES)
    fed.push_summary(summary(LUCHUAN, PERIOD, body["metrics"])
                     | {"commitment": body["commitment"]})
    opened = fed.post("/api/v1/audits", {"node": LUCHUAN, "period": PERIOD, "sample_size": 5},
                      caller=YULIN)
    assert opened.status_code == 201, opened.json
    league = f"/api/v1/rankings/league?scope={YULIN}&period={PERIOD}&metric=completed"
    for rows in (_sheet(fed.get(league + "&format=xlsx").data, "排名"),
                 [[Cell(v) for v in row] for row in _csv(fed.get(league + "&format=csv").data)]):
        assert rows[0][-1].value == "数据核验"
        shown = {row[3].value: row[-1].value for row in rows[1:]}
        assert (shown[RONG], shown[LUCHUAN]) == ("未提交承诺", "待应答")
        assert set(shown.values()) - {"未提交承诺", "待应答"} == {"未核验"}
    completeness = f"/api/v1/rankings/completeness?scope={YULIN}&period={PERIOD}"
    rows = _sheet(fed.get(completeness + "&format=xlsx").data, "报送情况")
    assert rows[0][-1].value == "数据核验"
    shown = {row[0].value: row[-1].value for row in rows[1:]}
    assert shown[RONG] == "未提交承诺"
    assert shown[LUCHUAN] == "待应答（抽查 5 件）"


class Cell:
    """A CSV cell read like an XLSX one."""

    def __init__(self, value: str) -> None:
        self.value = value
