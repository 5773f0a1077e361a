"""The demo's catalog and people: departments, windows, window staff, the province's standard
catalog (四统一) and how each center localizes what it adopts.

The province creates these matters in its own catalog and publishes them; every descendant
adopts them over signed sync (node/catalog/publishing.py) into department STD, not entered,
and then localizes them here: the department and window that handle each matter, whether it is
entered in the center (进驻) and which powers the window holds (授权), in the shares of the
center's profile, so that entry and authorization rates differ by center.
"""

from __future__ import annotations

import contextlib
import random
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from deploy.demo.layout import DemoNode
from node.catalog.bundles import BundleCatalog, BundleDefinition, FormField
from node.catalog.inputs import MatterChanges, NewMatter, NewStaffMember
from node.catalog.models import Matter
from node.catalog.service import CatalogService
from schemas.errors import Conflict
from schemas.metrics import POWER_NAMES, POWERS

# -- the demo's people and catalog ------------------------------------------------------------


@dataclass(frozen=True)
class DemoUser:
    username: str
    role: str
    display_name: str
    description: str
    department_code: str | None = None


ADMIN = DemoUser("admin", "admin", "中心管理员", "center administrator: catalog, staff, users")
DEMO_USERS: tuple[DemoUser, ...] = (
    ADMIN,
    DemoUser("clerk", "clerk", "李明", "window clerk (公安局, window W01)", department_code="GA"),
    DemoUser("approver", "approver", "王芳", "approver of 市场监督管理局", department_code="SC"),
    DemoUser("supervisor", "supervisor", "效能监察员", "supervision office (效能监察)"),
    DemoUser("viewer", "viewer", "统计员", "read-only figures and rankings"),
)


DEPARTMENTS: tuple[dict[str, str], ...] = (
    {"code": "GA", "name": "公安局"},
    {"code": "SC", "name": "市场监督管理局"},
    {"code": "ZR", "name": "自然资源局"},
    {"code": "ZJ", "name": "住房和城乡建设局"},
    {"code": "WJ", "name": "卫生健康局"},
    {"code": "RS", "name": "人力资源和社会保障局"},
)

WINDOWS: tuple[dict[str, Any], ...] = (
    {"code": "W01", "name": "公安户政窗口", "location": "一楼A区1-2号",
     "department_codes": ["GA"]},
    {"code": "W02", "name": "市场准入窗口", "location": "一楼B区3-6号",
     "department_codes": ["SC"]},
    {"code": "W03", "name": "不动产与工程建设窗口", "location": "二楼C区7-10号",
     "department_codes": ["ZR", "ZJ"]},
    {"code": "W04", "name": "社会事务窗口", "location": "二楼D区11号",
     "department_codes": ["WJ", "RS"]},
)

STAFF: tuple[dict[str, Any], ...] = (
    {"code": "S001", "name": "李明", "staff_type": "civil_servant", "department_code": "GA",
     "window_code": "W01", "position": "窗口负责人"},
    {"code": "S002", "name": "王芳", "staff_type": "public_institution",
     "department_code": "SC", "window_code": "W02", "position": "受理员"},
    {"code": "S003", "name": "陈静", "staff_type": "temporary", "department_code": "SC",
     "window_code": "W02", "position": "导办员"},
    {"code": "S004", "name": "刘洋", "staff_type": "civil_servant", "department_code": "ZR",
     "window_code": "W03", "position": "首席代表"},
    {"code": "S005", "name": "黄伟", "staff_type": "public_institution",
     "department_code": "ZJ", "window_code": "W03", "position": "受理员"},
    {"code": "S006", "name": "梁婷", "staff_type": "temporary", "department_code": "WJ",
     "window_code": "W04", "position": "受理员"},
)

ALL_POWERS = POWERS
COMPLAINT_CHANNEL = "12345政务服务便民热线；本中心效能监察室（一楼服务台）"
# the guide's practical fields the standard catalog carries (a center fills in its own place:
# left empty, the guide shows the window's name and location)
OFFICE_HOURS = "工作日 上午 8:30-12:00，下午 14:30-17:30（法定节假日除外）"
COMPLAINT_PHONE = "12345"
NO_FEE: dict[str, Any] = {"fee_basis": "不收费", "fee_standard": "不收费", "fee_amount_fen": 0}


def _material(name: str, form: str = "original", *, required: bool = True,
              copies: int = 1, note: str = "") -> dict[str, Any]:
    return {"name": name, "form": form, "required": required, "copies": copies, "note": note}


