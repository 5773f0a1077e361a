"""The catalog as an XLSX workbook: one sheet per entity, Chinese headings and labels.

The workbook is the exchange document (:mod:`node.catalog.exchange`) laid out for the people
who keep the catalog in a spreadsheet; reading one gives a :class:`CatalogSource` whose items
know their sheet, row and headings.
"""

from __future__ import annotations

import enum
import io
import re
import warnings
import zipfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from openpyxl import load_workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.utils import get_column_letter
from openpyxl.utils.exceptions import InvalidFileException
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from node.catalog.bundle_sheets import write_bundle_sheets
from node.catalog.exchange import FORMAT, VERSION
from node.catalog.labels import (
    CATEGORY_LABELS,
    COMPETENCE_LABELS,
    HANDLING_TYPE_LABELS,
    LEVEL_LABELS,
    MATERIAL_FORM_LABELS,
    STAFF_TYPE_LABELS,
    TONGBAN_SCOPE_LABELS,
)
from node.catalog.problems import CatalogSource, Origin, Problem, UnreadableWorkbook
from schemas.i18n import _
from schemas.metrics import POWERS
from schemas.runtime.spreadsheet import (
    Money,
    Sheet,
    fen_from_yuan,
    new_workbook,
    workbook_bytes,
    write_table,
)

# A workbook sheet may hold at most this many rows: the upload size is capped, but a
# compressed workbook can still unfold into far more rows than any center's catalog has.
MAX_SHEET_ROWS = 50_000
MEGABYTE = 1024 * 1024


class Kind(enum.Enum):
    """How a column's cells are written and read."""

    CODE = "code"  # an identifier: trimmed text
    TEXT = "text"  # free text, kept as it is
    INTEGER = "integer"
    BOOLEAN = "boolean"  # 是 / 否
    CHOICE = "choice"  # an enum, shown by its Chinese label
    CODES = "codes"  # a list of identifiers (or keywords) joined by 、
    MONEY = "money"  # 分 in the document, a number of 元 (two decimals) in the cell
    KINDS = "kinds"  # a list of lower-case kinds (pdf、jpg), any case in the cell
    MEGABYTES = "megabytes"  # bytes in the document, a number of MB in the cell


YES, NO = "是", "否"
_TRUE_WORDS = frozenset({"是", "y", "yes", "true", "1", "√", "✓"})
_FALSE_WORDS = frozenset({"否", "n", "no", "false", "0", "×", "✗"})
_CODE_SEPARATORS = re.compile(r"[、,，;；\s]+")
_INTEGER = re.compile(r"^[+-]?\d+$")



@dataclass(frozen=True)
class Column:
    """One column of a sheet: the document field it holds, its heading and its cells' kind."""

    path: str
    heading: str
    kind: Kind
    width: int = 14
    labels: Mapping[str, str] = field(default_factory=dict)  # value -> Chinese label

    @property
    def hint(self) -> str | None:
        """The accepted values, added to any problem reported in this column."""
        if self.kind is Kind.BOOLEAN:
            return f"(fill in {YES} or {NO})"
        if self.kind is Kind.CHOICE:
            return "(fill in one of: " + "、".join(self.labels.values()) + ")"
        return None

    def to_cell(self, value: Any) -> Any:
        """The cell value showing the document value ``value``."""
        if value is None:
            return None
        if self.kind is Kind.BOOLEAN:
            return YES if value else NO
        if self.kind is Kind.CHOICE:
            return self.labels.get(str(value), value)
        if self.kind in (Kind.CODES, Kind.KINDS):
            return "、".join(value)
        if self.kind is Kind.MEGABYTES and isinstance(value, int):
            megabytes = value / MEGABYTE
            return int(megabytes) if megabytes.is_integer() else megabytes
        if self.kind is Kind.MONEY and isinstance(value, int) and not isinstance(value, bool):
            return Money(value)  # a number formatted #,##0.00"元"
        if isinstance(value, str):
            return ILLEGAL_CHARACTERS_RE.sub("", value)
        return value

    def from_cell(self, value: Any) -> Any:
        """The document value of a cell; None for a blank cell.

        A value that cannot be understood is passed on as it is, for the schema to name it;
        an amount in 元 that is not one raises :class:`ValueError` with the reason.
        """
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        if self.kind is Kind.TEXT:
            return value if isinstance(value, str) else str(value)
        if self.kind is Kind.INTEGER:
            return _integer_from_cell(value)
        if self.kind is Kind.BOOLEAN:
            return _boolean_from_cell(value)
        if self.kind is Kind.MONEY:
            return fen_from_yuan(value)
        if self.kind is Kind.MEGABYTES:
            return _bytes_from_cell(value)
        text = _code_text(value)
        if self.kind is Kind.KINDS:
            return [kind.lower() for kind in _CODE_SEPARATORS.split(text) if kind]
        if self.kind is Kind.CHOICE:
            return next((str(v) for v, label in self.labels.items() if text in (label, v)), text)
        if self.kind is Kind.CODES:
            return [code for code in _CODE_SEPARATORS.split(text) if code]
        return text


