"""Backing up and restoring an SQLite database file while it may be in use.

Copying ``node.db`` with ``cp`` can miss what is still in its write-ahead log (``-wal``) or
catch a page half-written; SQLite's online backup API copies a consistent snapshot through the
database's own pager, WAL included, while readers and writers carry on.  PostgreSQL databases
are backed up with ``pg_dump`` (deploy/README.md); these helpers refuse them.
"""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Iterable
from pathlib import Path

from sqlalchemy.engine import make_url

from schemas.errors import TongbanError
from schemas.runtime.files import FILE_MODE, private_dir, private_file, sqlite_files

PAGES_PER_STEP = 1024  # copy in steps so that writers are not held off for the whole copy


class BackupError(TongbanError):
    code = "backup_failed"


def sqlite_file(database_url: str) -> Path | None:
    """The database file of an SQLite URL, None for any other database."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite":
        return None
    if not url.database or url.database == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up")
    return Path(url.database)


def _check(path: Path) -> None:
    """Refuse a file that is not a healthy SQLite database with a migrated schema."""
    try:
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise BackupError(f"{path} cannot be opened: {exc}") from exc
    try:
        verdict = connection.execute("PRAGMA quick_check").fetchone()
        revision = connection.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{path} is not a tongban database: {exc}") from exc
    finally:
        connection.close()
    if verdict is None or verdict[0] != "ok":
        raise BackupError(f"{path} fails SQLite's integrity check: {verdict}")
    if revision is None:
        raise BackupError(f"{path} has no schema revision: not a tongban database")


def _copy(source: Path, target: Path) -> None:
    reader = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    writer = sqlite3.connect(target)
    try:
        reader.execute("PRAGMA busy_timeout=30000")
        writer.execute("PRAGMA busy_timeout=30000")
        reader.backup(writer, pages=PAGES_PER_STEP)
    except sqlite3.Error as exc:
        raise BackupError(f"copying {source} to {target} failed: {exc}") from exc
    finally:
        writer.close()
        reader.close()


def backup_sqlite(source: Path, target: Path) -> int:
    """Write a consistent copy of ``source`` (which may be in use) to the new file ``target``;
    returns its size in bytes.  The copy is checked before this returns."""
    if not source.exists():
        raise BackupError(f"there is no database at {source}")
    if target.exists():
        raise BackupError(f"{target} exists already: a backup never overwrites a file")
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    private_file(partial)  # 0600 from the start: the copy holds everything the database does
    _copy(source, partial)
    _check(partial)
    for leftover in sqlite_files(partial)[1:]:
        # the closed copy's -wal/-shm (once left behind beside the backup, mode 0644)
        leftover.unlink(missing_ok=True)
    partial.rename(target)
    return target.stat().st_size


def restore_sqlite(backup: Path, target: Path) -> None:
    """Replace the database ``target`` with the checked copy ``backup``.

    Stop every process using ``target`` first.  The copy goes through the target's own pager
    (the backup API again), so a leftover ``-wal`` file of the old database cannot be replayed
    over the restored one.
    """
    if not backup.exists():
        raise BackupError(f"there is no backup at {backup}")
    _check(backup)
    target.parent.mkdir(parents=True, exist_ok=True)
    private_file(target).chmod(FILE_MODE)
    _copy(backup, target)
    _check(target)


def copy_private(source: Path, target: Path) -> None:
    """Copy a settings or key file, readable by its owner only (from its creation on)."""
    private_file(target).chmod(FILE_MODE)
    shutil.copyfile(source, target)


def back_up_home(database: Path, folder: Path, database_name: str,
                 files: Iterable[Path]) -> int:
    """A consistent copy of ``database`` and the private ``files`` in a new or empty
    ``folder`` (mode 0700, files 0600); the copy's size in bytes."""
    if folder.exists() and any(folder.iterdir()):
        raise BackupError(f"{folder} is not empty: a backup never overwrites one")
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    folder.chmod(0o700)
    size = backup_sqlite(database, folder / database_name)
    (folder / database_name).chmod(0o600)
    for path in files:
        copy_private(path, folder / path.name)
    return size


def restore_missing_files(backup: Path, home: Path, names: Iterable[str]) -> list[str]:
    """Copy the named files of a backup folder into ``home`` where it lacks them (a home
    rebuilt from nothing); the names copied."""
    private_dir(home)
    copied = []
    for name in names:
        if (backup / name).exists() and not (home / name).exists():
            copy_private(backup / name, home / name)
            copied.append(name)
    return copied