def _matter(
    code: str,
    name: str,
    *,
    department: str,
    window: str | None,
    powers: Iterable[str] = (),
    **fields: Any,
) -> dict[str, Any]:
    """A matter of the standard catalog as the province runs it; ``window=None``: not entered."""
    granted = set(powers)
    if window is None:
        authority = "未进驻中心（实进：否），由部门在本单位办理"
    else:
        authority = "窗口授权：" + "、".join(POWER_NAMES[p] for p in ALL_POWERS if p in granted)
    return {
        "code": code,
        "name": name,
        "department_code": department,
        "window_code": window,
        "handling_level": "county",
        "should_enter": True,
        "entered": window is not None,
        "complaint_channel": COMPLAINT_CHANNEL,
        "office_hours": OFFICE_HOURS,
        "complaint_phone": COMPLAINT_PHONE,
        "window_authority": authority,
        "powers": {p: p in granted for p in ALL_POWERS},
        **fields,
    }


MATTERS: tuple[dict[str, Any], ...] = (
    _matter(
        "450000GA001", "居民身份证换领", department="GA", window="W01",
        keywords=["身份证", "换证", "身份证到期", "补领身份证"],
        powers=("accept", "review", "coordinate", "deliver", "issue", "approve"),
        category="public_service", handling_type="promised",
        legal_limit_days=60, promised_limit_days=15,
        legal_basis="《中华人民共和国居民身份证法》第八条、第十一条、第十四条",
        procedure="现场采集人像和指纹—窗口受理—审核签发—制证—领取或邮寄送达",
        conditions="居民身份证有效期满、登记项目变更或者证件严重损坏不能辨认的本市户籍居民",
        fee_basis="《国家发展改革委 财政部关于居民身份证收费标准及有关问题的通知》"
                  "（发改价格〔2003〕2322号）",
        fee_standard="换领居民身份证每证20元",
        fee_amount_fen=2000,
        materials=[
            _material("居民户口簿"),
            _material("原居民身份证", note="证件遗失的除外"),
            _material("本人相片", "electronic", note="窗口现场采集，无需另交纸质相片"),
        ],
    ),
    _matter(
        "450000GA002", "户口迁移（市内迁移）", department="GA", window="W01",
        keywords=["户口", "迁户口", "落户", "户籍"],
        powers=ALL_POWERS,
        category="public_service", handling_type="immediate",
        legal_limit_days=10, promised_limit_days=0,
        legal_basis="《中华人民共和国户口登记条例》第十条",
        procedure="申请—窗口受理审核—当场办结并签发户口簿",
        conditions="在本市范围内有合法稳定住所的本市户籍居民",
        **NO_FEE,
        materials=[
            _material("居民户口簿"),
            _material("居民身份证", "original_and_copy"),
            _material("合法稳定住所证明（不动产权证书或房屋租赁登记证明）", "original_and_copy"),
        ],
    ),
    _matter(
        "450000SC001", "个体工商户设立登记", department="SC", window="W02",
        keywords=["营业执照", "个体户", "开店", "办执照"],
        powers=ALL_POWERS,
        category="administrative_licence", handling_type="immediate",
        legal_limit_days=15, promised_limit_days=0,
        legal_basis="《中华人民共和国市场主体登记管理条例》第三条、第十九条；《促进个体工商户发展条例》",
        procedure="网上或窗口申请—受理—审查—当场核发营业执照",
        conditions="有经营能力的自然人，有与经营相适应的经营场所",
        **NO_FEE,
        materials=[
            _material("个体工商户登记（备案）申请书"),
            _material("经营者身份证明", "original_and_copy"),
            _material("经营场所使用证明", "copy"),
        ],
    ),
    _matter(
        "450000SC002", "食品经营许可证核发", department="SC", window="W02",
        keywords=["食品经营许可证", "餐饮", "开饭店", "小卖部"],
        powers=("accept", "review", "coordinate", "deliver", "issue", "approve"),
        category="administrative_licence", handling_type="promised",
        notify_and_commit=True,
        # 全省通办: any center of Guangxi receives it for the county where the business is
        tongban_scope="province", competence="matter",
        legal_limit_days=20, promised_limit_days=5,
        legal_basis="《中华人民共和国食品安全法》第三十五条；《食品经营许可和备案管理办法》",
        procedure="申请—受理—审查（必要时现场核查）—许可决定—发证；"
                  "选择告知承诺制的，申请人书面承诺后当场发证，事后核查",
        conditions="具有与经营的食品品种、数量相适应的经营场所、设备设施、"
                   "食品安全管理人员和管理制度",
        **NO_FEE,
        materials=[
            _material("食品经营许可申请书"),
            _material("营业执照", "copy"),
            _material("经营场所平面布局图和设备设施清单"),
            _material("食品安全管理制度文本"),
            _material("告知承诺书", required=False, note="选择告知承诺制办理时提供"),
        ],
    ),
    _matter(
        "450000SC003", "有限责任公司设立登记", department="SC", window="W02",
        keywords=["营业执照", "开公司", "注册公司", "企业登记"],
        powers=("accept", "review", "coordinate", "deliver", "issue", "approve"),
        category="administrative_licence", handling_type="promised",
        legal_limit_days=15, promised_limit_days=1,
        legal_basis="《中华人民共和国公司法》第二十九条；《中华人民共和国市场主体登记管理条例》",
        procedure="网上申报—窗口受理—审查—核准登记—发照",
        conditions="股东符合法定人数，有公司章程、公司名称和住所",
        **NO_FEE,
        materials=[
            _material("公司登记（备案）申请书"),
            _material("公司章程"),
            _material("股东主体资格证明", "copy"),
            _material("法定代表人、董事、监事和经理的任职文件"),
            _material("住所使用证明", "copy"),
        ],
    ),
    _matter(
        "450000ZR001", "不动产转移登记（国有建设用地使用权及房屋所有权）",
        department="ZR", window="W03",
        keywords=["房产证", "不动产权证书", "过户", "买房"],
        powers=("accept", "review", "coordinate", "deliver", "issue", "approve"),
        category="non_licence_approval", handling_type="promised",
        legal_limit_days=30, promised_limit_days=5,
        legal_basis="《不动产登记暂行条例》第十四条、第二十条",
        procedure="申请—受理—审核（必要时实地查看）—登簿—缴费—发证",
        conditions="不动产权属清楚，已依法缴纳相关税费",
        fee_basis="《国家发展改革委 财政部关于不动产登记收费标准等有关问题的通知》"
                  "（发改价格规〔2016〕2559号）",
        fee_standard="住宅类每件80元（含第一本证书工本费）",
        fee_amount_fen=8000,
        materials=[
            _material("不动产登记申请书"),
            _material("申请人身份证明", "original_and_copy"),
            _material("不动产权证书"),
            _material("不动产买卖合同", copies=2),
            _material("完税凭证", "copy"),
        ],
    ),
    _matter(
        # The window may only receive and hand back: a "收发室" of the kind the reports criticise.
        "450000ZR002", "建设用地规划许可证核发", department="ZR", window="W03",
        keywords=["用地规划", "规划许可"],
        powers=("accept", "deliver"),
        category="administrative_licence", handling_type="promised",
        legal_limit_days=20, promised_limit_days=10,
        legal_basis="《中华人民共和国城乡规划法》第三十七条、第三十八条",
        procedure="申请—窗口收件—局机关审查—局务会审批—窗口送达",
        conditions="建设项目已取得用地预审与选址意见或国有土地使用权出让合同",
        **NO_FEE,
        materials=[
            _material("建设用地规划许可申请表"),
            _material("建设项目批准、核准或备案文件", "copy"),
            _material("国有建设用地使用权出让合同", "copy"),
            _material("宗地红线图"),
        ],
    ),
    _matter(
        "450000ZJ001", "建筑工程施工许可证核发", department="ZJ", window="W03",
        keywords=["施工许可证", "开工", "建房"],
        powers=("accept", "review", "coordinate", "deliver", "issue"),
        category="administrative_licence", handling_type="promised",
        deemed_approval=True,
        legal_limit_days=7, promised_limit_days=3,
        legal_basis="《中华人民共和国建筑法》第七条、第八条；《建筑工程施工许可管理办法》第五条",
        procedure="网上申报—窗口受理—审查—决定—发证",
        conditions="已办理用地和规划许可手续，施工图设计文件已按规定审查合格，"
                   "已确定施工企业，建设资金已经落实",
        **NO_FEE,
        materials=[
            _material("建筑工程施工许可证申请表"),
            _material("建设工程规划许可证", "copy"),
            _material("施工合同", "copy"),
            _material("建设资金已经落实承诺书"),
        ],
    ),
    _matter(
        "450000ZJ002", "商品房预售许可", department="ZJ", window="W03",
        keywords=["预售证", "卖房", "楼盘"],
        powers=("accept", "review", "coordinate", "deliver", "issue", "approve"),
        category="administrative_licence", handling_type="promised",
        legal_limit_days=10, promised_limit_days=5,
        legal_basis="《中华人民共和国城市房地产管理法》第四十五条；《城市商品房预售管理办法》第七条",
        procedure="申请—受理—现场查勘—审核—发证",
        conditions="已交付全部土地使用权出让金，取得土地使用权证书和建设工程规划许可证，"
                   "投入开发建设的资金达到工程建设总投资的25%以上",
        **NO_FEE,
        materials=[
            _material("商品房预售许可申请表"),
            _material("开发企业营业执照和资质证书", "copy"),
            _material("土地使用权证书、建设工程规划许可证和施工许可证", "copy"),
            _material("工程施工进度说明"),
            _material("商品房预售方案"),
        ],
    ),
    _matter(
        # Should enter but has not (应进未进): it lowers the center's entry rate.
        "450000WJ001", "医疗机构执业登记", department="WJ", window=None,
        keywords=["诊所", "医疗机构执业许可证", "开诊所"],
        category="administrative_licence", handling_type="promised",
        legal_limit_days=45, promised_limit_days=30,
        legal_basis="《医疗机构管理条例》第十五条、第十七条",
        procedure="申请—受理—现场审查—审批—发证",
        conditions="按照设置许可的规模和条件建成，符合医疗机构基本标准",
        **NO_FEE,
        materials=[
            _material("医疗机构执业登记申请书"),
            _material("设置医疗机构批准书", "copy"),
            _material("医疗机构用房产权证明或使用证明", "copy"),
            _material("医务人员执业资格证书", "copy"),
        ],
    ),
    _matter(
        "450000WJ002", "公共场所卫生许可证核发", department="WJ", window="W04",
        keywords=["卫生许可证", "理发店", "宾馆", "美容院"],
        powers=("accept", "review", "coordinate", "deliver", "issue", "approve"),
        category="administrative_licence", handling_type="promised",
        legal_limit_days=20, promised_limit_days=7,
        legal_basis="《公共场所卫生管理条例》第八条；《公共场所卫生管理条例实施细则》",
        procedure="申请—受理—现场审查—许可决定—发证",
        conditions="卫生设施和卫生管理制度符合公共场所卫生标准和要求",
        **NO_FEE,
        materials=[
            _material("公共场所卫生许可申请表"),
            _material("营业执照", "copy"),
            _material("卫生管理制度和从业人员健康合格证明", "copy"),
        ],
    ),
)


