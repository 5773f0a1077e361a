"""一件事 bundles in the catalog: their definition at the province, the merged form and the
materials deduplicated across their matters, and their travel with the standard catalog.

A bundle names its matters by code (the standard code, which is the local matter's code
wherever the catalog was adopted) and, for each, the fields its form asks for.  What the
applicant sees is derived, never stored twice:

- **the merged form** is the union of the matters' fields by ``key``, in the order of the
  matters and then of their fields; a key asked by several matters is asked once, with the
  label of the first matter that asks it;
- **the materials** are the matters' materials deduplicated by name (spaces and full-width
  spaces ignored): a material several matters ask for is handed in once, required when any
  matter requires it, in the most copies any asks for, as an original and a copy when the
  matters ask for it in different forms; each lists the matters that need it;
- **the departments (or centers) involved**: each matter's department here, or the level
  above that decides it (its handling level above this node's).

Only a province defines bundles; they travel in the ``catalog.publish`` body (``bundles``,
in the last part of a catalog sent in parts, after every matter) and each descendant
replaces its adopted bundles of that province with them.  Nothing here commits.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from node.catalog.models import Bundle, BundleItem, MaterialForm, Matter
from schemas.divisions import Level, level_of
from schemas.errors import Conflict, NotFound, ValidationFailed
from schemas.i18n import _
from schemas.runtime.database import utcnow

BUNDLE_CODE = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
FIELD_KEY = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
FIELD_LABEL_MAX = 100
MAX_ITEMS = 20
MAX_FIELDS = 40


@dataclasses.dataclass(frozen=True)
class FormField:
    key: str
    label: str


@dataclasses.dataclass(frozen=True)
class MergedMaterial:
    name: str
    required: bool
    form: MaterialForm
    copies: int
    matters: tuple[str, ...]  # the codes of the matters that ask for it


@dataclasses.dataclass(frozen=True)
class BundlePart:
    """One matter of a bundle as this node handles it."""

    matter_code: str
    matter_name: str
    department_code: str
    department_name: str
    handling_level: Level
    promised_limit_days: int
    decided_above: bool  # forwarded to the center of ``handling_level``


@dataclasses.dataclass(frozen=True)
class BundleView:
    code: str
    name: str
    description: str
    published_by: str | None
    retired: bool
    matters: tuple[str, ...]
    parts: tuple[BundlePart, ...]
    form: tuple[FormField, ...]
    materials: tuple[MergedMaterial, ...]
    promised_limit_days: int  # the sum of its matters' promised limits
    missing: tuple[str, ...]  # matter codes this node does not have active


@dataclasses.dataclass(frozen=True)
class BundleDefinition:
    """A bundle as the province defines it (API and page load one)."""

    code: str
    name: str
    description: str
    items: tuple[tuple[str, tuple[FormField, ...]], ...]  # (matter code, its fields)


# -- the rules --------------------------------------------------------------------------------


def merged_form(items: Sequence[tuple[str, Sequence[FormField]]]) -> tuple[FormField, ...]:
    """The union of the matters' form fields by key, first label wins, in order."""
    seen: dict[str, FormField] = {}
    for _code, fields in items:
        for field in fields:
            seen.setdefault(field.key, field)
    return tuple(seen.values())


def material_key(name: str) -> str:
    """What makes two materials one: the name without any spaces (full-width too)."""
    return re.sub(r"\s+", "", name.replace("\u3000", " "))


def merged_materials(matters: Sequence[Matter]) -> tuple[MergedMaterial, ...]:
    """The matters' materials deduplicated by name (see the module's rules), in order."""
    found: dict[str, dict[str, Any]] = {}
    for matter in matters:
        for material in matter.materials:
            key = material_key(material.name)
            entry = found.setdefault(key, {
                "name": material.name.strip(), "required": False, "forms": [], "copies": 1,
                "matters": []})
            entry["required"] = entry["required"] or bool(material.required)
            entry["copies"] = max(entry["copies"], material.copies)
            if MaterialForm(material.form) not in entry["forms"]:
                entry["forms"].append(MaterialForm(material.form))
            if matter.code not in entry["matters"]:
                entry["matters"].append(matter.code)
    return tuple(
        MergedMaterial(
            name=entry["name"], required=entry["required"],
            form=entry["forms"][0] if len(entry["forms"]) == 1
            else MaterialForm.ORIGINAL_AND_COPY,
            copies=entry["copies"], matters=tuple(entry["matters"]))
        for entry in found.values())


def decided_above(node_code: str, matter: Matter) -> bool:
    """Whether ``matter`` is decided by a center above ``node_code`` (its handling level is
    higher than this node's)."""
    order = list(Level)  # province first
    return order.index(Level(matter.handling_level)) < order.index(level_of(node_code))


