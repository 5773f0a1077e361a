"""Applications by material (申报材料): each of a matter's materials is its own field with its
rule, files are checked by their bytes, and what is missing becomes the one-time notice's list.
Plain Python (no Flask).

- **rule**: the material's form (原件, 复印件, 原件及复印件, 电子材料) and copies from the catalog;
  an electronic file is accepted for every material (a scan of an original, whose paper the
  window checks when the result is collected); the accepted types (PDF, JPEG, PNG) and the
  size limits per file and per case are the node's (settings ``upload_max_file_bytes``,
  ``upload_max_case_bytes``): the catalog holds no per-material type or size yet.
- **type by content**: a file's type is what its first bytes say (``filetype``: magic
  numbers), never its name or the type the browser claims; a file whose bytes are none of the
  accepted types is refused, whatever it is called.
- **missing**: a required material that received no file.  An online
  application's missing materials are offered, already ticked, in the clerk's one-time notice
  (一次性告知) — the notice lists them and only them unless the clerk changes it.

A material's files are stored named after it (``营业执照复印件.pdf``, ``营业执照复印件-2.pdf``)
so that the case's files say which material each one is.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import filetype

from node.cases.models import Case
from node.catalog.models import MaterialForm, MatterMaterial
from schemas.i18n import _

# the types an electronic material may have, by the media type its bytes show, with the
# extension it is stored under and the name people read
ACCEPTED: dict[str, tuple[str, str]] = {
    "application/pdf": (".pdf", "PDF"),
    "image/jpeg": (".jpg", "JPG"),
    "image/png": (".png", "PNG"),
}
FORM_NAMES = {MaterialForm.ORIGINAL: _("原件"), MaterialForm.COPY: _("复印件"),
              MaterialForm.ORIGINAL_AND_COPY: _("原件及复印件"),
              MaterialForm.ELECTRONIC: _("电子材料")}


def megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):g} MB"


@dataclass(frozen=True)
class MaterialRule:
    """What one material of a matter takes (申报材料的要求)."""

    position: int
    name: str
    required: bool
    form: MaterialForm
    copies: int
    max_file_bytes: int

    @property
    def text(self) -> str:
        """The rule in words, as the form shows it beside the field."""
        parts = [FORM_NAMES[self.form], _("%(copies)s 份", copies=self.copies),
                 _("必须") if self.required else _("可选")]
        types = "、".join(name for _ext, name in ACCEPTED.values())
        parts.append(_("可上传 %(types)s，每个文件不超过 %(size)s", types=types,
                       size=megabytes(self.max_file_bytes)))
        if self.form in (MaterialForm.ORIGINAL, MaterialForm.ORIGINAL_AND_COPY):
            parts.append(_("原件在领取结果时到窗口核验"))
        return "；".join(parts)


def rules(materials: Iterable[MatterMaterial], max_file_bytes: int) -> list[MaterialRule]:
    return [MaterialRule(m.position, m.name, m.required, m.form, m.copies, max_file_bytes)
            for m in sorted(materials, key=lambda m: m.position)]


@dataclass(frozen=True)
class CheckedFile:
    """A file accepted for a material: its stored name and the type its bytes show."""

    position: int
    name: str
    media_type: str
    data: bytes


def check_files(
    rule_list: Sequence[MaterialRule],
    uploads: Mapping[int, Sequence[tuple[str, bytes]]],
    *,
    max_case_bytes: int,
) -> tuple[list[CheckedFile], dict[str, list[str]]]:
    """Check every material's files (``uploads``: position → (file name, bytes)); returns the
    accepted files and the problems by field (``material-<position>``, ``materials``), in
    Chinese.  Nothing is accepted when anything is refused: the caller stores all or none."""
    problems: dict[str, list[str]] = {}
    accepted: list[CheckedFile] = []
    by_position = {r.position: r for r in rule_list}
    total = 0
    for position, files in uploads.items():
        rule = by_position.get(position)
        field = f"material-{position}"
        if rule is None:
            problems.setdefault("materials", []).append(
                _("事项没有第 %(position)s 项材料", position=position))
            continue
        for index, (filename, data) in enumerate(files, start=1):
            total += len(data)
            if not data:
                problems.setdefault(field, []).append(
                    _("%(file)s：文件是空的", file=filename))
                continue
            if len(data) > rule.max_file_bytes:
                problems.setdefault(field, []).append(
                    _("%(file)s：超过每个文件 %(size)s 的限制", file=filename,
                      size=megabytes(rule.max_file_bytes)))
                continue
            media_type = filetype.guess_mime(data)
            if media_type not in ACCEPTED:
                names = "、".join(name for _ext, name in ACCEPTED.values())
                problems.setdefault(field, []).append(
                    _("%(file)s：文件内容不是 %(types)s（按文件内容判断，与文件名无关）",
                      file=filename, types=names))
                continue
            extension = ACCEPTED[media_type][0]
            stem = rule.name if index == 1 else f"{rule.name}-{index}"
            accepted.append(CheckedFile(position, f"{stem}{extension}", media_type, data))
    if total > max_case_bytes:
        problems.setdefault("materials", []).append(
            _("全部材料共 %(total)s，超过每件申请 %(size)s 的限制", total=megabytes(total),
              size=megabytes(max_case_bytes)))
    return ([] if problems else accepted), problems


def material_of(name: str, rule_list: Sequence[MaterialRule]) -> int | None:
    """The position of the material a stored file is named after (None: another file)."""
    for rule in rule_list:
        pattern = re.escape(rule.name) + r"(-\d+)?\.(pdf|jpg|png)"
        if re.fullmatch(pattern, name):
            return rule.position
    return None


def missing(case: Case, max_file_bytes: int) -> list[int]:
    """The positions of the required materials that have no file on ``case``."""
    rule_list = rules(case.matter.materials, max_file_bytes)
    received = {material_of(a.name, rule_list) for a in case.attachments}
    return [r.position for r in rule_list if r.required and r.position not in received]


__all__ = ["ACCEPTED", "CheckedFile", "MaterialRule", "check_files", "material_of", "missing",
           "rules"]
