"""Catalog publishing: the province's standard catalog travels to every descendant.

The province signs its active matters as one ``catalog.publish`` envelope to ``"<code>/*"``;
each descendant adopts it.  A matter is linked by its code: the local matter whose ``code``
is the published ``standard_code`` is that matter.  Adopting updates the published fields
(names, limits, disclosure, fees, materials) but keeps what is the node's own: should-enter,
entered, window, department and powers; the promised limit may only get shorter.  The
search keywords are adopted when the catalog carries them (one published before keywords
existed leaves the node's as they are).  The guide's practical fields (办理地点, 办公时间,
咨询电话, 监督投诉电话) fill only those the node has left empty: a center's own place, hours
and phones are its own.  Matters
the node does not have yet are created in a holding department (``STD``) for the node to
assign.  Adopting the same catalog twice changes nothing; a catalog older than one already
applied from the same sender is ignored.

Like the catalog service, nothing here commits: the caller (or the sync worker) owns the
transaction.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections.abc import Callable, Mapping
from typing import Any

import orjson
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from node.audit.chain import AuditLog
from node.catalog.bundles import adopt_bundles, bundles_body
from node.catalog.inputs import MatterFacts
from node.catalog.models import (
    STANDARD_DEPARTMENT_CODE,
    Competence,
    Department,
    HandlingType,
    MaterialForm,
    Matter,
    MatterCategory,
    MatterMaterial,
    TongbanScope,
    normal_keywords,
)
from node.catalog.service import matter_rule_violations
from node.numbers import next_number
from node.ports import CenterNames, EnvelopeHandler, Inbox, Outbox
from schemas.divisions import Level, ancestors_of, level_of
from schemas.envelope import MAX_ENVELOPE_BYTES, Envelope, Kind
from schemas.errors import Conflict, Forbidden
from schemas.i18n import _
from schemas.message_parts import DEFAULT_FILE_TYPES, FILE_TYPES, PRACTICAL_FIELDS
from schemas.messages import validate_body
from schemas.names import center_text
from schemas.runtime.database import utcnow

log = logging.getLogger(__name__)

CATALOG_VERSION_COUNTER = "catalog-version"
# The matters of one catalog.publish envelope stay within this many bytes of JSON: a quarter
# of the envelope limit, so a province's whole catalog (≈ 1–5 KB a matter with its guide)
# goes in as many parts as it needs instead of failing as too large.
PART_BUDGET_BYTES = MAX_ENVELOPE_BYTES // 4
STANDARD_DEPARTMENT_NAME = "标准目录事项（待分配）"

# Published fields copied as they are (the promised limit has its own rule).
ADOPTED_SCALARS = (
    "name",
    "category",
    "handling_level",
    "handling_type",
    "legal_limit_days",
    "notify_and_commit",
    "deemed_approval",
    "legal_basis",
    "procedure",
    "conditions",
    "fee_basis",
    "fee_standard",
    "fee_amount_fen",
    "complaint_channel",
)
_ENUMS: dict[str, Callable[[str], Any]] = {
    "category": MatterCategory,
    "handling_level": Level,
    "handling_type": HandlingType,
}


# -- publishing (the province) ----------------------------------------------------------------


def _material_body(material: MatterMaterial) -> dict[str, Any]:
    return {
        "name": material.name,
        "required": bool(material.required),
        "form": MaterialForm(material.form).value,
        "copies": material.copies,
        "note": material.note or "",
        "electronic_accepted": bool(material.electronic_accepted),
        "file_types": material.file_types,
        "max_file_bytes": material.max_file_bytes,
    }


def _matter_body(matter: Matter) -> dict[str, Any]:
    return {
        "standard_code": matter.code,
        "name": matter.name,
        "category": MatterCategory(matter.category).value,
        "handling_level": Level(matter.handling_level).value,
        "handling_type": HandlingType(matter.handling_type).value,
        "legal_limit_days": matter.legal_limit_days,
        "promised_limit_days": matter.promised_limit_days,
        "notify_and_commit": bool(matter.notify_and_commit),
        "deemed_approval": bool(matter.deemed_approval),
        "legal_basis": matter.legal_basis or "",
        "procedure": matter.procedure or "",
        "conditions": matter.conditions or "",
        "fee_basis": matter.fee_basis or "",
        "fee_standard": matter.fee_standard or "",
        "fee_amount_fen": matter.fee_amount_fen,
        "complaint_channel": matter.complaint_channel or "",
        "keywords": matter.keywords,
        **{field: getattr(matter, field) or "" for field in PRACTICAL_FIELDS},
        "tongban_scope": TongbanScope(matter.tongban_scope).value,
        "competence": Competence(matter.competence).value,
        "materials": [_material_body(material) for material in matter.materials],
    }


def split_matters(matters: list[dict[str, Any]], budget: int) -> list[list[dict[str, Any]]]:
    """The matters in consecutive runs whose JSON stays within ``budget`` bytes each (a matter
    bigger than the budget alone makes a run of one), in order."""
    parts: list[list[dict[str, Any]]] = [[]]
    size = 0
    for matter in matters:
        length = len(orjson.dumps(matter)) + 1  # and its comma
        if parts[-1] and size + length > budget:
            parts.append([])
            size = 0
        parts[-1].append(matter)
        size += length
    return parts


def catalog_body(
    session: Session, *, catalog_version: int, published_at: dt.datetime
) -> dict[str, Any]:
    """The ``catalog.publish`` body of this node's active matters (ordered by code)."""
    matters = session.scalars(
        select(Matter)
        .options(selectinload(Matter.materials))
        .where(Matter.retired_at.is_(None))
        .order_by(Matter.code)
    ).all()
    return {
        "catalog_version": catalog_version,
        "published_at": published_at.astimezone(dt.UTC).isoformat(),
        "matters": [_matter_body(matter) for matter in matters],
    }