# 新生儿出生一件事 (国发〔2024〕3号's first list): four matters of three departments, 医保参保
# decided by the city; the province defines the bundle and publishes it with the catalog
BIRTH_BUNDLE = "450000YJS001"
_BIRTH = dict(category="public_service", handling_type="promised", **NO_FEE,
              procedure="一件事一次办：一表申请—一窗受理—并联办理—统一出件")
_BIRTH_PROOF = _material("出生医学证明")
_PARENT_IDS = _material("父母居民身份证", "original_and_copy")
BIRTH_MATTERS: tuple[dict[str, Any], ...] = (
    _matter("450000WJ101", "出生医学证明签发", department="WJ", window="W04",
            powers=ALL_POWERS, legal_limit_days=5, promised_limit_days=1,
            legal_basis="《中华人民共和国母婴保健法》第二十三条", conditions="在本辖区助产机构出生",
            materials=[_PARENT_IDS, _material("出生医学证明首次签发登记表")], **_BIRTH),
    _matter("450000GA101", "出生户口登记", department="GA", window="W01",
            powers=ALL_POWERS, legal_limit_days=10, promised_limit_days=3,
            legal_basis="《中华人民共和国户口登记条例》第七条", conditions="父母一方为本地户籍",
            materials=[_BIRTH_PROOF, _PARENT_IDS, _material("户口簿")], **_BIRTH),
    _matter("450000RS101", "城乡居民基本医疗保险参保登记", department="RS", window="W04",
            powers=ALL_POWERS, legal_limit_days=10, promised_limit_days=5,
            handling_level="city", legal_basis="《中华人民共和国社会保险法》第二十五条",
            conditions="新生儿出生后办理参保", materials=[_BIRTH_PROOF, _material("户口簿")],
            **_BIRTH),
    _matter("450000RS102", "社会保障卡申领", department="RS", window="W04",
            powers=ALL_POWERS, legal_limit_days=20, promised_limit_days=10,
            legal_basis="《社会保障卡管理办法》第十条", conditions="已参加社会保险",
            materials=[_PARENT_IDS, _material("新生儿免冠照片", "electronic")], **_BIRTH),
)
BIRTH_FORM = [{"key": "baby_name", "label": "新生儿姓名"},
              {"key": "birth_date", "label": "出生日期"},
              {"key": "guardian_phone", "label": "监护人联系电话"}]


