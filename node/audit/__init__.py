"""The audit trail: an append-only hash chain of every state change on this node."""

from node.audit.chain import AuditLog, ChainHead, ChainReport
from node.audit.models import AuditEntry, AuditEntryImmutableError, AuditHead

__all__ = [
    "AuditEntry",
    "AuditEntryImmutableError",
    "AuditHead",
    "AuditLog",
    "ChainHead",
    "ChainReport",
]