def publish_catalog(
    session: Session,
    *,
    outbox: Outbox,
    actor: str,
    now: dt.datetime | None = None,
    part_budget: int = PART_BUDGET_BYTES,
    names: CenterNames | None = None,
) -> list[str]:
    """Sign this province's active catalog to every descendant; returns the envelope ids.

    Each publish takes the next ``catalog-version``.  A catalog whose matters exceed
    ``part_budget`` bytes of JSON goes as several envelopes of that version, ``part`` 1 …
    ``parts`` (each far below the envelope limit); each part is adopted on its own, since
    adoption is matter by matter.  Raises :class:`Conflict` on a node that is not a province
    or that has no active matter.  Flushes; the caller commits.
    """
    node_code = outbox.node_code
    if level_of(node_code) is not Level.PROVINCE:
        raise Conflict(
            _("Only a province publishes the standard catalog, not %(node_code)s.",
              node_code=_center(session, node_code, names)), {"node": node_code}
        )
    moment = now or utcnow()
    has_matters = session.scalar(select(Matter.id).where(Matter.retired_at.is_(None)).limit(1))
    if has_matters is None:
        raise Conflict(_("The catalog has no active matter to publish."))
    version = next_number(session, CATALOG_VERSION_COUNTER)
    body = catalog_body(session, catalog_version=version, published_at=moment)
    runs = split_matters(body["matters"], part_budget)
    ids = []
    for number, run in enumerate(runs, start=1):
        part = {**body, "matters": run}
        if len(runs) > 1:
            part.update(part=number, parts=len(runs))
        if number == len(runs):  # the bundles come after every matter they name
            part["bundles"] = bundles_body(session)
        ids.append(outbox.send(session, kind=Kind.CATALOG_PUBLISH, to=f"{node_code}/*",
                               body=part, now=moment).id)
    AuditLog(session, clock=lambda: moment).append(
        actor=actor,
        role="admin",
        action="catalog.publish",
        subject_type="catalog",
        subject_id=str(version),
        data={
            "envelope_ids": ids,
            "catalog_version": version,
            "matters": len(body["matters"]),
        },
    )
    return ids


# -- adopting (every descendant) --------------------------------------------------------------


@dataclasses.dataclass
class AdoptionReport:
    catalog_version: int
    sender: str
    ignored: bool = False  # a later version was applied already
    part: int = 1
    parts: int = 1
    created: list[str] = dataclasses.field(default_factory=list)
    updated: list[str] = dataclasses.field(default_factory=list)
    unchanged: list[str] = dataclasses.field(default_factory=list)
    skipped: dict[str, Any] = dataclasses.field(default_factory=dict)  # code -> reasons
    # 一件事 bundles adopted: created, updated, retired (node/catalog/bundles.py)
    bundles: dict[str, list[str]] = dataclasses.field(default_factory=dict)

    def to_data(self) -> dict[str, Any]:
        return {
            "catalog_version": self.catalog_version,
            "part": self.part,
            "parts": self.parts,
            "sender": self.sender,
            "ignored": self.ignored,
            "created": self.created,
            "updated": self.updated,
            "unchanged": len(self.unchanged),
            "skipped": self.skipped,
            "bundles": self.bundles,
        }