def define_bundles(session: Session, province: str) -> str:
    """The province's 新生儿出生一件事 (defined again on a second run: nothing changes)."""
    catalog = BundleCatalog(session, province)
    catalog.define(BundleDefinition(
        code=BIRTH_BUNDLE, name="新生儿出生一件事",
        description="出生医学证明、户口登记、医保参保、社保卡申领，一次申请、一窗受理",
        items=tuple((m["code"], tuple(FormField(**f) for f in BIRTH_FORM))
                    for m in BIRTH_MATTERS)))
    return BIRTH_BUNDLE


def fill_province_catalog(session: Session) -> int:
    """The province's own departments, windows, staff and standard matters; how many matters
    were added (0 when the catalog is filled already)."""
    catalog = CatalogService(session)
    if catalog.search_matters(include_retired=True, per_page=1).items:
        return 0
    ensure_structure(catalog)
    for payload in (*MATTERS, *BIRTH_MATTERS):
        catalog.create_matter(NewMatter.of(payload))
    return len(MATTERS) + len(BIRTH_MATTERS)


def ensure_structure(catalog: CatalogService) -> None:
    for department in DEPARTMENTS:
        _create(catalog.create_department, department["code"], department["name"])
    for window in WINDOWS:
        _create(lambda w=window: catalog.create_window(**w))
    for member in STAFF:
        _create(lambda m=member: catalog.create_staff_member(NewStaffMember.of(m)))


