"""The catalog workbook's 一件事 sheets (written on export, never read on import: a bundle is
defined at the province through its API and reaches the other centers with the published
catalog, node/catalog/bundles.py)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from openpyxl.workbook.workbook import Workbook

from schemas.runtime.spreadsheet import Sheet, write_table

BUNDLE_SHEET = "一件事"
BUNDLE_MATERIAL_SHEET = "一件事材料"


def write_bundle_sheets(workbook: Workbook, document: Mapping[str, Any],
                        level_labels: Mapping[str, str],
                        form_labels: Mapping[str, str]) -> None:
    """One row per matter of each bundle (with the merged form on its first row), and one
    row per material of each bundle, deduplicated."""
    bundles = document.get("bundles", [])
    matter_rows: list[list[Any]] = []
    material_rows: list[list[Any]] = []
    for bundle in bundles:
        form = "；".join(f["label"] for f in bundle["form"])
        for index, part in enumerate(bundle["parts"]):
            matter_rows.append([
                bundle["code"], bundle["name"], part["matter_code"], part["matter_name"],
                part["department_name"], level_labels.get(part["handling_level"], ""),
                part["promised_limit_days"], form if index == 0 else ""])
        material_rows.extend(
            [bundle["code"], m["name"], form_labels.get(m["form"], m["form"]), m["copies"],
             "是" if m["required"] else "否", "、".join(m["matters"])]
            for m in bundle["materials"])
    write_table(workbook.create_sheet(BUNDLE_SHEET), Sheet(
        BUNDLE_SHEET, ["一件事编码", "一件事名称", "事项编码", "事项名称", "办理部门",
                       "办理层级", "承诺时限（工作日）", "合并表单"],
        matter_rows, [16, 24, 22, 30, 20, 10, 12, 40]))
    write_table(workbook.create_sheet(BUNDLE_MATERIAL_SHEET), Sheet(
        BUNDLE_MATERIAL_SHEET, ["一件事编码", "材料名称", "材料形式", "份数", "是否必需",
                                "所需事项"],
        material_rows, [16, 36, 14, 8, 10, 40]))