def last_adopted_version(session: Session, inbox: Inbox, sender: str, *,
                         excluding: str | None = None) -> int:
    """The highest catalog version already applied from ``sender`` (0 for none).

    Read from the envelopes the inbox applied: no table of its own is needed.
    """
    best = 0
    for body in inbox.applied_bodies(session, sender=sender, kind=Kind.CATALOG_PUBLISH,
                                     excluding=excluding):
        version = body.get("catalog_version")
        if isinstance(version, int) and version > best:
            best = version
    return best


def _standard_department(session: Session) -> Department:
    department = session.scalar(
        select(Department).where(Department.code == STANDARD_DEPARTMENT_CODE)
    )
    if department is None:
        department = Department(code=STANDARD_DEPARTMENT_CODE, name=STANDARD_DEPARTMENT_NAME)
        session.add(department)
        session.flush()
    return department


def _published_values(item: Mapping[str, Any]) -> dict[str, Any]:
    values = {field: item[field] for field in ADOPTED_SCALARS}
    for field, kind in _ENUMS.items():
        values[field] = kind(values[field])
    if "keywords" in item:  # a catalog published before keywords existed keeps the node's
        values["keywords"] = normal_keywords(item["keywords"])
    for field, kind in (("tongban_scope", TongbanScope), ("competence", Competence)):
        if field in item:  # 通办 is the province's to decide; older catalogs leave it be
            values[field] = kind(item[field])
    for field in PRACTICAL_FIELDS:  # the node's own place, hours and phones win (see below)
        if item.get(field):
            values[field] = item[field]
    return values


def _material_rule(item: Mapping[str, Any]) -> tuple[bool, list[str], int | None]:
    """A published material's file rule; a catalog published before the rules existed gives
    the defaults (a file accepted, of the default kinds, the node's size limit)."""
    kinds = item.get("file_types") or DEFAULT_FILE_TYPES
    return (bool(item.get("electronic_accepted", True)),
            [kind for kind in FILE_TYPES if kind in kinds], item.get("max_file_bytes"))


def _material_key(item: Mapping[str, Any]) -> tuple[Any, ...]:
    return (
        item["name"],
        bool(item["required"]),
        MaterialForm(item["form"]),
        item["copies"],
        item.get("note", "") or "",
        *_material_rule(item),
    )


def _local_material_key(material: MatterMaterial) -> tuple[Any, ...]:
    return (
        material.name,
        bool(material.required),
        MaterialForm(material.form),
        material.copies,
        material.note or "",
        bool(material.electronic_accepted),
        material.file_types,
        material.max_file_bytes,
    )


def _adopted_promised(local: Matter | None, item: Mapping[str, Any]) -> int:
    """Never longer than published; a local shorter limit stays (same handling type)."""
    published = int(item["promised_limit_days"])
    if local is None or HandlingType(local.handling_type) is not HandlingType(
        item["handling_type"]
    ):
        return published
    return min(local.promised_limit_days, published)


def _replace_materials(session: Session, matter: Matter, items: list[Mapping[str, Any]]) -> None:
    if matter.materials:
        matter.materials.clear()
        session.flush()  # the orphans go before their positions are reused
    for index, item in enumerate(items, start=1):
        electronic, kinds, max_bytes = _material_rule(item)
        matter.materials.append(MatterMaterial(
            position=index,
            name=item["name"],
            required=bool(item["required"]),
            form=MaterialForm(item["form"]),
            copies=item["copies"],
            note=item.get("note", "") or "",
            electronic_accepted=electronic,
            file_types=kinds,
            max_file_bytes=max_bytes,
        ))


