"""Building the demo federation with tongban's own commands and services.

Each step is what an operator or a center's staff would do, run in-process against each
node's own home and database: ``init`` every home; create the staff; the province certifies
its key and the hub trusts it; every parent enrolls its children; the province publishes the
standard catalog and every center adopts and localizes it; months of cases; live forwarded
cases and directives travelling through the hub; the signed summaries of every month.  Syncs
are the same push and pull the worker runs (:class:`node.sync.service.SyncService` over
HTTP to the running hub).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import json
import multiprocessing
import queue
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, as_completed, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select

from deploy.demo.catalog import (
    ADMIN,
    BIRTH_BUNDLE,
    DEMO_USERS,
    MATTERS,
    define_bundles,
    ensure_structure,
    fill_province_catalog,
    localize,
)
from deploy.demo.history import generate, planned_cases
from deploy.demo.layout import DemoNode, default_workers
from deploy.demo.processes import DemoError, new_password, write_private
from deploy.demo.progress import bar
from hub.cli import init as hub_init
from hub.cli import trust_root_command
from node.audit.chain import AuditLog
from node.auth.inputs import NewUser
from node.auth.models import User
from node.auth.permissions import Role
from node.auth.service import AuthService, hash_password
from node.bundles.service import BundleApplication
from node.calendar.publishing import publish_calendar
from node.calendar.schedules import read_json_schedule
from node.calendar.workdays import to_shanghai_date
from node.cases.actors import Actor
from node.cases.models import Case, Channel, DeliveryMethod
from node.cases.service import Application
from node.cases.states import CaseState
from node.catalog.publishing import publish_catalog
from node.catalog.service import CatalogService
from node.cli import init as node_init
from node.composition import NodeServices
from node.config import node_settings
from node.metadata import load_all_models
from node.metrics.rollup import refresh
from node.metrics.service import MetricsService
from node.metrics.summary import as_of
from node.settings import NodeSettings
from node.sync import enrollment
from node.sync.client import HttpHubTransport
from node.sync.keys import load_node_key
from node.sync.outbox import emit
from node.verification.service import commit, keep
from schemas.envelope import Kind
from schemas.keys import public_key_b64
from schemas.periods import Period
from schemas.runtime.database import Database, utcnow
from schemas.runtime.login import LoginPolicy

STATE_FILE = "demo-state.json"
# The demo province's 2027 holiday schedule: the demo's own data (its "source" says so), to be
# replaced by the State Council's notice with `tongban node calendar-import` when it is out.
DEMO_CALENDAR = Path(__file__).resolve().parent / "holidays-2027-demo.json"
DEMO_CALENDAR_YEAR = 2027
LOGINS_FILE = "logins.json"
HUB_HOME = "hub"

# 通办 in the demo: 北流 receives for 容县 (docs/cases.md, "通办")
TONGBAN_RECEIVER, TONGBAN_COMPETENT = "450981", "450921"


@dataclass
class Member:
    """One node of the demo: where it lives and where it listens."""

    node: DemoNode
    home: Path
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def code(self) -> str:
        return self.node.code


@contextlib.contextmanager
def quiet() -> Iterator[None]:
    """Hide the per-home chatter of ``init`` (the demo prints its own progress)."""
    with contextlib.redirect_stdout(io.StringIO()):
        yield


@dataclass
class Federation:
    work: Path
    layout: Sequence[DemoNode]
    hub_port: int
    base_port: int
    members: dict[str, Member] = field(default_factory=dict)
    state: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for index, node in enumerate(self.layout):
            self.members[node.code] = Member(node, self.work / f"node-{node.code}",
                                             self.base_port + index)
        path = self.work / STATE_FILE
        if path.exists():
            try:
                self.state = json.loads(path.read_text(encoding="utf-8"))
            except json.JSONDecodeError as exc:
                raise DemoError(f"{path} is not valid JSON ({exc}); delete the folder") from exc
            if self.state.get("nodes") != [node.code for node in self.layout]:
                raise DemoError(f"{self.work} holds another demo federation "
                                f"({len(self.state.get('nodes', []))} nodes); use another --dir")

    # -- state ------------------------------------------------------------------------------

    @property
    def hub_url(self) -> str:
        return f"http://127.0.0.1:{self.hub_port}"

    @property
    def hub_home(self) -> Path:
        return self.work / HUB_HOME

    def done(self, step: str) -> bool:
        return step in self.state.get("steps", [])

    def mark(self, step: str) -> None:
        self.state.setdefault("steps", []).append(step)
        self.state["nodes"] = [node.code for node in self.layout]
        write_private(self.work / STATE_FILE, json.dumps(self.state, indent=2) + "\n")

    def logins(self) -> dict[str, str]:
        path = self.work / LOGINS_FILE
        logins: dict[str, str] = {}
        if path.exists():
            logins = json.loads(path.read_text(encoding="utf-8"))
        missing = [u.username for u in DEMO_USERS if u.username not in logins]
        if missing:
            logins.update({name: new_password() for name in missing})
            write_private(path, json.dumps(logins, indent=2) + "\n")
        return logins

    # -- homes and people -------------------------------------------------------------------

    def init_homes(self) -> int:
        """``init`` the hub's and every node's home (kept on a second run); how many homes
        were new."""
        hub_new = not (self.hub_home / "tongban.toml").exists()
        with quiet():
            hub_init.callback(home=str(self.hub_home), name="tongban demo hub",  # type: ignore[misc]
                              database_url="")
        todo = [m for m in self.members.values() if not (m.home / "tongban.toml").exists()]
        self._each(todo, "node homes", init_home, self.hub_url)
        for member in self.members.values():  # a later run may put the hub on another port
            point_at_hub(member.home / "tongban.toml", self.hub_url)
        return len(todo) + hub_new

    def create_users(self, logins: Mapping[str, str]) -> int:
        """The demo's staff on every node (missing ones only); how many were created. Each
        login is the same on every node: its password is hashed once here (Argon2id, 0.2 s of
        CPU a hash) and every node stores that hash."""
        hashes = {user.username: hash_password(logins[user.username]) for user in DEMO_USERS}
        return sum(self._each(list(self.members.values()), "staff accounts", create_staff,
                              dict(logins), hashes))

    def _each(self, members: list[Member], label: str, job: Any, *args: Any) -> list[Any]:
        """``job(home, node, *args)`` for each member, in as many processes as cores."""
        results: list[Any] = []
        if not members:
            return results
        with ProcessPoolExecutor(max_workers=default_workers()) as pool:
            futures = [pool.submit(job, str(m.home), m.node, *args) for m in members]
            with bar(label, len(members)) as advance:
                for future in as_completed(futures):
                    results.append(future.result())
                    advance(1)
        return results

    # -- databases, keys, sync ----------------------------------------------------------------

    def settings(self, member: Member) -> NodeSettings:
        return node_settings({"home": str(member.home)})

    @contextlib.contextmanager
    def database(self, member: Member) -> Iterator[Database]:
        load_all_models()
        db = Database(self.settings(member).database_url)
        try:
            yield db
        finally:
            db.dispose()

    def sync(self, codes: Iterable[str]) -> dict[str, int]:
        """Push then pull each node, in the order given; what moved."""
        moved = {"pushed": 0, "applied": 0}
        for code in codes:
            member = self.members[code]
            settings = self.settings(member)
            key = load_node_key(settings)
            transport = HttpHubTransport(self.hub_url, code, key)
            try:
                with self.database(member) as db:
                    service = NodeServices(settings, key).sync_service(db, transport)
                    pushed = service.push()
                    pulled = service.pull()
            finally:
                transport.close()
            if pushed.dead or pulled.refused or pulled.failed:
                raise DemoError(f"sync of {code}: {pushed.dead} rejected by the hub, "
                                f"{pulled.refused} refused, {pulled.failed} failed to apply; "
                                f"see its sync status")
            moved["pushed"] += pushed.sent
            moved["applied"] += pulled.applied
        return moved

    def sync_all(self, rounds: int = 1) -> dict[str, int]:
        """Every node, parents first, ``rounds`` times (replies need a second round)."""
        total = {"pushed": 0, "applied": 0}
        for _ in range(rounds):
            for key, value in self.sync(self.members).items():
                total[key] += value
        return total

    # -- trust ------------------------------------------------------------------------------

    def enroll(self) -> None:
        """The province certifies its key, the hub trusts it, every parent enrolls its
        children: the certificates reach the hub with the parents' pushes."""
        province = self.layout[0]
        member = self.members[province.code]
        settings = self.settings(member)
        key = load_node_key(settings)
        with self.database(member) as db, db.unit_of_work() as session:
            enrollment.enroll_self(session, code=province.code, private_key=key, now=utcnow(),
                                   days=3650)
        with quiet():
            trust_root_command.callback(  # type: ignore[misc]
                home=str(self.hub_home), code=province.code,
                public_key=public_key_b64(key.public_key()))

    def enroll_children(self) -> int:
        for node in self.layout[1:]:
            assert node.parent is not None  # noqa: S101 - only the province has none
            parent = self.members[node.parent]
            parent_key = load_node_key(self.settings(parent))
            child_key = load_node_key(self.settings(self.members[node.code]))
            with self.database(parent) as db, db.unit_of_work() as session:
                enrollment.enroll_child(
                    session, code=parent.code, private_key=parent_key, child=node.code,
                    kind=node.kind, child_public_key=public_key_b64(child_key.public_key()),
                    now=utcnow(), days=365)
        self.sync(node.code for node in self.layout if node.level != "township")
        return len(self.layout) - 1

    # -- catalog ------------------------------------------------------------------------------

    def publish_catalog(self) -> int:
        """The province's standard catalog, published and adopted everywhere, then localized."""
        province = self.members[self.layout[0].code]
        outbox = self.services(province).outbox
        with self.database(province) as db, db.unit_of_work() as session:
            added = fill_province_catalog(session)
            define_bundles(session, province.code)  # 一件事 travel with the catalog
            publish_catalog(session, outbox=outbox, actor="demo", now=utcnow())
        self.sync_all()
        for member in list(self.members.values())[1:]:
            with self.database(member) as db, db.unit_of_work() as session:
                localize(session, member.node)
        return added

    # -- calendar -----------------------------------------------------------------------------

    def publish_calendar(self) -> str:
        """The province imports the demo's 2027 holiday schedule (DEMO_CALENDAR: marked as the
        demo's data until the real notice is loaded) and publishes it; everyone adopts it."""
        province = self.members[self.layout[0].code]
        services = self.services(province)
        outbox = services.outbox
        document = read_json_schedule(DEMO_CALENDAR.read_bytes(), DEMO_CALENDAR_YEAR)
        with self.database(province) as db, db.unit_of_work() as session:
            services.calendar(session).import_schedule(document, "demo", province=True)
            publish_calendar(session, outbox=outbox, year=DEMO_CALENDAR_YEAR, actor="demo",
                             now=utcnow())
        self.sync_all()
        return f"{DEMO_CALENDAR_YEAR} ({len(document.days)} days, {DEMO_CALENDAR.name})"

    # -- cases --------------------------------------------------------------------------------

    def history(self, months: int, scale: float, workers: int) -> int:
        """Months of past cases in every node, ``workers`` nodes at a time, each in its own
        process; the bar counts cases (each worker reports every few cases it made)."""
        made = 0
        # the busiest first, so that the processes finish together
        members = sorted(self.members.values(), key=lambda m: -m.node.profile.monthly)
        homes = [str(m.home) for m in members]
        nodes = [m.node for m in members]
        with multiprocessing.Manager() as manager, ProcessPoolExecutor(workers) as pool:
            total = sum(pool.map(planned_cases, homes, nodes, [months] * len(members),
                                 [scale] * len(members)))
            made_so_far = manager.Queue()
            futures = [pool.submit(generate, home, node, months, scale, made_so_far)
                       for home, node in zip(homes, nodes, strict=True)]
            with bar(f"{months} months of cases", total) as advance:
                pending = set(futures)
                while pending:
                    finished, pending = wait(pending, timeout=0.25, return_when=FIRST_COMPLETED)
                    for future in finished:
                        made += future.result()  # raises what failed in the worker
                    with contextlib.suppress(queue.Empty):
                        while True:
                            advance(made_so_far.get_nowait())
        return made

    def live_forwarding(self) -> dict[str, int]:
        """Today's forwarded cases: townships forward to their county, which decides them
        (one goes on to the city: three-level linkage); the results come back and the
        townships deliver."""
        counts = {"forwarded": 0, "decided": 0, "delivered": 0, "to_city": 0}
        townships = [m for m in self.members.values() if m.node.level == "township"]
        standard = next(p["code"] for p in MATTERS if p["handling_type"] == "promised")
        for member in townships:
            counts["forwarded"] += self._forward_from(member, standard,
                                                      member.node.profile.forwards)
        self.sync(m.code for m in townships)
        counties = sorted({m.node.parent for m in townships if m.node.parent})
        self.sync(counties)
        if counties:  # one case of the first county goes on to the city
            counts["to_city"] = self._pass_up(self.members[counties[0]])
        for code in counties:
            counts["decided"] += self._decide_from_below(self.members[code])
        self.sync(counties)
        city = self.layout[1].code
        self.sync([city])
        counts["decided"] += self._decide_from_below(self.members[city])
        self.sync([city, *counties, *counties])
        self.sync(m.code for m in townships)
        for member in townships:
            counts["delivered"] += self._deliver_results(member)
        return counts

    def live_tongban(self) -> str:
        """通办: 北流 receives a 食品经营许可 for a business in 容县 (the smaller federation:
        its other county) and sends it sideways; that county decides it; 北流 delivers the
        result by post."""
        counties = [m.code for m in self.members.values() if m.node.level == "county"]
        receiver = TONGBAN_RECEIVER if TONGBAN_RECEIVER in counties else counties[-1]
        competent = TONGBAN_COMPETENT if TONGBAN_COMPETENT in counties else next(
            code for code in counties if code != receiver)
        matter = next(p["code"] for p in MATTERS if p.get("tongban_scope") == "province")
        member = self.members[receiver]
        with self.database(member) as db, db.unit_of_work() as session:
            forwarding = self._service(session, member)
            clerk = _clerk(session)
            case = forwarding.cases.submit(Application(
                matter_code=matter, channel=Channel.WINDOW, applicant_name="通办申请人",
                applicant_phone="13907750099"), clerk).case
            forwarding.cases.accept(case, clerk)
            forwarding.forward(case, clerk, division=competent,
                               note="经营场所在外县，本中心通办代收")
            number = case.number
        self.sync([receiver, competent])
        with self.database(self.members[competent]) as db, db.unit_of_work() as session:
            decider = self._service(session, self.members[competent]).cases
            there = session.scalars(select(Case).where(
                Case.origin_case_number == number)).one()
            approver = Actor("approver-demo", "approver", None, there.department_id)
            decider.start_review(there, approver)
            decider.decide(there, approver, approve=True, reason="通办：经营场所核查合格")
        self.sync([competent, receiver])
        with self.database(member) as db, db.unit_of_work() as session:
            cases = self._service(session, member).cases
            mine = session.scalars(select(Case).where(Case.number == number)).one()
            cases.complete(mine, _clerk(session))
            cases.deliver(mine, _clerk(session), method=DeliveryMethod.POST,
                          tracking="EMS1000000001")
            linked = mine.forwarded_number
        self.sync([receiver, competent])  # the 办结 and 送达 reach the competent center
        return (f"{number} received at {receiver} for {competent} ({linked}), decided there, "
                f"delivered by post")

    def live_bundle(self) -> str:
        """新生儿出生一件事 taken at 北流's window today (the smaller federation: its first
        county) and accepted there (一窗受理): 医保参保 goes up to the city, the other parts
        wait in 北流's departments."""
        counties = [m.code for m in self.members.values() if m.node.level == "county"]
        code = TONGBAN_RECEIVER if TONGBAN_RECEIVER in counties else counties[0]
        member = self.members[code]
        with self.database(member) as db, db.unit_of_work() as session:
            bundles, clerk = self.services(member).bundle_cases(session), _clerk(session)
            born = to_shanghai_date(bundles.cases.clock()) - dt.timedelta(days=3)
            made = bundles.apply(BundleApplication(
                bundle_code=BIRTH_BUNDLE, applicant_name="演示家长",
                applicant_phone="13907750100", form={
                    "baby_name": "演示新生儿", "birth_date": born.isoformat(),
                    "guardian_phone": "13907750100"}), clerk).bundle_case
            parts = bundles.view(bundles.accept(made, clerk)).parts
            number = made.number
        self.sync([code, *(m.node.parent for m in (member,) if m.node.parent)])
        above = [p.matter_code for p in parts if p.forwarded_to]
        return f"{number} at {code}: {len(parts)} parts, {', '.join(above)} forwarded up"

    def services(self, member: Member) -> NodeServices:
        """The member's services, as its processes compose them (node/composition.py)."""
        settings = self.settings(member)
        return NodeServices(settings, load_node_key(settings))

    def _service(self, session: Any, member: Member) -> Any:
        return self.services(member).forwarding(session)

    def _forward_from(self, member: Member, matter: str, count: int) -> int:
        with self.database(member) as db, db.unit_of_work() as session:
            forwarding = self._service(session, member)
            clerk = _clerk(session)
            for index in range(count):
                case = forwarding.cases.submit(Application(
                    matter_code=matter, channel=Channel.WINDOW,
                    applicant_name=f"上报申请人{index + 1}",
                    applicant_phone=f"1390775{int(member.code[-3:]) + index:04d}"), clerk).case
                forwarding.cases.accept(case, clerk)
                forwarding.forward(case, clerk, note="县级审批事项，乡镇便民服务中心代收上报")
        return count

    def _pass_up(self, member: Member) -> int:
        with self.database(member) as db, db.unit_of_work() as session:
            forwarding = self._service(session, member)
            case = session.scalars(select(Case).where(
                Case.received_from.is_not(None), Case.state == CaseState.ACCEPTED)
                .order_by(Case.id)).first()
            if case is None:
                return 0
            forwarding.forward(case, _clerk(session), note="需市级审批（三级联动）")
        return 1

    def _decide_from_below(self, member: Member) -> int:
        decided = 0
        with self.database(member) as db, db.unit_of_work() as session:
            forwarding = self._service(session, member)
            cases = list(session.scalars(select(Case).where(
                Case.received_from.is_not(None),
                Case.state.in_([CaseState.ACCEPTED, CaseState.SUBMITTED])).order_by(Case.id)))
            for index, case in enumerate(cases):
                if case.state is CaseState.SUBMITTED:
                    continue
                approver = Actor("approver-demo", "approver", None, case.department_id)
                forwarding.cases.start_review(case, approver)
                if index % 3 == 2:
                    continue  # left in review: its progress is what the township sees
                forwarding.cases.decide(case, approver, approve=index % 5 != 4,
                                        reason=None if index % 5 != 4 else "材料不符合法定条件")
                decided += 1
        return decided

    def _deliver_results(self, member: Member) -> int:
        delivered = 0
        with self.database(member) as db, db.unit_of_work() as session:
            cases = self._service(session, member).cases
            clerk = _clerk(session)
            for case in session.scalars(select(Case).where(
                    Case.state.in_([CaseState.APPROVED, CaseState.DENIED]),
                    Case.forwarded_on.is_not(None))):
                if case.fee_due_fen > case.fee_paid_fen:
                    cases.waive_fee(case, clerk, reason="演示：免收")
                cases.complete(case, clerk)
                cases.deliver(case, clerk)
                delivered += 1
        return delivered

    # -- directives ---------------------------------------------------------------------------

    def directives(self) -> int:
        """The province and the city supervise a township and a county; they answer."""
        pairs = [(self.layout[0].code, self.layout[-1].code, "请报送本月上报件办理情况"),
                 (self.layout[1].code, self.layout[2].code, "请说明超期件整改措施")]
        due = to_shanghai_date(utcnow()) + dt.timedelta(days=10)
        ids = []
        for issuer, target, text in pairs:
            member = self.members[issuer]
            with self.database(member) as db, db.unit_of_work() as session:
                service = self.services(member).directives(session)
                directive = service.issue("supervisor", target, "text", text, due)
                ids.append((target, directive.directive_id))
        self.sync([*(p[0] for p in pairs), *(p[1] for p in pairs)])
        for target, directive_id in ids[:1]:
            member = self.members[target]
            with self.database(member) as db, db.unit_of_work() as session:
                self.services(member).directives(session).reply(
                    directive_id, "done", "已按要求报送", "supervisor")
        self.sync([ids[0][0], pairs[0][0]])
        return len(ids)

    # -- summaries ----------------------------------------------------------------------------

    def summaries(self, months: int) -> int:
        """Every node's signed summary of each demo month (the figures rolled up first), as
        the worker sends them (node/metrics/jobs.py): with the audit head and the commitment
        (its leaves kept for audits), else the hub flags the center 数据核验：未提交承诺."""
        now = utcnow()
        today, sent = to_shanghai_date(now), 0
        periods = _months(today, months)
        with bar("summaries", len(self.members)) as advance:
            for member in self.members.values():
                settings = self.settings(member)
                key = load_node_key(settings)
                with self.database(member) as db:
                    with db.unit_of_work() as session:
                        refresh(session, periods[0].start, today, now)
                    for period in periods:
                        with db.unit_of_work() as session:
                            metrics = MetricsService.for_settings(session, settings)
                            metrics.clock = lambda: now
                            body = metrics.summary(period)
                            body["audit"] = AuditLog(session).anchor()
                            commitment = commit(session, period, as_of(period, now))
                            body["commitment"] = commitment.body
                            envelope = emit(session, kind=Kind.SUMMARY, to="hub", body=body,
                                            sender=member.code, private_key=key, now=now)
                            keep(session, commitment, envelope.id, envelope.seq)
                            sent += 1
                advance(1)
        self.sync_all()
        return sent


