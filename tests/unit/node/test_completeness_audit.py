"""A higher center's completeness page flags the audit chains of its subtree (issue 16, item
9): 审计链异常 for a township whose anchored count went back, 已从备份恢复 for one that
announced a restore; the node relays the answer of a real hub app."""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

from flask.testing import FlaskClient

from tests.unit.hub.rank_federation import TOWN_A, TOWN_B, summary
from tests.unit.node.test_web import hub_behind, log_in

__all__ = ["hub_behind"]

PERIOD = "2026-11"


def head(n: int) -> str:
    return hashlib.sha256(f"entry {n}".encode()).hexdigest()



def test_the_county_completeness_page_flags_its_townships_audit_chains(
    client: FlaskClient, desk: Any, hub_behind: Any, app: Any,
) -> None:
    def report(code: str, entries: int, restore: str | None = None) -> None:
        body = summary(code, PERIOD, {}) | {
            "audit": {"entries": entries, "head": head(entries), "restore": restore}}
        hub_behind.push_summary(body)

    report(TOWN_A, 20)
    report(TOWN_A, 14)  # truncated, the head rewound
    report(TOWN_B, 30)
    report(TOWN_B, 12, restore=str(uuid.uuid4()))  # an older backup, announced
    assert log_in(client, "super1").status_code == 302
    code = app.config["TONGBAN"].code
    response = client.get(f"/staff/rankings/completeness?scope={code}&period={PERIOD}")
    page = response.get_data(as_text=True)
    assert response.status_code == 200, page[:2000]
    assert '<div class="value" id="audit-anomalies">1</div>' in page
    assert '<div class="value" id="audit-restores">1</div>' in page
    flagged = page[page.index(f"（{TOWN_A}）</td>"):].split("</tr>", 1)[0]
    assert 'data-audit="anomaly">审计链异常' in flagged
    assert "记录数 20 → 14" in flagged
    restored = page[page.index(f"（{TOWN_B}）</td>"):].split("</tr>", 1)[0]
    assert 'data-audit="restored">已从备份恢复' in restored
    assert "记录数 30 → 12" in restored
