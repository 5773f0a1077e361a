"""Centers by name: the registry's names kept on the node (node/sync/names.py) and shown by
the pages as 名称（代码）, with the centers below offered as a picker."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask.testing import FlaskClient

from node.sync.names import center_names, centers_below, store_names
from node.sync.registry import Refreshed, refresh_registry
from node.web.labels import center_label
from schemas.runtime.database import Database
from tests.unit.node.conftest import Api
from tests.unit.node.test_web import log_in

NOW = dt.datetime(2026, 12, 6, 6, 0, tzinfo=dt.UTC)
NAMES = {"450900": "玉林市政务服务中心", "450981101": "民乐镇便民服务中心",
         "450981102": "北流镇便民服务中心", "450902": "玉州区政务服务中心"}


def test_names_are_kept_changed_and_anything_else_ignored(db: Database) -> None:
    with db.unit_of_work() as session:
        assert store_names(session, NAMES, NOW) == 4
        assert store_names(session, {"450900": "玉林市政务服务中心"}, NOW) == 0
        assert store_names(session, {"450900": "玉林市人民政府政务服务中心", "x": 5,
                                     "450981103": "  "}, NOW) == 1
        assert store_names(session, ["not", "a", "mapping"], NOW) == 0
        names = center_names(session)
        assert names["450900"] == "玉林市人民政府政务服务中心"
        assert "450981103" not in names
        # below 450981: its townships, not its parent nor a sibling county
        assert centers_below(session, "450981") == [
            ("450981101", "民乐镇便民服务中心"), ("450981102", "北流镇便民服务中心")]
        assert [code for code, _ in centers_below(session, "450900", direct=True)] == [
            "450902"]


def test_a_code_is_never_shown_alone() -> None:
    assert center_label("450900", NAMES) == "玉林市政务服务中心（450900）"
    assert center_label("450100", NAMES) == "未登记名称的中心（450100）"
    assert center_label(None, NAMES) == "—"


class _Hub:
    """A hub answering a registry part whose documents are already held (none new)."""

    def __init__(self, names: Any) -> None:
        self.names = names

    def fetch_registry_changes(self, **_: Any) -> dict[str, Any]:
        return {"root": "450000", "certificates": [], "revocations": [],
                "issued_at": NOW.isoformat(), "serial": 9, "root_code": "450000",
                "root_public_key": "k", "cursor": {"certificates": 7, "revocations": 0},
                "names": self.names}


def test_a_refresh_hands_over_the_names_of_the_answer() -> None:
    from schemas.trust import TrustStore

    store = object.__new__(TrustStore)
    store.extend = lambda certificates, revocations: ([], [])  # type: ignore[method-assign]
    cached = {"root": "450000", "certificates": [], "revocations": [], "issued_at": "x",
              "serial": 8, "cursor": {"certificates": 7, "revocations": 0}}
    refreshed = refresh_registry(_Hub(NAMES), code="450981", root_code="450000",
                                 root_key=lambda offered: "k", cached=cached, store=store)
    assert isinstance(refreshed, Refreshed)
    assert refreshed.names == NAMES
    assert "names" not in refreshed.document  # the names are kept in their own table
    malformed = refresh_registry(_Hub("玉林"), code="450981", root_code="450000",
                                 root_key=lambda offered: "k", cached=cached, store=store)
    assert malformed is not None
    assert malformed.names == {}


def test_the_directives_page_offers_the_centers_below_by_name(
    client: FlaskClient, db: Database, desk: dict[str, Api]
) -> None:
    assert log_in(client, "super1").status_code == 302
    without = client.get("/staff/supervision/directives").get_data(as_text=True)
    assert '<select id="f-target"' not in without  # no names yet: the code is typed
    with db.unit_of_work() as session:
        store_names(session, NAMES, NOW)

    page = client.get("/staff/supervision/directives").get_data(as_text=True)
    assert '<select id="f-target" name="target"' in page
    assert '<option value="450981101" >民乐镇便民服务中心（450981101）</option>' in page
    assert "玉州区" not in page  # a sibling county is not below
    assert "下级中心代码" not in page


def test_the_rankings_scope_is_a_picker_of_this_center_and_those_below(
    client: FlaskClient, db: Database, desk: dict[str, Api]
) -> None:
    with db.unit_of_work() as session:
        store_names(session, NAMES, NOW)
    assert log_in(client, "super1").status_code == 302
    page = client.get("/staff/rankings").get_data(as_text=True)
    assert "范围（行政区划代码）" not in page
    assert '<select id="scope" name="scope">' in page
    assert "北流市政务服务中心（450981）" in page
    assert "北流镇便民服务中心（450981102）" in page
