"""Each rule of the page scanner (tests/page_scan.py) makes it fail, and what a person may
read passes: the crawler (tests/browser/test_crawl.py) and the page tests rely on it."""

from __future__ import annotations

import io
from typing import Any

import pytest
from openpyxl import Workbook

from tests.page_scan import (
    LATIN_ALLOWED,
    csv_problems,
    page_problems,
    text_problems,
    xlsx_problems,
)


def test_the_allowlist_is_short_file_types_and_the_upload_unit() -> None:
    assert {"Excel", "CSV", "PDF", "XLSX", "JSON", "JPG", "PNG", "TIF", "MB"} == LATIN_ALLOWED


@pytest.mark.parametrize("text", [
    "与现有数据冲突。（Department 'SC' still has active matters）",  # English in a message
    "password：at least 10 characters",
    "本页使用 ECharts 绘制",  # a library's name is no word of the page's
    "综合指数 composite",
    "经办人 clerk1", "编码 utf8",  # digits do not make a word a code
])
def test_a_latin_word_outside_the_allowlist_fails(text: str) -> None:
    assert any(p.startswith("Latin word") for p in text_problems(text))


@pytest.mark.parametrize("text", [
    "上报状态 upstream_update", "当前状态 in_review 不允许", "请把 next_cursor 传入",
    "审核人（in_review）",  # in （） beside a name is no excuse
])
def test_a_snake_case_token_fails(text: str) -> None:
    assert any(p.startswith("snake_case") for p in text_problems(text))


@pytest.mark.parametrize("text", [
    '{"error": {"code": "not_found"}}', '{ "message": "x" }',
    "Traceback (most recent call last):", "服务器出错：KeyError 'x'", "IntegrityError",
])
def test_raw_json_or_exception_text_fails(text: str) -> None:
    problems = text_problems(text)
    assert any(p.startswith(("raw JSON", "exception text")) for p in problems), problems


@pytest.mark.parametrize("text", [
    "已上报至 450981", "下级报送 来自 450981101", "督办来自 450900", "范围 450000 下的中心",
    "（450981）",  # in brackets, but beside no name
])
def test_a_division_code_without_its_centers_name_fails(text: str) -> None:
    assert any(p.startswith("code without a name") for p in text_problems(text))


@pytest.mark.parametrize("text", [
    "已上报至 北流市政务服务中心（450981）", "未登记名称的中心（450100）",
    "办公时间 08:30-12:00", "所属部门：公安局（GA）", "住建窗口（W02）", "工作人员 李明（S001）",
    "导出 Excel（含方法说明）", "请选择 JSON 或 XLSX 文件", "不超过 4 MB，PDF、JPG 或 PNG",
    "枢纽地址 http://127.0.0.1:8200/x_y", "n =（v − 最小值）",
    "证件号码 450981********1234",  # a masked ID number begins with its region's code
    "文件类型 pdf,jpg,png",  # file types written as their extensions
])
def test_what_a_person_may_read_passes(text: str) -> None:
    assert text_problems(text) == []


@pytest.mark.parametrize("text", ["经办人：李明（clerk）", "系统（system）", "申请人（applicant）",
                                  "450981：accepted 已接收",
                                  # a code is capitals and digits (GA, W02, S001): a word
                                  # with lower-case letters in （） is English, not a code
                                  "办件已退回（NotFound）", "状态（Accepted）", "李明（clerk1）"])
def test_a_role_or_state_code_beside_a_name_fails(text: str) -> None:
    assert text_problems(text)


@pytest.mark.parametrize("text", ["按时办结率：9850", "好评率 10000", "日结率 101.5%"])
def test_a_rate_above_100_beside_its_rate_name_in_text_fails(text: str) -> None:
    """Not only under a table's heading: a rate's name followed by basis points."""
    assert any(p.startswith("rate") for p in text_problems(text)), text_problems(text)


@pytest.mark.parametrize("text", ["按时办结率：98.50%", "好评率 100.00%", "日结率 2026-10 起",
                                  "按时办结率（2026-10）"])
def test_a_rate_name_beside_a_percentage_or_a_period_passes(text: str) -> None:
    assert text_problems(text) == []


@pytest.mark.parametrize("text", ["收费金额（分）", "收费 164000 分", "中心收费 1640 分"])
def test_a_fee_in_fen_fails(text: str) -> None:
    assert any(p.startswith("fee in 分") for p in text_problems(text))


def test_minutes_pass_and_a_raw_timestamp_fails() -> None:
    assert text_problems("2026-12-06 15:50") == []
    assert text_problems("2026-12-06T07:50:13.815307+00:00")
    assert text_problems("2026-12-06 15:50:13")


