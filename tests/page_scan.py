"""What a person must never read on a page or in an export (issue 19's checks): a Latin word
outside a short allowlist, a snake_case token, raw JSON, a division code without its center's
name, a rate above 100 under a 率 heading, a fee in 分, a timestamp with seconds or an offset.

Used by the page tests (tests/unit/node/test_pages_read_chinese.py) on the pages' HTML and on
the exports' cells."""

from __future__ import annotations

import html
import io
import re
from html.parser import HTMLParser
from typing import Any

# file formats and the file-size unit of an upload's limit (as every government service site
# writes it: 不超过 4 MB，PDF、JPG 或 PNG); nothing else
LATIN_ALLOWED = frozenset({"Excel", "CSV", "PDF", "XLSX", "JSON", "JPG", "PNG", "TIF", "MB"})
# a file type is the same word as an extension (a material's types in the catalog workbook: pdf)
_ALLOWED_FOLDED = frozenset(word.casefold() for word in LATIN_ALLOWED)
_LATIN = re.compile(r"(?<![A-Za-z0-9])[A-Za-z]{2,}(?![A-Za-z0-9])")
# a word with digits in it is still a word when it has lower-case letters (clerk1, utf8);
# capitals and digits are a code (W02, S001, GB11643)
_LATIN_WITH_DIGITS = re.compile(
    r"(?<![A-Za-z0-9])(?=[A-Za-z0-9]*[0-9])(?=[A-Za-z0-9]*[a-z]{2})[A-Za-z0-9]+(?![A-Za-z0-9])")
_SNAKE = re.compile(r"(?<![A-Za-z0-9])[a-z]+_[a-z0-9_]+")
# a division code; one followed by "." begins a methodology's name (450900.bulletin), and one
# followed by "*" a masked ID number (450981********1234), not a center
_CODE = re.compile(r"(?<![0-9A-Za-z-])([0-9]{9}|[0-9]{6})(?![0-9A-Za-z.*-])")
_FEN = re.compile(r"[0-9]\s*分(?!钟)|（分）")
# seconds or an ISO "T" (an offset comes after the seconds): office hours 08:30-12:00 are fine
_RAW_TIME = re.compile(r"\d{2}:\d{2}:\d{2}|T\d{2}:\d{2}")
_JSON = re.compile(r'\{\s*"[a-z_]+"\s*:')
# what a program says when it fails, not a page
_EXCEPTION = re.compile(
    r"Traceback \(most recent call last\)|(?<![A-Za-z])[A-Z][A-Za-z]*(?:Error|Exception)\b")
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
_URL = re.compile(r"https?://\S+")
# a code in （） right after the name it belongs to: 公安局（GA）, 住建窗口（W02）, 李明（S001）.
# A code is capitals and digits: a word with lower-case letters there is a role's or a
# state's code or English (李明（clerk）, 系统（system）, 状态（Accepted）), a snake_case
# token never a code; a login name is read only where it is labelled as one
_NAMED_CODE = re.compile(r"(?<=[\u3400-\u9fff\uff09])（[A-Z0-9][A-Z0-9.-]*）")
# a login name labelled as one (修改账号：李明（用户名：clerk）), as under a 用户名 column
_LOGIN_NAME = re.compile(r"用户名[：:]\s*[a-z0-9._-]+")
# columns that hold codes and login names, which are Latin by nature (a name column beside);
# a cell there is passed only when it is such tokens (one, or a list: ZJ、ZR), not a sentence
# or JSON; a key-value sheet's row labelled so (中心代码 | 450981) holds a code as well
CODE_HEADINGS = ("用户名", "代码", "编码", "编号", "工号")
_CODE_TOKEN = re.compile(r"[A-Za-z0-9._-]+(?:\s*[、,，;；]\s*[A-Za-z0-9._-]+)*")
# a rate's name followed by its value (按时办结率：98.50%); a period after it (2026-10) is not
_RATE_IN_TEXT = re.compile(r"率[：:]?\s*(\d+(?:\.\d+)?)(?![\d.-])")
# a column of quantities (counts, money, ranks, days …) may hold a number of a code's length;
# any other column's bare six or nine digits are a center without its name
_QUANTITY = re.compile(r"[数量额元率次件天日分名值计比]")


def visible_text(page: str) -> str:
    """The text a person sees: no scripts, styles, comments or tags; entities decoded."""
    page = re.sub(r"<(script|style)\b.*?</\1>|<!--.*?-->", " ", page, flags=re.S | re.I)
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


def text_problems(text: str, *, codes_alone: bool = False) -> list[str]:
    """What is wrong with ``text`` as a person reads it; ``codes_alone`` allows a bare
    division code (a number alone in an export's cell: a count, not a center)."""
    words = _NAMED_CODE.sub("", _LOGIN_NAME.sub(" ", _URL.sub(" ", text)))
    found = [f"Latin word {w!r}" for w in _LATIN.findall(words)
             if w.casefold() not in _ALLOWED_FOLDED]
    found += [f"Latin word {w!r}" for w in _LATIN_WITH_DIGITS.findall(words)]
    found += [f"snake_case {w!r}" for w in _SNAKE.findall(words)]
    found += [f"raw JSON near {m.group(0)!r}" for m in _JSON.finditer(text)]
    found += [f"exception text {m.group(0)!r}" for m in _EXCEPTION.finditer(text)]
    found += [f"fee in 分 {m.group(0)!r}" for m in _FEN.finditer(text)]
    found += [f"raw time {m.group(0)!r}" for m in _RAW_TIME.finditer(text)]
    found += [f"rate {m.group(0)!r} above 100" for m in _RATE_IN_TEXT.finditer(text)
              if float(m.group(1)) > 100]
    if not codes_alone:
        for match in _CODE.finditer(text):
            before = text[:match.start()]
            named = (before.endswith("（") and text[match.end():].startswith("）")
                     and len(before) > 1 and not before[-2].isspace())
            if not named:
                context = text[max(0, match.start() - 12):match.end() + 2]
                found.append(f"code without a name {context!r}")
    return found