def _code_text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # a code typed as a number, e.g. 1001
    return str(value).strip()


def _integer_from_cell(value: Any) -> Any:
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and _INTEGER.match(value.strip()):
        return int(value.strip())
    return value


def _bytes_from_cell(value: Any) -> Any:
    """A number of MB as bytes; anything else as it is, for the schema to name."""
    if isinstance(value, str):
        try:
            value = float(value.strip().removesuffix("MB").strip())
        except ValueError:
            return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return round(value * MEGABYTE)
    return value


def _boolean_from_cell(value: Any) -> Any:
    if isinstance(value, bool):
        return value
    word = str(value).strip().lower()
    if word in _TRUE_WORDS:
        return True
    if word in _FALSE_WORDS:
        return False
    return value


@dataclass(frozen=True)
class SheetLayout:
    """One sheet: its title, the document list it holds and its columns."""

    title: str
    entity: str
    columns: tuple[Column, ...]
    # columns of older workbooks, still read (never written): same path, older heading
    legacy: tuple[Column, ...] = ()

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.path == name)


def _code(name: str, heading: str, width: int = 16) -> Column:
    return Column(name, heading, Kind.CODE, width)


def _text(name: str, heading: str, width: int = 30) -> Column:
    return Column(name, heading, Kind.TEXT, width)


def _yes_no(name: str, heading: str, width: int = 10) -> Column:
    return Column(name, heading, Kind.BOOLEAN, width)


def _number(name: str, heading: str, width: int = 12) -> Column:
    return Column(name, heading, Kind.INTEGER, width)


def _choice(name: str, heading: str, labels: Mapping[str, str], width: int = 14) -> Column:
    return Column(name, heading, Kind.CHOICE, width, labels)


POWER_HEADINGS = {
    "accept": "受理权",
    "review": "审核权",
    "coordinate": "协调处置权",
    "deliver": "送达权",
    "litigate": "应诉代理权",
    "issue": "制证权",
    "approve": "审批权",
}

