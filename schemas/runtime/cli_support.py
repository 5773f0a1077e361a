"""Pieces the node and hub command lines share.

Nothing heavier than click is imported at module level: every ``tongban`` command imports
what it works with when it runs, so that starting one costs little (``cli_start_ratio``).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from sqlalchemy import Engine

Decorator = Callable[[Callable[..., Any]], Callable[..., Any]]


def home_option(default: str) -> Decorator:
    return click.option(
        "--home",
        envvar="TONGBAN_HOME",
        default=default,
        show_default=True,
        type=click.Path(file_okay=False),
        help="Directory holding tongban.toml, the secret key and the SQLite database.",
    )


def bind_options(default_port: int) -> Decorator:
    def decorate(command: Callable[..., Any]) -> Callable[..., Any]:
        command = click.option(
            "--dev", is_flag=True, help="Use Flask's development server instead of gunicorn."
        )(command)
        command = click.option(
            "--workers", type=int, default=None,
            help="gunicorn worker processes (default: 2, or the config file's).",
        )(command)
        command = click.option(
            "--gunicorn-config",
            type=click.Path(dir_okay=False, exists=True),
            help="A gunicorn configuration file (see deploy/gunicorn.conf.py).",
        )(command)
        return click.option(
            "--bind", default=f"127.0.0.1:{default_port}", show_default=True,
            help="Address and port to listen on.",
        )(command)

    return decorate


def ensure_schema(engine: Engine, migrations: Path) -> str:
    """Create the schema on an empty database; refuse to serve an out-of-date one."""
    from schemas.runtime import migrate

    head = migrate.head_revision(migrations)
    if migrate.is_empty(engine):
        migrate.upgrade(engine, migrations)
        return "created"
    current = migrate.current_revision(engine)
    if current != head:
        raise click.ClickException(
            f"the database is at revision {current}, the code expects {head}: "
            "run `migrate` first"
        )
    return "current"
