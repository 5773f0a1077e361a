"""The typed cells of schemas/runtime/spreadsheet.py: numbers with Excel formats in XLSX, the page's
text in CSV."""

from __future__ import annotations

import datetime as dt
import io

from openpyxl import load_workbook

from schemas.runtime.spreadsheet import Fixed, LocalTime, Money, Rate, Sheet, csv_bytes, xlsx_bytes

# 07:50:13.8 UTC is 15:50 in Beijing; a sheet's times are naive, to the minute
BEIJING_1550 = dt.datetime(2026, 12, 6, 15, 50, tzinfo=dt.UTC).replace(tzinfo=None)
CELLS = [Rate(9850), Money(164050), LocalTime("2026-12-06T07:50:13.815307+00:00"),
         Fixed(0.644444, 4), Rate(None)]


def test_xlsx_cells_are_numbers_with_formats() -> None:
    data = xlsx_bytes([Sheet("表", ["率", "金额", "时间", "得分", "空"], [CELLS])])
    row = next(load_workbook(io.BytesIO(data))["表"].iter_rows(min_row=2))
    assert [(c.value, c.number_format) for c in row] == [
        (0.985, "0.00%"), (1640.5, '#,##0.00"元"'),
        (BEIJING_1550, "yyyy-mm-dd hh:mm"), (0.6444, "0.0000"), (None, "0.00%")]


def test_csv_writes_what_the_page_shows() -> None:
    text = csv_bytes(["率", "金额", "时间", "得分", "空"], [CELLS]).decode("utf-8-sig")
    assert text.splitlines()[1] == '"98.50%","1640.50 元","2026-12-06 15:50","0.6444",""'
