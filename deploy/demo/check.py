"""``tongban demo --check``: the flows verified over HTTP against the running federation.

Each check uses the nodes' and the hub's public APIs as staff would (logins, bearer tokens,
the node's signed requests to the hub) and the same syncs the worker runs, and reports
``{"ok": …, "detail": …}``; one failing check does not stop the others.
"""

from __future__ import annotations

import datetime as dt
import statistics
import time
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from typing import Any

import requests

from deploy.demo.catalog import BIRTH_BUNDLE, BIRTH_MATTERS, DEPARTMENTS, MATTERS
from deploy.demo.federation import (
    DEMO_CALENDAR_YEAR,
    TONGBAN_COMPETENT,
    TONGBAN_RECEIVER,
    Federation,
    Member,
)
from node.calendar.workdays import to_shanghai_date
from node.sync.keys import load_node_key
from schemas.metrics import NATIONAL_INDICATORS
from schemas.request_signing import sign_request
from schemas.runtime.database import utcnow

TIMEOUT = 20.0
# the departments by code, for the display names of the approvers the checks make
DEPARTMENT_NAMES = {department["code"]: department["name"] for department in DEPARTMENTS}


class CheckFailed(Exception):
    """A check saw something other than what the flow promises."""


class Staff:
    """One login on one node's API."""

    def __init__(self, member: Member, username: str, password: str) -> None:
        self.base = member.url
        response = requests.post(f"{self.base}/api/v1/auth/login", timeout=TIMEOUT,
                                 json={"username": username, "password": password})
        if response.status_code != 200:
            raise CheckFailed(f"{username} cannot log in at {member.code}: {response.text}")
        self.headers = {"Authorization": f"Bearer {response.json()['token']}"}

    def call(self, method: str, path: str, body: Any = None, ok: int = 200,
             **params: Any) -> Any:
        response = requests.request(method, self.base + path, json=body, params=params or None,
                                    headers=self.headers, timeout=TIMEOUT)
        if response.status_code != ok:
            raise CheckFailed(f"{method} {path} answered {response.status_code}: "
                              f"{response.text[:300]}")
        return response.json()

    def act(self, case: Mapping[str, Any], action: str, **body: Any) -> Any:
        fresh = self.call("GET", f"/api/v1/cases/{case['id']}")
        return self.call("POST", f"/api/v1/cases/{case['id']}/{action}",
                         {"version": fresh["version"], **body})


def _period() -> str:
    today = to_shanghai_date(utcnow())
    return f"{today.year}-{today.month:02d}"


RANKING_GOAL_MS = 1000.0
FORWARD_GOAL_S = 1.0
FORWARD_WAIT_S = 60.0


