"""Trust along the administrative tree (schemas/certificates.py): certificates issued by
parents, revocations by ancestors, rotation, validity in time, and the registry that the hub
relays and every node re-verifies.

The federation under test: province 450000 (Guangxi) with its trust root key and a separate
operating key, city 450900 (Yulin), county-level city 450981 (Beiliu) and its sibling
district 450902 (Yuzhou), township 450981101, and another city 450100 (Nanning).
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import json
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from schemas import keys
from schemas.certificates import Certificate, TrustError, issue_certificate, issue_revocation
from schemas.divisions import parent_of
from schemas.fastcanon import canonical
from schemas.trust import TrustStore

PROVINCE, CITY, COUNTY, SIBLING, TOWNSHIP, OTHER_CITY = (
    "450000", "450900", "450981", "450902", "450981101", "450100")
LEVELS = {PROVINCE: ("province", None), CITY: ("city", None), COUNTY: ("county", "county_city"),
          SIBLING: ("county", "district"), TOWNSHIP: ("township", None),
          "450981102": ("township", None),
          OTHER_CITY: ("city", None)}

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
T1 = dt.datetime(2029, 1, 1, tzinfo=dt.UTC)
AT = dt.datetime(2027, 6, 1, 12, tzinfo=dt.UTC)
SECOND = dt.timedelta(seconds=1)


def key(seed: int) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(bytes([seed]) * 32)


def b64(private: Ed25519PrivateKey) -> str:
    return keys.public_key_b64(private.public_key())


def kid(private: Ed25519PrivateKey) -> str:
    return keys.key_id(private.public_key())


ROOT_KEY = key(100)
KEYS = {PROVINCE: key(1), CITY: key(2), COUNTY: key(3), SIBLING: key(4), TOWNSHIP: key(5),
        OTHER_CITY: key(6)}
_serials = iter(range(1, 10_000))


def certify(
    subject: str,
    subject_key: Ed25519PrivateKey | None = None,
    *,
    issuer: str | None = None,
    issuer_key: Ed25519PrivateKey | None = None,
    not_before: dt.datetime = T0,
    not_after: dt.datetime = T1,
) -> dict[str, Any]:
    """A certificate of ``subject`` issued by its parent (or ``issuer``), with their keys."""
    issuer = issuer or parent_of(subject) or subject
    if issuer_key is None:
        issuer_key = ROOT_KEY if issuer == subject == PROVINCE else KEYS[issuer]
    level, kind = LEVELS[subject]
    return issue_certificate(
        issuer_code=issuer, issuer_key=issuer_key, subject=subject, level=level, kind=kind,
        parent=parent_of(subject), public_key_b64=b64(subject_key or KEYS[subject]),
        not_before=not_before, not_after=not_after, serial=next(_serials))


def revoke(
    subject: str,
    subject_key: Ed25519PrivateKey,
    *,
    by: str,
    effective_at: dt.datetime,
    by_key: Ed25519PrivateKey | None = None,
) -> dict[str, Any]:
    return issue_revocation(
        issuer_code=by, issuer_key=by_key or KEYS[by], subject=subject, key_id=kid(subject_key),
        effective_at=effective_at, reason="密钥保管人离职", serial=next(_serials))


def resign(document: dict[str, Any], signer: Ed25519PrivateKey) -> dict[str, Any]:
    """``document`` with its body as it is now, signed by ``signer`` (for forged documents)."""
    name = "certificate" if "certificate" in document else "revocation"
    body = document[name]
    body["issuer_key_id"] = kid(signer)
    return {name: body, "sig": keys.sign_b64(signer, canonical({name: body}))}


def new_store() -> TrustStore:
    return TrustStore(PROVINCE, b64(ROOT_KEY))


@pytest.fixture
def store() -> TrustStore:
    """The whole federation enrolled, parents first."""
    trust = new_store()
    for subject in (PROVINCE, CITY, OTHER_CITY, COUNTY, SIBLING, TOWNSHIP):
        trust.add_certificate(certify(subject))
    return trust


def trusted(store: TrustStore, node: str, private: Ed25519PrivateKey, at: dt.datetime) -> bool:
    try:
        found = store.key_for(node, kid(private), at)
    except TrustError:
        return False
    assert keys.public_key_b64(found) == b64(private)
    return True


def refusal(store: TrustStore, node: str, private: Ed25519PrivateKey, at: dt.datetime) -> str:
    with pytest.raises(TrustError) as caught:
        store.key_for(node, kid(private), at)
    return caught.value.code


def add_refused(add: Any, document: dict[str, Any]) -> TrustError:
    with pytest.raises(TrustError) as caught:
        add(document)
    return caught.value


# -- the chain ----------------------------------------------------------------------------------


def test_province_city_county_township_chain_is_valid(store: TrustStore) -> None:
    for node in (PROVINCE, CITY, COUNTY, SIBLING, TOWNSHIP, OTHER_CITY):
        assert trusted(store, node, KEYS[node], AT)
    chain = store.chain(TOWNSHIP)
    assert [c.subject for c in chain] == [TOWNSHIP, COUNTY, CITY, PROVINCE]
    assert all(isinstance(c, Certificate) for c in chain)
    assert chain[-1].self_issued
    assert store.certificate_for(COUNTY, kid(KEYS[COUNTY]), AT).kind == "county_city"


def test_the_document_shape(store: TrustStore) -> None:
    document = certify(COUNTY)
    assert set(document) == {"certificate", "sig"}
    assert set(document["certificate"]) == {
        "subject", "level", "kind", "parent", "public_key", "key_id", "not_before", "not_after",
        "serial", "issuer", "issuer_key_id"}
    body = document["certificate"]
    assert (body["subject"], body["level"], body["kind"], body["parent"]) == (
        COUNTY, "county", "county_city", CITY)
    assert body["issuer"] == CITY
    assert body["issuer_key_id"] == kid(KEYS[CITY])
    assert body["key_id"] == kid(KEYS[COUNTY])
    assert keys.verify_b64(KEYS[CITY].public_key(), canonical({"certificate": body}),
                           document["sig"])


def test_the_root_may_certify_the_trust_root_key_itself() -> None:
    trust = new_store()
    trust.add_certificate(certify(PROVINCE, ROOT_KEY))
    trust.add_certificate(certify(CITY, issuer_key=ROOT_KEY))
    assert trusted(trust, CITY, KEYS[CITY], AT)
    assert trusted(trust, PROVINCE, ROOT_KEY, AT)


def test_a_province_administered_county_chains_to_the_province() -> None:
    root = key(110)
    trust = TrustStore("420000", b64(root))
    hubei, xiantao, town = key(111), key(112), key(113)
    trust.add_certificate(issue_certificate(
        issuer_code="420000", issuer_key=root, subject="420000", level="province", kind=None,
        parent=None, public_key_b64=b64(hubei), not_before=T0, not_after=T1, serial=1))
    trust.add_certificate(issue_certificate(
        issuer_code="420000", issuer_key=hubei, subject="429004", level="county",
        kind="county_city", parent="420000", public_key_b64=b64(xiantao), not_before=T0,
        not_after=T1, serial=2))
    trust.add_certificate(issue_certificate(
        issuer_code="429004", issuer_key=xiantao, subject="429004101", level="township",
        kind=None, parent="429004", public_key_b64=b64(town), not_before=T0, not_after=T1,
        serial=3))
    assert [c.subject for c in trust.chain("429004101")] == ["429004101", "429004", "420000"]
    assert trusted(trust, "429004101", town, AT)


# -- who may certify whom -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("subject", "issuer"),
    [
        (TOWNSHIP, PROVINCE),  # skipping the city and the county
        (TOWNSHIP, CITY),  # the grandparent
        (TOWNSHIP, SIBLING),  # a sibling of the parent
        (COUNTY, OTHER_CITY),  # another city
        (COUNTY, SIBLING),  # a sibling county
        (CITY, COUNTY),  # a child
    ],
)
def test_a_certificate_from_anyone_but_the_parent_is_refused(
    store: TrustStore, subject: str, issuer: str
) -> None:
    error = add_refused(store.add_certificate, certify(subject, key(50), issuer=issuer))
    assert error.code == "not_parent"
    assert f"only its parent {parent_of(subject)}" in str(error)
    assert not trusted(store, subject, key(50), AT)


def test_a_certificate_from_the_parent_with_an_unknown_key_is_refused(store: TrustStore) -> None:
    error = add_refused(store.add_certificate, certify(TOWNSHIP, key(50), issuer_key=key(51)))
    assert error.code == "unknown_issuer"
    assert f"no certificate of {COUNTY} holds key {kid(key(51))}" in str(error)


def test_a_certificate_from_an_unenrolled_parent_is_refused() -> None:
    trust = new_store()
    trust.add_certificate(certify(PROVINCE))
    error = add_refused(trust.add_certificate, certify(COUNTY))  # the city is not enrolled
    assert error.code == "unknown_issuer"


def test_the_roots_certificate_must_come_from_the_trust_root_key() -> None:
    trust = new_store()
    error = add_refused(trust.add_certificate, certify(PROVINCE, issuer_key=key(60)))
    assert error.code == "unknown_issuer"
    assert "trust root key" in str(error)
    forged = resign(certify(PROVINCE), key(60))
    forged["certificate"]["issuer_key_id"] = kid(ROOT_KEY)
    forged["sig"] = keys.sign_b64(key(60), canonical({"certificate": forged["certificate"]}))
    assert add_refused(trust.add_certificate, forged).code == "bad_signature"


def test_other_provinces_are_outside_the_tree(store: TrustStore) -> None:
    guangdong = issue_certificate(
        issuer_code="440000", issuer_key=ROOT_KEY, subject="440000", level="province",
        kind=None, parent=None, public_key_b64=b64(key(70)), not_before=T0, not_after=T1,
        serial=1)
    assert add_refused(store.add_certificate, guangdong).code == "no_chain"
    guangzhou = issue_certificate(
        issuer_code="440000", issuer_key=key(70), subject="440100", level="city", kind=None,
        parent="440000", public_key_b64=b64(key(71)), not_before=T0, not_after=T1, serial=2)
    assert add_refused(store.add_certificate, guangzhou).code == "no_chain"


def test_a_tampered_certificate_is_refused(store: TrustStore) -> None:
    document = certify(TOWNSHIP, key(52))
    document["certificate"]["not_after"] = "2099-01-01T00:00:00+00:00"
    error = add_refused(store.add_certificate, document)
    assert error.code == "bad_signature"
    swapped = certify(TOWNSHIP, key(52))
    swapped["certificate"]["public_key"] = b64(key(53))
    swapped["certificate"]["key_id"] = kid(key(53))
    assert add_refused(store.add_certificate, swapped).code == "bad_signature"


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("level", "city", "identity_mismatch"),  # 450981 is a county-level code
        ("kind", None, "identity_mismatch"),  # a county-level node has a kind
        ("parent", PROVINCE, "identity_mismatch"),
        ("key_id", "0123456789abcdef", "identity_mismatch"),  # not the id of the key
        ("kind", "banner", "malformed"),
        ("subject", "45098", "malformed"),
        ("serial", 0, "malformed"),
        ("not_after", "2025-01-01T00:00:00+00:00", "malformed"),  # before not_before
        ("public_key", "A" * 42 + "B", "malformed"),  # not canonical base64url
    ],
)
def test_a_certificate_whose_identity_does_not_add_up_is_refused(
    store: TrustStore, field: str, value: Any, code: str
) -> None:
    document = certify(COUNTY, key(54))
    document["certificate"][field] = value
    assert add_refused(store.add_certificate, resign(document, KEYS[CITY])).code == code


def test_a_township_with_a_kind_is_refused() -> None:
    with pytest.raises(TrustError) as caught:
        issue_certificate(
            issuer_code=COUNTY, issuer_key=KEYS[COUNTY], subject=TOWNSHIP, level="township",
            kind="district", parent=COUNTY, public_key_b64=b64(key(55)), not_before=T0,
            not_after=T1, serial=1)
    assert caught.value.code == "identity_mismatch"
    assert "only county-level nodes have a kind" in str(caught.value)


def test_issuing_needs_aware_times() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        issue_certificate(
            issuer_code=CITY, issuer_key=KEYS[CITY], subject=COUNTY, level="county",
            kind="county_city", parent=CITY, public_key_b64=b64(key(56)),
            not_before=dt.datetime(2026, 1, 1), not_after=T1, serial=1)  # noqa: DTZ001


@pytest.mark.parametrize("document", [[], "certificate", {"certificate": {}, "sig": "x"}, {}])
def test_what_is_no_certificate_is_malformed(store: TrustStore, document: Any) -> None:
    assert add_refused(store.add_certificate, document).code == "malformed"


def test_adding_the_same_certificate_twice_changes_nothing(store: TrustStore) -> None:
    document = certify(TOWNSHIP, key(57))
    first = store.add_certificate(document)
    again = store.add_certificate(copy.deepcopy(document))
    assert first == again
    assert len(store.certificates_of(TOWNSHIP)) == 2
    assert len(store.to_registry()["certificates"]) == 7


# -- time -----------------------------------------------------------------------------------------


def test_validity_in_time(store: TrustStore) -> None:
    later = certify(TOWNSHIP, key(58), not_before=AT, not_after=AT + dt.timedelta(days=30))
    store.add_certificate(later)
    assert refusal(store, TOWNSHIP, key(58), AT - SECOND) == "not_yet_valid"
    assert trusted(store, TOWNSHIP, key(58), AT)
    assert trusted(store, TOWNSHIP, key(58), AT + dt.timedelta(days=30) - SECOND)
    assert refusal(store, TOWNSHIP, key(58), AT + dt.timedelta(days=30)) == "expired"


def test_a_chain_is_only_as_valid_as_its_parents(store: TrustStore) -> None:
    trust = new_store()
    trust.add_certificate(certify(PROVINCE))
    trust.add_certificate(certify(CITY, not_after=AT))  # the city's certificate ends first
    trust.add_certificate(certify(COUNTY))
    trust.add_certificate(certify(TOWNSHIP))
    assert trusted(trust, TOWNSHIP, KEYS[TOWNSHIP], AT - SECOND)
    with pytest.raises(TrustError, match=f"certificate of {CITY}") as caught:
        trust.key_for(TOWNSHIP, kid(KEYS[TOWNSHIP]), AT)
    assert caught.value.code == "expired"


def test_unknown_nodes_and_keys(store: TrustStore) -> None:
    assert refusal(store, "450981102", key(59), AT) == "no_chain"
    assert refusal(store, TOWNSHIP, key(59), AT) == "unknown_key"
    with pytest.raises(TrustError) as caught:
        store.chain("450981102")
    assert caught.value.code == "no_chain"


def test_a_naive_time_is_a_programming_error(store: TrustStore) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        store.key_for(COUNTY, kid(KEYS[COUNTY]), dt.datetime(2027, 1, 1))  # noqa: DTZ001


# -- revocation -----------------------------------------------------------------------------------


@pytest.mark.parametrize("revoker", [CITY, PROVINCE], ids=["parent", "grandparent"])
def test_a_revocation_by_an_ancestor_takes_effect_from_its_time(
    store: TrustStore, revoker: str
) -> None:
    store.add_revocation(revoke(COUNTY, KEYS[COUNTY], by=revoker, effective_at=AT))
    assert trusted(store, COUNTY, KEYS[COUNTY], AT - SECOND)
    assert refusal(store, COUNTY, KEYS[COUNTY], AT) == "revoked"
    assert refusal(store, COUNTY, KEYS[COUNTY], AT + dt.timedelta(days=400)) == "revoked"
    # what the revoked key certified falls with it
    assert trusted(store, TOWNSHIP, KEYS[TOWNSHIP], AT - SECOND)
    with pytest.raises(TrustError, match=f"key {kid(KEYS[COUNTY])} of {COUNTY} is revoked"):
        store.key_for(TOWNSHIP, kid(KEYS[TOWNSHIP]), AT)
    # and nothing else does
    assert trusted(store, SIBLING, KEYS[SIBLING], AT)
    assert store.revoked_from(COUNTY, kid(KEYS[COUNTY])) == AT


def test_a_great_grandparent_may_revoke_a_township(store: TrustStore) -> None:
    store.add_revocation(revoke(TOWNSHIP, KEYS[TOWNSHIP], by=PROVINCE, effective_at=AT))
    assert refusal(store, TOWNSHIP, KEYS[TOWNSHIP], AT) == "revoked"


def test_the_earliest_revocation_counts(store: TrustStore) -> None:
    store.add_revocation(revoke(COUNTY, KEYS[COUNTY], by=CITY, effective_at=AT))
    store.add_revocation(revoke(COUNTY, KEYS[COUNTY], by=PROVINCE, effective_at=AT - 10 * SECOND))
    assert refusal(store, COUNTY, KEYS[COUNTY], AT - 5 * SECOND) == "revoked"


@pytest.mark.parametrize(
    ("subject", "revoker"),
    [
        (TOWNSHIP, SIBLING),  # a sibling of the parent
        (COUNTY, SIBLING),  # a sibling
        (COUNTY, OTHER_CITY),  # another city
        (COUNTY, TOWNSHIP),  # a child
        (COUNTY, COUNTY),  # itself
        (PROVINCE, PROVINCE),  # the root has no ancestor
    ],
)
def test_a_revocation_by_a_non_ancestor_is_refused(
    store: TrustStore, subject: str, revoker: str
) -> None:
    error = add_refused(
        store.add_revocation, revoke(subject, KEYS[subject], by=revoker, effective_at=AT))
    assert error.code == "not_ancestor"
    assert f"{revoker} is not an ancestor of {subject}" in str(error)
    assert trusted(store, subject, KEYS[subject], AT + SECOND)


def test_a_revocation_with_an_unknown_or_wrong_key_is_refused(store: TrustStore) -> None:
    unknown = revoke(COUNTY, KEYS[COUNTY], by=CITY, by_key=key(61), effective_at=AT)
    assert add_refused(store.add_revocation, unknown).code == "unknown_issuer"
    tampered = revoke(COUNTY, KEYS[COUNTY], by=CITY, effective_at=AT)
    tampered["revocation"]["subject"] = SIBLING
    assert add_refused(store.add_revocation, tampered).code == "bad_signature"
    assert trusted(store, COUNTY, KEYS[COUNTY], AT)
    assert trusted(store, SIBLING, KEYS[SIBLING], AT)


def test_a_revocation_signed_outside_the_signers_validity_is_refused(store: TrustStore) -> None:
    early = revoke(COUNTY, KEYS[COUNTY], by=CITY, effective_at=T0 - SECOND)
    error = add_refused(store.add_revocation, early)
    assert error.code == "not_yet_valid"
    assert trusted(store, COUNTY, KEYS[COUNTY], AT)


@pytest.mark.parametrize(
    "document", [{}, {"revocation": {}, "sig": "x"}, {"certificate": {}, "sig": "x"}])
def test_what_is_no_revocation_is_malformed(store: TrustStore, document: Any) -> None:
    assert add_refused(store.add_revocation, document).code == "malformed"


def test_a_certificate_signature_cannot_pass_for_a_revocation(store: TrustStore) -> None:
    document = revoke(COUNTY, KEYS[COUNTY], by=CITY, effective_at=AT)
    body = document["revocation"]
    # the same signer's signature over the bare body (no "revocation" wrapper) is refused
    document["sig"] = keys.sign_b64(KEYS[CITY], canonical(body))
    assert add_refused(store.add_revocation, document).code == "bad_signature"


# -- rotation -------------------------------------------------------------------------------------


def test_rotation_keeps_the_old_key_until_its_revocation(store: TrustStore) -> None:
    old, new = KEYS[COUNTY], key(62)
    store.add_certificate(certify(COUNTY, new, not_before=AT - dt.timedelta(days=30)))
    # both keys are good while the old one is neither revoked nor expired
    assert trusted(store, COUNTY, old, AT)
    assert trusted(store, COUNTY, new, AT)
    # the county re-certifies its township with the new key, then the city revokes the old one
    store.add_certificate(certify(TOWNSHIP, key(63), issuer_key=new))
    revoked_at = AT + dt.timedelta(days=7)
    store.add_revocation(revoke(COUNTY, old, by=CITY, effective_at=revoked_at))
    assert trusted(store, COUNTY, old, revoked_at - SECOND)
    assert refusal(store, COUNTY, old, revoked_at) == "revoked"
    assert trusted(store, COUNTY, new, revoked_at)
    assert refusal(store, TOWNSHIP, KEYS[TOWNSHIP], revoked_at) == "revoked"
    assert trusted(store, TOWNSHIP, key(63), revoked_at)
    assert [c.key_id for c in store.chain(TOWNSHIP)][:2] == [kid(key(63)), kid(new)]


def test_rotation_keeps_the_old_key_until_its_end() -> None:
    trust = new_store()
    for subject in (PROVINCE, CITY):
        trust.add_certificate(certify(subject))
    old_end = AT + dt.timedelta(days=30)
    trust.add_certificate(certify(COUNTY, not_after=old_end))
    trust.add_certificate(certify(COUNTY, key(64), not_before=AT))
    assert trusted(trust, COUNTY, KEYS[COUNTY], old_end - SECOND)
    assert refusal(trust, COUNTY, KEYS[COUNTY], old_end) == "expired"
    assert trusted(trust, COUNTY, key(64), old_end)


def test_a_renewed_certificate_for_the_same_key_extends_it(store: TrustStore) -> None:
    later = T1 + dt.timedelta(days=365)
    store.add_certificate(certify(COUNTY, not_before=T1 - dt.timedelta(days=30), not_after=later))
    store.add_certificate(certify(CITY, not_before=T1 - dt.timedelta(days=30), not_after=later))
    store.add_certificate(certify(PROVINCE, not_before=T1 - dt.timedelta(days=30),
                                  not_after=later))
    assert trusted(store, COUNTY, KEYS[COUNTY], T1 + SECOND)
    found = store.certificate_for(COUNTY, kid(KEYS[COUNTY]), T1 + SECOND)
    assert found.not_after == later


# -- the registry ---------------------------------------------------------------------------------


@pytest.fixture
def registry(store: TrustStore) -> dict[str, Any]:
    store.add_certificate(certify(COUNTY, key(65), not_before=AT))
    store.add_revocation(revoke(COUNTY, KEYS[COUNTY], by=CITY, effective_at=AT))
    issued_at = dt.datetime(2027, 6, 2, tzinfo=dt.UTC)
    # as it travels: JSON text
    return json.loads(json.dumps(store.to_registry(issued_at=issued_at)))


def load(registry: dict[str, Any]) -> TrustStore:
    return TrustStore.from_registry(registry, PROVINCE, b64(ROOT_KEY))


def test_the_registry_document(registry: dict[str, Any]) -> None:
    assert set(registry) == {"root", "certificates", "revocations", "issued_at", "serial"}
    assert registry["root"] == PROVINCE
    assert registry["issued_at"] == "2027-06-02T00:00:00+00:00"
    assert len(registry["certificates"]) == 7
    assert len(registry["revocations"]) == 1
    assert registry["serial"] == 8  # defaults to the number of documents


def test_a_registry_round_trip_gives_the_same_answers(
    store: TrustStore, registry: dict[str, Any]
) -> None:
    loaded = load(registry)
    for node in (PROVINCE, CITY, COUNTY, SIBLING, TOWNSHIP, OTHER_CITY):
        for at in (AT - SECOND, AT):
            assert trusted(loaded, node, KEYS[node], at) == trusted(store, node, KEYS[node], at)
    assert trusted(loaded, COUNTY, key(65), AT)
    assert refusal(loaded, COUNTY, KEYS[COUNTY], AT) == "revoked"
    assert loaded.to_registry(issued_at=dt.datetime(2027, 6, 2, tzinfo=dt.UTC)) == registry


def test_a_registry_in_any_order_loads(registry: dict[str, Any]) -> None:
    registry["certificates"].reverse()  # townships before their counties
    loaded = load(registry)
    assert trusted(loaded, TOWNSHIP, KEYS[TOWNSHIP], AT - SECOND)


def test_a_registry_with_an_entry_twice_loads_it_once(registry: dict[str, Any]) -> None:
    registry["certificates"].append(copy.deepcopy(registry["certificates"][3]))
    registry["revocations"].append(copy.deepcopy(registry["revocations"][0]))
    loaded = load(registry)
    assert len(loaded.certificates) == 7
    assert len(loaded.revocations) == 1


def _tamper_certificate(registry: dict[str, Any]) -> None:
    entry = next(c for c in registry["certificates"] if c["certificate"]["subject"] == TOWNSHIP)
    entry["certificate"]["not_after"] = "2099-01-01T00:00:00+00:00"


def _swap_key(registry: dict[str, Any]) -> None:
    entry = next(c for c in registry["certificates"] if c["certificate"]["subject"] == SIBLING)
    entry["certificate"]["public_key"] = b64(key(66))
    entry["certificate"]["key_id"] = kid(key(66))


def _inject_forgery(registry: dict[str, Any]) -> None:
    registry["certificates"].append(certify("450981102", key(67), issuer_key=key(68)))


def _inject_wrong_issuer(registry: dict[str, Any]) -> None:
    registry["certificates"].append(certify("450981102", key(67), issuer=PROVINCE))


def _tamper_revocation(registry: dict[str, Any]) -> None:
    registry["revocations"][0]["revocation"]["effective_at"] = "2099-01-01T00:00:00+00:00"


def _replace_root_certificate(registry: dict[str, Any]) -> None:
    registry["certificates"][0] = certify(PROVINCE, key(69), issuer_key=key(69))


def _break_an_entry(registry: dict[str, Any]) -> None:
    registry["certificates"][2] = "not a certificate"


TAMPERED_REGISTRIES = {
    "a certificate's validity extended": (_tamper_certificate, "bad_signature"),
    "a public key swapped": (_swap_key, "bad_signature"),
    "a certificate from an unknown key": (_inject_forgery, "unknown_issuer"),
    "a certificate from a grandparent": (_inject_wrong_issuer, "not_parent"),
    "a revocation postponed": (_tamper_revocation, "bad_signature"),
    "the root certificate replaced": (_replace_root_certificate, "unknown_issuer"),
    "an entry that is no certificate": (_break_an_entry, "malformed"),
}


@pytest.mark.parametrize(
    ("tamper", "code"), TAMPERED_REGISTRIES.values(), ids=TAMPERED_REGISTRIES.keys())
def test_a_tampered_registry_is_refused(registry: dict[str, Any], tamper: Any, code: str) -> None:
    tamper(registry)
    with pytest.raises(TrustError) as caught:
        load(registry)
    assert caught.value.code == code
    assert "registry " in str(caught.value)
    assert caught.value.details["entry"].startswith(("certificates[", "revocations["))


def test_a_registry_for_another_root_or_of_another_shape_is_refused(
    registry: dict[str, Any],
) -> None:
    with pytest.raises(TrustError) as caught:
        TrustStore.from_registry(registry, "440000", b64(ROOT_KEY))
    assert caught.value.code == "wrong_root"
    with pytest.raises(TrustError) as caught:
        TrustStore.from_registry(registry, PROVINCE, b64(key(99)))  # another trust root key
    assert caught.value.code == "unknown_issuer"
    for broken in ({**registry, "extra": 1}, {k: v for k, v in registry.items() if k != "serial"},
                   {**registry, "certificates": {}}, []):
        with pytest.raises(TrustError) as caught:
            load(broken)  # type: ignore[arg-type]
        assert caught.value.code == "malformed"


def test_a_trust_root_must_be_a_province() -> None:
    with pytest.raises(TrustError):
        TrustStore(CITY, b64(ROOT_KEY))
    with pytest.raises(TrustError):
        TrustStore("4500", b64(ROOT_KEY))
    with pytest.raises(TrustError, match="trust root key"):
        TrustStore(PROVINCE, b64(ROOT_KEY) + "=")


def test_certificates_are_immutable_records(store: TrustStore) -> None:
    certificate = store.chain(COUNTY)[0]
    with pytest.raises(dataclasses.FrozenInstanceError):
        certificate.subject = SIBLING  # type: ignore[misc]


# -- a view instead of a copy, and extending by a part of a registry ----------------------


def test_a_view_reads_its_store_and_keeps_its_own_additions(store: TrustStore) -> None:
    province_store_size = len(store.certificates)
    view = store.view()
    assert trusted(view, COUNTY, KEYS[COUNTY], T0 + dt.timedelta(days=1))
    rotated = key(77)
    view.add_certificate(certify(COUNTY, rotated))
    view.add_revocation(revoke(SIBLING, KEYS[SIBLING], by=CITY, effective_at=T0))
    at = T0 + dt.timedelta(days=1)
    assert trusted(view, COUNTY, rotated, at)
    assert refusal(view, SIBLING, KEYS[SIBLING], at) == "revoked"
    # the store underneath never saw either
    assert refusal(store, COUNTY, rotated, at) == "unknown_key"
    assert trusted(store, SIBLING, KEYS[SIBLING], at)
    assert len(store.certificates) == province_store_size
    assert len(view.certificates) == province_store_size + 1
    assert len(view.revocations) == 1
    assert store.revocations == ()
    # what the store learns later, the view sees at once (no copy was taken)
    township2_key = key(78)
    store.add_certificate(certify(TOWNSHIP, township2_key))
    assert trusted(view, TOWNSHIP, township2_key, at)
    # adding the same document to the view again changes nothing
    again = view.add_certificate(certify(COUNTY, rotated))
    assert again.key_id == kid(rotated)


def test_extend_adds_only_what_is_new_parents_first() -> None:
    full = new_store()
    documents = [certify(code) for code in (PROVINCE, CITY, COUNTY, SIBLING, TOWNSHIP)]
    for document in documents[:3]:
        full.add_certificate(document)
    revocation = revoke(SIBLING, KEYS[SIBLING], by=CITY, effective_at=T0)
    # a part of a registry: children before parents, with something already held
    new_certificates, new_revocations = full.extend(
        [documents[4], documents[3], documents[1]], [revocation])
    assert new_certificates == [documents[3], documents[4]]
    assert new_revocations == [revocation]
    assert full.extend([documents[4]], [revocation]) == ([], [])
    with pytest.raises(TrustError) as refused:
        full.extend([resign(certify(TOWNSHIP, key(79)), key(80))], [])
    assert refused.value.code == "unknown_issuer"
    assert refused.value.details["entry"] == "certificates[0]"
