"""``tongban node backup / restore / resend``: a node's state to a folder and back.

A backup folder holds the SQLite database (a consistent copy taken while the node runs),
``tongban.toml``, ``secret_key`` and the node's key files: everything a replacement machine
needs.  It is as secret as the node's private key (folder mode 0700, files 0600).  A node on
PostgreSQL is dumped with ``pg_dump`` instead (deploy/README.md) and, after ``pg_restore``,
``tongban node restore`` without ``--from`` applies the restore rule of
:mod:`node.sync.restore`.  Each command imports what it works with when it runs.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import TYPE_CHECKING

import click

from node.settings import NodeSettings
from schemas.runtime.cli_support import home_option
from schemas.runtime.settings import SECRET_FILE, SettingsError

if TYPE_CHECKING:
    from schemas.runtime.database import Database

CONFIG_FILE = "tongban.toml"
DATABASE_FILE = "node.db"


def _settings(home: str) -> NodeSettings:
    from node.config import node_settings

    try:
        return node_settings({"home": home})
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from exc


def _key_files(settings: NodeSettings) -> list[Path]:
    from node.sync.keys import key_path

    key = key_path(settings)
    found = set(key.parent.glob("node_key*.pem"))
    return sorted(found | {key} if key.exists() else found)


@click.command("backup")
@home_option("var/node")
@click.option("--to", "target", required=True, type=click.Path(file_okay=False),
              help="A new folder for the backup (e.g. /var/backups/tongban/2026-11-29).")
def backup(home: str, target: str) -> None:
    """Copy the node's database (consistently, while it runs), settings and keys to a folder."""
    from schemas.runtime.backup import BackupError, back_up_home, sqlite_file

    settings = _settings(home)
    folder = Path(target)
    try:
        database = sqlite_file(settings.database_url)
        if database is None:
            raise click.ClickException(
                "this node's database is PostgreSQL: back it up with pg_dump "
                "(deploy/README.md, \"Backups\"); keep tongban.toml, secret_key and the key "
                "files with the dump")
        home_path = Path(home)
        keys = _key_files(settings)
        files = [home_path / CONFIG_FILE, *keys]
        if (home_path / SECRET_FILE).exists():
            files.insert(1, home_path / SECRET_FILE)
        size = back_up_home(database, folder, DATABASE_FILE, files)
    except BackupError as exc:
        raise click.ClickException(exc.message) from exc
    click.echo(f"node {settings.code} backed up to {folder.resolve()}: database "
               f"{size} bytes, {len(keys)} key file(s)")


def _resume(settings: NodeSettings, db: Database) -> None:
    """Continue after the hub's last seq now if the hub answers (else the worker will)."""
    from node.ports import SyncError
    from node.sync.client import HttpHubTransport
    from node.sync.keys import load_node_key
    from node.sync.restore import resume_if_restored

    key = load_node_key(settings)
    if not settings.hub_url:
        click.echo("hub_url is not set: the node will ask the hub for its last seq before "
                   "its first push")
        return
    transport = HttpHubTransport(settings.hub_url, settings.code, key,
                                 timeout=settings.hub_timeout_seconds)
    try:
        resumed = resume_if_restored(db, transport.fetch_last_seq, sender=settings.code,
                                     private_key=key)
    except SyncError as exc:
        click.echo(f"the hub could not be asked for this node's last seq ({exc.message}): "
                   "the node stays marked restored and pushes nothing until the worker or "
                   "`tongban node sync-now` has asked it")
        return
    finally:
        transport.close()
    if resumed is None:
        return
    click.echo(f"the hub's last seq from this node: {resumed.hub_seq}; the backup's: "
               f"{resumed.backup_seq}; the next envelope gets seq {resumed.next_seq}")
    if resumed.lost_to_backup:
        click.echo(f"{resumed.lost_to_backup} envelope(s) this node sent after the backup "
                   "are at the hub and their addressees but no longer here: "
                   "review them in the hub's log (deploy/README.md, \"Restoring a node\")")


@click.command("restore")
@home_option("var/node")
@click.option("--from", "source", type=click.Path(file_okay=False, exists=True),
              help="A folder written by `tongban node backup` (SQLite nodes). Leave it out "
                   "for a PostgreSQL node after pg_restore.")
@click.option("--yes", is_flag=True, help="Do not ask before replacing the database.")
def restore(home: str, source: str | None, yes: bool) -> None:
    """Put a backup back (with the node stopped) and mark the node restored, so that it
    continues after the seqs the hub already has before it sends anything."""
    from node.app import MIGRATIONS
    from node.audit.chain import AuditLog
    from node.metadata import load_all_models
    from node.sync.restore import mark_restored
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
        folder = Path(source)
        names = (CONFIG_FILE, SECRET_FILE, *(p.name for p in folder.glob("node_key*.pem")))
        for name in restore_missing_files(folder, home_path, names):
            click.echo(f"{name} copied from the backup")
    settings = _settings(home)
    database = sqlite_file(settings.database_url)
    if source is not None:
        if database is None:
            raise click.ClickException("this node's database is PostgreSQL: restore it with "
                                       "pg_restore, then run restore without --from")
        if database.exists() and not yes:
            click.confirm(f"Replace {database} with the backup? Stop the node's server and "
                          "worker first.", abort=True)
        try:
            restore_sqlite(Path(source) / DATABASE_FILE, database)
        except BackupError as exc:
            raise click.ClickException(exc.message) from exc
        os.chmod(database, 0o600)
        click.echo(f"database restored from {source}")
    load_all_models()
    db = Database(settings.database_url)
    try:
        before = migrate.current_revision(db.engine)
        migrate.upgrade(db.engine, MIGRATIONS)  # a backup from an older version
        if before != migrate.current_revision(db.engine):
            click.echo(f"database migrated from {before}")
        with db.unit_of_work() as session:
            base = mark_restored(session)
            # announced in the audit chain and in the next signed summary, so the hub shows
            # an older chain than its last anchor as 已从备份恢复, not as tampering
            restore_id = AuditLog(session).record_restore(
                node_code=settings.code, backup=str(source or "pg_restore"))
        click.echo(f"node {settings.code} marked restored (the backup's last seq: {base})")
        click.echo(f"审计链已记录本次恢复（恢复编号 {restore_id}），下一份统计汇总将向上级报告")
        try:
            _resume(settings, db)
        except SettingsError as exc:
            raise click.ClickException(str(exc)) from exc
    finally:
        db.dispose()
    click.echo("start the node's server and worker again")


@click.command("resend")
@home_option("var/node")
@click.option("--since", required=True, help="ISO 8601 time with offset: the hub's backup time.")
def resend(home: str, since: str) -> None:
    """After the *hub* was restored from a backup: push again what was sent since then (the
    hub answers duplicate for what it still has)."""
    from node.metadata import load_all_models
    from node.sync.restore import resend_since
    from schemas.runtime.database import Database

    try:
        moment = dt.datetime.fromisoformat(since)
    except ValueError as exc:
        raise click.BadParameter("an ISO 8601 time", param_hint="--since") from exc
    if moment.tzinfo is None:
        raise click.BadParameter("needs a UTC offset, e.g. +08:00", param_hint="--since")
    settings = _settings(home)
    load_all_models()
    db = Database(settings.database_url)
    try:
        with db.unit_of_work() as session:
            count = resend_since(session, moment)
    finally:
        db.dispose()
    click.echo(f"{count} envelope(s) pending again; they leave with the next push")


COMMANDS = (backup, restore, resend)
