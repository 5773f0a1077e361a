"""``tongban node verify-audit``: check the node's audit chain from the command line."""

from __future__ import annotations

import click

from schemas.cli_support import home_option
from schemas.settings import SettingsError


@click.command("verify-audit")
@home_option("var/node")
def verify_audit(home: str) -> None:
    """Recompute the audit chain's hashes; exit 1 naming the first broken entry."""
    from sqlalchemy import inspect

    from node.audit.chain import AuditLog
    from node.audit.models import AuditEntry, AuditHead
    from node.config import node_settings
    from schemas.database import Database

    try:
        settings = node_settings({"home": home})
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from exc
    db = Database(settings["database_url"])
    try:
        inspector = inspect(db.engine)
        for table in (AuditEntry.__tablename__, AuditHead.__tablename__):
            if not inspector.has_table(table):
                raise click.ClickException(
                    f"the database has no {table} table: run `tongban node migrate` first"
                )
        # One read-only transaction, so the walk and the head come from one session.
        with db.sessions() as session, session.begin():
            report = AuditLog(session).verify()
    finally:
        db.dispose()
    if report.ok:
        click.echo(f"audit chain intact: {report.checked} entries")
        return
    where = f" at entry #{report.first_broken_seq}" if report.first_broken_seq is not None else ""
    click.echo(f"audit chain BROKEN{where}: {report.reason}", err=True)
    raise click.exceptions.Exit(1)