def form_fields_of(item: BundleItem) -> tuple[FormField, ...]:
    return tuple(FormField(f["key"], f["label"]) for f in json.loads(item.form_fields or "[]"))


# -- the service ------------------------------------------------------------------------------


def _fields_wire(fields: Sequence[FormField]) -> list[dict[str, str]]:
    return [{"key": f.key, "label": f.label} for f in fields]


class BundleCatalog:
    """The bundles of one node's catalog: defined at the province, adopted below."""

    def __init__(self, session: Session, node_code: str) -> None:
        self.session = session
        self.node_code = node_code

    def _matters(self, codes: Sequence[str]) -> dict[str, Matter]:
        rows = self.session.scalars(
            select(Matter).options(selectinload(Matter.materials),
                                   selectinload(Matter.department))
            .where(Matter.code.in_(list(codes)), Matter.retired_at.is_(None))).all()
        return {m.code: m for m in rows}

    def get(self, code: str) -> Bundle:
        bundle = self.session.scalar(
            select(Bundle).options(selectinload(Bundle.items)).where(Bundle.code == code))
        if bundle is None:
            raise NotFound(_("no bundle %(code)s", code=repr(code)), {"code": code})
        return bundle

    def all(self, *, include_retired: bool = False) -> list[BundleView]:
        query = select(Bundle).options(selectinload(Bundle.items)).order_by(Bundle.code)
        if not include_retired:
            query = query.where(Bundle.retired_at.is_(None))
        return [self.view(b) for b in self.session.scalars(query).all()]

    def view(self, bundle: Bundle) -> BundleView:
        codes = [item.matter_code for item in bundle.items]
        matters = self._matters(codes)
        present = [matters[c] for c in codes if c in matters]
        parts = tuple(
            BundlePart(
                matter_code=m.code, matter_name=m.name, department_code=m.department.code,
                department_name=m.department.name, handling_level=Level(m.handling_level),
                promised_limit_days=m.promised_limit_days,
                decided_above=bool(self.node_code) and decided_above(self.node_code, m))
            for m in present)
        return BundleView(
            code=bundle.code, name=bundle.name, description=bundle.description or "",
            published_by=bundle.published_by, retired=bundle.retired_at is not None,
            matters=tuple(codes), parts=parts,
            form=merged_form([(i.matter_code, form_fields_of(i)) for i in bundle.items]),
            materials=merged_materials(present),
            promised_limit_days=sum(m.promised_limit_days for m in present),
            missing=tuple(c for c in codes if c not in matters))

    def _check(self, definition: BundleDefinition) -> None:
        problems: dict[str, list[str]] = {}
        if not BUNDLE_CODE.fullmatch(definition.code or ""):
            problems["code"] = [_("a code of 1 to 64 letters, digits, '.', '_' or '-'")]
        if not (definition.name or "").strip() or len(definition.name) > 200:
            problems["name"] = [_("a name of 1 to 200 characters")]
        codes = [code for code, _fields in definition.items]
        if not 2 <= len(codes) <= MAX_ITEMS:
            problems.setdefault("matters", []).append(
                _("a bundle has 2 to %(most)s matters", most=MAX_ITEMS))
        repeated = sorted({c for c in codes if codes.count(c) > 1})
        if repeated:
            problems.setdefault("matters", []).append(
                _("matters listed twice: %(codes)s", codes=", ".join(repeated)))
        known = self._matters(codes)
        unknown = [c for c in codes if c not in known]
        if unknown:
            problems.setdefault("matters", []).append(
                _("no active matter %(codes)s in the catalog", codes=", ".join(unknown)))
        for code, fields in definition.items:
            keys = [f.key for f in fields]
            bad = [k for k in keys if not FIELD_KEY.fullmatch(k)]
            if bad or len(keys) != len(set(keys)) or len(keys) > MAX_FIELDS or any(
                    not f.label.strip() or len(f.label) > FIELD_LABEL_MAX for f in fields):
                problems.setdefault("form_fields", []).append(_(
                    "matter %(code)s: at most %(most)s fields, each key once (lower-case "
                    "letters, digits and '_', starting with a letter) with a label of 1 to "
                    "100 characters", code=code, most=MAX_FIELDS))
        if problems:
            raise ValidationFailed(problems)

    def _province_only(self) -> None:
        if level_of(self.node_code) is not Level.PROVINCE:
            raise Conflict(
                _("Only a province defines bundles; %(node_code)s adopts its province's.",
                  node_code=self.node_code), {"node": self.node_code})

    def define(self, definition: BundleDefinition) -> Bundle:
        """Create or replace the bundle ``definition.code`` (the province's own)."""
        self._province_only()
        self._check(definition)
        bundle = self.session.scalar(select(Bundle).options(selectinload(Bundle.items))
                                     .where(Bundle.code == definition.code))
        if bundle is None:
            bundle = Bundle(code=definition.code, published_by=None)
            self.session.add(bundle)
        bundle.name = definition.name.strip()
        bundle.description = (definition.description or "").strip()
        bundle.retired_at = None
        replace_items(self.session, bundle,
                      [(c, _fields_wire(f)) for c, f in definition.items])
        return bundle

    def retire(self, code: str) -> Bundle:
        self._province_only()
        bundle = self.get(code)
        if bundle.retired_at is None:
            bundle.retired_at = utcnow()
            self.session.flush()
        return bundle

