"""``tongban demo``: a hub and the Beiliu city center (北流市, 450981) on loopback.

The demo sets up both homes with the ordinary ``init`` and ``create-user`` commands, starts
``tongban hub serve`` and ``tongban node serve`` as real gunicorn processes, and fills the
center's catalog through the node's public HTTP API, exactly as an administrator would.
The federation (province, city, townships, sync, rankings) joins the demo in later versions.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import click
import requests
from sqlalchemy import select

from hub.cli import init as hub_init
from hub.config import DEFAULTS as HUB_DEFAULTS
from node.auth.models import User
from node.cli import create_user
from node.cli import init as node_init
from node.config import DEFAULTS as NODE_DEFAULTS
from node.config import node_settings
from schemas.database import Database

LOOPBACK = "127.0.0.1"
NODE_CODE = "450981"
NODE_NAME = "北流市政务服务中心"
NODE_KIND = "county_city"
LOGINS_FILE = "logins.json"

HTTP_TIMEOUT = 10.0  # seconds for one API call of the seeding
HEALTH_TIMEOUT = 60.0  # seconds a server gets to answer /healthz after it starts
STOP_TIMEOUT = 15.0  # seconds a server gets to stop after SIGTERM before it is killed
POLL_INTERVAL = 0.25


# -- the demo's people and catalog ------------------------------------------------------------


@dataclass(frozen=True)
class DemoUser:
    username: str
    role: str
    display_name: str
    description: str
    department_code: str | None = None
    staff_code: str | None = None


ADMIN = DemoUser("admin", "admin", "中心管理员", "center administrator: catalog, staff, users")
DEMO_USERS: tuple[DemoUser, ...] = (
    ADMIN,
    DemoUser("clerk", "clerk", "李明", "window clerk of 公安局 (GA), window W01",
             department_code="GA", staff_code="S001"),
    DemoUser("supervisor", "supervisor", "效能监察员", "supervision office (效能监察)"),
)

DEPARTMENTS: tuple[dict[str, str], ...] = (
    {"code": "GA", "name": "公安局"},
    {"code": "SC", "name": "市场监督管理局"},
    {"code": "ZR", "name": "自然资源局"},
    {"code": "ZJ", "name": "住房和城乡建设局"},
    {"code": "WJ", "name": "卫生健康局"},
)

WINDOWS: tuple[dict[str, Any], ...] = (
    {"code": "W01", "name": "公安户政窗口", "location": "一楼A区1-2号",
     "department_codes": ["GA"]},
    {"code": "W02", "name": "市场准入窗口", "location": "一楼B区3-6号",
     "department_codes": ["SC"]},
    {"code": "W03", "name": "不动产与工程建设窗口", "location": "二楼C区7-10号",
     "department_codes": ["ZR", "ZJ"]},
    {"code": "W04", "name": "社会事务窗口", "location": "二楼D区11号",
     "department_codes": ["WJ"]},
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

_POWER_NAMES = {
    "accept": "受理", "review": "审核", "coordinate": "协调处置", "deliver": "办理结果送达",
    "litigate": "应诉代理", "issue": "制证", "approve": "审批",
}
ALL_POWERS = tuple(_POWER_NAMES)
COMPLAINT_CHANNEL = "12345政务服务便民热线；北流市政务服务中心效能监察室（一楼服务台）"
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
    """A matter of the Beiliu center; ``window=None`` means not entered in the center."""
    granted = set(powers)
    if window is None:
        authority = "未进驻中心（实进：否），由部门在本单位办理"
    else:
        authority = "窗口授权：" + "、".join(_POWER_NAMES[p] for p in ALL_POWERS if p in granted)
    return {
        "code": code,
        "name": name,
        "department_code": department,
        "window_code": window,
        "handling_level": "county",
        "should_enter": True,
        "entered": window is not None,
        "complaint_channel": COMPLAINT_CHANNEL,
        "window_authority": authority,
        "powers": {p: p in granted for p in ALL_POWERS},
        **fields,
    }


MATTERS: tuple[dict[str, Any], ...] = (
    _matter(
        "450981GA001", "居民身份证换领", department="GA", window="W01",
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
        "450981GA002", "户口迁移（市内迁移）", department="GA", window="W01",
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
        "450981SC001", "个体工商户设立登记", department="SC", window="W02",
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
        "450981SC002", "食品经营许可证核发", department="SC", window="W02",
        powers=("accept", "review", "coordinate", "deliver", "issue", "approve"),
        category="administrative_licence", handling_type="promised",
        notify_and_commit=True,
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
        "450981SC003", "有限责任公司设立登记", department="SC", window="W02",
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
        "450981ZR001", "不动产转移登记（国有建设用地使用权及房屋所有权）",
        department="ZR", window="W03",
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
        "450981ZR002", "建设用地规划许可证核发", department="ZR", window="W03",
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
        "450981ZJ001", "建筑工程施工许可证核发", department="ZJ", window="W03",
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
        "450981ZJ002", "商品房预售许可", department="ZJ", window="W03",
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
        "450981WJ001", "医疗机构执业登记", department="WJ", window=None,
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
        "450981WJ002", "公共场所卫生许可证核发", department="WJ", window="W04",
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


# -- errors -----------------------------------------------------------------------------------


class DemoError(click.ClickException):
    """Something stopped the demo from starting; the children are stopped before it shows."""


class Interrupted(Exception):
    """SIGINT or SIGTERM arrived while the demo was still starting."""


class ChildDied(Exception):
    def __init__(self, child: Child) -> None:
        super().__init__(f"the {child.name} server exited with code {child.process.returncode}")
        self.child = child


# -- the work folder --------------------------------------------------------------------------


def _write_private(path: Path, text: str) -> None:
    """Replace ``path`` atomically with ``text``, readable by its owner only (mode 0600)."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.replace(temporary, path)


