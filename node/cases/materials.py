"""Applications by material (申报材料): each of a matter's materials is its own field with its
rule, files are checked by their bytes, and what is missing becomes the one-time notice's list.
Plain Python (no Flask).

- **rule**: from the catalog (node/catalog/models.py, ``MatterMaterial``): the form (原件,
  复印件, 原件及复印件, 电子材料) and copies the window takes on paper; whether a file may stand
  for it (``electronic_accepted``: a scan of an original, whose paper the window checks when
  the result is collected); the kinds of file (``file_types``: PDF, JPG, PNG, TIF) and each
  file's size limit (``max_file_bytes``, or the node's ``upload_max_file_bytes`` when the
  material sets none).  All of one case's files stay within the node's
  ``upload_max_case_bytes``.
- **type by content**: a file's type is what its first bytes say (``filetype``: magic
  numbers), never its name or the type the browser claims; a file whose bytes are none of the
  material's kinds is refused, whatever it is called.
- **received**: online, a material is received when it has a file; at the window when the
  clerk records its paper (:class:`PaperReceipt`, stored as ``ReceivedMaterial``) in the form
  and number of copies its rule asks (an original for 原件, a copy for 复印件, both for
  原件及复印件), or when a file was taken for it.
- **missing**: a required material not received.  The missing materials are offered, already
  ticked, in the clerk's one-time notice (一次性告知) — the notice lists them and only them
  unless the clerk changes it.

A material's files are stored named after it (``营业执照复印件.pdf``, ``营业执照复印件-2.pdf``)
so that the case's files say which material each one is.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import filetype

from node.cases.models import Case, ReceivedMaterial
from node.catalog.models import MaterialForm, MatterMaterial
from schemas.i18n import _
from schemas.message_parts import FILE_TYPES

# each kind of file a material may take (schemas/message_parts.py FILE_TYPES): the media type
# its bytes show, the extension it is stored under and the name people read
KINDS: dict[str, tuple[str, str, str]] = {
    "pdf": ("application/pdf", ".pdf", "PDF"),
    "jpg": ("image/jpeg", ".jpg", "JPG"),
    "png": ("image/png", ".png", "PNG"),
    "tif": ("image/tiff", ".tif", "TIF"),
}
assert tuple(KINDS) == FILE_TYPES  # noqa: S101 - one list of kinds, told apart by filetype
KIND_OF_MEDIA = {media: kind for kind, (media, _ext, _name) in KINDS.items()}
FORM_NAMES = {MaterialForm.ORIGINAL: _("原件"), MaterialForm.COPY: _("复印件"),
              MaterialForm.ORIGINAL_AND_COPY: _("原件及复印件"),
              MaterialForm.ELECTRONIC: _("电子材料")}
# what paper each form is: what a rule asks and what a window received
_PAPER = {MaterialForm.ORIGINAL: {"original"}, MaterialForm.COPY: {"copy"},
          MaterialForm.ORIGINAL_AND_COPY: {"original", "copy"},
          MaterialForm.ELECTRONIC: set()}
PAPER_FORMS = (MaterialForm.ORIGINAL, MaterialForm.COPY, MaterialForm.ORIGINAL_AND_COPY)
MAX_COPIES = 99


def megabytes(size: int) -> str:
    """A size as people read it on the forms: 4 MB, 0.5 MB (a size below 0.01 MB in 字节)."""
    if size < 1024 * 1024 // 100:
        return _("%(size)s 字节", size=size)
    return f"{size / (1024 * 1024):.2f}".rstrip("0").rstrip(".") + " MB"


@dataclass(frozen=True)
class MaterialRule:
    """What one material of a matter takes (申报材料的要求); ``max_file_bytes`` is the limit in
    force (the material's own, or the node's)."""

    position: int
    name: str
    required: bool
    form: MaterialForm
    copies: int
    max_file_bytes: int
    electronic_accepted: bool = True
    file_types: tuple[str, ...] = ("pdf", "jpg", "png")

    @property
    def type_names(self) -> str:
        return "、".join(KINDS[kind][2] for kind in self.file_types)

    @property
    def accept(self) -> str:
        """The file input's ``accept``: the extensions and media types of its kinds."""
        extensions = {"jpg": ".jpg,.jpeg", "tif": ".tif,.tiff"}
        return ",".join([*(extensions.get(k, f".{k}") for k in self.file_types),
                         *(KINDS[k][0] for k in self.file_types)])

    @property
    def text(self) -> str:
        """The rule in words, as the forms show it beside the field."""
        if self.electronic_accepted:
            parts = [_("格式：%(types)s", types=self.type_names),
                     _("单个文件不超过 %(size)s", size=megabytes(self.max_file_bytes))]
        else:
            parts = [_("不接受电子文件，请到窗口提交纸质材料")]
        if self.form is MaterialForm.ELECTRONIC:
            parts.append(FORM_NAMES[self.form])
        else:
            parts.append(_("%(form)s %(copies)s 份", form=FORM_NAMES[self.form],
                           copies=self.copies))
        parts.append(_("必须") if self.required else _("可选"))
        if self.electronic_accepted and self.form in (MaterialForm.ORIGINAL,
                                                      MaterialForm.ORIGINAL_AND_COPY):
            parts.append(_("原件在领取结果时到窗口核验"))
        return "；".join(parts)


