"""An outsider's check of tongban's audit answers, written from RFC 9162, RFC 8785 and
docs/verification.md alone.

It imports nothing from tongban: only the standard library, ``rfc8785`` (a reference RFC 8785
encoder) and ``cryptography`` (Ed25519).  Given the signed ``summary`` envelope and the signed
``audit.response`` envelope (JSON files), optionally the node's raw Ed25519 public key
(base64url) and the hub's audit record (``--audit AUDIT.json``, the answer of
``GET /api/v1/audits/<id>``), it checks:

- both signatures (Ed25519 over the RFC 8785 JSON of the envelope without ``sig``);
- that the answer names the summary and its tree (size and root as the summary signed them);
- that the answered indexes are the first ones drawn from the answer's seed by the sampling
  rule, one per item; with ``--audit``, that the seed is SHA-256(request digest || log head),
  the request digest SHA-256 of the request's RFC 8785 JSON, and as many leaves answered as
  the audit asked for;
- for each sampled leaf, SHA-256(0x00 || RFC 8785 JSON of the leaf) and its inclusion proof
  against the signed root with the algorithm of RFC 9162 §2.1.3.2;
- that the leaf lies in the run of its state (the summary's ``by_state``);
- its flags and state recomputed from its own dates and deadline at the end of ``as_of``;
- that the node still holds the case unchanged: ``current``, the leaf the node recomputed
  from its record now, is the committed leaf.

Usage: ``python rfc9162_check.py SUMMARY.json RESPONSE.json [PUBLIC_KEY] [--audit AUDIT.json]``;
prints one line per check and exits 0 when every check passes, 1 otherwise.
"""

import base64
import hashlib
import json
import sys

import rfc8785


def node_hash(left, right):
    return hashlib.sha256(b"\x01" + left + right).digest()


def verify_inclusion(leaf_index, tree_size, leaf_hash, path, root_hash):
    """RFC 9162 §2.1.3.2, step by step."""
    if leaf_index >= tree_size:
        return False
    fn = leaf_index
    sn = tree_size - 1
    r = leaf_hash
    for p in path:
        if sn == 0:
            return False
        if fn % 2 == 1 or fn == sn:
            r = node_hash(p, r)
            if fn % 2 == 0:
                while fn % 2 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root_hash


def signature_ok(envelope, public_key):
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    unsigned = {k: v for k, v in envelope.items() if k != "sig"}
    sig = base64.urlsafe_b64decode(envelope["sig"] + "=" * (-len(envelope["sig"]) % 4))
    key = Ed25519PublicKey.from_public_bytes(
        base64.urlsafe_b64decode(public_key + "=" * (-len(public_key) % 4)))
    try:
        key.verify(sig, rfc8785.dumps(unsigned))
    except InvalidSignature:
        return False
    return True


STATES = ("received", "open", "overdue", "completed", "rejected", "withdrawn", "forwarded",
          "closed")  # the runs' order


def sample_indexes(seed, size, count):
    """The sampling rule: the i-th draw is the first 8 bytes of SHA-256(seed || i as 8 bytes
    big-endian), kept when below the largest multiple of ``size`` under 2**64 and not drawn
    before, taken modulo ``size``."""
    wanted = min(count, size)
    limit = (2**64 // size) * size if size else 0
    chosen, i = [], 0
    while len(chosen) < wanted:
        draw = int.from_bytes(hashlib.sha256(bytes.fromhex(seed) + i.to_bytes(8, "big"))
                              .digest()[:8], "big")
        i += 1
        if draw < limit and draw % size not in chosen:
            chosen.append(draw % size)
    return chosen


def run_of(by_state, index):
    low = 0
    for state in STATES:
        high = low + by_state.get(state, 0)
        if low <= index < high:
            return state
        low = high
    return None


def flags_ok(leaf, as_of):
    """The leaf's flags and state as its own dates and deadline give them."""
    for field in ("received", "accepted", "completed", "closed", "forwarded"):
        if leaf[field] is not None and leaf[field] > as_of:
            return False
    completed, deadline = leaf["completed"], leaf["deadline"]
    on_time = None if completed is None else (deadline is None or completed <= deadline)
    same_day = None if completed is None else completed == leaf["accepted"]
    if leaf["on_time"] != on_time or leaf["same_day"] != same_day:
        return False
    if leaf["forwarded"] is not None:
        states = ("forwarded",)
    elif completed is not None:
        states = ("completed",)
    elif leaf["closed"] is not None:
        states = ("rejected", "withdrawn", "closed", "completed")
    elif leaf["accepted"] is None:
        states = ("received",)
    elif deadline is not None and deadline < as_of:
        states = ("overdue", "open")  # a special procedure stops the clock
    else:
        states = ("open",)
    return leaf["state"] in states


def check(summary, response, public_key=None, audit=None):
    """A list of (line, ok) pairs."""
    lines = []
    if public_key is not None:
        for name, envelope in (("summary", summary), ("audit.response", response)):
            lines.append((f"signature of the {name}", signature_ok(envelope, public_key)))
    body = response["body"]
    commitment = summary["body"]["commitment"]
    size = commitment["size"]
    lines.append(("the answer names the summary", body["summary"] == summary["id"]
                  and response["from"] == summary["from"]))
    lines.append(("the tree is the one signed", body["size"] == size
                  and body["root"] == commitment["root"]))
    answered = [item["index"] for item in body["items"]]
    lines.append(("the sample is drawn from the seed",
                  answered == sample_indexes(body["seed"], size, len(answered))))
    if audit is not None:
        digest = hashlib.sha256(rfc8785.dumps(audit["request"])).hexdigest()
        seed = hashlib.sha256(bytes.fromhex(digest) + bytes.fromhex(audit["log_head"]))
        lines.append(("the seed is the request's and the hub's log head's",
                      digest == audit["request_digest"] and seed.hexdigest() == body["seed"]
                      and audit["seed"] == body["seed"] and body["audit"] == audit["id"]))
        lines.append(("as many leaves as the audit asked for",
                      len(answered) == min(audit["sample_size"], size)))
    root = bytes.fromhex(commitment["root"])
    for item in body["items"]:
        committed = item["leaf"]
        name = f"{item['index']} ({committed['case']})"
        leaf = hashlib.sha256(b"\x00" + rfc8785.dumps(committed)).digest()
        path = [bytes.fromhex(step) for step in item["proof"]]
        ok = verify_inclusion(item["index"], size, leaf, path, root)
        lines.append((f"leaf {name}", ok))
        lines.append((f"run of leaf {name}",
                      run_of(commitment["by_state"], item["index"]) == committed["state"]))
        lines.append((f"flags of leaf {name}", flags_ok(committed, commitment["as_of"])))
        lines.append((f"case of leaf {name} held unchanged", item["current"] == committed))
    return lines


def main(argv):
    args = list(argv[1:])
    audit = None
    if "--audit" in args:
        at = args.index("--audit")
        with open(args[at + 1], encoding="utf-8") as f:
            audit = json.load(f)
        del args[at:at + 2]
    with open(args[0], encoding="utf-8") as f:
        summary = json.load(f)
    with open(args[1], encoding="utf-8") as f:
        response = json.load(f)
    lines = check(summary, response, args[2] if len(args) > 2 else None, audit)
    for line, ok in lines:
        sys.stdout.write(("ok    " if ok else "FAIL  ") + line + "\n")
    return 0 if all(ok for _, ok in lines) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
