"""Catalog publishing: the province publishes, every descendant adopts (issue 5, part 7)."""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

import orjson
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from node.audit.models import AuditEntry
from node.catalog.models import Department, Matter
from node.catalog.publishing import (
    STANDARD_DEPARTMENT_CODE,
    adopt_catalog,
    catalog_body,
    envelope_handlers,
    publish_catalog,
)
from node.catalog.service import CatalogService
from node.models import Base
from node.sync.models import InboxEnvelope, InboxState, OutboxEnvelope
from node.sync.names import RegistryCenterNames
from node.sync.outbox import AppliedInbox, SigningOutbox
from schemas.envelope import Envelope, Kind, parse_envelope, sign_envelope, verify_envelope
from schemas.errors import Conflict, TongbanError
from schemas.runtime.database import Database
from tests.unit.node.conftest import new_matter
from tests.unit.node.test_sync_fakes import (
    CITY,
    COUNTY,
    OTHER_COUNTY,
    PROVINCE,
    T0,
    FakeHub,
    Federation,
    clock,
    federation,
    sync_db,
)

__all__ = ["clock", "federation", "sync_db"]

INBOX = AppliedInbox()  # the node's inbox, as the composition root hands it over
NAMES = RegistryCenterNames(COUNTY, "")


def _base(session: Session) -> CatalogService:
    catalog = CatalogService(session)
    catalog.create_department("SC", "市场监督管理局")
    catalog.create_window("W01", "市场监管窗口", department_codes=["SC"])
    return catalog


def _published(code: str, **overrides: Any) -> dict[str, Any]:
    item = {
        "standard_code": code,
        "name": "食品经营许可证核发（标准）",
        "category": "administrative_licence",
        "handling_level": "county",
        "handling_type": "promised",
        "legal_limit_days": 20,
        "promised_limit_days": 10,
        "notify_and_commit": True,
        "deemed_approval": False,
        "legal_basis": "《食品安全法》第三十五条（标准）",
        "procedure": "申请—受理—决定",
        "conditions": "有经营场所",
        "fee_basis": "不收费",
        "fee_standard": "不收费",
        "fee_amount_fen": 0,
        "complaint_channel": "12345",
        "materials": [
            {"name": "申请书", "required": True, "form": "original", "copies": 1, "note": ""},
            {"name": "营业执照", "required": True, "form": "copy", "copies": 2, "note": "加盖公章"},
        ],
    }
    item.update(overrides)
    return item


def _catalog(
    federation: Federation,
    matters: list[dict[str, Any]],
    *,
    version: int = 1,
    sender: str = PROVINCE,
    seq: int | None = None,
) -> Envelope:
    body = {"catalog_version": version, "published_at": T0.isoformat(), "matters": matters}
    return sign_envelope(
        kind=Kind.CATALOG_PUBLISH,
        sender=sender,
        to=f"{sender}/*",
        seq=seq or version,
        body=body,
        private_key=federation.keys[sender],
        ts=T0,
    )


def _matter(session: Session, code: str) -> Matter:
    return session.scalars(select(Matter).where(Matter.code == code)).one()


def _snapshot(db: Database) -> list[tuple[Any, ...]]:
    with db.unit_of_work(write=False) as session:
        rows: list[tuple[Any, ...]] = []
        for matter in session.scalars(select(Matter).order_by(Matter.code)):
            rows.append(
                (
                    matter.code,
                    matter.name,
                    matter.promised_limit_days,
                    matter.legal_limit_days,
                    matter.department.code,
                    matter.window.code if matter.window else None,
                    matter.entered,
                    matter.should_enter,
                    tuple(sorted(matter.powers.items())),
                    matter.updated_at,
                    tuple(
                        (m.id, m.position, m.name, m.form, m.copies, m.note)
                        for m in matter.materials
                    ),
                )
            )
        audit = session.scalar(select(func.count()).select_from(AuditEntry))
        rows.append(("audit", audit))
        return rows


# -- publishing ------------------------------------------------------------------------------