def _new_password() -> str:
    # the "tb-" prefix keeps it mixed (letters, digits, symbols) as the password rules require
    return "tb-" + secrets.token_urlsafe(12)


def load_or_create_logins(work: Path) -> dict[str, str]:
    """The demo users' passwords, generated on the first run and reused afterwards."""
    path = work / LOGINS_FILE
    logins: dict[str, str] = {}
    if path.exists():
        try:
            logins = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise DemoError(f"{path} is not valid JSON ({exc}); fix or delete it") from exc
    missing = [u.username for u in DEMO_USERS if u.username not in logins]
    if missing:
        logins.update({username: _new_password() for username in missing})
        _write_private(path, json.dumps(logins, indent=2) + "\n")
    return logins


def _user_exists(node_home: Path, username: str) -> bool:
    db = Database(node_settings({"home": str(node_home)})["database_url"])
    try:
        with db.sessions() as session:
            return session.scalar(select(User.id).where(User.username == username)) is not None
    finally:
        db.dispose()


SETTING_VARIABLES = frozenset(
    {"TONGBAN_CONFIG"} | {f"TONGBAN_{key.upper()}" for key in (*NODE_DEFAULTS, *HUB_DEFAULTS)}
)


def _scrub_environment() -> list[str]:
    """Drop ``TONGBAN_*`` settings: they would point both servers at one home or database."""
    removed = sorted(key for key in os.environ if key in SETTING_VARIABLES)
    for key in removed:
        del os.environ[key]
    return removed


def _port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        # gunicorn binds with SO_REUSEADDR too, so a port in TIME_WAIT counts as free
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((LOOPBACK, port))
        except OSError:
            return False
    return True


# -- the server processes ---------------------------------------------------------------------


def _tongban_command() -> list[str]:
    script = Path(sys.executable).with_name("tongban")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from deploy.cli import main; main()"]


