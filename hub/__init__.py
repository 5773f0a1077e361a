"""The tongban hub: relay, signed log, mailboxes, consolidation and rankings."""

from hub.app import create_app

__all__ = ["create_app"]