def test_publish_at_the_province_emits_a_signed_catalog_to_every_descendant(
    sync_db: Database, federation: Federation
) -> None:
    with sync_db.unit_of_work() as session:
        catalog = _base(session)
        catalog.create_matter(new_matter("STD-0001"))
        catalog.create_matter(new_matter("STD-0002", name="营业执照核发"))
        catalog.create_matter(new_matter("STD-0003", name="已废止"))
        catalog.retire_matter("STD-0003")
    ids = []
    for _ in range(2):
        with sync_db.unit_of_work() as session:
            ids.extend(
                publish_catalog(
                    session,
                    outbox=SigningOutbox(PROVINCE, federation.keys[PROVINCE]),
                    actor="admin",
                    now=T0,
                )
            )
    with sync_db.unit_of_work(write=False) as session:
        rows = list(session.scalars(select(OutboxEnvelope).order_by(OutboxEnvelope.seq)))
    assert [row.id for row in rows] == ids
    envelopes = [parse_envelope(row.wire) for row in rows]
    for envelope in envelopes:
        verify_envelope(envelope, federation.keys[PROVINCE].public_key())
        assert envelope.kind is Kind.CATALOG_PUBLISH
        assert envelope.to == "450000/*"
        assert envelope.sender == PROVINCE
    assert [e.body["catalog_version"] for e in envelopes] == [1, 2]
    body = envelopes[0].body
    assert [m["standard_code"] for m in body["matters"]] == ["STD-0001", "STD-0002"]
    first = body["matters"][0]
    assert first["promised_limit_days"] == 5
    assert first["legal_limit_days"] == 20
    assert [m["name"] for m in first["materials"]] == [
        "食品经营许可申请书",
        "营业执照复印件",
        "法定代表人身份证明",
    ]
    assert "powers" not in first
    assert "entered" not in first


def test_publish_is_for_a_province_with_matters(sync_db: Database, federation: Federation) -> None:
    with sync_db.unit_of_work() as session, pytest.raises(Conflict):
        publish_catalog(
            session, outbox=SigningOutbox(PROVINCE, federation.keys[PROVINCE]), actor="admin"
        )
    with sync_db.unit_of_work() as session, pytest.raises(Conflict):
        publish_catalog(
            session, outbox=SigningOutbox(COUNTY, federation.keys[COUNTY]), actor="admin"
        )


def _recorded_as_applied(session: Session, envelope: Envelope, cursor: int) -> None:
    """As the sync worker records an envelope once its handler returns."""
    session.add(InboxEnvelope(
        id=envelope.id, sender=envelope.sender, seq=envelope.seq, kind=envelope.kind.value,
        wire=orjson.dumps(envelope.to_wire()).decode(), state=InboxState.APPLIED,
        mailbox_cursor=cursor, received_at=T0, applied_at=T0))


def test_a_large_catalog_goes_in_parts_and_every_part_is_adopted(
    sync_db: Database, federation: Federation, tmp_path: Any
) -> None:
    codes = [f"STD-{n:04d}" for n in range(1, 8)]
    with sync_db.unit_of_work() as session:
        catalog = _base(session)
        for code in codes:
            catalog.create_matter(new_matter(code, name=f"标准事项{code}"))
    with sync_db.unit_of_work() as session:
        one = len(orjson.dumps(catalog_body(session, catalog_version=1, published_at=T0)
                               ["matters"][0]))
        ids = publish_catalog(session, outbox=SigningOutbox(PROVINCE, federation.keys[PROVINCE]),
                              actor="admin", now=T0, part_budget=2 * one + 10)
    with sync_db.unit_of_work(write=False) as session:
        rows = list(session.scalars(select(OutboxEnvelope).order_by(OutboxEnvelope.seq)))
    envelopes = [parse_envelope(row.wire) for row in rows]
    assert [e.id for e in envelopes] == ids
    assert len(envelopes) == 4  # two matters a part: 2 + 2 + 2 + 1
    for number, envelope in enumerate(envelopes, start=1):
        verify_envelope(envelope, federation.keys[PROVINCE].public_key())
        assert envelope.body["catalog_version"] == 1
        assert (envelope.body["part"], envelope.body["parts"]) == (number, 4)
        assert len(orjson.dumps(envelope.body["matters"])) <= 2 * one + 10
    assert [m["standard_code"] for e in envelopes for m in e.body["matters"]] == codes

    county = Database(f"sqlite:///{tmp_path / 'county.db'}")
    Base.metadata.create_all(county.engine)
    try:
        for cursor, envelope in enumerate(reversed(envelopes), start=1):  # any order
            with county.unit_of_work() as session:
                report = adopt_catalog(session, envelope, node_code=COUNTY, inbox=INBOX)
                assert not report.ignored
                assert (report.part, report.parts) == (envelope.body["part"], 4)
                _recorded_as_applied(session, envelope, cursor)
        with county.unit_of_work(write=False) as session:
            adopted = session.scalars(select(Matter.code).order_by(Matter.code)).all()
            audit = session.scalars(select(AuditEntry.subject_id).where(
                AuditEntry.action == "catalog.adopt").order_by(AuditEntry.seq)).all()
        assert adopted == codes
        assert audit == [f"{PROVINCE}/1/4", f"{PROVINCE}/1/3", f"{PROVINCE}/1/2",
                         f"{PROVINCE}/1/1"]
        # a part of an older version arriving late changes nothing
        stale = _catalog(federation, [_published("STD-0001", name="旧版")], version=1, seq=99)
        newer = _catalog(federation, [_published("STD-0002", name="第二版")], version=2,
                         seq=100)
        with county.unit_of_work() as session:
            adopt_catalog(session, newer, node_code=COUNTY, inbox=INBOX)
            _recorded_as_applied(session, newer, 10)
        with county.unit_of_work() as session:
            assert adopt_catalog(session, stale, node_code=COUNTY, inbox=INBOX).ignored
            assert _matter(session, "STD-0001").name == "标准事项STD-0001"
    finally:
        county.dispose()


