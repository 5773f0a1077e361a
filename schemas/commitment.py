"""What a summary commits to, and how anyone checks it (issue 21, docs/verification.md).

A summary carries ``commitment``: the root and size of an RFC 9162 Merkle tree
(schemas/merkle.py) over one **leaf** per case the period's case figures count, the leaves'
tallies of those figures, and how many leaves are in each state at the period's end.  A leaf
is the RFC 8785 canonical JSON of the case's counted facts plus a per-case salt, and nothing
about its applicant:

``v``          the leaf format (1)
``case``       the case number
``matter``     the matter's code
``channel``    window | online | village_agent | department_office
``from_below`` forwarded in from a lower center (its origin counts its receipt)
``received``, ``accepted``, ``deadline``, ``completed``, ``closed``, ``forwarded``
               dates (``YYYY-MM-DD`` or null); a date after ``as_of`` is null
``on_time``    completed on or before the deadline (null when not completed)
``same_day``   completed on the accepted day (null when not completed)
``state``      the state at the end of ``as_of`` (:data:`STATES`)
``fee_fen``    fees paid at the center's bank window in the period, in fen
``salt``       32 hex digits only the node knows, so leaves cannot be guessed from public facts

Leaves are ordered by state (in the order of :data:`STATES`) and then by the UTF-8 bytes of
the case number, so the leaves of each state form one run of indexes: ``by_state`` gives the
runs, and a sampled leaf outside its state's run is caught.  Everything here is plain Python
the node, the hub and an outsider share.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from schemas.fastcanon import canonical
from schemas.merkle import leaf_hash
from schemas.metrics import ALL_METRICS, DERIVED_COUNTS, RATIO_UNITS, ratio_value
from schemas.periods import Period, PeriodError
from schemas.summary import COMMITMENT_KEYS, LEAF_STATES

LEAF_VERSION = 1
CHANNELS = ("window", "online", "village_agent", "department_office")
STATES = LEAF_STATES  # the runs' order
DATE_FIELDS = ("received", "accepted", "deadline", "completed", "closed", "forwarded")
LEAF_FIELDS = ("v", "case", "matter", "channel", "from_below", *DATE_FIELDS, "on_time",
               "same_day", "state", "fee_fen", "salt")
SALT_HEX = 32
DEFAULT_SAMPLE_SIZE = 30
MAX_SAMPLE_SIZE = 200

# the summary's figures the leaves add up to (every metric they can support)
COMMITTED_METRICS = COMMITMENT_KEYS
# the rates (and the monthly average) with a numerator or denominator the leaves add up to:
# their numerator and denominator must be those figures and their value what they give
COMMITTED_RATIOS = tuple(
    metric.key for metric in ALL_METRICS.values() if metric.unit in RATIO_UNITS
    and ({metric.numerator, metric.denominator} & {*COMMITMENT_KEYS, *DERIVED_COUNTS}))


def leaf_bytes(leaf: Mapping[str, Any]) -> bytes:
    """The leaf as RFC 8785 canonical JSON: the bytes the tree hashes."""
    return canonical(dict(leaf))


def leaf_digest(leaf: Mapping[str, Any]) -> bytes:
    return leaf_hash(leaf_bytes(leaf))


def sort_key(leaf: Mapping[str, Any]) -> tuple[int, bytes]:
    return STATES.index(leaf["state"]), str(leaf["case"]).encode("utf-8")


def _in(day: str | None, start: str, end: str) -> bool:
    return day is not None and start <= day <= end


def tallies(leaves: Iterable[Mapping[str, Any]], start: dt.date, end: dt.date
            ) -> tuple[dict[str, int], dict[str, int]]:
    """What ``leaves`` add up to for the days ``[start, end]`` (a period up to its ``as_of``
    day): the committed metrics and the leaves in each state."""
    first, last = start.isoformat(), end.isoformat()
    counts = dict.fromkeys(COMMITTED_METRICS, 0)
    by_state = dict.fromkeys(STATES, 0)
    for leaf in leaves:
        by_state[leaf["state"]] += 1
        here = not leaf["from_below"]
        if _in(leaf["received"], first, last):
            if here:
                counts["received"] += 1
                counts[f"received_{leaf['channel']}"] += 1
            else:
                counts["received_from_below"] += 1
        if here and _in(leaf["accepted"], first, last):
            counts["accepted"] += 1
        if _in(leaf["completed"], first, last) and leaf["forwarded"] is None:
            counts["completed"] += 1
            counts["completed_on_time" if leaf["on_time"] else "completed_late"] += 1
            counts["completed_same_day"] += bool(leaf["same_day"])
            counts["returned_with_result"] += not here
        if _in(leaf["closed"], first, last) and leaf["state"] in ("rejected", "withdrawn"):
            counts[leaf["state"]] += 1
        if _in(leaf["forwarded"], first, last):
            counts["forwarded_up"] += 1
        if leaf["state"] in ("open", "overdue"):
            counts["open_at_end"] += 1
            counts["overdue_open"] += leaf["state"] == "overdue"
        counts["fees_center_fen"] += int(leaf["fee_fen"])
    return counts, by_state


def commitment_problems(body: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Why a summary's figures disagree with its commitment (empty: they agree, or the
    summary carries no commitment).  Each problem: ``{"reason", "field", "summary",
    "commitment"}`` with reason ``counts`` (a figure is not what the leaves add up to) or
    ``size`` (the leaves by state do not add up to the tree's size)."""
    commitment = body.get("commitment")
    if not isinstance(commitment, Mapping):
        return []
    problems: list[dict[str, Any]] = []
    metrics = body.get("metrics") or {}
    tallied = commitment["tallies"]
    for key in COMMITTED_METRICS:
        claimed = (metrics.get(key) or {}).get("value")
        if claimed != tallied.get(key):
            problems.append({"reason": "counts", "field": key, "summary": claimed,
                             "commitment": tallied.get(key)})
    problems += _ratio_problems(body, metrics, tallied)
    by_state = commitment["by_state"]
    total = sum(int(by_state.get(state, 0)) for state in STATES)
    if total != commitment["size"]:
        problems.append({"reason": "size", "field": "by_state", "summary": total,
                         "commitment": commitment["size"]})
    if by_state.get("overdue", 0) != tallied.get("overdue_open") or \
            by_state.get("open", 0) + by_state.get("overdue", 0) != tallied.get("open_at_end"):
        problems.append({"reason": "size", "field": "by_state.open",
                         "summary": tallied.get("open_at_end"),
                         "commitment": by_state.get("open", 0) + by_state.get("overdue", 0)})
    return problems


