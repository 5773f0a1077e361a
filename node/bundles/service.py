"""一件事 bundle cases: one application, one number and query code, a part case per matter.

- **Applying** (:meth:`BundleCases.apply`, online or at a window): the merged form answered
  (every field), then one bundle case (``450981-2026-Y000001``) and, per matter of the
  bundle, an ordinary case in the matter's department (收件), linked by
  ``cases.bundle_case_id``; at the window a part decided here may be handled jointly
  (联合办理: other departments deciding it with the matter's own, as any case).  The
  applicant gets the bundle's query code only.
- **Accepting** (:meth:`BundleCases.accept`, 一窗受理): the window accepts every part that
  is still before acceptance (the materials are checked once for the bundle) and forwards
  (上报, node/cases/forwarding.py) each part decided by a level above to the center of that
  level.  From then on each part is an ordinary case of its department (parallel: 并联审批),
  or comes back from above with its result.
- **Ending** (:class:`BundleProgress`, a step hook of the case service): when the last part
  ends (办结 or 送达, 不予受理, 不予许可 then 办结, 撤回) the bundle ends in the same
  transaction: ``completed`` when every part was granted, ``partly_completed`` when some
  were refused or withdrawn, ``refused`` when none was granted; its working days are
  counted and its result notice (一件事办结通知书) numbered.  A refused part never stops
  the others: each matter is decided on its own.

Nothing here commits; the caller owns the transaction.
"""

from __future__ import annotations

import dataclasses
import json
import secrets
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload, selectinload

from node.bundles.models import BundleCase, BundleState
from node.calendar.workdays import to_shanghai_date
from node.cases.actors import Actor
from node.cases.forwarding import Forwarding
from node.cases.materials import PaperReceipt
from node.cases.models import Case, Channel
from node.cases.query_codes import hash_query_code, verify_query_code
from node.cases.reading import CaseReader
from node.cases.service import QUERY_CODE_ALPHABET, Application, CaseService
from node.cases.states import Action, CaseState
from node.catalog.bundles import BundleCatalog, material_key
from node.catalog.models import Bundle, MaterialForm, Matter
from node.listing import Page, keyset_page
from node.numbers import next_number
from schemas.divisions import Level, ancestors_of, level_of
from schemas.errors import Conflict, NotFound, ValidationFailed
from schemas.i18n import _
from schemas.personal import mask_name

# a part has ended in one of these states
ENDED_STATES = frozenset(
    {CaseState.COMPLETED, CaseState.DELIVERED, CaseState.REJECTED, CaseState.WITHDRAWN})
BEFORE_ACCEPTANCE = frozenset({CaseState.SUBMITTED, CaseState.SUPPLEMENT_REQUESTED})
_LOOKUP_FAILED = "No bundle case matches this number and query code."


class PartOutcome:
    GRANTED = "granted"  # 准予 / 已办结
    REFUSED = "refused"  # 不予受理 / 不予许可
    WITHDRAWN = "withdrawn"  # 撤回
    OPEN = "open"  # 办理中


def part_outcome(state: CaseState, denied: bool) -> str:
    """A part's outcome from its state and whether it was ever denied (不予许可)."""
    if state is CaseState.REJECTED:
        return PartOutcome.REFUSED
    if state is CaseState.WITHDRAWN:
        return PartOutcome.WITHDRAWN
    if state in ENDED_STATES:
        return PartOutcome.REFUSED if denied else PartOutcome.GRANTED
    return PartOutcome.OPEN


def bundle_state(outcomes: Sequence[str]) -> BundleState:
    """The bundle's state from its parts' outcomes (see the module's rule)."""
    if not outcomes or PartOutcome.OPEN in outcomes:
        return BundleState.OPEN
    granted = outcomes.count(PartOutcome.GRANTED)
    if granted == len(outcomes):
        return BundleState.COMPLETED
    return BundleState.PARTLY_COMPLETED if granted else BundleState.REFUSED


def _denied(case: Case) -> bool:
    return any(event.to_state == CaseState.DENIED.value for event in case.events)


