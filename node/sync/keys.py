"""The node's own Ed25519 key file(s): where they live, and refusing a readable key."""

from __future__ import annotations

from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from node.settings import NodeSettings
from schemas.keys import (
    KeyFileError,
    generate_private_key,
    key_id,
    load_private_key,
    write_private_key,
)
from schemas.runtime.settings import SettingsError

KEY_FILE = "node_key.pem"
NEXT_KEY_FILE = "node_key.next.pem"


def key_path(settings: NodeSettings) -> Path:
    """The private key file: ``private_key_file`` if set, else ``<home>/node_key.pem``."""
    configured = settings.private_key_file
    if configured:
        return Path(configured)
    if not settings.home:
        raise SettingsError("node cannot start: no private_key_file and no home directory")
    return Path(settings.home) / KEY_FILE


def next_key_path(settings: NodeSettings) -> Path:
    """Where ``rotate-key`` puts the new key until it is activated."""
    return key_path(settings).with_name(NEXT_KEY_FILE)


def retired_key_path(settings: NodeSettings, old_key_id: str) -> Path:
    """Where an activated rotation keeps the old key (valid until revoked or expired)."""
    return key_path(settings).with_name(f"node_key.{old_key_id}.pem")


def load_node_key(settings: NodeSettings) -> Ed25519PrivateKey:
    """The node's private key; a missing, foreign or group/world-readable file refuses start.

    Raises :class:`schemas.runtime.settings.SettingsError` (what node_settings raises) naming
    the fix.
    """
    path = key_path(settings)
    try:
        return load_private_key(path)
    except KeyFileError as exc:
        raise SettingsError(f"node cannot start: {exc.message}") from exc


def create_key(path: Path) -> Ed25519PrivateKey:
    """Generate a key and write it to ``path`` (mode 0600, never overwriting)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    key = generate_private_key()
    write_private_key(path, key)
    return key


__all__ = [
    "KEY_FILE",
    "create_key",
    "key_id",
    "key_path",
    "load_node_key",
    "next_key_path",
    "retired_key_path",
]
