"""Node fixtures: an app on a fresh database, a client, users of every role, catalog data."""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import secrets
from collections.abc import Callable, Iterator
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient

from node import create_app
from node.auth.permissions import Role
from node.catalog.inputs import NewMatter
from node.catalog.schemas import NewMatterSchema
from node.models import Base
from schemas.runtime.database import Database
from tests.apps import AppCache, config_key, wants_own_app
from tests.conftest import node_config

PASSWORD = "correct-horse-9"
SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def app(database_url: str, request: pytest.FixtureRequest,
        shared_apps: AppCache) -> Iterator[Flask]:
    """The node's app on the test's database (which holds the node's tables already: see
    tests/conftest.py); built once per process and lent to each test (tests/apps.py)."""
    config = node_config(database_url, max_content_length=64 * 1024)
    if wants_own_app(request):
        own = create_app(config)
        db: Database = own.extensions["tongban_db"]
        Base.metadata.create_all(db.engine)
        yield own
        db.dispose()
        return
    shared = shared_apps.get(("node", config_key(config, "database_url", "secret_key")),
                             lambda: create_app(config))
    with shared.lent(database_url) as lent:
        yield lent


@pytest.fixture
def db(app: Flask) -> Database:
    return app.extensions["tongban_db"]  # type: ignore[no-any-return]


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


class Api:
    """A test client that speaks JSON and remembers a bearer token."""

    def __init__(self, client: FlaskClient, token: str | None = None) -> None:
        self.client = client
        self.token = token

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        headers = {**self._headers(), **kwargs.pop("headers", {})}
        return self.client.open(path, method=method, headers=headers, **kwargs)

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, json: Any = None, **kwargs: Any) -> Any:
        return self.request("POST", path, json=json, **kwargs)

    def patch(self, path: str, json: Any = None, **kwargs: Any) -> Any:
        return self.request("PATCH", path, json=json, **kwargs)


_serial = itertools.count(1)


@functools.cache
def password_hash() -> str:
    """PASSWORD hashed once per test run (Argon2 is slow on purpose)."""
    from node.auth.service import hash_password

    return hash_password(PASSWORD)


@pytest.fixture
def make_user(client: FlaskClient, db: Database) -> Callable[..., Api]:
    """Create a user of a role (in a department when the role needs one) with a live token.

    The token is issued directly (login itself is tested in test_auth.py) to keep set-up fast.
    """
    from node.auth.models import ApiToken, User
    from node.auth.service import token_digest
    from node.catalog.service import CatalogService

    def factory(
        role: Role = Role.ADMIN, username: str | None = None, department: str | None = None
    ) -> Api:
        username = username or f"{role.value}{next(_serial)}"
        token = secrets.token_urlsafe(32)
        with db.unit_of_work() as session:
            catalog = CatalogService(session)
            dept = (
                catalog.department(department)
                if department
                else next(iter(catalog.list_departments()), None)
                or catalog.create_department("GA", "公安局")
            )
            user = User(
                username=username,
                display_name=username,
                role=role,
                department=dept if role in (Role.CLERK, Role.APPROVER) else None,
                password_hash=password_hash(),
                active=True,
            )
            session.add(user)
            session.flush()
            session.add(
                ApiToken(
                    user_id=user.id,
                    token_hash=token_digest(token),
                    expires_at=dt.datetime.now(dt.UTC) + dt.timedelta(hours=1),
                )
            )
        return Api(client, token)

    return factory


@pytest.fixture
def admin(make_user: Callable[..., Api]) -> Api:
    return make_user(Role.ADMIN)


@pytest.fixture
def anonymous(client: FlaskClient) -> Api:
    return Api(client)


def matter_payload(code: str = "11450981MB0001", **overrides: Any) -> dict[str, Any]:
    """A complete, valid matter (an administrative licence handled at window W01)."""
    payload = {
        "code": code,
        "name": "食品经营许可证核发",
        "category": "administrative_licence",
        "department_code": "SC",
        "window_code": "W01",
        "handling_level": "county",
        "handling_type": "promised",
        "notify_and_commit": False,
        "deemed_approval": False,
        "legal_limit_days": 20,
        "promised_limit_days": 5,
        "should_enter": True,
        "entered": True,
        "legal_basis": "《中华人民共和国食品安全法》第三十五条",
        "procedure": "申请—受理—审查—决定—送达",
        "conditions": "具有与经营的食品品种、数量相适应的经营场所",
        "fee_basis": "不收费",
        "fee_standard": "不收费",
        "fee_amount_fen": 0,
        "complaint_channel": "0775-12345",
        "window_authority": "受理、审核、审批、送达",
        "powers": {"accept": True, "review": True, "coordinate": True, "deliver": True,
                   "litigate": False, "issue": True, "approve": True},
        "materials": [
            {"name": "食品经营许可申请书", "required": True, "form": "original", "copies": 1},
            {"name": "营业执照复印件", "required": True, "form": "copy", "copies": 1},
            {"name": "法定代表人身份证明", "required": False, "form": "original_and_copy",
             "copies": 1, "note": "委托办理时提供"},
        ],
    }
    payload.update(overrides)
    return payload


def new_matter(code: str = "11450981MB0001", **overrides: Any) -> NewMatter:
    """:func:`matter_payload` loaded as the API loads a new matter: the service's input."""
    loaded = NewMatterSchema().load(matter_payload(code, **overrides))
    assert isinstance(loaded, NewMatter)
    return loaded


@pytest.fixture
def catalog_base(admin: Api) -> Api:
    """Departments SC (市场监管局) and GA, window W01 serving SC; returns the admin client."""
    department = admin.post("/api/v1/departments", {"code": "SC", "name": "市场监督管理局"})
    assert department.status_code == 201
    response = admin.post(
        "/api/v1/windows", {"code": "W01", "name": "市场监管窗口", "location": "一楼A区",
                            "department_codes": ["SC"]}
    )
    assert response.status_code == 201, response.json
    return admin


@pytest.fixture
def desk(catalog_base: Api, make_user: Callable[..., Api]) -> dict[str, Api]:
    """A matter of SC at window W01 (with the approve power), a notify-and-commit matter NC1
    with a fee, two clerks and an approver of SC, an approver of ZJ and a supervisor."""
    catalog_base.post("/api/v1/departments", {"code": "ZJ", "name": "住房和城乡建设局"})
    assert catalog_base.post("/api/v1/matters", matter_payload()).status_code == 201
    catalog_base.post(
        "/api/v1/matters",
        matter_payload(
            code="NC1",
            name="个体工商户名称变更",
            notify_and_commit=True,
            fee_amount_fen=5000,
            materials=[{"name": "承诺书"}],
        ),
    )
    return {
        "admin": catalog_base,
        "clerk": make_user(Role.CLERK, username="clerk1", department="SC"),
        "clerk2": make_user(Role.CLERK, username="clerk2", department="SC"),
        "approver": make_user(Role.APPROVER, username="approver1", department="SC"),
        "approver_zj": make_user(Role.APPROVER, username="approver2", department="ZJ"),
        "supervisor": make_user(Role.SUPERVISOR, username="super1"),
    }


class Clock:
    """A settable clock for services: 10:00 in Asia/Shanghai on a given day."""

    def __init__(self, day: dt.date) -> None:
        self.set(day)

    def __call__(self) -> dt.datetime:
        return self.now

    def set(self, day: dt.date) -> None:
        self.now = dt.datetime.combine(day, dt.time(10, 0), SHANGHAI)

    def advance(self, days: int) -> None:
        self.now += dt.timedelta(days=days)
