"""Forwarding (上报) and three-level linkage (三级联动): a case travelling up to the center
that decides it, and its progress and result coming back.  Plain Python (no Flask).

- **forward**: an accepted case goes to an ancestor as a signed ``case.forward`` carrying the
  applicant, the origin's clock (received, accepted, promised days, deadline) and the
  material files as content-addressed attachments.  The case becomes ``forwarded``.
- **receiving a forward**: the ancestor opens its own case linked to the origin (its node and
  case number, the key of the case across the federation) with the origin's clock, so the
  deadline counts the whole chain; or, when the matter is not in its catalog, sends the case
  straight back as a ``case.result`` with outcome ``returned`` and the reason.  A center that
  received a case may forward it further up: the chain grows by one node each hop.
- **progress and result**: every step the deciding center takes on a case from below goes
  back to the node it came from as ``case.update``; the decision completes the case there
  (办结: the result is returned) and goes back as ``case.result``.  Each hop relays both to
  the node below it, so every center on the chain sees the same history.
- **returned**: a case sent back (matter unknown above, or returned by staff with a reason)
  reopens as ``accepted`` at the node below, which may handle it, return it further down, or
  re-route it to another ancestor.

Every envelope is written in the same transaction as the change that caused it (through the
:class:`node.ports.Outbox` the composition root hands over), and applying one twice is
prevented by the inbox.  The composition root (node/composition.py) composes the two sides:
:class:`TellTheNodeBelow` among the case service's step hooks, and :func:`envelope_handlers`
among the node's envelope handlers.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import logging
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from node.calendar.workdays import to_shanghai_date
from node.cases import materials
from node.cases.actors import SYSTEM_ACTOR, Actor
from node.cases.history import display_names, remote_events, wire_history
from node.cases.lateral import (
    RULE_NAMES,
    NotCompetent,
    NotTongban,
    arrival_refusal,
    competence_of,
    is_tongban,
)
from node.cases.materials import UploadLimits
from node.cases.models import (
    AttachmentRole,
    Case,
    CaseAttachment,
    Channel,
    ReviewTask,
    TaskState,
    TongbanRole,
)
from node.cases.query_codes import NO_CODE
from node.cases.reading import CaseReader
from node.cases.receiving import TOLD_STEPS, apply_step, sent_elsewhere, step_update
from node.cases.service import CaseService
from node.cases.states import Action, CaseState
from node.catalog.models import Competence, Matter
from node.numbers import next_number
from node.ports import CenterNames, EnvelopeHandler, Outbox
from node.rollups import invalidate
from schemas.divisions import ancestors_of, is_ancestor, province_of
from schemas.envelope import Envelope, Kind
from schemas.errors import Conflict, NotFound, TongbanError, ValidationFailed
from schemas.i18n import _
from schemas.message_parts import ATTACHMENTS_MAX, MEDIA_TYPE_PATTERN, NAME_MAX, REASON_MAX

log = logging.getLogger("tongban.forwarding")

UPDATE_NOTE_MAX = 2_000
MEDIA_TYPE_MAX = 255


class ForwardRefused(TongbanError):
    """An incoming case envelope this node does not accept (the inbox records why)."""

    code = "forward_refused"


def chain_of(case: Case) -> list[str]:
    """The nodes the case passed through before this one, origin first ([] for our own)."""
    return case.forward_chain.split(",") if case.forward_chain else []


def origin_of(case: Case, here: str) -> dict[str, str]:
    return {"node": case.origin_node_code or here,
            "case_number": case.origin_case_number or case.number}


def _attachment_wire(attachment: CaseAttachment) -> dict[str, Any]:
    return {"sha256": attachment.sha256, "size": attachment.size,
            "media_type": attachment.media_type, "name": attachment.name}


class Forwarding:
    """The forwarding side of one node's cases, over a :class:`CaseService`: sending a case up,
    returning it, keeping its files, and applying what arrives about it."""

    def __init__(self, cases: CaseService, outbox: Outbox, limits: UploadLimits,
                 names: CenterNames) -> None:
        self.cases = cases
        self.session = cases.session
        self.code = cases.node_code
        self.outbox = outbox
        self.limits = limits
        self.names = names

    def _center(self, code: str) -> str:
        """``code``'s center by name, the code beside it (issue 19)."""
        return self.names.text(self.session, code)

    def _emit(self, kind: Kind, to: str, body: Mapping[str, Any]) -> None:
        self.outbox.send(self.session, kind=kind, to=to, body=body, now=self.cases.clock())

    # -- attachments ----------------------------------------------------------------------

    def add_attachment(
        self, case: Case, actor: Actor, *, name: str, media_type: str, data: bytes,
        role: AttachmentRole = AttachmentRole.MATERIAL, material: int | None = None,
    ) -> CaseAttachment:
        """Keep a file of the case (材料, or 结果文书 for a decision); the same bytes twice in
        the same role are one file.  Who may add which kind when: node/cases/authorization.py.
        A material file is checked by its material's rule (``material``: its position, or the
        one its name passes for; node/cases/materials.py :func:`~materials.check_added`),
        named after it and typed by its bytes."""
        self.cases.authorize_file(case, actor, role)
        problems: dict[str, list[str]] = {}
        name = (name or "").strip()
        if not name or len(name) > NAME_MAX:
            problems["name"] = [
                _("a file name of 1 to %(most)s characters", most=NAME_MAX)]
        media_type = (media_type or "").strip().lower()
        if len(media_type) > MEDIA_TYPE_MAX or not re.fullmatch(MEDIA_TYPE_PATTERN, media_type):
            problems["media_type"] = [_("a media type such as application/pdf")]
        if not data:
            problems["file"] = [_("the file is empty")]
        if len(case.attachments) >= ATTACHMENTS_MAX:
            problems["file"] = [
                _("a case has at most %(most)s files", most=ATTACHMENTS_MAX)]
        if material is not None and role is not AttachmentRole.MATERIAL:
            problems["material"] = [_("only a material file names its material")]
        if problems:
            raise ValidationFailed(problems)
        sha256 = hashlib.sha256(data).hexdigest()
        for existing in case.attachments:
            if existing.sha256 == sha256 and existing.role is role:
                return existing
        if role is AttachmentRole.MATERIAL:
            checked, refused = materials.check_added(
                materials.rules(case.matter.materials, self.limits.max_file_bytes), material,
                name, data, limits=self.limits,
                stored=[(a.name, a.size) for a in case.attachments if a.role is role])
            if checked is None:
                raise ValidationFailed(refused)
            name, media_type = checked.name, checked.media_type
        attachment = CaseAttachment(
            role=role, sha256=sha256, size=len(data), media_type=media_type, name=name,
            data=data, fetched=True, added_by=actor.username, added_at=self.cases.clock(),
        )
        case.attachments.append(attachment)
        self.cases.note(case, actor, "attach", {"sha256": sha256, "name": name,
                                                "role": role.value})
        return attachment

    def _listed(self, case: Case, role: AttachmentRole) -> list[dict[str, Any]]:
        return [_attachment_wire(a) for a in case.attachments if a.role is role]

    def _receive_files(self, case: Case, files: Sequence[Mapping[str, Any]],
                       role: AttachmentRole, sender: str) -> None:
        """Files listed in a signed body: their bytes are fetched from the hub later and
        checked against the hash (node.sync.blobs)."""
        known = {(a.sha256, a.role) for a in case.attachments}
        now = self.cases.clock()
        for item in files:
            if (item["sha256"], role) in known:
                continue
            known.add((item["sha256"], role))
            case.attachments.append(CaseAttachment(
                role=role, sha256=item["sha256"], size=item["size"],
                media_type=item["media_type"], name=item["name"], data=None, fetched=False,
                added_by=sender, added_at=now, uploaded_at=now,
            ))

    # -- forwarding up ----------------------------------------------------------------------

    def forward(self, case: Case, actor: Actor, *, to: str | None = None,
                note: str | None = None, version: int | None = None,
                division: str | None = None) -> Case:
        """上报: send an accepted case to an ancestor (the parent when neither ``to`` nor
        ``division`` is given); 通办: to the competent center elsewhere in the province (over
        ``division``, or the applicant's 户籍 division), checked by node/cases/lateral.py."""
        ancestors = ancestors_of(self.code)
        if (to is not None and to not in ancestors and to != self.code) or \
                (to is None and division is not None):
            if not is_tongban(case.matter):
                raise NotTongban({"to": [
                    _("%(target)s is not a center above %(code)s (one of: %(join)s)",
                      target=self._center(to or division or ""), code=self._center(self.code),
                      join=_("、").join(self._center(code) for code in ancestors)),
                    _("“%(matter)s”不是通办事项，不能代收转往其他地区的中心",
                      matter=case.matter.name)]})
            return self._forward_sideways(case, actor, to=to, note=note, version=version,
                                          division=division)
        target = to or (ancestors[0] if ancestors else None)
        if target is None:
            raise ValidationFailed({"to": [_("%(code)s is the top of the tree: there is no center "
                                             "above it to forward to",
                                             code=self._center(self.code))]})
        if target not in ancestors:
            raise ValidationFailed({"to": [
                _("%(target)s is not a center above %(code)s (one of: %(join)s)",
                  target=self._center(target), code=self._center(self.code),
                  join=_("、").join(self._center(code) for code in ancestors))]})
        if target in chain_of(case):
            raise ValidationFailed({"to": [_("the case came up through %(target)s already",
                                             target=self._center(target))]})
        case.forwarded_to = target
        self.cases.move(case, Action.FORWARD, actor, reason=note, version=version,
                        data={"to": target})
        case.forwarded_on = self.cases.today()
        self._emit(Kind.CASE_FORWARD, target, self._forward_body(case, note))
        return case

    def _forward_sideways(self, case: Case, actor: Actor, *, to: str | None, note: str | None,
                          version: int | None, division: str | None) -> Case:
        """通办 (代收): send the case to the competent center, which need not be above."""
        competent = competence_of(case.matter, here=self.code,
                                  id_number=case.applicant_id_number, division=division)
        target = to or competent.center
        if target != competent.center:
            raise NotCompetent({"to": [_(
                "%(target)s 对此件没有管辖权：按%(rule)s（%(division)s）应由 %(center)s 受理",
                target=self._center(target),
                rule=str(RULE_NAMES[Competence(case.matter.competence)]),
                division=competent.division, center=self._center(competent.center))]})
        if target == self.code:
            raise NotCompetent({"to": [_("本中心就是有管辖权的中心，请直接受理办理")]})
        if target in ancestors_of(self.code):  # the competent center is above: 上报
            return self.forward(case, actor, to=target, note=note, version=version)
        if case.from_below or target in chain_of(case):
            raise NotCompetent({"to": [_(
                "此件由其他中心转来，不能再次代收转办；请退回或由本中心办理")]})
        case.forwarded_to = target
        case.tongban_role = TongbanRole.RECEIVED
        case.tongban_division = competent.division
        self.cases.move(case, Action.FORWARD, actor, reason=note, version=version,
                        data={"to": target, "tongban": competent.division})
        case.forwarded_on = self.cases.today()
        self._recount(case)
        self._emit(Kind.CASE_FORWARD, target, self._forward_body(case, note))
        return case

    def _recount(self, case: Case) -> None:
        """A case's 通办 part changed: the past days it was counted on are counted again."""
        today = self.cases.today()
        invalidate(self.session, [day for day in (case.received_on, case.accepted_on)
                                  if day is not None and day < today])

    def _forward_body(self, case: Case, note: str | None) -> dict[str, Any]:
        matter = case.matter
        tongban = ({"tongban": {"rule": Competence(matter.competence).value,
                                "division": case.tongban_division}}
                   if case.tongban_division else {})
        return {
            **tongban,
            "origin": origin_of(case, self.code),
            "chain": [*chain_of(case), self.code],
            "matter": {"code": matter.code, "name": matter.name, "standard_code": None},
            "applicant": {
                "name": case.applicant_name,
                "id_number": case.applicant_id_number,
                "phone": case.applicant_phone,
                "kind": "person" if case.applicant_id_number else "organisation",
            },
            "channel": case.channel.value,
            "received_on": case.received_on.isoformat(),
            "accepted_on": case.accepted_on.isoformat() if case.accepted_on else None,
            "promised_days": case.counted_days,
            "deadline_on": case.deadline_on.isoformat() if case.deadline_on else None,
            "notes": "\n".join(part for part in (case.notes, note or "") if part)[:20_000],
            "attachments": self._listed(case, AttachmentRole.MATERIAL),
            "forwarded_at": self.cases.clock().isoformat(),
            "history": wire_history(case, self.code, display_names(
                self.session, [event.actor for event in case.events])),
        }

    def return_to_sender(self, case: Case, actor: Actor, *, reason: str,
                         version: int | None = None) -> Case:
        """退回: send a case received from below back undecided, with the reason."""
        if not case.from_below:
            raise Conflict(_("Case %(number)s was not received from a lower center; only such a "
                             "case can be returned.",
                             number=case.number), {"number": case.number})
        self.cases.move(case, Action.RETURN, actor, reason=reason, version=version)
        return case

    # -- telling the node below -------------------------------------------------------------

    def after_step(self, case: Case, action: Action | None, before: CaseState | None,
                   after: CaseState, reason: str | None) -> None:
        """Tell the node a case came from about a step taken on it here; 通办: tell the
        competent center of this center's steps on a case sent to it (node/cases/receiving.py)."""
        if action in TOLD_STEPS and sent_elsewhere(case):
            self._emit(Kind.CASE_UPDATE, str(case.forwarded_to),
                       step_update(self.session, case, self.code))
        if not case.from_below or action is Action.COMPLETE:
            return
        assert case.received_from is not None  # noqa: S101 - from_below
        if after in (CaseState.APPROVED, CaseState.DENIED) and before is not after:
            outcome = "approved" if after is CaseState.APPROVED else "denied"
            self.cases.complete(case, SYSTEM_ACTOR)  # 办结: the result goes back now
            self._send_result(case, outcome, reason)
        elif after is CaseState.RETURNED:
            self._send_result(case, "returned", reason)
        elif before is not after or action is None:
            note = reason or ""
            if after is CaseState.FORWARDED:
                note = f"已转报 {case.forwarded_to}" + (f"：{reason}" if reason else "")
            elif before is None:
                note = "已接收" + (f"：{reason}" if reason else "")
            self._emit(Kind.CASE_UPDATE, case.received_from, {
                "origin": origin_of(case, self.code), "state": after.value,
                "note": note[:UPDATE_NOTE_MAX], "at": self.cases.clock().isoformat(),
                "case_number": case.number})

    def _send_result(self, case: Case, outcome: str, reason: str | None) -> None:
        assert case.received_from is not None  # noqa: S101 - from_below
        decided = case.decided_on or self.cases.today()
        self._emit(Kind.CASE_RESULT, case.received_from, {
            "origin": origin_of(case, self.code),
            "outcome": outcome,
            "reason": reason,
            "decided_on": decided.isoformat() if outcome != "returned" else None,
            "decided_by_node": self.code,
            "documents": self._listed(case, AttachmentRole.RESULT),
            "fee_due_fen": case.fee_due_fen if outcome == "approved" else 0,
            "case_number": case.number,
        })

    # -- applying what arrives ----------------------------------------------------------------

    def receive_forward(self, envelope: Envelope) -> Case | None:
        """Open a case for a forward from below, or send it back when the matter is unknown.

        Returns the new case (None when it was returned or was here already)."""
        body, sender = envelope.body, envelope.sender
        tongban = body.get("tongban")
        sideways = not is_ancestor(self.code, sender)
        if sideways and (tongban is None or province_of(sender) != province_of(self.code)):
            raise ForwardRefused(f"a case is forwarded up: {sender} is not below {self.code} "
                                 "(a case comes sideways only as 通办, within the province)",
                                 {"sender": sender})
        chain = list(body["chain"])
        if chain[-1] != sender or self.code in chain:
            raise ForwardRefused(f"the chain {chain} does not end with its sender {sender} "
                                 f"or passes through {self.code} already", {"chain": chain})
        hops = [*itertools.pairwise(chain), (sender, self.code)]
        sideways_hops = sum(not is_ancestor(upper, lower) for lower, upper in hops)
        if sideways_hops > (1 if tongban is not None else 0):
            raise ForwardRefused(f"the chain {chain} does not go up the tree, each center "
                                 "above the one before it (but for one 通办 hop)",
                                 {"chain": chain})
        origin = body["origin"]
        if self._open_from_below(origin) is not None:
            return None  # the same case forwarded again while it is open here
        matter = self._matter_for(body["matter"])
        if sideways:
            assert tongban is not None  # noqa: S101 - refused above
            refusal = arrival_refusal(
                matter, here=self.code, id_number=body["applicant"]["id_number"],
                rule=tongban["rule"], division=tongban["division"],
                matter_name=body["matter"]["name"], center=self._center)
            if refusal is not None:
                self._send_back(sender, origin, refusal)
                return None
            assert matter is not None  # noqa: S101 - no refusal
            case = self._open_case(envelope, matter)
            case.tongban_role = TongbanRole.ACCEPTED
            case.tongban_division = tongban["division"]
            self._recount(case)
            return case
        if matter is None:
            self._send_back(sender, origin,
                            f"本中心（{self.code}）的事项目录中没有“{body['matter']['name']}”"
                            f"（{body['matter']['code']}），无法办理，请改报其他上级中心")
            return None
        return self._open_case(envelope, matter)

    def _send_back(self, sender: str, origin: Mapping[str, str], reason: str) -> None:
        """A forward this center cannot take goes back at once, ``returned`` with the reason."""
        self._emit(Kind.CASE_RESULT, sender, {
            "origin": origin, "outcome": "returned", "reason": reason[:REASON_MAX],
            "decided_on": None, "decided_by_node": self.code, "documents": [],
            "fee_due_fen": 0,
        })

    def _matter_for(self, wanted: Mapping[str, Any]) -> Matter | None:
        codes = [c for c in (wanted["code"], wanted.get("standard_code")) if c]
        return self.session.scalars(
            select(Matter).where(Matter.code.in_(codes), Matter.retired_at.is_(None))
            .order_by(Matter.id)).first()

    def _open_from_below(self, origin: Mapping[str, str]) -> Case | None:
        return self.session.scalars(select(Case).where(
            Case.origin_node_code == origin["node"],
            Case.origin_case_number == origin["case_number"],
            Case.state.not_in([CaseState.RETURNED]),
        ).order_by(Case.id.desc())).first()

    def _open_case(self, envelope: Envelope, matter: Matter) -> Case:
        body = envelope.body
        now = self.cases.clock()
        year = to_shanghai_date(now).year
        number = f"{self.code}-{year}-{next_number(self.session, f'case-{year}'):07d}"
        accepted_on = dt.date.fromisoformat(body["accepted_on"]) if body["accepted_on"] \
            else None
        applicant = body["applicant"]
        case = Case(
            number=number,
            # the applicant looks the case up at the origin: no code opens it here
            query_code_hash=NO_CODE,
            matter=matter,
            department_id=matter.department_id,
            window_id=matter.window_id,
            channel=Channel(body["channel"]),
            state=CaseState.ACCEPTED if accepted_on else CaseState.SUBMITTED,
            applicant_name=applicant["name"],
            applicant_id_number=applicant["id_number"],
            applicant_phone=applicant["phone"],
            applicant_consent=False,
            received_at=now,
            received_on=dt.date.fromisoformat(body["received_on"]),
            accepted_on=accepted_on,
            # the clock is the origin's: its promise and deadline span the whole chain
            promised_days=body["promised_days"],
            deadline_on=dt.date.fromisoformat(body["deadline_on"]) if body["deadline_on"]
            else None,
            # 暂定 here too when the chain's deadline crosses a year without data
            deadline_provisional=bool(accepted_on and body["deadline_on"]
                                      and self.cases.calendar.years_without_data(
                                          accepted_on, dt.date.fromisoformat(body["deadline_on"]))),
            fee_due_fen=matter.fee_amount_fen,
            fee_paid_fen=0,
            notes=body["notes"],
            origin_node_code=body["origin"]["node"],
            origin_case_number=body["origin"]["case_number"],
            received_from=envelope.sender,
            forward_chain=",".join(body["chain"]),
        )
        self.session.add(case)
        case.tasks = [ReviewTask(department=matter.department, state=TaskState.PENDING)]
        self._receive_files(case, body["attachments"], AttachmentRole.MATERIAL,
                            envelope.sender)
        case.events.extend(remote_events(body.get("history", []), case.state.value))
        self.session.flush()
        arrival = "通办代收转来" if body.get("tongban") and not is_ancestor(
            self.code, envelope.sender) else "上报"
        self.cases.record_arrival(case, f"{envelope.sender} {arrival}",
                                  {"origin": body["origin"], "chain": body["chain"]})
        return case

    def _forwarded_case(self, origin: Mapping[str, str], sender: str) -> Case | None:
        """Our case that went up to ``sender`` for this origin (the newest, if re-routed)."""
        if origin["node"] == self.code:
            query = select(Case).where(Case.number == origin["case_number"])
        else:
            query = select(Case).where(Case.origin_node_code == origin["node"],
                                       Case.origin_case_number == origin["case_number"])
        case = self.session.scalars(query.order_by(Case.id.desc())).first()
        if case is None or case.state is not CaseState.FORWARDED or case.forwarded_to != sender:
            return None
        return case

    def receive_result(self, envelope: Envelope) -> Case:
        body, sender = envelope.body, envelope.sender
        case = self._forwarded_case(body["origin"], sender)
        if case is None:
            raise NotFound(_("no case %(body)s is waiting here for a result from %(sender)s",
                             body=body['origin']['case_number'], sender=self._center(sender)),
                           {"origin": body["origin"]})
        outcome, reason = body["outcome"], body.get("reason")
        if body.get("case_number"):  # the number the case has where it went (linked)
            case.forwarded_number = body["case_number"]
        if outcome == "returned":
            case.forwarded_to = None
            case.forwarded_on = None
            case.closed_on = None
            if case.tongban_role is TongbanRole.RECEIVED:  # back here: counted here again
                case.tongban_role = None
                case.tongban_division = None
                self._recount(case)
            self.cases.move(case, Action.RECEIVE_RETURN, SYSTEM_ACTOR,
                            reason=f"{sender} 退回：{reason}", data={"from": sender})
            return case
        self._receive_files(case, body["documents"], AttachmentRole.RESULT, sender)
        decided_on = dt.date.fromisoformat(body["decided_on"])
        if case.from_below:  # a hop of the chain: record it and pass it down
            assert case.received_from is not None  # noqa: S101 - from_below
            case.decided_on = decided_on
            self.cases.note(case, SYSTEM_ACTOR, "relay_result",
                            {"outcome": outcome, "decided_by": body["decided_by_node"]},
                            reason=reason)
            self._emit(Kind.CASE_RESULT, case.received_from,
                       {**body, "origin": origin_of(case, self.code), "case_number": case.number})
            return case
        action = Action.RECEIVE_APPROVAL if outcome == "approved" else Action.RECEIVE_DENIAL
        case.fee_due_fen = body["fee_due_fen"]
        case.decided_on = decided_on
        self.cases.move(case, action, SYSTEM_ACTOR,
                        reason=reason or f"{body['decided_by_node']} 准予许可",
                        data={"decided_by": body["decided_by_node"]})
        return case

    def record_visit(self, case: Case, actor: Actor, *, reason: str | None = None,
                     version: int | None = None) -> Case:
        """登记到厅 (:meth:`CaseService.record_visit`); on a 通办 case sent to the competent
        center the visit goes there too, which counts it with the case."""
        self.cases.record_visit(case, actor, reason=reason, version=version)
        if sent_elsewhere(case):
            self._emit(Kind.CASE_UPDATE, str(case.forwarded_to),
                       step_update(self.session, case, self.code))
        return case

    def receive_update(self, envelope: Envelope) -> Case | None:
        body, sender = envelope.body, envelope.sender
        if body.get("step") is not None:  # 通办: the receiving center's own step
            return apply_step(self.session, body, sender)
        case = self._forwarded_case(body["origin"], sender)
        if case is None:  # e.g. news from a node the case was since taken back from
            log.info("update on %s from %s ignored: no case waits for it",
                     body["origin"]["case_number"], sender)
            return None
        if body.get("case_number"):
            case.forwarded_number = body["case_number"]
        self.cases.note(case, SYSTEM_ACTOR, "upstream_update",
                        {"from": sender, "state": body["state"]},
                        reason=f"{sender}：{body['state']} {body['note']}".strip())
        if case.from_below:
            assert case.received_from is not None  # noqa: S101 - from_below
            self._emit(Kind.CASE_UPDATE, case.received_from,
                       {**body, "origin": origin_of(case, self.code), "case_number": case.number})
        return case