def _ratio_problems(body: Mapping[str, Any], metrics: Mapping[str, Any],
                    tallied: Mapping[str, Any]) -> list[dict[str, Any]]:
    """A rate (or the monthly average) whose numerator or denominator is a committed figure
    must carry that figure, and its value must be what its numerator and denominator give: an
    on-time rate of 100 % beside an honest on-time count is refused too (a rate left out
    claims nothing).  A part the leaves
    cannot support (体外循环's numerator, say) is taken as claimed; the months of a monthly
    average are the period's."""
    try:
        months: int | None = Period.parse(str(body["period"]["label"])).months
    except (PeriodError, KeyError, TypeError):
        months = None
    problems: list[dict[str, Any]] = []
    for key in COMMITTED_RATIOS:
        metric = ALL_METRICS[key]
        claimed = metrics.get(key)
        if claimed is None:
            continue  # a rate left out claims nothing (a count left out is a problem above)
        claimed = claimed if isinstance(claimed, Mapping) else {}
        parts = []
        for name in (metric.numerator, metric.denominator):
            if name in COMMITMENT_KEYS:
                parts.append(tallied.get(name))
            elif name in DERIVED_COUNTS:
                parts.append(sum(int(tallied.get(k) or 0) for k in DERIVED_COUNTS[name]))
            elif name == "months" and months is not None:
                parts.append(months)
            else:
                parts.append(claimed.get("numerator" if name == metric.numerator
                                         else "denominator"))
        numerator, denominator = parts
        value = None if not (isinstance(numerator, int) and isinstance(denominator, int)) \
            else ratio_value(metric.unit, numerator, denominator)
        if (claimed.get("numerator"), claimed.get("denominator"), claimed.get("value")) != \
                (numerator, denominator, value):
            problems.append({"reason": "counts", "field": key, "summary": claimed.get("value"),
                             "commitment": value})
    return problems


