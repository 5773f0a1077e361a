"""The catalog workbook's Chinese labels of the catalog's values (node/catalog/workbook.py
writes a value as its label and reads the label back)."""

from __future__ import annotations

from node.catalog.models import (
    Competence,
    HandlingType,
    MaterialForm,
    MatterCategory,
    StaffType,
    TongbanScope,
)
from schemas.divisions import Level

CATEGORY_LABELS: dict[str, str] = {
    MatterCategory.ADMINISTRATIVE_LICENCE: "行政许可",
    MatterCategory.NON_LICENCE_APPROVAL: "非行政许可审批",
    MatterCategory.PUBLIC_SERVICE: "公共服务",
}
HANDLING_TYPE_LABELS: dict[str, str] = {
    HandlingType.IMMEDIATE: "即办件",
    HandlingType.PROMISED: "承诺件",
}
LEVEL_LABELS: dict[str, str] = {
    Level.PROVINCE: "省级",
    Level.CITY: "市级",
    Level.COUNTY: "县级",
    Level.TOWNSHIP: "乡镇级",
}
TONGBAN_SCOPE_LABELS: dict[str, str] = {
    TongbanScope.NONE: "否",
    TongbanScope.PROVINCE: "全省通办",
}
COMPETENCE_LABELS: dict[str, str] = {
    Competence.HOUSEHOLD: "户籍地",
    Competence.ADDRESS: "住所地",
    Competence.MATTER: "事项所在地",
}
STAFF_TYPE_LABELS: dict[str, str] = {
    StaffType.CIVIL_SERVANT: "公务员",
    StaffType.PUBLIC_INSTITUTION: "事业单位",
    StaffType.TEMPORARY: "临时工",
}
MATERIAL_FORM_LABELS: dict[str, str] = {
    MaterialForm.ORIGINAL: "原件",
    MaterialForm.COPY: "复印件",
    MaterialForm.ORIGINAL_AND_COPY: "原件及复印件",
    MaterialForm.ELECTRONIC: "电子材料",
}


__all__ = ["CATEGORY_LABELS", "COMPETENCE_LABELS", "HANDLING_TYPE_LABELS", "LEVEL_LABELS",
           "MATERIAL_FORM_LABELS", "STAFF_TYPE_LABELS", "TONGBAN_SCOPE_LABELS"]
