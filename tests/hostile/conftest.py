"""The node's test fixtures (an app per database, staff with tokens, a catalog desk)."""

from tests.unit.node.conftest import admin, app, catalog_base, client, db, desk, make_user

__all__ = ["admin", "app", "catalog_base", "client", "db", "desk", "make_user"]