def deciding_center(node_code: str, level: Level) -> str | None:
    """The center above ``node_code`` that decides at ``level``: the ancestor of that level,
    else the nearest one above it (a province-administered county has no city)."""
    order = list(Level)
    for code in ancestors_of(node_code):
        if order.index(level_of(code)) <= order.index(level):
            return code
    return None


@dataclasses.dataclass(frozen=True)
class BundlePaper:
    """What a window received on paper of one of the bundle's (deduplicated) materials, by
    its name: recorded on every part whose matter asks for that material."""

    material: str
    form: MaterialForm
    copies: int


@dataclasses.dataclass(frozen=True)
class BundleApplication:
    bundle_code: str
    applicant_name: str
    channel: Channel = Channel.WINDOW
    applicant_id_number: str | None = None
    applicant_phone: str | None = None
    form: Mapping[str, str] = dataclasses.field(default_factory=dict)
    notes: str = ""
    # 联合办理 of a part: matter code → the departments deciding it with the matter's own
    joint_department_codes: Mapping[str, Sequence[str]] = dataclasses.field(
        default_factory=dict)
    # the paper a window received, material by material (None: not recorded, as online)
    received: Sequence[BundlePaper] | None = None


def part_receipts(matter: Matter, received: Sequence[BundlePaper] | None,
                  ) -> list[PaperReceipt] | None:
    """The paper received for one part: each of the matter's materials the window received
    (by name, as the bundle deduplicates them), at that matter's position."""
    if received is None:
        return None
    by_key = {material_key(p.material): p for p in received}
    return [PaperReceipt(m.position, MaterialForm(by_key[key].form), by_key[key].copies)
            for m in sorted(matter.materials, key=lambda m: m.position)
            if (key := material_key(m.name)) in by_key]


@dataclasses.dataclass(frozen=True)
class BundleSubmission:
    bundle_case: BundleCase
    query_code: str  # shown once to the applicant


@dataclasses.dataclass(frozen=True)
class PartView:
    number: str
    matter_code: str
    matter_name: str
    department_name: str
    state: CaseState
    outcome: str
    forwarded_to: str | None
    deadline_on: Any
    completed_on: Any


@dataclasses.dataclass(frozen=True)
class BundleCaseView:
    number: str
    bundle_code: str
    bundle_name: str
    state: BundleState
    channel: Channel
    applicant_name: str
    received_on: Any
    ended_on: Any
    promised_days: int
    used_days: int | None
    notice_number: str | None
    parts: tuple[PartView, ...]