class Checks:
    def __init__(self, fed: Federation, logins: Mapping[str, str], *,
                 workers: Callable[[list[str]], AbstractContextManager[Any]] | None = None,
                 ) -> None:
        self.fed = fed
        self.logins = logins
        # runs the sync workers of the nodes given for a block (the other checks sync
        # explicitly, so that nothing else moves their envelopes meanwhile)
        self.workers = workers
        # figures for the report beside the checks: ranking_ms, forward_s
        self.figures: dict[str, Any] = {"ranking_ms": None, "forward_s": None}
        layout = fed.layout
        self.province, self.city = layout[0].code, layout[1].code
        self.township = next(n for n in layout if n.level == "township")
        assert self.township.parent is not None  # noqa: S101 - a township has a county
        self.county = self.township.parent
        # one login a person and node for all the checks, as staff keep theirs: each login
        # is an Argon2 check on the node (0.2 s of CPU), and the checks use ~30
        self._logins: dict[tuple[str, str], Staff] = {}

    def staff(self, code: str, username: str) -> Staff:
        return self._login(code, username, self.logins[username])

    def _login(self, code: str, username: str, password: str) -> Staff:
        if (code, username) not in self._logins:
            self._logins[code, username] = Staff(self.fed.members[code], username, password)
        return self._logins[code, username]

    def run(self) -> dict[str, dict[str, Any]]:
        results: dict[str, dict[str, Any]] = {}
        checks: dict[str, Callable[[], Any]] = {
            "catalog_publish": self.catalog_publish,
            "calendar": self.calendar,
            "forward_result": self.forward_result,
            "bundle": self.bundle,
            "tongban_lateral": self.tongban_lateral,
            "directive_reply": self.directive_reply,
            "summaries_at_hub": self.summaries_at_hub,
            "league_table": self.league_table,
            "indicators": self.indicators,
            "ranking_time": self.ranking_time,
            "forward_time": self.forward_time,
        }
        for name, check in checks.items():
            started = time.monotonic()
            try:
                detail = check()
                results[name] = {"ok": True, "detail": detail}
            except Exception as exc:  # noqa: BLE001 - every failure is reported, none hidden
                results[name] = {"ok": False, "detail": f"{type(exc).__name__}: {exc}"}
            results[name]["seconds"] = round(time.monotonic() - started, 2)
        return results

    # -- the checks ---------------------------------------------------------------------------

    def catalog_publish(self) -> str:
        admin = self.staff(self.township.code, "admin")
        codes = [payload["code"] for payload in MATTERS]
        for code in codes:
            matter = admin.call("GET", f"/api/v1/matters/{code}")
            if matter["name"] != next(p["name"] for p in MATTERS if p["code"] == code):
                raise CheckFailed(f"{code} arrived as {matter['name']!r}")
        return f"{len(codes)} standard matters of {self.province} adopted by {self.township.code}"

    def calendar(self) -> str:
        """The township adopted the province's 2027 schedule: published, not weekends only."""
        admin = self.staff(self.township.code, "admin")
        years = {y["year"]: y for y in admin.call("GET", "/api/v1/calendar/years")}
        adopted = years.get(DEMO_CALENDAR_YEAR)
        if adopted is None or adopted["source"] != "published" \
                or adopted["publisher"] != self.province:
            raise CheckFailed(f"{self.township.code} holds {DEMO_CALENDAR_YEAR} as {adopted}")
        day = admin.call("GET", "/api/v1/calendar/days", year=DEMO_CALENDAR_YEAR, month=1)[0]
        if day["reason"] != "public_holiday":
            raise CheckFailed(f"1 January {DEMO_CALENDAR_YEAR} reads {day['reason']}")
        return (f"{self.township.code} adopted {DEMO_CALENDAR_YEAR} version "
                f"{adopted['version']} from {self.province} ({adopted['holidays']} holidays, "
                f"{adopted['worked_weekend_days']} worked weekend days)")

    def forward_result(self) -> str:
        matter = next(p for p in MATTERS
                      if p["department_code"] == "SC" and p["handling_type"] == "promised")
        clerk = self.staff(self.township.code, "clerk")
        case = clerk.call("POST", "/api/v1/cases", {
            "matter_code": matter["code"], "applicant_name": "核验申请人",
            "applicant_phone": "13907750001"}, ok=201)
        clerk.act(case, "accept")
        clerk.act(case, "forward", note="演示检查：上报县级审批")
        moved = clerk.call("GET", f"/api/v1/cases/{case['id']}")  # a step answers its state only
        if moved["state"] != "forwarded" or moved["forwarded_to"] != self.county:
            raise CheckFailed(f"the township's case is {moved['state']} to "
                              f"{moved['forwarded_to']}")
        self.fed.sync([self.township.code, self.county])
        approver = self.staff(self.county, "approver")
        listed = approver.call("GET", "/api/v1/cases", per_page=100)["items"]
        there = [c for c in listed
                 if c["origin"] and c["origin"]["case_number"] == case["number"]]
        if len(there) != 1:
            raise CheckFailed(f"the county holds {len(there)} cases from {case['number']}")
        approver.act(there[0], "start-review")
        decided = approver.act(there[0], "approve", reason="演示检查：准予许可")
        self.fed.sync([self.county, self.township.code])
        home = clerk.call("GET", f"/api/v1/cases/{case['id']}")
        if home["state"] != "approved":
            raise CheckFailed(f"the township's case is {home['state']}, not approved")
        return (f"{case['number']} forwarded {self.township.code} → {self.county} as "
                f"{there[0]['number']}, {decided['state']} there, approved back at the township")

    def _department_approver(self, code: str, department: str) -> Staff:
        """An approver of ``department`` at ``code`` (made by its admin on the first run)."""
        username = f"approver_{department.lower()}"
        password = self.logins["admin"]
        if (code, username) in self._logins:
            return self._logins[code, username]
        response = requests.post(
            f"{self.fed.members[code].url}/api/v1/users", timeout=TIMEOUT,
            headers=self.staff(code, "admin").headers,
            json={"username": username, "role": "approver", "department_code": department,
                  "display_name": f"{DEPARTMENT_NAMES[department]}审批员",
                  "password": password})
        if response.status_code not in (201, 409):
            raise CheckFailed(f"no approver of {department} at {code}: {response.text[:300]}")
        return self._login(code, username, password)

    def bundle(self) -> str:
        """新生儿出生一件事 at the county: one application at the window, one 一窗受理; three
        departments decide their parts, the city decides 医保参保 (forwarded, its result back);
        the bundle ends completed with one notice, and the applicant's lookup shows it."""
        county = self.county
        city = self.fed.members[county].node.parent
        assert city is not None  # noqa: S101 - a county has a city above it
        clerk = self.staff(county, "clerk")
        applied = clerk.call("POST", "/api/v1/bundle-cases", {
            "bundle_code": BIRTH_BUNDLE, "applicant_name": "核验家长",
            "applicant_phone": "13907750003",
            "form": {"baby_name": "核验新生儿", "birth_date": "2026-12-01",
                     "guardian_phone": "13907750003"}}, ok=201)
        number = applied["number"]
        accepted = clerk.call("POST", f"/api/v1/bundle-cases/{number}/accept")
        parts = {p["matter_code"]: p for p in accepted["parts"]}
        above = [c for c, p in parts.items() if p["state"] == "forwarded"]
        if len(parts) != len(BIRTH_MATTERS) or above != ["450000RS101"] \
                or parts[above[0]]["forwarded_to"] != city:
            raise CheckFailed(f"the parts are {[(c, p['state']) for c, p in parts.items()]}")
        self.fed.sync([county, city])
        upstairs = self._department_approver(city, "RS")
        listed = upstairs.call("GET", "/api/v1/cases", per_page=100)["items"]
        there = [c for c in listed
                 if c["origin"] and c["origin"]["case_number"] == parts[above[0]]["number"]]
        if len(there) != 1:
            raise CheckFailed(f"the city holds {len(there)} cases of the insurance part")
        upstairs.act(there[0], "approve")
        self.fed.sync([city, county])
        by_number = {c["number"]: c for c in clerk.call(
            "GET", "/api/v1/cases", number=f"{county}-*", per_page=100)["items"]}
        for payload in BIRTH_MATTERS:
            part = by_number.get(parts[payload["code"]]["number"])
            if part is None:
                raise CheckFailed(f"the clerk does not see part {payload['code']}")
            if payload["code"] not in above:
                self._department_approver(county, payload["department_code"]).act(
                    part, "approve")
            clerk.act(part, "complete")
        ended = clerk.call("GET", f"/api/v1/bundle-cases/{number}")
        if ended["state"] != "completed" or not ended["notice_number"]:
            raise CheckFailed(f"the bundle is {ended['state']} ({ended['notice_number']})")
        public = requests.get(f"{self.fed.members[county].url}/api/v1/public/bundle-cases/"
                              f"{number}", params={"code": applied["query_code"]},
                              timeout=TIMEOUT)
        if public.status_code != 200 or public.json()["state"] != "completed":
            raise CheckFailed(f"the applicant's lookup answered {public.status_code}")
        return (f"{number}: {len(parts)} parts at 3 departments of {county}, "
                f"{above[0]} decided by {city}; completed in {ended['used_days']} working days "
                f"of {ended['promised_days']} promised, notice {ended['notice_number']}")

    def tongban_lateral(self) -> str:
        """通办: 北流 receives a case for a business in 容县 (or the other county of the
        federation) and sends it sideways; that county decides it; the result comes back to
        北流, which delivers it by post."""
        matter = next(p for p in MATTERS if p.get("tongban_scope") == "province")
        counties = [n.code for n in self.fed.layout if n.level == "county"]
        beiliu = TONGBAN_RECEIVER
        # 容县 where the federation has it; the smaller one of --check has 玉州区 beside 北流
        rong = TONGBAN_COMPETENT if TONGBAN_COMPETENT in counties else next(
            code for code in counties if code != beiliu)
        clerk = self.staff(beiliu, "clerk")
        case = clerk.call("POST", "/api/v1/cases", {
            "matter_code": matter["code"], "applicant_name": "通办核验申请人",
            "applicant_phone": "13907750003"}, ok=201)
        clerk.act(case, "accept")
        clerk.act(case, "forward", division=rong, note="演示检查：经营场所在容县，北流代收")
        moved = clerk.call("GET", f"/api/v1/cases/{case['id']}")
        if (moved["state"], moved["forwarded_to"], moved["tongban_role"]) != (
                "forwarded", rong, "received"):
            raise CheckFailed(f"{beiliu}'s case is {moved['state']} to "
                              f"{moved['forwarded_to']} ({moved['tongban_role']})")
        self.fed.sync([beiliu, rong])
        approver = self.staff(rong, "approver")
        listed = approver.call("GET", "/api/v1/cases", per_page=100)["items"]
        there = [c for c in listed
                 if c["origin"] and c["origin"]["case_number"] == case["number"]]
        if len(there) != 1:
            raise CheckFailed(f"{rong} holds {len(there)} cases from {case['number']}")
        approver.act(there[0], "start-review")
        approver.act(there[0], "approve", reason="演示检查：准予许可")
        self.fed.sync([rong, beiliu])
        home = clerk.call("GET", f"/api/v1/cases/{case['id']}")
        if home["state"] != "approved" or home["forwarded_number"] != there[0]["number"]:
            raise CheckFailed(f"{beiliu}'s case is {home['state']}, linked to "
                              f"{home['forwarded_number']}")
        clerk.act(home, "complete")
        clerk.act(home, "deliver", method="post", tracking_number="EMS9876543210")
        done = clerk.call("GET", f"/api/v1/cases/{case['id']}")
        if (done["state"], done["delivery_tracking"]) != ("delivered", "EMS9876543210"):
            raise CheckFailed(f"{beiliu}'s case is {done['state']} "
                              f"({done['delivery_tracking']})")
        return (f"{case['number']} received at {beiliu} for {rong}, decided there as "
                f"{there[0]['number']}, delivered back by post from {beiliu}")

    def directive_reply(self) -> str:
        due = (to_shanghai_date(utcnow()) + dt.timedelta(days=7)).isoformat()
        issued = self.staff(self.province, "supervisor").call("POST", "/api/v1/directives", {
            "target": self.township.code, "subject": "text",
            "text": "演示检查：请报送本月办件情况", "due_on": due}, ok=201)
        self.fed.sync([self.province, self.township.code])
        target = self.staff(self.township.code, "supervisor")
        incoming = target.call("GET", "/api/v1/directives", direction="incoming")["items"]
        if issued["directive_id"] not in {d["directive_id"] for d in incoming}:
            raise CheckFailed("the directive did not reach the township")
        target.call("POST", f"/api/v1/directives/{issued['directive_id']}/reply",
                    {"state": "done", "text": "已报送"})
        self.fed.sync([self.township.code, self.province])
        outgoing = self.staff(self.province, "supervisor").call(
            "GET", "/api/v1/directives", direction="outgoing")["items"]
        state = next(d["state"] for d in outgoing
                     if d["directive_id"] == issued["directive_id"])
        if state != "done":
            raise CheckFailed(f"the province sees the directive {state}")
        return f"{self.province} → {self.township.code}, answered done"

    def summaries_at_hub(self) -> str:
        province = self.fed.members[self.province]
        key = load_node_key(self.fed.settings(province))
        period = _period()
        missing = []
        for code in self.fed.members:
            path = f"/api/v1/summaries?node={code}&period={period}"
            headers = sign_request(method="GET", path=path, body=b"", node=self.province,
                                   private_key=key, now=dt.datetime.now(dt.UTC))
            response = requests.get(self.fed.hub_url + path, headers=headers, timeout=TIMEOUT)
            if response.status_code != 200:
                missing.append(f"{code} ({response.status_code})")
        if missing:
            raise CheckFailed(f"no summary of {period} at the hub for {', '.join(missing)}")
        return f"{len(self.fed.members)} nodes' summaries of {period}, read by {self.province}"

    def ranking_time(self) -> str:
        """How long a higher center waits for a league table asked through its node (the
        node relays it to the hub, signed): the median of five, in ms (figure ranking_ms)."""
        viewer = self.staff(self.city, "viewer")
        times = []
        for _ in range(5):
            started = time.monotonic()
            viewer.call("GET", "/api/v1/rankings/league", period=_period(),
                        metric="completed", level="county", peers="all")
            times.append((time.monotonic() - started) * 1000)
        median = self.figures["ranking_ms"] = round(statistics.median(times), 1)
        each = ", ".join(f"{t:.0f}" for t in times)
        # a figure, not a timed check: the goal is said, and met or not
        return (f"median {median} ms of 5 ({each}); goal < {RANKING_GOAL_MS:.0f} ms "
                f"{'met' if median < RANKING_GOAL_MS else 'NOT met'}")

    def forward_time(self) -> str:
        """A township's forward reaching its county through the running sync workers alone
        (push-now watch, long-polled mailbox): seconds from the forward to the county's case
        (figure forward_s)."""
        if self.workers is None:
            return "not measured: no sync workers to run"
        with self.workers([self.township.code, self.county]):
            first = self._forward_through_workers("时延核验（首件）")
            took = self.figures["forward_s"] = self._forward_through_workers("时延核验")
        return (f"{took} s (the first, while the workers started and fetched the registry: "
                f"{first} s); goal < {FORWARD_GOAL_S:.0f} s "
                f"{'met' if took < FORWARD_GOAL_S else 'NOT met'}")

    def _forward_through_workers(self, applicant: str) -> float:
        matter = next(p for p in MATTERS
                      if p["department_code"] == "SC" and p["handling_type"] == "promised")
        clerk = self.staff(self.township.code, "clerk")
        case = clerk.call("POST", "/api/v1/cases", {
            "matter_code": matter["code"], "applicant_name": applicant,
            "applicant_phone": "13907750002"}, ok=201)
        clerk.act(case, "accept")
        approver = self.staff(self.county, "approver")
        started = time.monotonic()
        clerk.act(case, "forward", note="演示检查：上报时延")
        deadline = started + FORWARD_WAIT_S
        while time.monotonic() < deadline:
            listed = approver.call("GET", "/api/v1/cases", per_page=100)["items"]
            if any(c["origin"] and c["origin"]["case_number"] == case["number"]
                   for c in listed):
                return round(time.monotonic() - started, 2)
            time.sleep(0.05)
        raise CheckFailed(f"the forward did not reach {self.county} within "
                          f"{FORWARD_WAIT_S:.0f} s through the workers")

    def league_table(self) -> str:
        viewer = self.staff(self.city, "viewer")
        table = viewer.call("GET", "/api/v1/rankings/league", period=_period(),
                            metric="completed", level="county", peers="all")
        rows = [row for group in table["groups"] for row in group["rows"]]
        counties = sorted(n.code for n in self.fed.layout if n.level == "county")
        if sorted(row["node"] for row in rows) != counties:
            raise CheckFailed(f"the table lists {[r['node'] for r in rows]}, not {counties}")
        unranked = [row["node"] for row in rows if row["status"] != "ranked"]
        if unranked:
            raise CheckFailed(f"not ranked: {unranked}")
        return ", ".join(f"{row['rank']}. {row['node']} ({row['value']})"
                         for row in sorted(rows, key=lambda r: r["rank"]))

    def indicators(self) -> str:
        """Today's national indicators ranked for the counties (docs/metrics.md): every
        county listed on each, the catalog's and the visits' ranked; 平均跑动次数 fewest
        first."""
        viewer = self.staff(self.city, "viewer")
        counties = sorted(n.code for n in self.fed.layout if n.level == "county")
        must_rank = ("limit_compression_rate", "immediate_share", "online_available_rate",
                     "average_visits", "at_most_once_rate", "fully_online_rate")
        shown = []
        for metric in NATIONAL_INDICATORS:
            table = viewer.call("GET", "/api/v1/rankings/league", period=_period(),
                                metric=metric, level="county", peers="all")
            rows = [row for group in table["groups"] for row in group["rows"]]
            if sorted(row["node"] for row in rows) != counties:
                raise CheckFailed(f"{metric} lists {[r['node'] for r in rows]}, not {counties}")
            unranked = [row["node"] for row in rows if row["status"] != "ranked"]
            if metric in must_rank and unranked:
                raise CheckFailed(f"{metric}: not ranked: {unranked}")
            if metric == "average_visits" and table["order"] != "asc":
                raise CheckFailed("平均跑动次数 must rank the fewest visits first")
            ranked = sorted((r for r in rows if r["rank"] is not None), key=lambda r: r["rank"])
            shown.append(f"{metric}: " + ", ".join(
                f"{r['rank']}. {r['node']} ({r['value']})" for r in ranked))
        return "; ".join(shown)