def test_a_catalog_within_the_budget_goes_whole_without_part_fields(
    sync_db: Database, federation: Federation
) -> None:
    with sync_db.unit_of_work() as session:
        _base(session).create_matter(new_matter("STD-0001"))
    with sync_db.unit_of_work() as session:
        ids = publish_catalog(session, outbox=SigningOutbox(PROVINCE, federation.keys[PROVINCE]),
                              actor="admin", now=T0)
    with sync_db.unit_of_work(write=False) as session:
        wire = session.scalars(select(OutboxEnvelope.wire)).one()
    body = parse_envelope(wire).body
    assert len(ids) == 1
    assert "part" not in body
    assert "parts" not in body


# -- adopting --------------------------------------------------------------------------------


@pytest.fixture
def county_db(sync_db: Database) -> Database:
    """A county with two local matters: LOCAL-SHORT (promised 3) and LOCAL-LONG (promised 15)."""
    with sync_db.unit_of_work() as session:
        catalog = _base(session)
        catalog.create_matter(
            new_matter("LOCAL-SHORT", promised_limit_days=3, should_enter=False)
        )
        catalog.create_matter(new_matter("LOCAL-LONG", promised_limit_days=15))
    return sync_db


def test_a_county_adopts_new_matters_and_updates_its_own_but_keeps_its_local_choices(
    county_db: Database, federation: Federation
) -> None:
    envelope = _catalog(
        federation,
        [
            _published("LOCAL-SHORT", promised_limit_days=10),
            _published(
                "LOCAL-LONG", promised_limit_days=8, fee_amount_fen=500, fee_standard="每件5元"
            ),
            _published(
                "NEW-0001",
                name="新事项",
                handling_type="immediate",
                promised_limit_days=0,
                legal_limit_days=0,
                materials=[],
            ),
        ],
    )
    with county_db.unit_of_work() as session:
        report = adopt_catalog(session, envelope, node_code=COUNTY, inbox=INBOX)
    assert sorted(report.updated) == ["LOCAL-LONG", "LOCAL-SHORT"]
    assert report.created == ["NEW-0001"]
    assert not report.skipped
    assert not report.ignored

    with county_db.unit_of_work(write=False) as session:
        short = _matter(session, "LOCAL-SHORT")
        assert short.name == "食品经营许可证核发（标准）"
        assert short.promised_limit_days == 3  # the local, shorter promise stays
        assert short.notify_and_commit is True
        assert short.should_enter is False
        assert short.entered is True
        assert short.window is not None
        assert short.window.code == "W01"
        assert short.department.code == "SC"
        assert short.powers["approve"] is True
        assert short.powers["litigate"] is False
        assert [(m.name, m.form.value, m.copies, m.note) for m in short.materials] == [
            ("申请书", "original", 1, ""),
            ("营业执照", "copy", 2, "加盖公章"),
        ]

        long = _matter(session, "LOCAL-LONG")
        assert long.promised_limit_days == 8  # shortened to the published promise
        assert (long.fee_amount_fen, long.fee_standard) == (500, "每件5元")
        assert long.entered is True
        assert long.powers["accept"] is True

        new = _matter(session, "NEW-0001")
        assert new.department.code == STANDARD_DEPARTMENT_CODE
        assert new.window is None
        assert new.entered is False
        assert new.should_enter is True
        assert not any(new.powers.values())
        assert new.handling_type.value == "immediate"
        assert new.materials == []
        std = session.scalars(
            select(Department).where(Department.code == STANDARD_DEPARTMENT_CODE)
        ).one()
        assert std.name == "标准目录事项（待分配）"