class BundleCases:
    """The bundle cases of one node, over its case service and forwarding."""

    def __init__(self, cases: CaseService, forwarding: Forwarding) -> None:
        self.cases = cases
        self.forwarding = forwarding
        self.session: Session = cases.session
        self.node_code = cases.node_code

    # -- applying -------------------------------------------------------------------------

    def apply(self, application: BundleApplication, actor: Actor) -> BundleSubmission:
        catalog = BundleCatalog(self.session, self.node_code)
        bundle = self.session.scalar(select(Bundle).options(selectinload(Bundle.items))
                                     .where(Bundle.code == application.bundle_code,
                                            Bundle.retired_at.is_(None)))
        if bundle is None:
            raise ValidationFailed({"bundle_code": [
                _("no bundle %(code)s in the catalog", code=repr(application.bundle_code))]})
        view = catalog.view(bundle)
        problems: dict[str, list[str]] = {}
        if view.missing:
            problems["bundle_code"] = [_(
                "this center does not offer the bundle's matters %(codes)s",
                codes=", ".join(view.missing))]
        keys = [f.key for f in view.form]
        unknown = sorted(set(application.form) - set(keys))
        empty = [k for k in keys if not str(application.form.get(k, "")).strip()]
        if unknown:
            problems.setdefault("form", []).append(
                _("fields not on the bundle's form: %(keys)s", keys=", ".join(unknown)))
        if empty:
            problems.setdefault("form", []).append(
                _("fields left empty: %(keys)s", keys=", ".join(empty)))
        joint = application.joint_department_codes
        strays = sorted(set(joint) - set(view.matters))
        above = [p.matter_code for p in view.parts if p.decided_above and joint.get(p.matter_code)]
        if strays:
            problems.setdefault("joint_department_codes", []).append(
                _("matters not in the bundle: %(codes)s", codes=", ".join(strays)))
        if above:
            problems.setdefault("joint_department_codes", []).append(_(
                "parts decided by a center above are decided there, not jointly here: "
                "%(codes)s", codes=", ".join(above)))
        listed = {material_key(m.name) for m in view.materials}
        unlisted = [p.material for p in application.received or ()
                    if material_key(p.material) not in listed]
        if unlisted:
            problems["received_materials"] = [_(
                "materials not on the bundle's list: %(names)s", names=", ".join(unlisted))]
        if problems:
            raise ValidationFailed(problems)
        matters = {m.code: m for m in self.session.scalars(
            select(Matter).options(selectinload(Matter.materials))
            .where(Matter.code.in_(view.matters), Matter.retired_at.is_(None))).all()}
        submissions = [
            self.cases.submit(Application(
                matter_code=code, applicant_name=application.applicant_name,
                channel=application.channel, applicant_id_number=application.applicant_id_number,
                applicant_phone=application.applicant_phone, notes=application.notes,
                joint_department_codes=tuple(joint.get(code, ())),
                received=part_receipts(matters[code], application.received)), actor)
            for code in view.matters
        ]
        now = self.cases.clock()
        year = to_shanghai_date(now).year
        number = (f"{self.node_code}-{year}-Y"
                  f"{next_number(self.session, f'bundle-{year}'):06d}")
        code = "".join(secrets.choice(QUERY_CODE_ALPHABET) for _ in range(8))
        first = submissions[0].case
        bundle_case = BundleCase(
            number=number, query_code_hash=hash_query_code(number, code), bundle=bundle,
            channel=first.channel, state=BundleState.OPEN,
            applicant_name=first.applicant_name,
            applicant_id_number=first.applicant_id_number,
            applicant_phone=first.applicant_phone,
            form_data=json.dumps({k: str(application.form[k]).strip() for k in keys},
                                 ensure_ascii=False),
            received_at=now, received_on=to_shanghai_date(now),
            promised_days=view.promised_limit_days, created_by=actor.username)
        self.session.add(bundle_case)
        self.session.flush()
        for submission in submissions:
            submission.case.bundle_case_id = bundle_case.id
        self.cases.audit.append(
            actor=actor.username, role=actor.role, action="bundle.apply",
            subject_type="bundle_case", subject_id=number,
            data={"bundle": bundle.code, "parts": [s.case.number for s in submissions]})
        self.session.flush()
        return BundleSubmission(bundle_case, code)

    # -- reading --------------------------------------------------------------------------

    def get(self, number: str) -> BundleCase:
        found = self.session.scalar(select(BundleCase).where(BundleCase.number == number))
        if found is None:
            raise NotFound(_("no bundle case %(number)s", number=number), {"number": number})
        return found

    def search(self, *, cursor: str | None = None, before: str | None = None,
               per_page: int = 20) -> Page[BundleCase]:
        """One keyset page of the bundle cases, the newest first (by id, the primary key:
        node/listing.py), each with its bundle."""
        return keyset_page(self.session, select(BundleCase), (BundleCase.id,), (int,), cursor,
                           per_page, descending=True, options=(joinedload(BundleCase.bundle),),
                           before=before)

    def parts_of(self, bundle_case: BundleCase) -> list[Case]:
        return list(self.session.scalars(
            select(Case).options(selectinload(Case.events), selectinload(Case.matter),
                                 selectinload(Case.department))
            .where(Case.bundle_case_id == bundle_case.id).order_by(Case.id)).all())

    def view(self, bundle_case: BundleCase, *, public: bool = False) -> BundleCaseView:
        parts = tuple(
            PartView(
                number=p.number, matter_code=p.matter.code, matter_name=p.matter.name,
                department_name=p.department.name, state=p.state,
                outcome=part_outcome(p.state, _denied(p)), forwarded_to=p.forwarded_to,
                deadline_on=p.deadline_on, completed_on=p.completed_on)
            for p in self.parts_of(bundle_case))
        return BundleCaseView(
            number=bundle_case.number, bundle_code=bundle_case.bundle.code,
            bundle_name=bundle_case.bundle.name, state=bundle_case.state,
            channel=bundle_case.channel,
            applicant_name=(mask_name(bundle_case.applicant_name) if public
                            else bundle_case.applicant_name),
            received_on=bundle_case.received_on, ended_on=bundle_case.ended_on,
            promised_days=bundle_case.promised_days, used_days=bundle_case.used_days,
            notice_number=bundle_case.notice_number, parts=parts)

    def lookup(self, number: str, code: str) -> BundleCaseView:
        """The bundle and its parts for the applicant holding its query code; a wrong code
        and an unknown number fail alike, after the same work."""
        found = self.session.scalar(select(BundleCase).where(BundleCase.number == number))
        matches = verify_query_code(found.query_code_hash if found is not None else None,
                                    number, code)
        if found is None or not matches:
            raise NotFound(_LOOKUP_FAILED)
        return self.view(found, public=True)

    # -- accepting and routing ------------------------------------------------------------

    def accept(self, bundle_case: BundleCase, actor: Actor) -> BundleCase:
        """一窗受理: accept every part still before acceptance; forward each part decided
        above to its deciding center.  A bundle whose parts are all past acceptance is a
        conflict (nothing applied twice)."""
        parts = [p for p in self.parts_of(bundle_case) if p.state in BEFORE_ACCEPTANCE]
        if not parts:
            raise Conflict(_("Bundle case %(number)s has no part waiting for acceptance.",
                             number=bundle_case.number), {"number": bundle_case.number})
        for part in parts:
            self.cases.accept(part, actor)
            matter: Matter = part.matter
            level = Level(matter.handling_level)
            if list(Level).index(level) < list(Level).index(level_of(self.node_code)):
                target = deciding_center(self.node_code, level)
                self.forwarding.forward(part, actor, to=target,
                                        note=f"一件事 {bundle_case.number}")
        return bundle_case


