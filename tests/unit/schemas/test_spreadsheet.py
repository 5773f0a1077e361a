"""The one inert spreadsheet writer (schemas/runtime/spreadsheet.py), and the checks every export's
test runs on what it downloads: no cell of a CSV or XLSX starts a formula (OWASP)."""

from __future__ import annotations

import csv
import io
import re
import zipfile

import pytest
from openpyxl import Workbook, load_workbook

from schemas.runtime.spreadsheet import (
    Sheet,
    csv_bytes,
    inert_csv,
    inert_download,
    inert_xlsx,
    is_dangerous,
    workbook_bytes,
    xlsx_bytes,
)

PLANTED = '=HYPERLINK("http://evil.example/x","点我")'
HOSTILE = [PLANTED, "+1+cmd|' /C calc'!A0", "-2+3+cmd|' /C calc'!A0", "@SUM(1+1)*cmd|x",
           "\t=1+1", "\r=1+1"]


def csv_cells(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


def assert_inert_csv(data: bytes, planted: str | None = None) -> None:
    """No cell would start a formula; ``planted`` (when given) is there, quoted with '."""
    cells = [cell for row in csv_cells(data) for cell in row]
    assert not [c for c in cells if is_dangerous(c)], [c for c in cells if is_dangerous(c)]
    if planted is not None:
        assert "'" + planted in cells, cells


def assert_inert_xlsx(data: bytes, planted: str | None = None) -> None:
    """No sheet holds a formula; every text that could be one is quote-prefixed; ``planted``
    (when given) is there as its own text."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for name in archive.namelist():
            if name.startswith("xl/worksheets/sheet"):
                assert not re.search(rb"<f[ >]", archive.read(name)), name
    workbook = load_workbook(io.BytesIO(data))
    found = []
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if isinstance(cell.value, str) and is_dangerous(cell.value):
                    assert cell.data_type == "s", (sheet.title, cell.coordinate)
                    assert cell.quotePrefix, (sheet.title, cell.coordinate, cell.value)
                    found.append(cell.value)
    if planted is not None:
        assert planted in found


@pytest.mark.parametrize("text", HOSTILE)
def test_every_formula_lead_is_neutralised(text: str) -> None:
    sheet = Sheet("表", ["名称", "数值"], [[text, -5], ["玉林市", 12]])
    assert_inert_csv(csv_bytes(sheet.headings, sheet.rows), text)
    # XML reads a carriage return back as a line feed: the cell is there, no longer "\r="
    assert_inert_xlsx(xlsx_bytes([sheet]), text if "\r" not in text else None)


def test_numbers_stay_numbers_and_plain_text_stays_as_it_was() -> None:
    rows = csv_cells(csv_bytes(["a", "b", "c"], [[-5, "-12.5", "容县"], [None, "+3", "=x"]]))
    assert rows[1] == ["-5", "-12.5", "容县"]
    assert rows[2] == ["", "+3", "'=x"]
    workbook = load_workbook(io.BytesIO(xlsx_bytes([Sheet("s", ["a"], [[-5], ["=x"]])])))
    assert [c.value for c in workbook.active["A"]] == ["a", -5, "=x"]  # text kept exactly


def test_control_characters_are_dropped_from_xlsx_not_a_failure() -> None:
    data = xlsx_bytes([Sheet("s", ["a"], [["北流\x01市\x1f"]])])
    assert load_workbook(io.BytesIO(data)).active["A2"].value == "北流市"


def test_files_written_elsewhere_are_made_inert() -> None:
    """What an older hub wrote (a live formula) is made inert by the node passing it on."""
    workbook = Workbook()
    workbook.active.append(["名称"])
    workbook.active.append([PLANTED])  # openpyxl stores this as a formula
    live = workbook_bytes(workbook)
    with zipfile.ZipFile(io.BytesIO(live)) as archive:
        assert b"<f>" in archive.read("xl/worksheets/sheet1.xml")
    assert_inert_xlsx(inert_xlsx(live), PLANTED)
    plain_csv = ("\ufeff名称,数值\r\n" + PLANTED.replace('"', '""').join('""') + ",-5\r\n")
    assert_inert_csv(inert_csv(plain_csv.encode()), PLANTED)
    assert inert_download(b"{}", "application/json") == b"{}"
    assert_inert_xlsx(inert_download(
        live, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"), PLANTED)