def rules(materials: Iterable[MatterMaterial], max_file_bytes: int) -> list[MaterialRule]:
    """The rules of a matter's materials, in order; ``max_file_bytes``: the node's limit, for
    the materials that set none."""
    return [MaterialRule(m.position, m.name, m.required, MaterialForm(m.form), m.copies,
                         m.max_file_bytes or max_file_bytes,
                         electronic_accepted=bool(m.electronic_accepted),
                         file_types=tuple(m.file_types))
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
        if files and not rule.electronic_accepted:
            problems.setdefault(field, []).append(
                _("%(material)s不接受电子文件，请到窗口提交纸质材料", material=rule.name))
            continue
        for index, (filename, data) in enumerate(files, start=1):
            total += len(data)
            problem = _file_problem(rule, filename, data)
            if problem:
                problems.setdefault(field, []).append(problem)
                continue
            media_type = str(filetype.guess_mime(data))
            extension = KINDS[KIND_OF_MEDIA[media_type]][1]
            stem = rule.name if index == 1 else f"{rule.name}-{index}"
            accepted.append(CheckedFile(position, f"{stem}{extension}", media_type, data))
    if total > max_case_bytes:
        problems.setdefault("materials", []).append(
            _("全部材料共 %(total)s，超过每件申请 %(size)s 的限制", total=megabytes(total),
              size=megabytes(max_case_bytes)))
    return ([] if problems else accepted), problems


def _file_problem(rule: MaterialRule, filename: str, data: bytes) -> str | None:
    """Why one file cannot stand for ``rule``'s material (None: it can)."""
    if not data:
        return _("%(file)s：文件是空的", file=filename)
    if len(data) > rule.max_file_bytes:
        return _("%(file)s：超过“%(material)s”每个文件 %(size)s 的限制", file=filename,
                 material=rule.name, size=megabytes(rule.max_file_bytes))
    kind = KIND_OF_MEDIA.get(str(filetype.guess_mime(data)))
    if kind not in rule.file_types:
        return _("%(file)s：文件内容不是 %(types)s（按文件内容判断，与文件名无关）",
                 file=filename, types=rule.type_names)
    return None


@dataclass(frozen=True)
class UploadLimits:
    """The node's limits of material files: each file of a material that sets none
    (``upload_max_file_bytes``) and all of one case's (``upload_max_case_bytes``)."""

    max_file_bytes: int
    max_case_bytes: int


def other_material(max_file_bytes: int) -> MaterialRule:
    """The rule of a file added for none of the matter's materials (其他材料): any kind the
    node tells apart, within the node's size."""
    return MaterialRule(0, str(_("其他材料")), False, MaterialForm.ELECTRONIC, 1,
                        max_file_bytes, file_types=tuple(KINDS))


def check_added(
    rule_list: Sequence[MaterialRule],
    position: int | None,
    filename: str,
    data: bytes,
    *,
    stored: Sequence[tuple[str, int]],
    limits: UploadLimits,
) -> tuple[CheckedFile | None, dict[str, list[str]]]:
    """One file added to a case's materials after its intake (the case file's 添加文件, the
    API's ``POST /cases/<id>/attachments``), checked as the intake checks its files: the
    material at ``position`` — or, when none is named, the one the file's name passes for —
    by its rule (electronic accepted, kinds by content, its size or the node's); a file of
    no material (其他材料) is any kind the node knows, within the node's size, and keeps its
    name.  ``stored``: the case's material files (name, size) already kept, which count to
    the case's total.  Returns the file to keep or the problems (fields ``material``,
    ``file``), in Chinese."""
    by_position = {r.position: r for r in rule_list}
    if position is None:
        position = material_of(filename, rule_list)
    elif position not in by_position:
        return None, {"material": [_("事项没有第 %(position)s 项材料", position=position)]}
    rule = by_position.get(position) if position is not None else None
    checked = rule or other_material(limits.max_file_bytes)
    if not checked.electronic_accepted:
        return None, {"file": [_("%(material)s不接受电子文件，请到窗口提交纸质材料",
                                 material=checked.name)]}
    problems = [p for p in [_file_problem(checked, filename, data)] if p]
    total = sum(size for _name, size in stored) + len(data)
    if total > limits.max_case_bytes:
        problems.append(_("全部材料共 %(total)s，超过每件申请 %(size)s 的限制",
                          total=megabytes(total), size=megabytes(limits.max_case_bytes)))
    if problems:
        return None, {"file": problems}
    media_type = str(filetype.guess_mime(data))
    name = filename
    if rule is not None:  # named after its material, after the files it already has
        taken = {stored_name for stored_name, _size in stored}
        extension = KINDS[KIND_OF_MEDIA[media_type]][1]
        first = 1 + sum(1 for stored_name in taken if material_of(stored_name, [rule]))
        name = next(candidate for index in itertools.count(first)
                    if (candidate := (f"{rule.name}{extension}" if index == 1
                                      else f"{rule.name}-{index}{extension}")) not in taken)
    return CheckedFile(position or 0, name, media_type, data), {}


@dataclass(frozen=True)
class PaperReceipt:
    """What a window received of one material on paper: its form and number of copies."""

    position: int
    form: MaterialForm
    copies: int


def check_receipts(rule_list: Sequence[MaterialRule],
                   receipts: Sequence[PaperReceipt]) -> dict[str, list[str]]:
    """The problems of a window's record of paper received (field ``materials``, in English
    as the API's domain errors are; the pages say them in Chinese)."""
    positions = {r.position for r in rule_list}
    problems: list[str] = []
    seen: set[int] = set()
    for receipt in receipts:
        if receipt.position not in positions:
            problems.append(_("the matter has no material #%(position)s",
                              position=receipt.position))
        elif receipt.position in seen:
            problems.append(_("material #%(position)s is listed twice",
                              position=receipt.position))
        if MaterialForm(receipt.form) not in PAPER_FORMS:
            problems.append(_("material #%(position)s: paper is received as original, copy "
                              "or original_and_copy", position=receipt.position))
        if not 1 <= receipt.copies <= MAX_COPIES:
            problems.append(_("material #%(position)s: copies must be 1 to %(most)s",
                              position=receipt.position, most=MAX_COPIES))
        seen.add(receipt.position)
    return {"materials": problems} if problems else {}


def paper_satisfies(rule: MaterialRule, form: MaterialForm, copies: int) -> bool:
    """Does paper received in ``form``, ``copies`` of it, meet ``rule``?  An electronic
    material is met by its file only."""
    asked = _PAPER[rule.form]
    return bool(asked) and asked <= _PAPER[MaterialForm(form)] and copies >= rule.copies


def material_of(name: str, rule_list: Sequence[MaterialRule]) -> int | None:
    """The position of the material a stored file is named after (None: another file)."""
    extensions = "|".join(ext.lstrip(".") for _media, ext, _name in KINDS.values())
    for rule in rule_list:
        pattern = re.escape(rule.name) + rf"(-\d+)?\.({extensions})"
        if re.fullmatch(pattern, name):
            return rule.position
    return None


def received(rule_list: Sequence[MaterialRule], file_names: Iterable[str],
             paper: Iterable[ReceivedMaterial | PaperReceipt]) -> set[int]:
    """The positions of the materials received: by a file named after them, or on paper that
    meets their rule."""
    by_position = {r.position: r for r in rule_list}
    found = {material_of(name, rule_list) for name in file_names}
    found |= {p.position for p in paper if p.position in by_position
              and paper_satisfies(by_position[p.position], p.form, p.copies)}
    return {position for position in found if position is not None}


def paper_recorded(case: Case) -> bool:
    """Does ``case`` record what it received?  An online application's files are all it
    received; a case taken otherwise records its paper (:class:`PaperReceipt`) when its intake
    said what it received (``materials_recorded``: the window's intake always does, even when
    nothing came) — but one taken before the receipts were kept (node migration 0030), or by
    an API client that left ``received_materials`` out, cannot tell a material not received
    from one never written down, so it claims neither."""
    return (case.channel.value == "online" or case.materials_recorded
            or bool(case.received_materials))


def missing(case: Case) -> list[int]:
    """The positions of the required materials ``case`` has not received (neither a file nor
    the paper its rule asks); none when the case records no paper (:func:`paper_recorded`)."""
    if not paper_recorded(case):
        return []
    rule_list = rules(case.matter.materials, 1)  # sizes play no part here
    got = received(rule_list, (a.name for a in case.attachments if a.role.value == "material"),
                   case.received_materials)
    return [r.position for r in rule_list if r.required and r.position not in got]


__all__ = ["FORM_NAMES", "KINDS", "PAPER_FORMS", "CheckedFile", "MaterialRule", "PaperReceipt",
           "UploadLimits", "check_added", "check_files", "check_receipts", "material_of",
           "missing", "other_material", "paper_recorded", "paper_satisfies", "received", "rules"]