class BundleProgress:
    """The case service's step hook that ends a bundle when its last part ends."""

    def __call__(self, cases: CaseReader, case: Case, action: Action | None,
                 before: CaseState | None, after: CaseState, reason: str | None) -> None:
        if case.bundle_case_id is None or after not in ENDED_STATES or before is after:
            return
        session = cases.session
        # Two parts ending at once in two transactions: the second waits for the first (the
        # audit chain's head, appended by every step, and the bundle's row, locked here) and
        # then reads the first part ended; the bundle ends once, in the later of the two.
        bundle_case = session.scalars(
            select(BundleCase).where(BundleCase.id == case.bundle_case_id).with_for_update()
            .execution_options(populate_existing=True)).one_or_none()
        if bundle_case is None or bundle_case.state is not BundleState.OPEN:
            return
        parts = session.scalars(select(Case).options(selectinload(Case.events))
                                .where(Case.bundle_case_id == bundle_case.id)
                                .execution_options(populate_existing=True)).all()
        outcomes = [part_outcome(p.state, _denied(p)) for p in parts]
        state = bundle_state(outcomes)
        if state is BundleState.OPEN:
            return
        now = cases.clock()
        today = cases.today()
        bundle_case.state = state
        bundle_case.ended_at = now
        bundle_case.ended_on = today
        bundle_case.used_days = cases.calendar.working_days_between(
            bundle_case.received_on, today)
        bundle_case.notice_number = (
            f"{cases.node_code}-YJS-{today.year}-"
            f"{next_number(session, f'notice-YJS-{today.year}'):06d}")
        cases.audit.append(
            actor="system", role="system", action="bundle.end", subject_type="bundle_case",
            subject_id=bundle_case.number,
            data={"state": state.value, "notice": bundle_case.notice_number,
                  "parts": dict(zip([p.number for p in parts], outcomes, strict=True))})
        session.flush()


__all__ = [
    "BundleApplication",
    "BundleCaseView",
    "BundleCases",
    "BundlePaper",
    "BundleProgress",
    "BundleSubmission",
    "PartView",
    "bundle_state",
    "deciding_center",
    "part_outcome",
    "part_receipts",
]
