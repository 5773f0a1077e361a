"""A correctly signed envelope larger than the 1 MiB limit, as a hostile or older sender could
make one: :func:`schemas.envelope.sign_envelope` refuses to sign it, so the test signs the
canonical bytes itself (exactly what a receiver verifies)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from schemas.envelope import Envelope, Kind, sign_envelope
from schemas.keys import sign_b64

# the size of the catalog.publish in issue 16 that stopped a township's sync
POISON_BYTES = 1_440_000


def catalog_matter(index: int) -> dict[str, Any]:
    return {
        "standard_code": f"000123{index:06d}", "name": f"超大目录事项{index}",
        "category": "administrative_licence", "handling_level": "county",
        "handling_type": "promised", "legal_limit_days": 20, "promised_limit_days": 10,
        "notify_and_commit": False, "deemed_approval": False,
        "legal_basis": "x" * 20_000, "procedure": "受理、审查、决定", "conditions": "",
        "fee_basis": "", "fee_standard": "不收费", "fee_amount_fen": 0,
        "complaint_channel": "12345", "materials": [],
    }


def oversized_catalog_publish(
    key: Ed25519PrivateKey, *, sender: str, seq: int, size: int = POISON_BYTES,
    ts: dt.datetime | None = None,
) -> Envelope:
    """A ``catalog.publish`` from ``sender`` to ``<sender>/*`` whose canonical wire has at least
    ``size`` bytes, signed with ``key``."""
    small = sign_envelope(kind=Kind.CATALOG_PUBLISH, sender=sender, to=f"{sender}/*", seq=seq,
                          body={"catalog_version": 999, "published_at": "2026-11-01T08:00:00+08:00",
                                "matters": [catalog_matter(0)]},
                          private_key=key, ts=ts)
    count = size // 20_000 + 1
    body = dict(small.body, matters=[catalog_matter(i) for i in range(count)])
    unsigned = dataclasses.replace(small, body=body, sig="")
    envelope = dataclasses.replace(unsigned, sig=sign_b64(key, unsigned.unsigned_bytes()))
    assert len(envelope.wire_bytes()) >= size
    return envelope
