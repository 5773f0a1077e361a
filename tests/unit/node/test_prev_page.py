"""上一页 on every keyset-paged list (node/listing.py, web/_pager.html): three pages forward
by 下一页, then back to the first by 上一页, each page the rows it showed going forward, in
the same order, the filters kept; the first page has no 上一页.  Rows added or removed between
the clicks; a page link that is not the list's.  The API's lists the same, by ``before`` and
``prev_cursor``."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from flask.testing import FlaskClient
from sqlalchemy import delete, insert, select

from node.auth.models import User
from node.auth.permissions import Role
from node.bundles.models import BundleCase, BundleState
from node.calendar.workdays import WorkingCalendar, shanghai_today
from node.cases.models import Case, Channel, ReviewTask, TaskState
from node.catalog.models import Bundle, Department, Matter
from node.directives.models import Directive, DirectiveDirection, DirectiveState
from node.feedback.models import Complaint, Evaluation, Rectification
from node.web import admin, approver, bundles, clerk, public, search, supervision
from schemas.runtime.database import Database
from tests.unit.node.conftest import Api
from tests.unit.node.test_web import log_in
from tests.unit.node.test_web_paging import many_matters

PER_PAGE = 2
ROWS = 9  # five pages of two: three forward leave one more
NEXT = re.compile(r'href="\?([^"]*cursor=[^"]+)">下一页')
PREV = re.compile(r'href="\?([^"]*before=[^"]+)">上一页')
FIRST = re.compile(r'href="\?([^"]*)">第一页')
CODE = re.compile(r"11450981PG\d{4}")
NUMBER = re.compile(r"450981-V-\d{5}")
COMPLAINT = re.compile(r"450981-TS-V\d{4}")
BUNDLE_CASE = re.compile(r"450981-2026-Y\d{6}")
RECEIVED = re.compile(r"收到督办R\d{4}")
SENT = re.compile(r"发出督办S\d{4}")
NOW = dt.datetime.now(dt.UTC)


def _cases(db: Database, count: int, start: int = 0, **values: Any) -> list[int]:
    """``count`` cases numbered from ``start``, received on days in threes (ties broken by
    id) and with deadlines likewise, so a page boundary falls inside a day."""
    day = dt.date(2026, 11, 2)
    with db.unit_of_work() as session:
        matter = session.scalars(select(Matter)).first()
        assert matter is not None
        rows = [{
            "number": f"450981-V-{i:05d}", "query_code_hash": "0" * 64,
            "matter_id": matter.id, "department_id": matter.department_id,
            "window_id": matter.window_id, "channel": "window", "state": "accepted",
            "applicant_name": "测试", "applicant_consent": False, "received_at": NOW,
            "received_on": day - dt.timedelta(days=i // 3), "accepted_on": day,
            "promised_days": 5, "deadline_on": day + dt.timedelta(days=7 + i // 3),
            "fee_due_fen": 0, "fee_paid_fen": 0, "notes": "", **values,
        } for i in range(start, start + count)]
        session.execute(insert(Case), rows)
        return list(session.scalars(select(Case.id).where(
            Case.number.in_([r["number"] for r in rows])).order_by(Case.id)))


def _red_cases(db: Database, count: int, start: int = 0, **values: Any) -> list[int]:
    """Cases long past their deadlines (red on the warning page), deadlines a day apart in
    threes."""
    accepted = shanghai_today() - dt.timedelta(days=60)
    deadline = WorkingCalendar().add_working_days(accepted, 5)
    ids = _cases(db, count, start, accepted_on=accepted, received_on=accepted, **values)
    with db.unit_of_work() as session:
        for n, case_id in enumerate(ids):
            session.get_one(Case, case_id).deadline_on = deadline + dt.timedelta(days=n // 3)
    return ids


def _complaints(db: Database, count: int, start: int = 0) -> None:
    with db.unit_of_work() as session:
        session.execute(insert(Complaint), [{
            "number": f"450981-TS-V{i:04d}", "content": "来回跑", "received_at": NOW,
            "due_on": dt.date(2026, 12, 1) + dt.timedelta(days=i // 3), "state": "received",
        } for i in range(start, start + count)])


def _rectifications(db: Database, count: int) -> None:
    ids = _cases(db, count, state="completed", completed_on=dt.date(2026, 11, 3))
    with db.unit_of_work() as session:
        session.execute(insert(Evaluation), [{
            "case_id": case_id, "level": "dissatisfied", "at": NOW, "void": False,
        } for case_id in ids])
        evaluations = session.scalars(select(Evaluation.id).order_by(Evaluation.id)).all()
        session.execute(insert(Rectification), [{
            "evaluation_id": evaluation, "state": "pending", "opened_at": NOW,
            "due_on": dt.date(2026, 12, 1) + dt.timedelta(days=n // 3), "extended": False,
            "updated_at": NOW,
        } for n, evaluation in enumerate(evaluations)])


def _queued(db: Database) -> None:
    """Cases with a task of SC (approver1's department) pending, in the department's queue;
    beside them cases it must not list: SC's task decided, only ZJ's task pending, a pending
    task on a case whose clock no longer runs."""
    ids = _cases(db, ROWS)
    others = _cases(db, 3, start=ROWS)
    closed = _cases(db, 1, start=ROWS + 3, state="approved", decided_on=dt.date(2026, 11, 4))
    with db.unit_of_work() as session:
        sc, zj = (session.scalars(select(Department.id).where(Department.code == code)).one()
                  for code in ("SC", "ZJ"))
        tasks = [(case_id, sc, TaskState.PENDING) for case_id in ids + closed]
        tasks += [(ids[0], zj, TaskState.PENDING), (others[0], sc, TaskState.APPROVED),
                  (others[1], zj, TaskState.PENDING), (others[2], sc, TaskState.DENIED)]
        session.execute(insert(ReviewTask), [
            {"case_id": case_id, "department_id": department, "state": state}
            for case_id, department, state in tasks])


def _bundle_cases(db: Database) -> None:
    with db.unit_of_work() as session:
        bundle = Bundle(code="PG-BUNDLE", name="分页一件事")
        session.add(bundle)
        session.flush()
        session.execute(insert(BundleCase), [{
            "number": f"450981-2026-Y{i:06d}", "query_code_hash": "0" * 64,
            "bundle_id": bundle.id, "channel": Channel.WINDOW, "state": BundleState.OPEN,
            "applicant_name": "测试", "form_data": "{}", "received_at": NOW,
            "received_on": dt.date(2026, 11, 2), "promised_days": 10, "created_by": "clerk1",
        } for i in range(1, ROWS + 1)])


def _directives(db: Database, sent: bool = True) -> None:
    """Directives received from the city and (``sent``) sent to a township, ``ROWS`` each,
    issued an hour apart in threes (ties broken by id)."""
    kinds = ((DirectiveDirection.INCOMING, "450900", "450981", "收到督办R",
              DirectiveState.RECEIVED),
             (DirectiveDirection.OUTGOING, "450981", "450981001", "发出督办S",
              DirectiveState.SENT))
    with db.unit_of_work() as session:
        session.execute(insert(Directive), [{
            "directive_id": f"00000000-0000-4000-8000-{n:012d}", "direction": direction,
            "issuer_node": issuer, "target_node": target, "subject": "text",
            "text": f"{text}{i:04d}", "due_on": dt.date(2026, 12, 20), "issued_by": "boss",
            "issued_at": NOW - dt.timedelta(hours=i // 3), "state": state, "updated_at": NOW,
        } for n, (direction, issuer, target, text, state, i) in enumerate(
            (*what, i) for what in kinds[:2 if sent else 1] for i in range(ROWS))])


def _received_directives(db: Database) -> None:
    """Received ones only: the page's other pager (the sent list's) would be followed when
    the received list has no 下一页 (every_row takes the page's first)."""
    _directives(db, sent=False)


def _follow(path: str, text: str, link: re.Pattern[str]) -> str:
    found = link.search(text)
    assert found, f"no {link.pattern} on {path}"
    return f"{path.split('?', 1)[0]}?{found.group(1).replace('&amp;', '&')}"


def _query(url: str) -> list[tuple[str, str]]:
    return sorted(parse_qsl(urlsplit(url).query))


def _open(client: FlaskClient, url: str, rows: re.Pattern[str]) -> tuple[list[str], str]:
    response = client.get(url)
    assert response.status_code == 200, url
    text = response.get_data(as_text=True)
    return list(dict.fromkeys(rows.findall(text))), text


def walk_there_and_back(client: FlaskClient, path: str, rows: re.Pattern[str]) -> list[
        list[str]]:
    """Three pages forward by 下一页, back to the first by 上一页: each page back is the one
    shown going forward; 第一页 and 上一页 on every page but the first.  The four pages."""
    pages: list[list[str]] = []
    url = path
    for step in range(4):
        shown, text = _open(client, url, rows)
        assert len(shown) == PER_PAGE, (url, shown)
        if step == 0:
            assert not PREV.search(text)
            assert not FIRST.search(text)
        else:
            assert _query(_follow(path, text, FIRST)) == _query(path)  # the filters kept
        pages.append(shown)
        if step < 3:
            url = _follow(path, text, NEXT)
    assert len({r for p in pages for r in p}) == 4 * PER_PAGE  # none twice
    for expected in reversed(pages[:-1]):
        url = _follow(path, text, PREV)
        shown, text = _open(client, url, rows)
        assert shown == expected, url
    assert not PREV.search(text)
    assert not FIRST.search(text)
    assert _follow(path, text, NEXT) == _follow(path, client.get(path).get_data(as_text=True),
                                                 NEXT)
    return pages


def every_row(client: FlaskClient, path: str, rows: re.Pattern[str]) -> list[str]:
    """The whole list as the pages show it now, by 下一页 from the first."""
    found: list[str] = []
    url: str | None = path
    while url is not None:
        shown, text = _open(client, url, rows)
        found += shown
        url = _follow(path, text, NEXT) if NEXT.search(text) else None
        assert len(found) < 100
    return found


def _matters(db: Database) -> None:
    many_matters(db, ROWS)


def _plain_cases(db: Database) -> None:
    _cases(db, ROWS)


def _own_cases(db: Database) -> None:
    _cases(db, ROWS, owner_id=db_user(db, "clerk1"))


def _warned(db: Database) -> None:
    """Running and suspended red cases: the warning list merges them, and the suspended ones
    are read backwards too (node/cases/warnings.py: suspended_in_order)."""
    _red_cases(db, 6)
    _red_cases(db, 3, 6, state="suspended")


def _late(db: Database) -> None:
    _cases(db, ROWS, state="completed", completed_on=dt.date(2026, 11, 30))


def _complained(db: Database) -> None:
    _complaints(db, ROWS)


def _rectified(db: Database) -> None:
    _rectifications(db, ROWS)


# each web list: what it needs, who looks, the page, what a row shows, the page size to lower
Setup = Callable[[Database], None]
LISTS: dict[str, tuple[Setup, str | None, str, re.Pattern[str], tuple[Any, str]]] = {
    "guide": (_matters, None, "/guide?q=分页事项", CODE,
              (public, "PER_PAGE")),
    "matters": (_matters, "admin", "/staff/admin?q=分页事项",
                CODE, (admin, "MATTERS_PAGE")),
    "picker": (_matters, "clerk1", "/staff/desk/new?q=分页",
               CODE, (clerk, "PICKER_PAGE")),
    "search": (_plain_cases, "super1",
               "/staff/search?applicant=测试", NUMBER, (search, "PER_PAGE")),
    "search by deadline": (_plain_cases, "super1",
                           "/staff/search?applicant=测试&sort=deadline", NUMBER,
                           (search, "PER_PAGE")),
    "desk": (_own_cases, "clerk1",
             "/staff/desk", NUMBER, (clerk, "DESK_PAGE")),
    "warnings": (_warned, "super1", "/staff/supervision", NUMBER,
                 (supervision, "LIST_PAGE")),
    "patterns": (_late, "super1",
                 "/staff/supervision/patterns?pattern=completed_late&period=2026-11", NUMBER,
                 (supervision, "LIST_PAGE")),
    "complaints": (_complained, "super1",
                   "/staff/supervision/complaints?state=received", COMPLAINT,
                   (supervision, "LIST_PAGE")),
    "rectifications": (_rectified, "super1",
                       "/staff/supervision/rectifications", NUMBER,
                       (supervision, "LIST_PAGE")),
    "department queue": (_queued, "approver1", "/staff/department", NUMBER,
                         (approver, "QUEUE_PAGE")),
    "bundle cases": (_bundle_cases, "clerk1", "/staff/bundle-cases", BUNDLE_CASE,
                     (bundles, "LIST_PAGE")),
    # the page's first list (the second, the directives sent: below)
    "directives received": (_received_directives, "super1", "/staff/supervision/directives",
                            RECEIVED, (supervision, "LIST_PAGE")),
}


def db_user(db: Database, username: str) -> int:
    with db.unit_of_work(write=False) as session:
        found = session.scalar(select(User.id).where(User.username == username))
    assert found is not None
    return found


@pytest.mark.parametrize("name", list(LISTS))
def test_every_list_pages_back_to_its_first_page(
        name: str, client: FlaskClient, db: Database, desk: dict[str, Api], make_user: Any,
        monkeypatch: pytest.MonkeyPatch) -> None:
    setup, who, path, rows, (module, size) = LISTS[name]
    setup(db)
    monkeypatch.setattr(module, size, PER_PAGE)
    if who == "admin":
        make_user(Role.ADMIN, username="boss")
        who = "boss"
    if who:
        assert log_in(client, who).status_code == 302
    pages = walk_there_and_back(client, path, rows)
    whole = every_row(client, path, rows)
    assert len(whole) == ROWS  # every row listed, once
    assert [r for p in pages for r in p] == whole[:4 * PER_PAGE]


def test_the_page_before_follows_rows_added_and_removed_between_clicks(
        client: FlaskClient, db: Database, desk: dict[str, Api],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The page before is the rows just before the page's first, as the list holds them now
    (keyset, not OFFSET): one added before it shows; one removed is gone, nothing twice; and
    going back past rows removed at the start lands on the first page as it is, full."""
    _cases(db, ROWS)
    monkeypatch.setattr(search, "PER_PAGE", PER_PAGE)
    log_in(client, "super1")
    path = "/staff/search?applicant=测试"
    url = path
    for _ in range(3):  # to the fourth page
        _shown, text = _open(client, url, NUMBER)
        url = _follow(path, text, NEXT)
    fourth, text = _open(client, url, NUMBER)
    before_changes = every_row(client, path, NUMBER)
    # a case received after the others (first in the list) and one of the third page removed
    _cases(db, 1, start=50, received_on=dt.date(2026, 11, 3))
    removed = before_changes[5]
    with db.unit_of_work() as session:
        session.execute(delete(Case).where(Case.number == removed))
    now = every_row(client, path, NUMBER)
    assert now == ["450981-V-00050"] + [n for n in before_changes if n != removed]
    at = now.index(fourth[0])
    seen: list[list[str]] = []
    while PREV.search(text):
        shown, text = _open(client, _follow(path, text, PREV), NUMBER)
        seen.append(shown)
        if PREV.search(text):  # a page in the middle: the rows just before the last one
            assert shown == now[at - PER_PAGE:at]
            at -= PER_PAGE
    assert seen[-1] == now[:PER_PAGE]  # the first page as the list starts now
    assert len(seen) == 3
    assert "450981-V-00050" in seen[-1]
    assert removed not in {n for p in seen for n in p}
    # the row before the second page removed: going back reaches the start with less than
    # a page, and the first page is shown whole (not a page of one)
    second, text = _open(client, _follow(path, text, NEXT), NUMBER)
    assert second == now[PER_PAGE:2 * PER_PAGE]
    back = _follow(path, text, PREV)
    with db.unit_of_work() as session:
        session.execute(delete(Case).where(Case.number == "450981-V-00050"))
    shown, text = _open(client, back, NUMBER)
    assert shown == every_row(client, path, NUMBER)[:PER_PAGE] == [now[1], now[2]]
    assert not PREV.search(text)
    assert not FIRST.search(text)


@pytest.mark.parametrize("link", ["before=not-ours", "before=WzFd",
                                  "cursor=WyIyMDI2LTExLTAyIiwxXQ&before=WyIyMDI2LTExLTAyIiwxXQ"])
def test_a_page_link_not_the_lists_shows_the_first_page_and_says_so(
        link: str, client: FlaskClient, db: Database, desk: dict[str, Api],
        monkeypatch: pytest.MonkeyPatch) -> None:
    _red_cases(db, 5)
    monkeypatch.setattr(supervision, "LIST_PAGE", PER_PAGE)
    log_in(client, "super1")
    first, _text = _open(client, "/staff/supervision", NUMBER)
    shown, text = _open(client, f"/staff/supervision?{link}", NUMBER)
    assert shown == first
    assert "翻页链接无效" in text
    assert 'role="alert"' in text
    assert "翻页链接无效" not in client.get("/staff/supervision").get_data(as_text=True)
    # the case search names the link as its problem, with the form, and lists nothing
    refused = client.get(f"/staff/search?applicant=测试&{link}")
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert "翻页位置已失效，请从第一页重新查询" in page
    assert not NUMBER.search(page)


def test_the_two_directive_lists_page_each_by_its_own_links(
        client: FlaskClient, db: Database, desk: dict[str, Api],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Received and sent directives on one page, each list with its own pager (in_cursor,
    out_cursor): turning one keeps the other where it was."""
    _directives(db)
    monkeypatch.setattr(supervision, "LIST_PAGE", PER_PAGE)
    log_in(client, "super1")
    path = "/staff/supervision/directives"
    sent_next = re.compile(r'href="\?([^"]*out_cursor=[^"]+)">下一页')
    received_next = re.compile(r'href="\?([^"]*in_cursor=[^"]+)">下一页')
    sent_prev = re.compile(r'href="\?([^"]*out_before=[^"]+)">上一页')
    first_received, text = _open(client, path, RECEIVED)
    first_sent = SENT.findall(text)
    assert len(first_received) == len(first_sent) == PER_PAGE
    url = _follow(path, text, sent_next)
    received, text = _open(client, url, RECEIVED)
    second_sent = SENT.findall(text)
    assert received == first_received
    assert len(second_sent) == PER_PAGE
    assert not set(second_sent) & set(first_sent)
    url = _follow(path, text, received_next)  # the received list turned: sent stays put
    received, text = _open(client, url, RECEIVED)
    assert SENT.findall(text) == second_sent
    assert len(received) == PER_PAGE
    assert not set(received) & set(first_received)
    assert {"in_cursor", "out_cursor"} <= set(dict(_query(url)))
    shown, text = _open(client, _follow(path, text, sent_prev), RECEIVED)
    assert shown == received
    assert SENT.findall(text) == first_sent
    # a link not the list's: that list starts again, with the notice; the other is kept
    shown, text = _open(client, f"{url}&out_before=not-ours".replace("out_cursor=", "x="),
                        RECEIVED)
    assert "翻页链接无效" in text
    assert SENT.findall(text) == first_sent
    assert shown == received


# -- the API: ?before= and prev_cursor ------------------------------------------------------

API_LISTS: dict[str, tuple[Setup, str, str, str]] = {
    "cases": (_plain_cases, "clerk", "/api/v1/cases?applicant=测试",
              "number"),
    "cases by deadline": (_plain_cases, "clerk",
                          "/api/v1/cases?applicant=测试&sort=deadline", "number"),
    "warnings": (_warned, "supervisor", "/api/v1/supervision/warnings", "number"),
    "complaints": (_complained, "supervisor",
                   "/api/v1/supervision/complaints", "number"),
    "rectifications": (_rectified, "supervisor",
                       "/api/v1/supervision/rectifications", "id"),
    "matters": (_matters, "admin",
                "/api/v1/matters?q=分页事项", "code"),
    "guide": (_matters, "admin",
              "/api/v1/guide/matters?q=分页事项", "code"),
    "patterns": (_late, "supervisor",
                 "/api/v1/metrics/patterns/completed_late?period=2026-11", "number"),
    "bundle cases": (_bundle_cases, "clerk", "/api/v1/bundle-cases", "number"),
    "directives": (_directives, "supervisor", "/api/v1/directives?direction=outgoing",
                   "directive_id"),
    "directives received": (_directives, "supervisor",
                            "/api/v1/directives?direction=incoming&state=received",
                            "directive_id"),
}


@pytest.mark.parametrize("name", list(API_LISTS))
def test_every_api_list_gives_the_page_before(name: str, db: Database,
                                              desk: dict[str, Api]) -> None:
    setup, who, path, key = API_LISTS[name]
    setup(db)
    api = desk[who]
    url = f"{path}{'&' if '?' in path else '?'}per_page={PER_PAGE}"
    answers = []
    answer = api.get(url).json
    for _ in range(3):
        answers.append(answer)
        answer = api.get(f"{url}&cursor={answer['next_cursor']}").json
    assert answers[0]["prev_cursor"] is None
    assert all(a["prev_cursor"] for a in answers[1:])
    assert answer["prev_cursor"]
    for expected in reversed(answers):
        back = api.get(f"{url}&before={answer['prev_cursor']}")
        assert back.status_code == 200, back.json
        answer = back.json
        assert [i[key] for i in answer["items"]] == [i[key] for i in expected["items"]]
        assert answer["next_cursor"] == expected["next_cursor"]
        assert answer["total"] == ROWS
    assert answer["prev_cursor"] is None  # the first page
    # a before that is not the list's, or given with cursor: a 422 naming before
    for bad in ("before=nonsense", "before=W1sxXV0",  # [[1]]: no key of any list
                f"before={answers[1]['prev_cursor']}&cursor={answers[1]['next_cursor']}"):
        refused = api.get(f"{url}&{bad}")
        assert refused.status_code == 422, bad
        assert list(refused.json["error"]["details"]["fields"]) == ["before"], bad