DEPARTMENT_SHEET = SheetLayout(
    "部门", "departments", (_code("code", "部门编码"), _text("name", "部门名称", 30))
)
WINDOW_SHEET = SheetLayout(
    "窗口",
    "windows",
    (
        _code("code", "窗口编码"),
        _text("name", "窗口名称", 24),
        _text("location", "窗口位置", 20),
        Column("department_codes", "服务部门编码", Kind.CODES, 30),
    ),
)
STAFF_SHEET = SheetLayout(
    "人员",
    "staff",
    (
        _code("code", "人员编码"),
        _text("name", "姓名", 12),
        _choice("staff_type", "人员类型", STAFF_TYPE_LABELS, 12),
        _code("department_code", "所属部门编码"),
        _code("window_code", "所在窗口编码"),
        _text("position", "岗位", 16),
        _yes_no("active", "在岗"),
    ),
)
MATTER_SHEET = SheetLayout(
    "事项",
    "matters",
    (
        _code("code", "事项编码", 22),
        _text("name", "事项名称", 30),
        _choice("category", "事项类型", CATEGORY_LABELS, 16),
        _code("department_code", "主管部门编码", 14),
        _code("window_code", "窗口编码", 12),
        _choice("handling_level", "办理层级", LEVEL_LABELS, 10),
        _choice("handling_type", "办件类型", HANDLING_TYPE_LABELS, 10),
        _yes_no("notify_and_commit", "告知承诺制", 12),
        _yes_no("deemed_approval", "超时默认许可", 14),
        _number("legal_limit_days", "法定时限（工作日）", 20),
        _number("promised_limit_days", "承诺时限（工作日）", 20),
        _yes_no("should_enter", "应进", 8),
        _yes_no("entered", "实进", 8),
        _text("legal_basis", "设立依据", 40),
        _text("procedure", "办理程序", 30),
        _text("conditions", "申请条件", 40),
        _text("fee_basis", "收费依据", 24),
        _text("fee_standard", "收费标准", 24),
        Column("fee_amount_fen", "收费金额（元）", Kind.MONEY, 16),
        _text("complaint_channel", "投诉渠道", 20),
        _text("window_authority", "窗口权限", 24),
        *(_yes_no(f"powers.{power}", POWER_HEADINGS[power], 12) for power in POWERS),
        # a workbook without this column (made before keywords) leaves keywords unchanged
        Column("keywords", "关键词", Kind.CODES, 30),
        # the guide's practical fields, after keywords (absent columns: unchanged)
        _text("service_address", "办理地点", 24),
        _text("office_hours", "办公时间", 20),
        _text("enquiry_phone", "咨询电话", 16),
        _text("complaint_phone", "监督投诉电话", 16),
        # 通办, last (a workbook without these columns leaves them unchanged)
        _choice("tongban_scope", "通办范围", TONGBAN_SCOPE_LABELS, 12),
        _choice("competence", "管辖规则", COMPETENCE_LABELS, 12),
    ),
    # workbooks made before the fee was shown in 元
    legacy=(_number("fee_amount_fen", "收费金额（分）", 16),),
)
MATERIAL_SHEET = SheetLayout(
    "申报材料",
    "materials",
    (
        _code("matter_code", "事项编码", 22),
        _text("name", "材料名称", 36),
        _yes_no("required", "是否必需"),
        _choice("form", "材料形式", MATERIAL_FORM_LABELS, 14),
        _number("copies", "份数", 8),
        _text("note", "备注", 30),
        # each material's file rule (absent columns, blank cells: the defaults)
        _yes_no("electronic_accepted", "接受电子文件", 14),
        Column("file_types", "文件格式", Kind.KINDS, 16),
        Column("max_file_bytes", "单个文件上限（MB）", Kind.MEGABYTES, 18),
    ),
)
SHEETS: tuple[SheetLayout, ...] = (
    DEPARTMENT_SHEET,
    WINDOW_SHEET,
    STAFF_SHEET,
    MATTER_SHEET,
    MATERIAL_SHEET,
)

def _field_value(item: Mapping[str, Any], path: str) -> Any:
    value: Any = item
    for part in path.split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
    return value


def _sheet_records(layout: SheetLayout, document: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    if layout is MATERIAL_SHEET:
        for matter in document.get("matters", []):
            for material in matter.get("materials", []):
                yield {"matter_code": matter["code"], **material}
    else:
        yield from document.get(layout.entity, [])


def _write_sheet(sheet: Worksheet, layout: SheetLayout, document: Mapping[str, Any]) -> None:
    rows = [[column.to_cell(_field_value(record, column.path)) for column in layout.columns]
            for record in _sheet_records(layout, document)]
    write_table(sheet, Sheet(layout.title, [column.heading for column in layout.columns], rows,
                             [column.width for column in layout.columns]))
    _add_choice_lists(sheet, layout)


def _add_choice_lists(sheet: Worksheet, layout: SheetLayout) -> None:
    """Offer the accepted values of 是/否 and enum columns as drop-down lists."""
    for index, column in enumerate(layout.columns, start=1):
        if column.kind is Kind.BOOLEAN:
            choices = [YES, NO]
        elif column.kind is Kind.CHOICE:
            choices = list(column.labels.values())
        else:
            continue
        validation = DataValidation(
            type="list", formula1='"' + ",".join(choices) + '"', allow_blank=True
        )
        letter = get_column_letter(index)
        validation.add(f"{letter}2:{letter}{MAX_SHEET_ROWS}")
        sheet.add_data_validation(validation)


def write_workbook(document: Mapping[str, Any]) -> bytes:
    """The catalog document as an XLSX workbook: one sheet per entity, Chinese headings."""
    workbook = new_workbook()
    for layout in SHEETS:
        _write_sheet(workbook.create_sheet(layout.title), layout, document)
    write_bundle_sheets(workbook, document, LEVEL_LABELS, MATERIAL_FORM_LABELS)
    node = document.get("node")
    workbook.properties.title = f"政务服务事项目录 {node}" if node else "政务服务事项目录"
    workbook.properties.creator = "tongban"
    return workbook_bytes(workbook)


# Everything openpyxl raises for bytes that are not a well-formed workbook.
_UNREADABLE: tuple[type[Exception], ...] = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    InvalidFileException,
    KeyError,
    SyntaxError,  # XML parse errors of the standard library and of lxml
    ValueError,
    TypeError,
    EOFError,
    OSError,
)