def init_home(home: str, node: DemoNode, hub_url: str) -> None:
    """``tongban node init`` for one center, pointed at the demo's hub (in a pool process)."""
    with quiet():
        node_init.callback(home=home, code=node.code, name=node.name,  # type: ignore[misc]
                           kind=node.kind, database_url="")
    point_at_hub(Path(home) / "tongban.toml", hub_url)


def point_at_hub(config: Path, hub_url: str) -> None:
    """Set ``hub_url`` in a node's ``tongban.toml`` (and the demo's sync interval)."""
    lines = [line for line in config.read_text(encoding="utf-8").splitlines()
             if not line.startswith(("hub_url =", "sync_interval_seconds ="))]
    lines += [f'hub_url = "{hub_url}"', "sync_interval_seconds = 10"]
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")


def create_staff(home: str, node: DemoNode, logins: Mapping[str, str],
                 hashes: Mapping[str, str] | None = None) -> int:
    """The demo's departments and staff accounts in one center (in a pool process), with
    the logins' passwords hashed before (``hashes``, by username), else hashed here."""
    del node  # the same people everywhere
    load_all_models()
    db = Database(node_settings({"home": home}).database_url)
    policy = LoginPolicy(dt.timedelta(0), max_failed_logins=0, lockout=dt.timedelta(0))
    try:
        with db.unit_of_work() as session:
            if session.scalar(select(User.id).where(User.username == ADMIN.username)):
                return 0
            ensure_structure(CatalogService(session))  # clerks and approvers need departments
            auth = AuthService(session, policy)
            for user in DEMO_USERS:
                auth.create_user(NewUser(
                    username=user.username, display_name=user.display_name,
                    role=Role(user.role), password=logins[user.username],
                    department_code=user.department_code),
                    password_hash=(hashes or {}).get(user.username))
            return len(DEMO_USERS)
    finally:
        db.dispose()


def _months(today: dt.date, months: int) -> list[Period]:
    periods = [Period.month(today.year, today.month)]
    while len(periods) < months:
        periods.insert(0, periods[0].previous())
    return periods


def _clerk(session: Any) -> Actor:
    clerk = session.scalar(select(User).where(User.username == "clerk"))
    return Actor("clerk", "clerk", clerk.id, clerk.department_id)


__all__ = ["Federation", "Member"]
