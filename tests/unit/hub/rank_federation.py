"""A bigger test federation for rankings: Yulin city's seven county-level units (two
districts, four counties, one county-level city), two townships of Beiliu, and another city
with one district.  Summaries reach the hub through the real ingest path (signed pushes).

The hub clock is settable, and certificates are valid for a year around now, so that a test
can push a summary "on" any day of the last months.
"""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from flask import Flask

from schemas.certificates import issue_certificate
from schemas.divisions import parent_of
from schemas.envelope import Kind
from schemas.periods import Period
from schemas.runtime.database import utcnow
from tests.unit.hub.federation import ROOT_KEY, Node, b64, fixed_key

PROVINCE, YULIN, OTHER_CITY = "450000", "450900", "450100"
YUZHOU, FUMIAN = "450902", "450903"  # districts
RONG, LUCHUAN, BOBAI, XINGYE = "450921", "450922", "450923", "450924"  # counties
BEILIU = "450981"  # county-level city
TOWN_A, TOWN_B = "450981101", "450981102"
NANNING_DISTRICT = "450102"

IDENTITY: dict[str, tuple[str, str | None, str]] = {
    PROVINCE: ("province", None, "广西"),
    YULIN: ("city", None, "玉林市"),
    OTHER_CITY: ("city", None, "南宁市"),
    YUZHOU: ("county", "district", "玉州区"),
    FUMIAN: ("county", "district", "福绵区"),
    RONG: ("county", "county", "容县"),
    LUCHUAN: ("county", "county", "陆川县"),
    BOBAI: ("county", "county", "博白县"),
    XINGYE: ("county", "county", "兴业县"),
    BEILIU: ("county", "county_city", "北流市"),
    TOWN_A: ("township", None, "北流镇甲"),
    TOWN_B: ("township", None, "北流镇乙"),
    NANNING_DISTRICT: ("county", "district", "兴宁区"),
}
ORDER = (YULIN, OTHER_CITY, YUZHOU, FUMIAN, RONG, LUCHUAN, BOBAI, XINGYE, BEILIU, TOWN_A,
         TOWN_B, NANNING_DISTRICT)
KEYS = {code: fixed_key(1 if code == PROVINCE else 20 + i)
        for i, code in enumerate((PROVINCE, *ORDER))}
_serials = itertools.count(1000)


def count(value: int) -> dict[str, Any]:
    return {"unit": "count", "value": value}


def rate(numerator: int, denominator: int) -> dict[str, Any]:
    entry: dict[str, Any] = {"unit": "basis_points", "numerator": numerator,
                             "denominator": denominator}
    if denominator:
        entry["value"] = (numerator * 20000 + denominator) // (denominator * 2)
    return entry


def summary(code: str, period: str, metrics: dict[str, dict[str, Any]], *,
            final: bool = True) -> dict[str, Any]:
    level, kind, name = IDENTITY[code]
    span = Period.parse(period)
    return {
        "schema": "tongban.summary", "version": 1,
        "node": {"code": code, "name": name, "level": level, "kind": kind,
                 "parent": parent_of(code)},
        "period": {"kind": span.kind.value, "label": span.label,
                   "start": span.start.isoformat(), "end": span.end.isoformat()},
        "computed_at": "2026-01-01T00:00:00+00:00", "final": final, "metrics": metrics,
        "catalog": {"should_enter": 0, "entered": 0, "entered_of_should": 0, "authorized": {}},
    }


class RankFederation:
    """The nodes above, enrolled at a hub app whose clock the test sets."""

    def __init__(self, app: Flask, *, enrol: tuple[str, ...] = ORDER) -> None:
        self.app = app
        self.now = utcnow()
        app.extensions["hub_clock"] = lambda: self.now
        client = app.test_client()
        self.nodes = {code: Node(client, code, KEYS[code]) for code in (PROVINCE, *ORDER)}
        province = self.nodes[PROVINCE]
        self._push(province, Kind.CERT, {"certificate": self._certificate(PROVINCE)},
                   key=ROOT_KEY)
        for code in enrol:
            parent = self.nodes[parent_of(code) or PROVINCE]
            self._push(parent, Kind.CERT, {"certificate": self._certificate(code)})

    def _certificate(self, subject: str) -> dict[str, Any]:
        issuer = parent_of(subject) or subject
        level, kind, _ = IDENTITY[subject]
        issuer_key: Ed25519PrivateKey = ROOT_KEY if subject == PROVINCE else KEYS[issuer]
        base = utcnow()
        return issue_certificate(
            issuer_code=issuer, issuer_key=issuer_key, subject=subject, level=level, kind=kind,
            parent=parent_of(subject), public_key_b64=b64(KEYS[subject]),
            not_before=base - dt.timedelta(days=400), not_after=base + dt.timedelta(days=400),
            serial=next(_serials))

    def _push(self, node: Node, kind: Kind, body: dict[str, Any], *,
              key: Ed25519PrivateKey | None = None) -> None:
        wire = node.envelope(kind, "hub", body, key=key)
        results = node.results(wire, key=key, now=self.now)
        assert [r["status"] for r in results] == ["accepted"], results

    def report(self, code: str, period: str, metrics: dict[str, dict[str, Any]], *,
               final: bool = True, at: dt.datetime | None = None) -> None:
        """``code`` pushes its summary of ``period`` (received at ``at``, default: now)."""
        if at is not None:
            self.now = at
        self._push(self.nodes[code], Kind.SUMMARY, summary(code, period, metrics, final=final))

    def push_summary(self, body: dict[str, Any]) -> None:
        """Push a summary body made elsewhere (e.g. by the node's own metric code)."""
        self._push(self.nodes[body["node"]["code"]], Kind.SUMMARY, body)

    def get(self, path: str, caller: str = PROVINCE) -> Any:
        return self.nodes[caller].call("GET", path, now=self.now)

    def post(self, path: str, document: Any, caller: str = PROVINCE) -> Any:
        return self.nodes[caller].call("POST", path, document, now=self.now)