SheetRows = list[tuple[int, tuple[Any, ...]]]


def _sheet_rows(content: bytes) -> dict[str, SheetRows]:
    """The non-blank rows (with their Excel row numbers) of each catalog sheet present."""
    titles = {layout.title for layout in SHEETS}
    try:
        with warnings.catch_warnings():
            # openpyxl warns about styles and extensions it drops; they do not touch the data.
            warnings.simplefilter("ignore")
            workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
            try:
                found = {name.strip(): name for name in workbook.sheetnames}
                rows: dict[str, SheetRows] = {}
                for title in titles & found.keys():
                    rows[title] = _read_sheet(workbook[found[title]], title)
            finally:
                workbook.close()
    except _UNREADABLE as exc:
        raise UnreadableWorkbook(
            _("the file cannot be read as an XLSX workbook (%(error)s)", error=str(exc))) from exc
    if not rows:
        expected = "、".join(layout.title for layout in SHEETS)
        raise UnreadableWorkbook(
            _("the workbook has none of the catalog sheets %(expected)s", expected=expected))
    return rows


def _read_sheet(sheet: Any, title: str) -> SheetRows:
    sheet.reset_dimensions()  # some writers record wrong dimensions; read what is there
    rows: SheetRows = []
    for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
        if number > MAX_SHEET_ROWS + 1:
            raise UnreadableWorkbook(
                _("sheet %(title)s has more than %(most)s rows", title=title, most=MAX_SHEET_ROWS))
        if any(v is not None and not (isinstance(v, str) and not v.strip()) for v in values):
            rows.append((number, tuple(values)))
    return rows


def _normal_heading(text: str) -> str:
    return re.sub(r"\s+", "", text).replace("(", "（").replace(")", "）")


def _heading_aliases(layout: SheetLayout) -> dict[str, Column]:
    """Headings accepted for each column: as written, without its （unit）, and the field name."""
    aliases: dict[str, Column] = {}
    for column in layout.columns:
        heading = _normal_heading(column.heading)
        aliases[heading] = column
        aliases[re.sub(r"（.*?）", "", heading)] = column
        aliases[column.path] = column
    for column in layout.legacy:  # its own heading and field name (fee_amount_fen is in 分)
        aliases[_normal_heading(column.heading)] = column
        aliases[column.path] = column
    return aliases


@dataclass
class _SheetItems:
    """The items read from one sheet, each with its origin."""

    items: list[dict[str, Any]] = field(default_factory=list)
    origins: list[Origin] = field(default_factory=list)