def replace_items(session: Session, bundle: Bundle,
                  items: Sequence[tuple[str, list[dict[str, str]]]]) -> bool:
    """Give ``bundle`` these (matter code, form fields) items; False when it had them."""
    wanted = [(code, json.dumps(fields, ensure_ascii=False)) for code, fields in items]
    if [(i.matter_code, i.form_fields) for i in bundle.items] == wanted:
        return False
    if bundle.items:
        bundle.items.clear()
        session.flush()  # the orphans go before their positions are reused
    bundle.items.extend(BundleItem(position=n, matter_code=code, form_fields=fields)
                        for n, (code, fields) in enumerate(wanted, start=1))
    bundle.updated_at = utcnow()
    session.flush()
    return True


def bundle_items(session: Session, node_code: str | None) -> list[dict[str, Any]]:
    """The active bundles as the catalog's exchange document lists them (for reading)."""
    catalog = BundleCatalog(session, node_code or "")
    views = [catalog.view(b) for b in session.scalars(
        select(Bundle).options(selectinload(Bundle.items))
        .where(Bundle.retired_at.is_(None)).order_by(Bundle.code)).all()]
    return [{
        "code": v.code, "name": v.name, "description": v.description,
        "published_by": v.published_by, "matters": list(v.matters),
        "parts": [{"matter_code": p.matter_code, "matter_name": p.matter_name,
                   "department_code": p.department_code, "department_name": p.department_name,
                   "handling_level": p.handling_level.value,
                   "promised_limit_days": p.promised_limit_days} for p in v.parts],
        "form": _fields_wire(v.form),
        "materials": [{"name": m.name, "required": m.required, "form": m.form.value,
                       "copies": m.copies, "matters": list(m.matters)} for m in v.materials],
        "promised_limit_days": v.promised_limit_days,
    } for v in views]


# -- travelling with the standard catalog ------------------------------------------------------


def bundles_body(session: Session) -> list[dict[str, Any]]:
    """The province's active bundles as the ``catalog.publish`` body lists them."""
    bundles = session.scalars(
        select(Bundle).options(selectinload(Bundle.items))
        .where(Bundle.retired_at.is_(None), Bundle.published_by.is_(None))
        .order_by(Bundle.code)).all()
    return [
        {"code": b.code, "name": b.name, "description": b.description or "",
         "matters": [{"standard_code": i.matter_code,
                      "form_fields": json.loads(i.form_fields or "[]")} for i in b.items]}
        for b in bundles
    ]


def adopt_bundles(session: Session, items: Sequence[Mapping[str, Any]], *,
                  sender: str) -> dict[str, list[str]]:
    """Replace the bundles adopted from ``sender`` with ``items`` (those not listed any more
    are retired); returns the codes created, updated and retired."""
    report: dict[str, list[str]] = {"created": [], "updated": [], "retired": []}
    existing = {b.code: b for b in session.scalars(
        select(Bundle).options(selectinload(Bundle.items))).all()}
    listed = set()
    for item in items:
        code = item["code"]
        listed.add(code)
        bundle = existing.get(code)
        if bundle is not None and bundle.published_by != sender:
            continue  # a bundle of this node's own keeps its code
        created = bundle is None
        if bundle is None:
            bundle = Bundle(code=code, published_by=sender)
            session.add(bundle)
        changed = (bundle.name, bundle.description, bundle.retired_at) != (
            item["name"], item.get("description", ""), None)
        bundle.name, bundle.description, bundle.retired_at = (
            item["name"], item.get("description", ""), None)
        changed = replace_items(session, bundle, [
            (m["standard_code"], list(m.get("form_fields", []))) for m in item["matters"]]
        ) or changed
        if created:
            report["created"].append(code)
        elif changed:
            report["updated"].append(code)
    for code, bundle in existing.items():
        if bundle.published_by == sender and code not in listed and bundle.retired_at is None:
            bundle.retired_at = utcnow()
            report["retired"].append(code)
    session.flush()
    return report


__all__ = [
    "BundleCatalog",
    "BundleDefinition",
    "BundlePart",
    "BundleView",
    "FormField",
    "MergedMaterial",
    "adopt_bundles",
    "bundle_items",
    "bundles_body",
    "decided_above",
    "material_key",
    "merged_form",
    "merged_materials",
    "replace_items",
]