@dataclass
class Child:
    """One ``tongban … serve`` process (a gunicorn master and its workers)."""

    name: str
    process: subprocess.Popen[bytes]
    log_path: Path
    base_url: str

    @classmethod
    def start(cls, name: str, args: list[str], log_path: Path, base_url: str) -> Child:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        with log_path.open("ab") as log:
            stamp = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
            log.write(f"\n=== tongban demo started {name} at {stamp} ===\n".encode())
            log.flush()
            process = subprocess.Popen(
                [*_tongban_command(), *args],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                # its own process group: Ctrl-C reaches only the demo, which stops the servers
                start_new_session=True,
            )
        return cls(name, process, log_path, base_url)

    def exited(self) -> bool:
        return self.process.poll() is not None

    def terminate(self) -> None:
        if not self.exited():
            self.process.terminate()  # gunicorn's graceful shutdown

    def wait_or_kill(self, timeout: float) -> None:
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            # the master and its workers; it may have ended between the timeout and the kill
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def log_tail(self, lines: int = 20) -> str:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError as exc:
            return f"(cannot read {self.log_path}: {exc})"
        return "\n".join(text.splitlines()[-lines:])


def stop_all(children: Iterable[Child], out: TextIO | None = None) -> None:
    children = list(children)
    if not children:
        return
    click.echo("stopping " + " and ".join(c.name for c in children) + " …", file=out)
    for child in children:
        child.terminate()
    for child in children:
        child.wait_or_kill(STOP_TIMEOUT)
    click.echo("stopped.", file=out)


def wait_healthy(child: Child, stop: threading.Event, http: requests.Session) -> dict[str, Any]:
    """Poll the child's ``/healthz`` until it answers ok; fail if the child dies or stalls."""
    url = f"{child.base_url}/healthz"
    deadline = time.monotonic() + HEALTH_TIMEOUT
    while time.monotonic() < deadline:
        if stop.is_set():
            raise Interrupted
        if child.exited():
            raise ChildDied(child)
        try:
            response = http.get(url, timeout=2)
            if response.status_code == 200:
                return response.json()
        except requests.RequestException:
            pass  # not listening yet: gunicorn is still booting
        stop.wait(POLL_INTERVAL)
    raise DemoError(
        f"the {child.name} did not answer {url} within {HEALTH_TIMEOUT:.0f} s; "
        f"see {child.log_path}"
    )


# -- filling the catalog through the node's API -----------------------------------------------


class NodeApi:
    """A small JSON client of the node's API, with explicit timeouts on every call."""

    def __init__(self, http: requests.Session, base_url: str) -> None:
        self.http = http
        self.base_url = base_url
        self.token: str | None = None

    def call(
        self, method: str, path: str, *, ok: Iterable[int] = (200, 201), **kwargs: Any
    ) -> requests.Response:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        response = self.http.request(
            method, self.base_url + path, headers=headers, timeout=HTTP_TIMEOUT, **kwargs
        )
        if response.status_code not in set(ok):
            raise DemoError(f"{method} {path} answered {response.status_code}: {_reason(response)}")
        return response

    def login(self, username: str, password: str) -> None:
        response = self.http.post(
            f"{self.base_url}/api/v1/auth/login",
            json={"username": username, "password": password},
            timeout=HTTP_TIMEOUT,
        )
        if response.status_code != 200:
            raise DemoError(
                f"cannot log in as {username!r} ({response.status_code}: {_reason(response)}); "
                f"if {LOGINS_FILE} was edited or replaced, delete the demo folder to start afresh"
            )
        self.token = response.json()["token"]

    def create_all(self, path: str, payloads: Iterable[Mapping[str, Any]]) -> int:
        """POST each payload; one that exists already (409) is left as it is."""
        created = 0
        for payload in payloads:
            response = self.call("POST", path, json=payload, ok=(201, 409))
            created += response.status_code == 201
        return created


def _reason(response: requests.Response) -> str:
    try:
        error = response.json()["error"]
    except (ValueError, KeyError, TypeError):
        return response.text[:300]
    details = error.get("details")
    return f"{error.get('message')} {json.dumps(details, ensure_ascii=False) if details else ''}"


