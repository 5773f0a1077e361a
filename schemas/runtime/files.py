"""Private files and folders: what node and hub keep on disk is readable by its owner only.

A home folder is 0700; the database (``node.db``, ``hub.db``) is created 0600 before SQLite
opens it, and SQLite gives its ``-wal`` and ``-shm`` files the database's own mode; settings,
keys and backups are 0600.  The modes are set with ``fchmod``/``chmod`` after creation, so
they hold whatever the umask (which could only clear bits) and whatever a permissive
filesystem default would add.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from pathlib import Path

FILE_MODE = 0o600
DIR_MODE = 0o700
SQLITE_COMPANIONS = ("-wal", "-shm", "-journal")


def private_dir(path: str | os.PathLike[str]) -> Path:
    """Create ``path`` (and its parents) if needed and make it 0700."""
    folder = Path(path)
    folder.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    folder.chmod(DIR_MODE)
    return folder


def private_file(path: str | os.PathLike[str]) -> Path:
    """Create ``path`` empty with mode 0600 if it does not exist (an existing file is left
    as it is: :func:`readable_by_others` tells whether it is safe)."""
    target = Path(path)
    try:
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0),
                     FILE_MODE)
    except FileExistsError:
        return target
    try:
        os.fchmod(fd, FILE_MODE)
    finally:
        os.close(fd)
    return target


def write_private_text(path: str | os.PathLike[str], text: str) -> Path:
    """Write ``text`` to ``path``, readable by its owner only (replacing its content)."""
    target = private_file(path)
    target.chmod(FILE_MODE)
    with target.open("w", encoding="utf-8") as handle:
        handle.write(text)
    return target


def readable_by_others(paths: Iterable[Path]) -> list[tuple[Path, int]]:
    """The existing ``paths`` that group or others may read or write, with their modes."""
    found = []
    for path in paths:
        try:
            mode = stat.S_IMODE(path.stat().st_mode)
        except FileNotFoundError:
            continue
        if mode & 0o077:
            found.append((path, mode))
    return found


def sqlite_files(database: Path) -> list[Path]:
    """An SQLite database file and the companions SQLite keeps beside it."""
    return [database, *(database.with_name(database.name + s) for s in SQLITE_COMPANIONS)]


__all__ = ["private_dir", "private_file", "readable_by_others", "sqlite_files",
           "write_private_text"]
