"""Ed25519 keys of a node (DESIGN.md, "Identity and trust").

A node's private key is a PEM (PKCS #8) file that only its owner may read: it is created
with mode 0600 and never overwritten, and loading refuses a file that group or others can
read or write, since anyone who can read it can sign as the center.

Public keys travel as the raw 32 bytes in base64url without padding; a key's id is the first
16 hex digits of the SHA-256 of those raw bytes.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import re
import stat
from pathlib import Path

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from schemas.errors import TongbanError

PUBLIC_KEY_BYTES = 32
SIGNATURE_BYTES = 64
KEY_ID_HEX_DIGITS = 16
KEY_FILE_MODE = 0o600

_B64URL = re.compile(r"[A-Za-z0-9_-]*")


class KeyFileError(TongbanError):
    """A private key file that is missing, unreadable, not an Ed25519 key, or not private."""

    code = "key_file"

    def __init__(self, path: str | os.PathLike[str], message: str) -> None:
        super().__init__(message, {"path": str(path)})
        self.path = Path(path)


class KeyFormatError(TongbanError, ValueError):
    """A public key, signature or base64url text that is not well formed."""

    code = "bad_key"


def b64url_encode(data: bytes) -> str:
    """``data`` in base64url without padding (RFC 4648 §5)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Decode unpadded base64url strictly.

    Padding, characters outside the alphabet and non-canonical trailing bits are refused, so
    each byte string has exactly one accepted text (a signature cannot be re-spelt).
    """
    if not isinstance(text, str) or not _B64URL.fullmatch(text) or len(text) % 4 == 1:
        raise KeyFormatError("not unpadded base64url text")
    try:
        data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise KeyFormatError("not unpadded base64url text") from exc
    if b64url_encode(data) != text:
        raise KeyFormatError("base64url text is not in its canonical spelling")
    return data


def generate_private_key() -> Ed25519PrivateKey:
    """A new random Ed25519 private key."""
    return Ed25519PrivateKey.generate()


def write_private_key(path: str | os.PathLike[str], key: Ed25519PrivateKey) -> None:
    """Write ``key`` as an unencrypted PEM PKCS #8 file with mode 0600.

    The file is created exclusively: an existing file (perhaps the center's only key) is never
    overwritten, and the mode is set at creation so the key is never briefly readable by others.
    """
    pem = key.private_bytes(
        encoding=serialization.Encoding.PEM,
        format=serialization.PrivateFormat.PKCS8,
        encryption_algorithm=serialization.NoEncryption(),
    )
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(path, flags, KEY_FILE_MODE)
    except FileExistsError as exc:
        raise KeyFileError(
            path, f"{path} already exists; a key file is never overwritten (move it away first)"
        ) from exc
    try:
        # the umask may only clear bits, but a permissive filesystem default must not add any
        os.fchmod(fd, KEY_FILE_MODE)
        with os.fdopen(fd, "wb", closefd=False) as handle:
            handle.write(pem)
            handle.flush()
            os.fsync(handle.fileno())
    finally:
        os.close(fd)


def load_private_key(path: str | os.PathLike[str]) -> Ed25519PrivateKey:
    """Read the Ed25519 private key at ``path``.

    Raises :class:`KeyFileError` when the file is missing, is not an unencrypted Ed25519 PEM
    key, or is readable or writable by group or others (the message says how to fix it).
    """
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except FileNotFoundError as exc:
        raise KeyFileError(path, f"no private key file at {path}") from exc
    except OSError as exc:
        raise KeyFileError(path, f"cannot open the private key file {path}: {exc}") from exc
    with os.fdopen(fd, "rb") as handle:
        # the mode of the file actually opened, not of whatever the path names a moment later
        mode = stat.S_IMODE(os.fstat(handle.fileno()).st_mode)
        if mode & 0o077:
            raise KeyFileError(
                path,
                f"{path} has mode {mode:04o}: a private key must be readable only by its owner; "
                f"run `chmod 600 {path}`",
            )
        pem = handle.read()
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise KeyFileError(path, f"{path} is not an unencrypted PEM private key") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyFileError(path, f"{path} holds a {type(key).__name__}, not an Ed25519 key")
    return key


def public_key_bytes(public_key: Ed25519PublicKey) -> bytes:
    """The raw 32 bytes of ``public_key``."""
    return public_key.public_bytes(
        encoding=serialization.Encoding.Raw, format=serialization.PublicFormat.Raw
    )


def public_key_b64(public_key: Ed25519PublicKey) -> str:
    """``public_key`` as its raw 32 bytes in base64url without padding (43 characters)."""
    return b64url_encode(public_key_bytes(public_key))


def public_key_from_b64(text: str) -> Ed25519PublicKey:
    """The Ed25519 public key whose raw bytes ``text`` spells in unpadded base64url."""
    raw = b64url_decode(text)
    if len(raw) != PUBLIC_KEY_BYTES:
        raise KeyFormatError(f"an Ed25519 public key has {PUBLIC_KEY_BYTES} bytes, not {len(raw)}")
    return Ed25519PublicKey.from_public_bytes(raw)


def key_id(public_key: Ed25519PublicKey) -> str:
    """The first 16 hex digits of SHA-256 over the raw public key."""
    return hashlib.sha256(public_key_bytes(public_key)).hexdigest()[:KEY_ID_HEX_DIGITS]


def sign_b64(private_key: Ed25519PrivateKey, data: bytes) -> str:
    """The Ed25519 signature of ``data`` in unpadded base64url (86 characters)."""
    return b64url_encode(private_key.sign(data))


def verify_b64(public_key: Ed25519PublicKey, data: bytes, signature: str) -> bool:
    """Whether ``signature`` (unpadded base64url) is ``public_key``'s signature of ``data``."""
    try:
        raw = b64url_decode(signature)
    except KeyFormatError:
        return False
    if len(raw) != SIGNATURE_BYTES:
        return False
    try:
        public_key.verify(raw, data)
    except InvalidSignature:
        return False
    return True