def test_re_applying_the_same_catalog_changes_nothing(
    county_db: Database, federation: Federation
) -> None:
    envelope = _catalog(
        federation, [_published("LOCAL-LONG", promised_limit_days=8), _published("NEW-0001")]
    )
    handler = envelope_handlers(COUNTY, INBOX, NAMES)[Kind.CATALOG_PUBLISH]
    with county_db.unit_of_work() as session:
        handler(session, envelope)
    before = _snapshot(county_db)
    with county_db.unit_of_work() as session:
        report = adopt_catalog(session, envelope, node_code=COUNTY, inbox=INBOX)
    assert report.created == []
    assert report.updated == []
    assert sorted(report.unchanged) == ["LOCAL-LONG", "NEW-0001"]
    assert _snapshot(county_db) == before


def test_a_published_longer_limit_never_lengthens_a_local_one(
    county_db: Database, federation: Federation
) -> None:
    with county_db.unit_of_work() as session:
        adopt_catalog(
            session,
            _catalog(federation, [_published("LOCAL-LONG", promised_limit_days=8)]),
            node_code=COUNTY, inbox=INBOX,
        )
    with county_db.unit_of_work() as session:
        adopt_catalog(
            session,
            _catalog(federation, [_published("LOCAL-LONG", promised_limit_days=12)], version=2),
            node_code=COUNTY, inbox=INBOX,
        )
        assert _matter(session, "LOCAL-LONG").promised_limit_days == 8


def test_an_older_catalog_than_one_applied_is_ignored(
    county_db: Database, federation: Federation
) -> None:
    newer = _catalog(federation, [_published("LOCAL-LONG", name="第二版")], version=2)
    older = _catalog(federation, [_published("LOCAL-LONG", name="第一版")], version=1)
    with county_db.unit_of_work() as session:
        adopt_catalog(session, newer, node_code=COUNTY, inbox=INBOX)
        # as the sync worker records it once the handler returns
        session.add(
            InboxEnvelope(
                id=newer.id,
                sender=PROVINCE,
                seq=newer.seq,
                kind=newer.kind.value,
                wire=orjson.dumps(newer.to_wire()).decode(),
                state=InboxState.APPLIED,
                mailbox_cursor=1,
                received_at=T0,
                applied_at=T0,
            )
        )
    with county_db.unit_of_work() as session:
        report = adopt_catalog(session, older, node_code=COUNTY, inbox=INBOX)
        assert report.ignored
        assert _matter(session, "LOCAL-LONG").name == "第二版"


def test_a_matter_that_breaks_a_rule_is_skipped_and_the_rest_adopted(
    county_db: Database, federation: Federation
) -> None:
    # LOCAL-LONG is entered with powers; turning it immediate needs promised 0: fine.  A
    # promised matter with promised 0 is refused by the catalog rules (the schema allows it).
    envelope = _catalog(
        federation,
        [
            _published("BAD-0001", promised_limit_days=0),
            _published("NEW-0002"),
        ],
    )
    with county_db.unit_of_work() as session:
        report = adopt_catalog(session, envelope, node_code=COUNTY, inbox=INBOX)
    assert list(report.skipped) == ["BAD-0001"]
    assert "promised_limit_days" in report.skipped["BAD-0001"]
    assert report.created == ["NEW-0002"]
    with county_db.unit_of_work(write=False) as session:
        assert session.scalar(select(Matter.id).where(Matter.code == "BAD-0001")) is None


@pytest.mark.parametrize("sender", [OTHER_COUNTY, COUNTY])
def test_a_sender_that_is_not_an_ancestor_is_refused(
    county_db: Database, federation: Federation, sender: str
) -> None:
    envelope = _catalog(federation, [_published("NEW-0003")], sender=sender)
    with county_db.unit_of_work() as session, pytest.raises(TongbanError):
        adopt_catalog(session, envelope, node_code=COUNTY, inbox=INBOX)
    with county_db.unit_of_work(write=False) as session:
        assert session.scalar(select(Matter.id).where(Matter.code == "NEW-0003")) is None


