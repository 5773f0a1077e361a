"""An outsider's check of tongban's audit answers, written from RFC 9162 and RFC 8785 alone.

It imports nothing from tongban: only the standard library, ``rfc8785`` (a reference RFC 8785
encoder) and ``cryptography`` (Ed25519).  Given the signed ``summary`` envelope and the signed
``audit.response`` envelope (JSON files) and, optionally, the node's raw Ed25519 public key
(base64url), it checks:

- both signatures (Ed25519 over the RFC 8785 JSON of the envelope without ``sig``);
- that the answer names the summary and its tree (size and root as the summary signed them);
- for each sampled leaf, SHA-256(0x00 || RFC 8785 JSON of the leaf) and its inclusion proof
  against the signed root with the algorithm of RFC 9162 §2.1.3.2.

Usage: ``python rfc9162_check.py SUMMARY.json RESPONSE.json [PUBLIC_KEY]``; prints one line
per leaf and exits 0 when every check passes, 1 otherwise.
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


def check(summary, response, public_key=None):
    """A list of (line, ok) pairs."""
    lines = []
    if public_key is not None:
        for name, envelope in (("summary", summary), ("audit.response", response)):
            lines.append((f"signature of the {name}", signature_ok(envelope, public_key)))
    body = response["body"]
    commitment = summary["body"]["commitment"]
    lines.append(("the answer names the summary", body["summary"] == summary["id"]
                  and response["from"] == summary["from"]))
    lines.append(("the tree is the one signed", body["size"] == commitment["size"]
                  and body["root"] == commitment["root"]))
    root = bytes.fromhex(commitment["root"])
    for item in body["items"]:
        leaf = hashlib.sha256(b"\x00" + rfc8785.dumps(item["leaf"])).digest()
        path = [bytes.fromhex(step) for step in item["proof"]]
        ok = verify_inclusion(item["index"], commitment["size"], leaf, path, root)
        lines.append((f"leaf {item['index']} ({item['leaf']['case']})", ok))
    return lines


def main(argv):
    with open(argv[1], encoding="utf-8") as f:
        summary = json.load(f)
    with open(argv[2], encoding="utf-8") as f:
        response = json.load(f)
    lines = check(summary, response, argv[3] if len(argv) > 3 else None)
    for line, ok in lines:
        sys.stdout.write(("ok    " if ok else "FAIL  ") + line + "\n")
    return 0 if all(ok for _, ok in lines) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
