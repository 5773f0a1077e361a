"""Node keys (schemas/keys.py): the private key file's mode, the public key's wire form, key ids
and signatures, with RFC 8032's first Ed25519 test vector as the known answer."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from schemas import keys
from schemas.keys import KeyFileError, KeyFormatError

# RFC 8032, section 7.1, TEST 1
RFC8032_SECRET = bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
RFC8032_PUBLIC = bytes.fromhex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
RFC8032_EMPTY_SIGNATURE = bytes.fromhex(
    "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9"
    "b46bd25bf5f0595bbe24655141438e7a100b"
)


@pytest.fixture
def fixed_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(RFC8032_SECRET)


@pytest.fixture
def permissive_umask() -> Iterator[None]:
    previous = os.umask(0)
    try:
        yield
    finally:
        os.umask(previous)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# -- the private key file ----------------------------------------------------------------------


def test_a_written_key_has_mode_0600_and_loads_back(tmp_path: Path) -> None:
    key = keys.generate_private_key()
    path = tmp_path / "node.pem"
    keys.write_private_key(path, key)
    assert _mode(path) == 0o600
    assert path.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")  # PKCS #8
    loaded = keys.load_private_key(path)
    assert keys.public_key_b64(loaded.public_key()) == keys.public_key_b64(key.public_key())


@pytest.mark.usefixtures("permissive_umask")
def test_the_mode_is_0600_even_under_a_permissive_umask(tmp_path: Path) -> None:
    path = tmp_path / "node.pem"
    keys.write_private_key(path, keys.generate_private_key())
    assert _mode(path) == 0o600


def test_an_existing_file_is_never_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "node.pem"
    keys.write_private_key(path, keys.generate_private_key())
    before = path.read_bytes()
    with pytest.raises(KeyFileError, match="already exists"):
        keys.write_private_key(path, keys.generate_private_key())
    assert path.read_bytes() == before


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660, 0o606, 0o700 | 0o004])
def test_a_key_others_can_read_or_write_is_refused_with_the_fix(tmp_path: Path, mode: int) -> None:
    path = tmp_path / "node.pem"
    keys.write_private_key(path, keys.generate_private_key())
    path.chmod(mode)
    with pytest.raises(KeyFileError) as caught:
        keys.load_private_key(path)
    message = str(caught.value)
    assert f"chmod 600 {path}" in message
    assert f"{mode:04o}" in message
    assert caught.value.path == path
    assert caught.value.code == "key_file"


@pytest.mark.parametrize("mode", [0o600, 0o400])
def test_owner_only_modes_are_accepted(tmp_path: Path, mode: int) -> None:
    path = tmp_path / "node.pem"
    keys.write_private_key(path, keys.generate_private_key())
    path.chmod(mode)
    keys.load_private_key(path)


def test_a_missing_key_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(KeyFileError, match="no private key file"):
        keys.load_private_key(tmp_path / "absent.pem")


def _write_0600(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


def test_a_file_that_is_no_key_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "node.pem"
    _write_0600(path, b"not a key\n")
    with pytest.raises(KeyFileError, match="not an unencrypted PEM private key"):
        keys.load_private_key(path)


def test_a_key_of_another_algorithm_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "node.pem"
    other = ec.generate_private_key(ec.SECP256R1())
    _write_0600(path, other.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    with pytest.raises(KeyFileError, match="not an Ed25519 key"):
        keys.load_private_key(path)


# -- public keys, key ids and signatures ----------------------------------------------------------


def test_key_id_known_answer(fixed_key: Ed25519PrivateKey) -> None:
    public = fixed_key.public_key()
    assert keys.public_key_bytes(public) == RFC8032_PUBLIC
    # sha256(d75a9801…511a) = 21fe31dfa154a261…
    assert keys.key_id(public) == "21fe31dfa154a261"
    assert keys.public_key_b64(public) == "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"


def test_public_key_round_trips_through_base64url(fixed_key: Ed25519PrivateKey) -> None:
    text = keys.public_key_b64(fixed_key.public_key())
    assert len(text) == 43
    assert "=" not in text
    assert keys.public_key_bytes(keys.public_key_from_b64(text)) == RFC8032_PUBLIC


@pytest.mark.parametrize(
    "text",
    [
        "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo=",  # padded
        "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo",  # standard alphabet
        "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURp",  # non-canonical trailing bits
        "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHUR",  # 31 bytes and a bit
        "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcH",  # 30 bytes
        "",
    ],
)
def test_malformed_public_keys_are_refused(text: str) -> None:
    with pytest.raises(KeyFormatError):
        keys.public_key_from_b64(text)


def test_signature_known_answer(fixed_key: Ed25519PrivateKey) -> None:
    signature = keys.sign_b64(fixed_key, b"")
    assert keys.b64url_decode(signature) == RFC8032_EMPTY_SIGNATURE
    assert len(signature) == 86
    assert keys.verify_b64(fixed_key.public_key(), b"", signature)


def test_verify_refuses_other_data_keys_and_spellings(fixed_key: Ed25519PrivateKey) -> None:
    signature = keys.sign_b64(fixed_key, b"message")
    public = fixed_key.public_key()
    assert keys.verify_b64(public, b"message", signature)
    assert not keys.verify_b64(public, b"messagE", signature)
    assert not keys.verify_b64(keys.generate_private_key().public_key(), b"message", signature)
    assert not keys.verify_b64(public, b"message", signature + "=")
    assert not keys.verify_b64(public, b"message", signature[:-1])
    assert not keys.verify_b64(public, b"message", "not base64!")


def test_b64url_has_one_spelling_per_byte_string() -> None:
    for length in range(8):
        data = bytes(range(200, 200 + length))
        assert keys.b64url_decode(keys.b64url_encode(data)) == data
    with pytest.raises(KeyFormatError, match="canonical"):
        keys.b64url_decode("AB")  # "AA" is the spelling of b"\x00"
    with pytest.raises(KeyFormatError):
        keys.b64url_decode("A")