class _Tables(HTMLParser):
    """Each table's headings and rows of cell texts."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[tuple[list[str], list[list[str]]]] = []
        self._cell: list[str] | None = None
        self._row: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag == "table":
            self.tables.append(([], []))
        elif tag == "tr" and self.tables:
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.append(("th:" if tag == "th" else "") + "".join(self._cell).strip())
            self._cell = None
        elif tag == "tr" and self._row is not None and self.tables:
            headings, rows = self.tables[-1]
            if self._row and all(c.startswith("th:") for c in self._row):
                headings[:] = [c[3:] for c in self._row]
            else:
                rows.append([c.removeprefix("th:") for c in self._row])
            self._row = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def _is_rate(heading: str) -> bool:
    """A heading over rates (a composite's 标准化 value of a rate is a score, not a rate)."""
    return "率" in heading and "标准化" not in heading


def rate_problems(headings: list[str], rows: list[list[Any]]) -> list[str]:
    """A rate above 100 % under a heading with 率 (basis points where a percentage belongs)."""
    found = []
    for column, heading in enumerate(headings):
        if not _is_rate(str(heading)):
            continue
        for row in rows:
            cell = row[column] if column < len(row) else None
            if isinstance(cell, int | float):
                continue  # a number cell: its format is checked by the caller
            number = _NUMBER.search(str(cell or ""))
            if number and float(number.group(0)) > 100:
                found.append(f"rate {cell!r} under {heading!r}")
    return found


def _is_code(heading: str) -> bool:
    return any(word in str(heading) for word in CODE_HEADINGS)


def _code_cell(heading: str, cell: str) -> bool:
    """A code or a login name under a code column: read as what it is."""
    return _is_code(heading) and _CODE_TOKEN.fullmatch(cell.strip()) is not None


def _count_cell(heading: str, cell: str) -> bool:
    """A number alone under a quantity's heading (164000 under 办结数): not a center."""
    return _NUMBER.fullmatch(cell.strip()) is not None and bool(_QUANTITY.search(str(heading)))


def page_problems(page: str) -> list[str]:
    """Everything wrong with a page's HTML (a cell under a code column may hold a code)."""
    parser = _Tables()
    parser.feed(page)
    text = visible_text(page)
    for headings, rows in parser.tables:
        for column, heading in enumerate(headings):
            for row in rows:
                if column < len(row) and row[column].strip() and _code_cell(heading,
                                                                            row[column]):
                    text = text.replace(html.unescape(row[column].strip()), " ", 1)
    found = text_problems(text)
    for headings, rows in parser.tables:
        found += rate_problems(headings, rows)
    return found


def xlsx_problems(data: bytes) -> list[str]:
    """Everything wrong with a workbook: its text cells as text, rates as percentages
    (numbers formatted ``0.00%``, at most 1), money in 元, times as times."""
    from openpyxl import load_workbook

    found = []
    for sheet in load_workbook(io.BytesIO(data)).worksheets:
        rows = list(sheet.iter_rows())
        if not rows:
            continue
        headings = [str(c.value or "") for c in rows[0]]
        for row in rows:
            label = row[0].value if isinstance(row[0].value, str) else ""
            for column, cell in enumerate(row):
                heading = headings[column] if column < len(headings) else ""
                if column > 0 and _is_code(label):
                    heading = label  # a key-value sheet: the row's label heads its value
                if isinstance(cell.value, str) and not _code_cell(heading, cell.value):
                    found += [f"{sheet.title}!{cell.coordinate}: {p}" for p in text_problems(
                        cell.value, codes_alone=_count_cell(heading, cell.value))]
                elif isinstance(cell.value, int) and not isinstance(cell.value, bool) \
                        and not _is_code(heading) and not _count_cell(heading, str(cell.value)):
                    found += [f"{sheet.title}!{cell.coordinate}: {p}"
                              for p in text_problems(str(cell.value))]
                elif isinstance(cell.value, int | float) and _is_rate(heading) and (
                        cell.number_format != "0.00%" or cell.value > 1):
                    found.append(f"{sheet.title}!{cell.coordinate}: rate {cell.value} "
                                 f"formatted {cell.number_format!r}")
                elif isinstance(cell.value, int | float) and "元" in heading \
                        and "元" not in cell.number_format:
                    found.append(f"{sheet.title}!{cell.coordinate}: money without 元")
    return found


def csv_problems(data: bytes) -> list[str]:
    """Everything wrong with a CSV: what the page would show, nothing else."""
    import csv

    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    if not rows:
        return []
    found = []
    for row in rows:
        for column, cell in enumerate(row):
            heading = rows[0][column] if column < len(rows[0]) else ""
            if _code_cell(heading, cell):
                continue  # a code column (节点代码), a name column beside it
            found += text_problems(cell, codes_alone=_count_cell(heading, cell))
    return found + rate_problems(rows[0], rows[1:])