class _WorkbookReader:
    """Turns the rows of a catalog workbook into a :class:`CatalogSource`."""

    def __init__(self, rows: Mapping[str, SheetRows]) -> None:
        self.rows = rows
        self.problems: list[Problem] = []

    def read(self) -> CatalogSource:
        document: dict[str, Any] = {"format": FORMAT, "version": VERSION}
        origins: dict[tuple[str, int], Origin] = {}
        for layout in (DEPARTMENT_SHEET, WINDOW_SHEET, STAFF_SHEET, MATTER_SHEET):
            sheet = self._read(layout)
            if sheet is None:
                continue
            document[layout.entity] = sheet.items
            for index, origin in enumerate(sheet.origins):
                origins[(layout.entity, index)] = origin
        materials = self._read(MATERIAL_SHEET)
        if materials is not None:
            self._attach_materials(document.setdefault("matters", []), origins, materials)
        return CatalogSource(document, origins, self.problems)

    def _read(self, layout: SheetLayout) -> _SheetItems | None:
        rows = self.rows.get(layout.title)
        if not rows:
            return None
        header_number, header = rows[0]
        columns = self._header(layout, header_number, header)
        key = layout.columns[0]
        if key not in columns.values():
            self.problems.append(
                Problem(layout.title, header_number, key.heading,
                        _("the sheet has no such column"))
            )
            return _SheetItems()
        headings = {c.path: c.heading for c in layout.columns}
        headings.update({c.path: str(header[i]).strip() for i, c in columns.items()})
        hints = {c.path: c.hint for c in layout.columns if c.hint}
        has_powers = any(c.path.startswith("powers.") for c in columns.values())
        sheet = _SheetItems()
        for number, values in rows[1:]:
            item: dict[str, Any] = {"powers": {}} if has_powers else {}
            for index, column in columns.items():
                try:
                    value = column.from_cell(values[index] if index < len(values) else None)
                except ValueError as exc:  # an amount in 元 that is not one
                    self.problems.append(Problem(layout.title, number, headings[column.path],
                                                 exc.args[0]))
                    continue
                if value is not None:
                    _put(item, column.path, value)
            sheet.items.append(item)
            sheet.origins.append(Origin(layout.title, number, headings, hints=hints))
        return sheet

    def _header(
        self, layout: SheetLayout, number: int, header: Sequence[Any]
    ) -> dict[int, Column]:
        aliases = _heading_aliases(layout)
        columns: dict[int, Column] = {}
        for index, value in enumerate(header):
            if value is None or not str(value).strip():
                continue
            column = aliases.get(_normal_heading(str(value)))
            if column is None:
                self.problems.append(
                    Problem(layout.title, number, str(value).strip(),
                            _("unknown column heading"))
                )
            elif column.path in {c.path for c in columns.values()}:
                self.problems.append(
                    Problem(layout.title, number, column.heading,
                            _("the column appears twice"))
                )
            else:
                columns[index] = column
        return columns

    def _attach_materials(
        self,
        matters: list[dict[str, Any]],
        origins: dict[tuple[str, int], Origin],
        materials: _SheetItems,
    ) -> None:
        """Give each matter its materials in row order; a material of no matter is a problem."""
        first_index: dict[str, int] = {}
        for index, matter in enumerate(matters):
            matter["materials"] = []
            if isinstance(matter.get("code"), str):
                first_index.setdefault(matter["code"], index)
        children: dict[int, list[Origin]] = {index: [] for index in range(len(matters))}
        heading = MATERIAL_SHEET.column("matter_code").heading
        for item, origin in zip(materials.items, materials.origins, strict=True):
            code = item.pop("matter_code", None)
            owner = first_index.get(code) if isinstance(code, str) else None
            if owner is None:
                reason = (
                    _("no matter with code %(code)s in sheet %(sheet)s",
                      code=repr(code), sheet=MATTER_SHEET.title)
                    if code is not None
                    else _("Missing data for required field.")
                )
                self.problems.append(Problem(origin.sheet, origin.row, heading, reason))
                continue
            matters[owner]["materials"].append(item)
            children[owner].append(origin)
        for index in range(len(matters)):
            base = origins.get(("matters", index)) or Origin("matters", index + 1)
            origins[("matters", index)] = Origin(
                base.sheet,
                base.row,
                {**base.columns, "materials": MATERIAL_SHEET.title},
                {"materials": children[index]},
                base.hints,
            )


def _put(item: dict[str, Any], path: str, value: Any) -> None:
    head, _, rest = path.partition(".")
    if rest:
        item.setdefault(head, {})[rest] = value
    else:
        item[head] = value


def read_workbook(content: bytes) -> CatalogSource:
    """Read a catalog workbook into a document with every item's sheet, row and headings.

    Chinese labels (行政许可, 是/否, …) and the English values are both accepted. Raises
    :class:`UnreadableWorkbook` for a file that is not a catalog workbook; problems of single
    rows are kept in the source, for :meth:`CatalogExchange.validate` to report with the rest.
    """
    return _WorkbookReader(_sheet_rows(content)).read()
