"""The form that saves a composite-index methodology at the hub (node/web/rankings.py's
``/staff/rankings/methodologies``) and the saved methodologies as the pages name them: by
their Chinese title and version (schemas/methodologies.py), the code name only in its own
column.  Plain helpers over the hub's JSON and the form's fields; the hub checks everything
it is sent, as it checks the API's PUT."""

from __future__ import annotations

from typing import Any

from werkzeug.datastructures import MultiDict

from schemas.i18n import _
from schemas.methodologies import methodology_label

MAX_COMPONENTS_ON_FORM = 20
DIRECTIONS = {"higher_better": _("越大越好"), "lower_better": _("越小越好")}


def saved_choices(items: list[Any]) -> list[tuple[str, str]]:
    """The saved methodologies as a select offers them: (code name, what a person reads).
    Two that read alike (two untitled first versions) are told apart by a number."""
    choices: list[tuple[str, str]] = []
    seen: dict[str, int] = {}
    for item in items:
        if not isinstance(item, dict) or not item.get("name"):
            continue
        label = str(methodology_label(item))
        seen[label] = seen.get(label, 0) + 1
        shown = label if seen[label] == 1 else _("%(label)s（其%(number)s）", label=label,
                                                 number=seen[label])
        choices.append((str(item["name"]), str(shown)))
    return choices


def methodology_values(saved: dict[str, Any] | None, prefix: str) -> MultiDict[str, str]:
    """A saved methodology as the form shows it; one saved under another code (the hub's, or
    another center's) comes without a code name, to be saved as this center's own copy (its
    title kept, to change or keep)."""
    values: MultiDict[str, str] = MultiDict({"normalisation": "min_max"})
    if saved is None:
        return values
    name = str(saved.get("name") or "")
    values["name"] = name.removeprefix(prefix) if name.startswith(prefix) else ""
    values["title"] = str(saved.get("title") or "")
    values["description"] = str(saved.get("description") or "")
    values["normalisation"] = str(saved.get("normalisation") or "min_max")
    for row, component in enumerate(saved.get("components") or [], start=1):
        weight = component.get("weight")
        values[f"metric{row}"] = str(component.get("metric", ""))
        values[f"weight{row}"] = f"{weight:g}" if isinstance(weight, int | float) \
            else str(weight)
        values[f"direction{row}"] = str(component.get("direction", "higher_better"))
    return values


def methodology_document(form: MultiDict[str, str]) -> tuple[dict[str, Any], list[int]]:
    """The form as the hub's methodology body, and the form row of each component sent.
    The hub checks it (a weight that is not a number goes as typed, for the hub to name)."""
    components, rows = [], []
    for row in range(1, MAX_COMPONENTS_ON_FORM + 1):
        metric = form.get(f"metric{row}", "").strip()
        if not metric:
            continue
        text = form.get(f"weight{row}", "").strip()
        try:
            weight: float | str = float(text)
        except ValueError:
            weight = text
        components.append({"metric": metric, "weight": weight,
                           "direction": form.get(f"direction{row}", "higher_better")})
        rows.append(row)
    document = {"title": form.get("title", "").strip(),
                "normalisation": form.get("normalisation", ""),
                "description": form.get("description", "").strip(),
                "components": components}
    return document, rows


def form_problems(form: MultiDict[str, str]) -> dict[str, list[str]]:
    """What the node itself refuses before asking the hub: the form asks for a title (the
    API leaves it optional, for what was saved before titles), and the code name goes into
    the signed request's path as is (the hub checks its own rule)."""
    problems: dict[str, list[str]] = {}
    if not form.get("title", "").strip():
        problems["title"] = [_("请填写名称（中文，如：季度综合评价）")]
    name = form.get("name", "").strip()
    if not name:
        problems["name"] = [_("请填写方法代码")]
    elif not all(char.isascii() and (char.isalnum() or char in "._-") for char in name):
        problems["name"] = [_("只能使用字母、数字及 . _ -")]
    return problems


def hub_problems(document: Any, rows: list[int]) -> dict[str, list[str]]:
    """The hub's 422 fields as the form's fields (``components.1.weight`` → ``weight3``)."""
    error = document.get("error", {}) if isinstance(document, dict) else {}
    problems: dict[str, list[str]] = {}
    for key, reasons in ((error.get("details") or {}).get("fields") or {}).items():
        parts = str(key).split(".")
        field = str(key)
        if parts[0] == "components" and len(parts) >= 2 and parts[1].isdigit() \
                and int(parts[1]) < len(rows):
            field = f"{parts[2] if len(parts) > 2 else 'metric'}{rows[int(parts[1])]}"
        problems.setdefault(field, []).extend(
            reasons if isinstance(reasons, list) else [str(reasons)])
    if not problems:
        problems[""] = [str(_("枢纽拒绝保存：%(message)s", message=error.get("message", "")))]
    return problems


def methodology_labels(rows: int) -> dict[str, str]:
    labels = {"title": _("名称"), "name": _("方法代码"), "description": _("说明"),
              "normalisation": _("标准化方法"), "components": _("指标")}
    for row in range(1, rows + 1):
        labels.update({f"metric{row}": _("指标 %(row)s", row=row),
                       f"weight{row}": _("指标 %(row)s 的权重", row=row),
                       f"direction{row}": _("指标 %(row)s 的方向", row=row)})
    return labels
