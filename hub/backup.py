"""``tongban hub backup / restore``: the hub's state to a folder and back.

The hub keeps everything in its database, so a backup is the database plus ``tongban.toml``
and ``secret_key``.  A restored hub has forgotten what nodes pushed after the backup, and its
mailbox cursors would start again below cursors the nodes already hold — a node reads its
mailbox *after* its own cursor and would skip the new rows.  So a restore moves the mailbox
cursor sequence forward by ``--cursor-gap`` (more rows than the hub can have created between
the backup and the failure), and every node then runs ``tongban node resend --since <the
backup's time>`` (deploy/README.md, "Restoring the hub").  Each command imports what it
works with when it runs (a quick ``tongban`` start).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from hub.config import hub_settings
from hub.settings import HubSettings
from schemas.runtime.cli_support import home_option
from schemas.runtime.settings import SECRET_FILE, SettingsError

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

CONFIG_FILE = "tongban.toml"
DATABASE_FILE = "hub.db"
DEFAULT_CURSOR_GAP = 100_000_000
CURSOR_FLOOR_ROW = "-"  # the addressee and envelope id of the placeholder row


def _settings(home: str) -> HubSettings:
    try:
        return hub_settings({"home": home})
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from exc


def advance_mailbox_cursor(session: Session, gap: int) -> int:
    """Make the next mailbox row's cursor at least ``gap`` above the highest one stored;
    returns the highest cursor the sequence now stands at."""
    from sqlalchemy import delete, func, insert, select, text

    from hub.relay.models import MailboxItem
    from schemas.runtime.database import utcnow

    highest = session.scalar(select(func.max(MailboxItem.cursor))) or 0
    target = highest + gap
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT setval(pg_get_serial_sequence('mailbox', 'cursor'), "
                             ":value)"), {"value": target})
    else:
        # SQLite gives the next row max(cursor) + 1: a placeholder row at the target holds the
        # floor.  No envelope has its id, so it joins nothing in any mailbox read.
        session.execute(delete(MailboxItem).where(MailboxItem.addressee == CURSOR_FLOOR_ROW))
        session.execute(insert(MailboxItem).values(
            cursor=target, addressee=CURSOR_FLOOR_ROW, envelope_id=CURSOR_FLOOR_ROW,
            created_at=utcnow()))
    return target


@click.command("backup")
@home_option("var/hub")
@click.option("--to", "target", required=True, type=click.Path(file_okay=False),
              help="A new folder for the backup.")
def backup(home: str, target: str) -> None:
    """Copy the hub's SQLite database (consistently, while it runs) and settings to a folder
    (PostgreSQL: use pg_dump, deploy/README.md)."""
    from schemas.runtime.backup import BackupError, back_up_home, sqlite_file

    settings = _settings(home)
    folder = Path(target)
    try:
        database = sqlite_file(settings.database_url)
        if database is None:
            raise click.ClickException(
                "the hub's database is PostgreSQL: back it up with pg_dump (deploy/README.md, "
                "\"Backups\"); keep tongban.toml and secret_key with the dump")
        files = [Path(home) / name for name in (CONFIG_FILE, SECRET_FILE)
                 if (Path(home) / name).exists()]
        size = back_up_home(database, folder, DATABASE_FILE, files)
    except BackupError as exc:
        raise click.ClickException(exc.message) from exc
    click.echo(f"hub backed up to {folder.resolve()}: database {size} bytes")


@click.command("restore")
@home_option("var/hub")
@click.option("--from", "source", type=click.Path(file_okay=False, exists=True),
              help="A folder written by `tongban hub backup` (SQLite). Leave it out on "
                   "PostgreSQL after pg_restore.")
@click.option("--cursor-gap", type=click.IntRange(1), default=DEFAULT_CURSOR_GAP,
              show_default=True,
              help="Move mailbox cursors this far beyond the highest restored one.")
@click.option("--yes", is_flag=True, help="Do not ask before replacing the database.")
def restore(home: str, source: str | None, cursor_gap: int, yes: bool) -> None:
    """Put a backup back (with every hub process stopped) and move the mailbox cursors past
    any a node may already hold."""
    from hub.app import MIGRATIONS
    from schemas.runtime import migrate
    from schemas.runtime.backup import (
        BackupError,
        restore_missing_files,
        restore_sqlite,
        sqlite_file,
    )
    from schemas.runtime.database import Database

    home_path = Path(home)
    if source is not None:
        for name in restore_missing_files(Path(source), home_path, (CONFIG_FILE, SECRET_FILE)):
            click.echo(f"{name} copied from the backup")
    settings = _settings(home)
    database = sqlite_file(settings.database_url)
    if source is not None:
        if database is None:
            raise click.ClickException("the hub's database is PostgreSQL: restore it with "
                                       "pg_restore, then run restore without --from")
        if database.exists() and not yes:
            click.confirm(f"Replace {database} with the backup? Stop every hub process first.",
                          abort=True)
        try:
            restore_sqlite(Path(source) / DATABASE_FILE, database)
        except BackupError as exc:
            raise click.ClickException(exc.message) from exc
        database.chmod(0o600)
        click.echo(f"database restored from {source}")
    db = Database(settings.database_url)
    try:
        migrate.upgrade(db.engine, MIGRATIONS)
        with db.unit_of_work() as session:
            cursor = advance_mailbox_cursor(session, cursor_gap)
    finally:
        db.dispose()
    click.echo(f"mailbox cursors continue after {cursor}")
    click.echo("start the hub, then have every node run `tongban node resend --since "
               "<the backup's time>`")


COMMANDS = (backup, restore)