def fill_catalog(api: NodeApi) -> str:
    """Fill an empty catalog with the demo's departments, windows, staff and matters."""
    existing = api.call(
        "GET", "/api/v1/matters", params={"per_page": 1, "include_retired": "true"}
    ).json()["total"]
    if existing:
        return f"the catalog already holds {existing} matters: left as it is"
    counts = [
        (api.create_all("/api/v1/departments", DEPARTMENTS), "departments"),
        (api.create_all("/api/v1/windows", WINDOWS), "windows"),
        (api.create_all("/api/v1/staff", STAFF), "staff records"),
        (api.create_all("/api/v1/matters", MATTERS), "matters"),
    ]
    return "added " + ", ".join(f"{n} {what}" for n, what in counts)


def ensure_users(api: NodeApi, logins: Mapping[str, str]) -> list[str]:
    """Create the demo users other than the admin when they are missing."""
    created = []
    for user in DEMO_USERS:
        if user is ADMIN:
            continue
        if api.call("GET", f"/api/v1/users/{user.username}", ok=(200, 404)).status_code == 200:
            continue
        payload: dict[str, Any] = {
            "username": user.username,
            "display_name": user.display_name,
            "role": user.role,
            "password": logins[user.username],
        }
        if user.department_code:
            payload["department_code"] = user.department_code
        if user.staff_code:
            payload["staff_code"] = user.staff_code
        api.call("POST", "/api/v1/users", json=payload, ok=(201,))
        created.append(user.username)
    return created


# -- output -----------------------------------------------------------------------------------


def _print_running(
    work: Path, hub: Child, node: Child, logins: Mapping[str, str], exit_after_start: bool
) -> None:
    rule = "=" * 72
    node_url = node.base_url
    lines = [
        "",
        rule,
        " tongban demo is running",
        rule,
        " Hub",
        f"   health         {hub.base_url}/healthz",
        f" Node {NODE_CODE} {NODE_NAME} (county-level city)",
        f"   health         {node_url}/healthz",
        f"   API docs       {node_url}/api/v1/docs",
        f"   OpenAPI        {node_url}/api/v1/openapi.json",
        f"   service guide  {node_url}/api/v1/guide/matters   (public, no login)",
        "",
        f" Logins on the node (passwords kept in {work / LOGINS_FILE})",
    ]
    lines += [
        f"   {user.username:<12} {logins[user.username]:<20} {user.description}"
        for user in DEMO_USERS
    ]
    lines += [
        "",
        " Try:",
        f"   curl -s -X POST {node_url}/api/v1/auth/login -H 'Content-Type: application/json' \\",
        f"        -d '{{\"username\": \"admin\", \"password\": \"{logins[ADMIN.username]}\"}}'",
        "",
        f" Logs  {hub.log_path}",
        f"       {node.log_path}",
        rule,
    ]
    if exit_after_start:
        lines.append("--exit-after-start: stopping now.")
    else:
        lines.append("Press Ctrl-C to stop.")
    click.echo("\n".join(lines))


# -- the command ------------------------------------------------------------------------------


@click.command()
@click.option(
    "--dir", "work_dir", default="demo-data", show_default=True,
    type=click.Path(file_okay=False),
    help="Work folder for the hub's and the node's homes, logs and logins (reused when it exists).",
)
@click.option("--hub-port", default=8100, show_default=True, type=click.IntRange(1, 65535),
              help="Loopback port of the hub.")
@click.option("--node-port", default=8001, show_default=True, type=click.IntRange(1, 65535),
              help="Loopback port of the Beiliu city node.")
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 8),
              help="gunicorn workers per server.")
@click.option("--exit-after-start", is_flag=True,
              help="Start everything, print the URLs and logins, then stop and exit 0 "
                   "(for tests and CI).")