def test_the_city_between_is_an_ancestor_too(county_db: Database, federation: Federation) -> None:
    envelope = _catalog(federation, [_published("NEW-0004")], sender=CITY)
    with county_db.unit_of_work() as session:
        report = adopt_catalog(session, envelope, node_code=COUNTY, inbox=INBOX)
        assert report.created == ["NEW-0004"]


def test_what_the_province_publishes_the_county_adopts(
    sync_db: Database, federation: Federation
) -> None:
    with sync_db.unit_of_work() as session:
        catalog = _base(session)
        catalog.create_matter(new_matter("STD-0001", promised_limit_days=4))
        publish_catalog(
            session,
            outbox=SigningOutbox(PROVINCE, federation.keys[PROVINCE]),
            actor="admin",
            now=T0 + dt.timedelta(hours=1),
        )
    with sync_db.unit_of_work(write=False) as session:
        wire = session.scalars(select(OutboxEnvelope.wire)).one()
    envelope = parse_envelope(copy.deepcopy(orjson.loads(wire)))
    # the same database becomes a county that has none of the province's matters
    Base.metadata.drop_all(sync_db.engine)
    Base.metadata.create_all(sync_db.engine)
    with sync_db.unit_of_work() as session:
        envelope_handlers(COUNTY, INBOX, NAMES)[Kind.CATALOG_PUBLISH](session, envelope)
    with sync_db.unit_of_work(write=False) as session:
        matter = _matter(session, "STD-0001")
        assert matter.promised_limit_days == 4
        assert matter.entered is False
        assert matter.window is None
        assert len(matter.materials) == 3


def test_the_standard_catalog_carries_keywords_and_an_older_one_keeps_the_nodes(
    sync_db: Database, federation: Federation
) -> None:
    with sync_db.unit_of_work() as session:
        catalog = _base(session)
        catalog.create_matter(new_matter("STD-0001", keywords=["营业执照", "个体户"]))
        body = catalog_body(session, catalog_version=1, published_at=T0)
    assert body["matters"][0]["keywords"] == ["营业执照", "个体户"]
    Base.metadata.drop_all(sync_db.engine)
    Base.metadata.create_all(sync_db.engine)

    with sync_db.unit_of_work() as session:
        adopt_catalog(session, _catalog(federation, body["matters"]), node_code=COUNTY, inbox=INBOX)
    with sync_db.unit_of_work(write=False) as session:
        assert _matter(session, "STD-0001").keywords == ["营业执照", "个体户"]
        found = CatalogService(session).search_matters(query="营业执照")
        assert (found.total, [m.code for m in found.items]) == (1, ["STD-0001"])

    # a catalog published before keywords existed is still valid, and keeps the node's
    older = [_published("STD-0001", name="改名后的事项")]
    assert "keywords" not in older[0]
    with sync_db.unit_of_work() as session:
        report = adopt_catalog(session, _catalog(federation, older, version=2), node_code=COUNTY,
                               inbox=INBOX)
    assert report.updated == ["STD-0001"]
    with sync_db.unit_of_work(write=False) as session:
        adopted = _matter(session, "STD-0001")
        assert (adopted.name, adopted.keywords) == ("改名后的事项", ["营业执照", "个体户"])
    # a newer one that lists none clears them
    with sync_db.unit_of_work() as session:
        adopt_catalog(session, _catalog(federation, [{**older[0], "keywords": []}], version=3),
                      node_code=COUNTY, inbox=INBOX)
    with sync_db.unit_of_work(write=False) as session:
        assert _matter(session, "STD-0001").keywords == []


def test_a_published_keyword_must_be_a_short_non_blank_text(federation: Federation) -> None:
    from schemas.messages import validate_body

    good = {"catalog_version": 1, "published_at": T0.isoformat(),
            "matters": [_published("X-1", keywords=["营业执照"])]}
    validate_body(Kind.CATALOG_PUBLISH, good)
    for bad in (["   "], ["字" * 51], ["营业执照"] * 31, "营业执照", [1]):
        body = copy.deepcopy(good)
        body["matters"][0]["keywords"] = bad
        with pytest.raises(TongbanError) as refused:
            validate_body(Kind.CATALOG_PUBLISH, body)
        assert "keywords" in refused.value.details["fields"]["matters"]["0"], bad


