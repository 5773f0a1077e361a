"""The audit trail: an append-only hash chain of every state change on this node.

The names below are imported on first use, so that ``tongban node verify-audit``'s module
(node/commands/audit.py) can be loaded without the chain and its models (a quick CLI start).
"""

from __future__ import annotations

import importlib
from typing import Any

_WHERE = {
    "AuditLog": "node.audit.chain",
    "ChainHead": "node.audit.chain",
    "ChainReport": "node.audit.chain",
    "AuditEntry": "node.audit.models",
    "AuditEntryImmutableError": "node.audit.models",
    "AuditHead": "node.audit.models",
}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(importlib.import_module(_WHERE[name]), name)
    raise AttributeError(name)


__all__ = [
    "AuditEntry",
    "AuditEntryImmutableError",
    "AuditHead",
    "AuditLog",
    "ChainHead",
    "ChainReport",
]