@click.pass_context
def demo(
    ctx: click.Context,
    work_dir: str,
    hub_port: int,
    node_port: int,
    workers: int,
    exit_after_start: bool,
) -> None:
    """Run a local demo: a hub and the Beiliu city center (北流市, 450981) on loopback.

    Sets up (or reuses) a work folder holding the hub's and the node's homes; creates an admin,
    a clerk and a supervisor with generated passwords (kept in logins.json, mode 0600); starts
    `tongban hub serve` and `tongban node serve` (gunicorn); fills an empty catalog with
    departments, windows, staff and matters through the node's API; prints the URLs and logins
    and runs until Ctrl-C, which stops both servers. The wider federation (province, city,
    townships, sync and rankings) joins the demo in later versions.
    """
    if hub_port == node_port:
        raise click.BadParameter(
            "the hub and the node need different ports", param_hint="--node-port"
        )
    work = Path(work_dir).resolve()
    reused = work.exists()
    work.mkdir(parents=True, exist_ok=True)
    (work / "logs").mkdir(exist_ok=True)
    hub_home, node_home = work / "hub", work / f"node-{NODE_CODE}"
    click.echo(f"tongban demo: work folder {work} ({'reused' if reused else 'new'})")
    removed = _scrub_environment()
    if removed:
        click.echo(f"ignoring {', '.join(removed)}: the demo configures its own homes")
    for name, port in (("hub", hub_port), ("node", node_port)):
        if not _port_is_free(port):
            raise DemoError(
                f"port {port} on {LOOPBACK} is in use (another demo?); "
                f"stop it or choose another with --{name}-port"
            )

    stop = threading.Event()

    def _on_signal(_signum: int, _frame: object) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, _on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    children: list[Child] = []
    exit_code = 0
    try:
        logins = load_or_create_logins(work)
        ctx.invoke(hub_init, home=str(hub_home), name="tongban demo hub")
        ctx.invoke(node_init, home=str(node_home), code=NODE_CODE, name=NODE_NAME, kind=NODE_KIND)
        if _user_exists(node_home, ADMIN.username):
            click.echo(f"admin {ADMIN.username} exists")
        else:
            ctx.invoke(create_user, home=str(node_home), username=ADMIN.username,
                       role=ADMIN.role, display_name=ADMIN.display_name,
                       password=logins[ADMIN.username])
        if stop.is_set():
            raise Interrupted

        click.echo(f"starting the hub on port {hub_port} and the node on port {node_port} "
                   f"(gunicorn, {workers} worker{'s' if workers > 1 else ''} each) …")
        hub = Child.start(
            "hub", ["hub", "serve", "--home", str(hub_home), "--bind", f"{LOOPBACK}:{hub_port}",
                    "--workers", str(workers)],
            work / "logs" / "hub.log", f"http://{LOOPBACK}:{hub_port}",
        )
        children.append(hub)
        node = Child.start(
            "node", ["node", "serve", "--home", str(node_home),
                     "--bind", f"{LOOPBACK}:{node_port}", "--workers", str(workers)],
            work / "logs" / "node.log", f"http://{LOOPBACK}:{node_port}",
        )
        children.append(node)
        with requests.Session() as http:
            wait_healthy(hub, stop, http)
            wait_healthy(node, stop, http)
            click.echo("hub and node answer /healthz")
            api = NodeApi(http, node.base_url)
            api.login(ADMIN.username, logins[ADMIN.username])
            click.echo("catalog: " + fill_catalog(api))
            created = ensure_users(api, logins)
            click.echo("users: " + (f"created {', '.join(created)}" if created
                                    else "clerk and supervisor exist"))
        if stop.is_set():
            raise Interrupted

        _print_running(work, hub, node, logins, exit_after_start)
        while not exit_after_start and not stop.wait(POLL_INTERVAL):
            for child in children:
                if child.exited():
                    raise ChildDied(child)
    except Interrupted:
        click.echo("interrupted while starting.")
    except ChildDied as died:
        exit_code = 1
        click.echo(
            f"\nerror: {died}; the last lines of {died.child.log_path}:\n{died.child.log_tail()}",
            err=True,
        )
    finally:
        stop_all(children)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    ctx.exit(exit_code)