def test_publish_catalog_command_queues_the_envelope_and_sync_adopts_it(tmp_path) -> None:
    """The CLI queues catalog.publish; the composed SyncService routes that kind to the
    catalog's adopter."""
    from click.testing import CliRunner

    from node.cli import node as node_cli
    from node.composition import NodeServices
    from node.config import node_settings
    from node.sync.keys import load_node_key

    home = str(tmp_path / "province")
    runner = CliRunner()
    assert runner.invoke(node_cli, ["init", "--home", home, "--code", "450000"]).exit_code == 0
    db = Database(node_settings({"home": home}).database_url)
    with db.unit_of_work() as session:
        catalog = CatalogService(session)
        catalog.create_department("SC", "市场监督管理局")
        catalog.create_window("W01", "窗口", "", ["SC"])
        catalog.create_matter(new_matter(handling_level="province"))
    result = runner.invoke(node_cli, ["publish-catalog", "--home", home])
    assert result.exit_code == 0, result.output
    with db.sessions() as session:
        kinds = session.scalars(select(OutboxEnvelope.kind)).all()
    assert "catalog.publish" in kinds
    settings = node_settings({"home": home})
    services = NodeServices(settings, load_node_key(settings))
    service = services.sync_service(db, transport=FakeHub())
    assert service.handlers[Kind.CATALOG_PUBLISH].__name__ == "adopt_published_catalog"
    db.dispose()


def test_the_standard_catalog_carries_the_practical_fields_and_the_nodes_own_win(
    sync_db: Database, federation: Federation
) -> None:
    practical = {"service_address": "自治区政务服务中心", "office_hours": "工作日 9:00-17:00",
                 "enquiry_phone": "0771-1234567", "complaint_phone": "12345"}
    with sync_db.unit_of_work() as session:
        catalog = _base(session)
        catalog.create_matter(new_matter("STD-0001", **practical))
        body = catalog_body(session, catalog_version=1, published_at=T0)
    assert {k: body["matters"][0][k] for k in practical} == practical
    Base.metadata.drop_all(sync_db.engine)
    Base.metadata.create_all(sync_db.engine)

    # a node without its own: adopted; a node with its own 办理地点: kept, the others filled
    with sync_db.unit_of_work() as session:
        adopt_catalog(session, _catalog(federation, body["matters"]), node_code=COUNTY, inbox=INBOX)
    with sync_db.unit_of_work(write=False) as session:
        adopted = _matter(session, "STD-0001")
        assert {k: getattr(adopted, k) for k in practical} == practical
    with sync_db.unit_of_work() as session:
        local = _matter(session, "STD-0001")
        local.service_address, local.office_hours = "县政务服务中心二楼", ""
    with sync_db.unit_of_work() as session:
        adopt_catalog(session, _catalog(federation, body["matters"], version=2),
                      node_code=COUNTY, inbox=INBOX)
    with sync_db.unit_of_work(write=False) as session:
        adopted = _matter(session, "STD-0001")
        assert (adopted.service_address, adopted.office_hours) == (
            "县政务服务中心二楼", "工作日 9:00-17:00")

    # a catalog published before these fields existed is valid and keeps them
    older = [_published("STD-0001")]
    assert "service_address" not in older[0]
    with sync_db.unit_of_work() as session:
        adopt_catalog(session, _catalog(federation, older, version=3), node_code=COUNTY,
                      inbox=INBOX)
    with sync_db.unit_of_work(write=False) as session:
        assert _matter(session, "STD-0001").service_address == "县政务服务中心二楼"


def test_a_published_phone_must_be_a_telephone_number(federation: Federation) -> None:
    from schemas.messages import validate_body

    good = {"catalog_version": 1, "published_at": T0.isoformat(),
            "matters": [_published("X-1", enquiry_phone="0775-1234567 转 8001")]}
    validate_body(Kind.CATALOG_PUBLISH, good)
    for field, bad in (("enquiry_phone", "请拨打热线"), ("complaint_phone", "1" * 101),
                       ("office_hours", 9), ("service_address", "地" * 201)):
        body = copy.deepcopy(good)
        body["matters"][0][field] = bad
        with pytest.raises(TongbanError) as refused:
            validate_body(Kind.CATALOG_PUBLISH, body)
        assert field in refused.value.details["fields"]["matters"]["0"], bad