def _create(make: Any, *args: Any) -> None:
    with contextlib.suppress(Conflict):  # a second run finds it there
        make(*args)


def localize(session: Session, node: DemoNode) -> dict[str, int]:
    """Give the adopted standard matters this center's department, window, entry and powers.

    Deterministic for a center (seeded by its code), so a second run changes nothing."""
    catalog = CatalogService(session)
    ensure_structure(catalog)
    rng = random.Random(int(node.code))  # noqa: S311 - demo figures, not secrets
    # 网上可办 and a promise shorter than the standard's (承诺时限压缩): draws of their own,
    # so that the entry and the powers stay as they were drawn
    offered = random.Random(f"tongban-demo-online-{node.code}")  # noqa: S311
    counts = {"entered": 0, "approve": 0, "matters": 0}
    by_code = {payload["code"]: payload for payload in (*MATTERS, *BIRTH_MATTERS)}
    for matter in _adopted(session, by_code):
        standard = by_code[matter.code]
        entered = standard["window_code"] is not None and rng.random() < node.profile.entered
        approve = entered and rng.random() < node.profile.approve_power
        if entered:
            powers = dict(standard["powers"]) | {"approve": approve}
        else:
            powers = dict.fromkeys(standard["powers"], False)
        promised = int(standard["promised_limit_days"])
        if promised > 1 and offered.random() < node.profile.same_day:
            promised -= offered.randint(1, promised // 2)  # the center promises less
        catalog.update_matter(matter.code, MatterChanges(
            department_code=standard["department_code"],
            window_code=standard["window_code"] if entered else None,
            entered=entered,
            powers=powers,
            online=offered.random() < 0.4 + 0.6 * node.profile.entered,
            promised_limit_days=min(promised, matter.promised_limit_days),
        ))
        counts["matters"] += 1
        counts["entered"] += entered
        counts["approve"] += approve
    if node.level == "county" and offered.random() < node.profile.same_day:
        _create(catalog.create_matter, NewMatter.of(_local_immediate(node)))  # 即办件占比
    return counts


def _local_immediate(node: DemoNode) -> dict[str, Any]:
    """A matter of the center's own, handled at once (即办): the centers that decide on the
    day more often offer one, so that their 即办件占比 differs from the standard catalog's."""
    return _matter(
        f"{node.code}MZ001", "老年人优待证办理", department="GA", window="W01",
        keywords=["老年证", "优待证", "敬老"], powers=ALL_POWERS,
        category="public_service", handling_type="immediate",
        legal_limit_days=5, promised_limit_days=0,
        legal_basis="《中华人民共和国老年人权益保障法》第五十七条",
        procedure="窗口申请—受理—当场核发",
        conditions="年满60周岁的本县（市、区）常住老年人",
        **NO_FEE,
        materials=[_material("居民身份证", "original_and_copy")],
    )


def _adopted(session: Session, codes: Iterable[str]) -> list[Matter]:
    return list(session.scalars(select(Matter).where(Matter.code.in_(list(codes)),
                                                     Matter.retired_at.is_(None))
                                .order_by(Matter.code)))