def _table(heading: str, cell: str) -> str:
    return f"<table><tr><th>{heading}</th></tr><tr><td>{cell}</td></tr></table>"


def test_a_rate_above_100_under_a_rate_heading_fails() -> None:
    assert page_problems(_table("按时办结率", "9850"))  # basis points
    assert page_problems(_table("好评率", "10000"))
    assert page_problems(_table("按时办结率", "98.50%")) == []
    assert page_problems(_table("办结数", "9850")) == []  # a count may be large


def test_a_login_name_is_read_only_where_it_is_labelled_as_one() -> None:
    assert text_problems("修改账号：李明（用户名：clerk）") == []
    assert text_problems("修改账号：李明（clerk）")
    assert text_problems("经办人：clerk")


def test_a_code_column_may_hold_codes_and_login_names() -> None:
    assert page_problems(_table("用户名", "clerk")) == []
    assert page_problems(_table("用户名", "zhang_san")) == []  # a login name may have _
    assert page_problems(_table("经办人", "clerk"))
    assert page_problems(_table("节点代码", "450981")) == []
    assert page_problems(_table("上级", "450981"))
    # a code column holds codes, not sentences: English there is read as English
    assert page_problems(_table("代码", "Department still has active matters"))
    assert page_problems(_table("编号", '{"error": "not_found"}'))


def _workbook(heading: str, value: Any, number_format: str = "General") -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append([heading])
    sheet.append([value])
    sheet["A2"].number_format = number_format
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_an_exports_rates_are_percent_cells_and_its_money_yuan_cells() -> None:
    assert xlsx_problems(_workbook("按时办结率", 0.985, "0.00%")) == []
    assert xlsx_problems(_workbook("按时办结率", 9850))  # basis points
    assert xlsx_problems(_workbook("按时办结率", 98.5, "0.00%"))  # a percentage times 100
    assert xlsx_problems(_workbook("收费金额（元）", 1640.0, '#,##0.00"元"')) == []
    assert xlsx_problems(_workbook("收费金额（元）", 1640.0))  # no unit on the cell
    assert xlsx_problems(_workbook("说明", "upstream_update"))
    assert xlsx_problems(_workbook("说明", "来自 450981"))  # a code without its name
    assert xlsx_problems(_workbook("节点代码", "450981")) == []
    # a bare division code in a cell of its own, as text or as a number, under a heading
    # that names a center (a count column may hold any number)
    assert xlsx_problems(_workbook("上级中心", "450900"))
    assert xlsx_problems(_workbook("来自", 450981101))
    assert xlsx_problems(_workbook("办结数", 164000)) == []
    assert xlsx_problems(_workbook("办结数", "164000")) == []
    assert xlsx_problems(_workbook("代码", "Department still has active matters"))
    assert xlsx_problems(_workbook("服务部门编码", "ZJ、ZR")) == []  # a list of codes
    assert xlsx_problems(_workbook("服务部门编码", "ZJ and ZR"))


def test_a_key_value_sheet_may_hold_a_code_in_a_row_labelled_as_one() -> None:
    book = Workbook()
    sheet = book.active
    for row in (["项目", "内容"], ["中心", "北流市政务服务中心（450981）"], ["中心代码", "450981"]):
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    assert xlsx_problems(out.getvalue()) == []
    sheet.append(["上级", "450900"])  # a row not labelled as a code: a center without its name
    out = io.BytesIO()
    book.save(out)
    assert xlsx_problems(out.getvalue())
    assert xlsx_problems(_workbook("完成时间", "2026-12-06T07:50:13.815307+00:00"))


def test_a_csv_writes_what_the_page_shows() -> None:
    def csv(*rows: str) -> bytes:
        return "\n".join(rows).encode("utf-8-sig")
    assert csv_problems(csv("名称,节点代码,按时办结率", "北流市,450981,98.50%")) == []
    assert csv_problems(csv("名称,节点代码,按时办结率", "北流市,450981,9850"))
    assert csv_problems(csv("名称,上级", "北流市,来自 450900"))
    assert csv_problems(csv("名称,状态", "北流市,not_reported"))
    assert csv_problems(csv("名称,办结数", "北流市,164000")) == []  # a number, not a center
    assert csv_problems(csv("名称,中心收费（元）", "北流市,164000")) == []
    assert csv_problems(csv("名称,上级中心", "北流市,450900"))  # a bare code in its own cell
    assert csv_problems(csv("名称,来自", "北流镇,450981101"))