def _adopt_matter(session: Session, item: Mapping[str, Any], report: AdoptionReport) -> None:
    code = item["standard_code"]
    local = session.scalar(
        select(Matter)
        .options(selectinload(Matter.materials), selectinload(Matter.window))
        .where(Matter.code == code)
    )
    if local is not None and local.retired_at is not None:
        report.skipped[code] = ["retired locally; reinstate it to adopt the standard"]
        return
    values = _published_values(item)
    values["promised_limit_days"] = _adopted_promised(local, item)
    problems = matter_rule_violations(MatterFacts(
        handling_type=values["handling_type"],
        legal_limit_days=values["legal_limit_days"],
        promised_limit_days=values["promised_limit_days"],
        entered=local.entered if local is not None else False,
        window_code=local.window.code if local is not None and local.window else None,
        powers=local.powers if local is not None else {},
    ))
    if problems:
        report.skipped[code] = problems
        return
    materials = list(item["materials"])
    if local is None:
        matter = Matter(
            code=code,
            department=_standard_department(session),
            window=None,
            should_enter=True,
            entered=False,
            window_authority="",
            **values,
        )
        session.add(matter)
        _replace_materials(session, matter, materials)
        session.flush()
        report.created.append(code)
        return
    changed = False
    for field, value in values.items():
        if field in PRACTICAL_FIELDS and getattr(local, field):
            continue  # the node's own address, hours and phones are kept
        if getattr(local, field) != value:
            setattr(local, field, value)
            changed = True
    if [_local_material_key(m) for m in local.materials] != [_material_key(m) for m in materials]:
        _replace_materials(session, local, materials)
        local.updated_at = utcnow()  # a change of materials is a change of the matter
        changed = True
    session.flush()
    (report.updated if changed else report.unchanged).append(code)


def _center(session: Session, code: str, names: CenterNames | None) -> str:
    """``code``'s center by name with the code beside it (issue 19); 未登记名称的中心（code）
    when no :class:`CenterNames` is at hand."""
    return names.text(session, code) if names is not None else center_text(code, None)


def adopt_catalog(session: Session, envelope: Envelope, *, node_code: str,
                  inbox: Inbox, names: CenterNames | None = None) -> AdoptionReport:
    """Apply a ``catalog.publish`` envelope at node ``node_code``; flushes, never commits.

    Raises :class:`Forbidden` if the sender is not an ancestor of this node.  Matters that
    break a catalog rule here are skipped and listed in the report (and the audit entry);
    the others are adopted.
    """
    if envelope.kind is not Kind.CATALOG_PUBLISH:
        raise Conflict(_("not a catalog.publish envelope: %(value)s", value=envelope.kind.value))
    if envelope.sender not in ancestors_of(node_code):
        raise Forbidden(
            _("node %(sender)s is not above %(node_code)s: its catalog is not adopted",
              sender=_center(session, envelope.sender, names),
              node_code=_center(session, node_code, names)),
            {"from": envelope.sender, "node": node_code},
        )
    validate_body(Kind.CATALOG_PUBLISH, envelope.body)
    body = envelope.body
    version = int(body["catalog_version"])
    report = AdoptionReport(catalog_version=version, sender=envelope.sender,
                            part=int(body.get("part", 1)), parts=int(body.get("parts", 1)))
    # The parts of one version are separate envelopes, each adopted on its own (the inbox
    # applies an envelope once); only a part of a version older than one applied is stale.
    if version < last_adopted_version(session, inbox, envelope.sender, excluding=envelope.id):
        report.ignored = True
        log.info(
            "catalog version %s from %s ignored: a later one was adopted", version, envelope.sender
        )
        return report
    for item in body["matters"]:
        _adopt_matter(session, item, report)
    if "bundles" in body:  # a catalog published before bundles leaves the node's as they are
        report.bundles = adopt_bundles(session, body["bundles"], sender=envelope.sender)
    if report.skipped:
        log.warning(
            "catalog version %s from %s: matters not adopted: %s",
            version,
            envelope.sender,
            sorted(report.skipped),
        )
    if report.created or report.updated or any(report.bundles.values()):
        AuditLog(session).append(
            actor=f"node:{envelope.sender}",
            role="system",
            action="catalog.adopt",
            subject_type="catalog",
            subject_id=f"{envelope.sender}/{version}"
            + (f"/{report.part}" if report.parts > 1 else ""),
            data={**report.to_data(), "envelope_id": envelope.id},
        )
    return report


def envelope_handlers(node_code: str, inbox: Inbox,
                      names: CenterNames) -> dict[Kind, EnvelopeHandler]:
    """What the catalog applies at node ``node_code``: ``catalog.publish``."""

    def adopt_published_catalog(session: Session, envelope: Envelope) -> None:
        adopt_catalog(session, envelope, node_code=node_code, inbox=inbox, names=names)

    return {Kind.CATALOG_PUBLISH: adopt_published_catalog}


__all__ = [
    "AdoptionReport",
    "adopt_catalog",
    "catalog_body",
    "envelope_handlers",
    "last_adopted_version",
    "publish_catalog",
]