def state_of_index(by_state: Mapping[str, int], index: int) -> str | None:
    """The state whose run of leaves holds ``index`` (None: beyond the last run)."""
    low = 0
    for state in STATES:
        high = low + int(by_state.get(state, 0))
        if low <= index < high:
            return state
        low = high
    return None


def flag_problems(leaf: Mapping[str, Any], as_of: str) -> list[str]:
    """What is wrong with a leaf's flags and state, recomputed from its own dates and
    deadline at the end of ``as_of`` (empty: nothing)."""
    problems = []
    for field in DATE_FIELDS:
        day = leaf.get(field)
        if day is not None and day > as_of and field != "deadline":
            problems.append(f"{field} {day} lies after {as_of}")
    completed, deadline = leaf.get("completed"), leaf.get("deadline")
    on_time = None if completed is None else (deadline is None or completed <= deadline)
    if leaf.get("on_time") != on_time:
        problems.append(f"on_time is {leaf.get('on_time')}, the dates say {on_time}")
    same_day = None if completed is None else completed == leaf.get("accepted")
    if leaf.get("same_day") != same_day:
        problems.append(f"same_day is {leaf.get('same_day')}, the dates say {same_day}")
    state = leaf.get("state")
    expected = _state_from_dates(leaf, as_of)
    if expected is not None and state not in expected:
        problems.append(f"state is {state}, the dates say {' or '.join(expected)}")
    return problems


def _state_from_dates(leaf: Mapping[str, Any], as_of: str) -> tuple[str, ...] | None:
    if leaf.get("forwarded") is not None:
        return ("forwarded",)
    if leaf.get("completed") is not None:
        return ("completed",)
    if leaf.get("closed") is not None:
        return ("rejected", "withdrawn", "closed", "completed")
    if leaf.get("accepted") is None:
        return ("received",)
    deadline = leaf.get("deadline")
    if deadline is not None and deadline < as_of:
        # a clock stopped by a special procedure keeps a late case open, not overdue
        return ("overdue", "open")
    return ("open",)


# -- sampling -------------------------------------------------------------------------------


def audit_seed(request_digest: str, log_head: str) -> str:
    """The sample's seed: SHA-256 of the audit request's digest and the hub's log head at
    the time (both hex), which the audited node can choose neither of."""
    return hashlib.sha256(bytes.fromhex(request_digest) + bytes.fromhex(log_head)).hexdigest()


def sample_indexes(seed: str, size: int, count: int) -> list[int]:
    """``min(count, size)`` distinct leaf indexes drawn from ``seed``, in drawing order:
    the i-th draw is the first 8 bytes of SHA-256(seed || i as 8 bytes big-endian) read as a
    big-endian integer, kept when below the largest multiple of ``size`` (no modulo bias) and
    not drawn before, then taken modulo ``size``."""
    wanted = min(count, size)
    if wanted <= 0:
        return []
    limit = (2**64 // size) * size
    chosen: list[int] = []
    seen: set[int] = set()
    counter = 0
    seed_bytes = bytes.fromhex(seed)
    while len(chosen) < wanted:
        draw = int.from_bytes(hashlib.sha256(seed_bytes + counter.to_bytes(8, "big"))
                              .digest()[:8], "big")
        counter += 1
        if draw >= limit:
            continue
        index = draw % size
        if index not in seen:
            seen.add(index)
            chosen.append(index)
    return chosen


def detection_probability(size: int, sample: int, false_share_bp: int) -> int:
    """The chance, in basis points, that a sample of ``sample`` leaves out of ``size``
    draws at least one of the false ones when ``false_share_bp`` basis points of the leaves
    are false (at least one leaf when the share is above 0): drawing without replacement."""
    if size <= 0 or sample <= 0 or false_share_bp <= 0:
        return 0
    false = max(1, math.ceil(size * false_share_bp / 10000))
    sample = min(sample, size)
    if sample > size - false:
        return 10000
    miss = math.comb(size - false, sample) / math.comb(size, sample)
    return round((1 - miss) * 10000)


def digests_hex(digests: Sequence[bytes]) -> list[str]:
    return [digest.hex() for digest in digests]