class TellTheNodeBelow:
    """The case service's step hook that tells the node a case came from of every step taken
    on it here (:meth:`Forwarding.after_step`)."""

    def __init__(self, outbox: Outbox, limits: UploadLimits, names: CenterNames) -> None:
        self.outbox = outbox
        self.limits = limits
        self.names = names

    def __call__(self, cases: CaseReader, case: Case, action: Action | None,
                 before: CaseState | None, after: CaseState, reason: str | None) -> None:
        if not isinstance(cases, CaseService):  # pragma: no cover - the root hands it to one
            raise TypeError("forwarding tells the node below of a CaseService's steps")
        Forwarding(cases, self.outbox, self.limits, self.names).after_step(
            case, action, before, after, reason)


def envelope_handlers(
    forwarding_for: Callable[[Session], Forwarding],
) -> dict[Kind, EnvelopeHandler]:
    """What forwarding applies: ``case.forward``, ``case.result`` and ``case.update``, each
    through the :class:`Forwarding` that ``forwarding_for`` composes on the session."""

    def forward(session: Session, envelope: Envelope) -> None:
        forwarding_for(session).receive_forward(envelope)

    def result(session: Session, envelope: Envelope) -> None:
        forwarding_for(session).receive_result(envelope)

    def update(session: Session, envelope: Envelope) -> None:
        forwarding_for(session).receive_update(envelope)

    return {Kind.CASE_FORWARD: forward, Kind.CASE_RESULT: result, Kind.CASE_UPDATE: update}


__all__ = ["ForwardRefused", "Forwarding", "TellTheNodeBelow", "chain_of", "envelope_handlers",
           "origin_of"]
