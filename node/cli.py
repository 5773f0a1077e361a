"""``tongban node …``: set up, migrate, serve and administer one center.

Each command imports what it works with when it runs, so that ``tongban node --help`` and a
command's start cost no more than click (docs/performance.md, ``cli_start_ratio``).
"""

from __future__ import annotations

from pathlib import Path

import click

from node.auth.permissions import Role
from node.backup import COMMANDS as BACKUP_COMMANDS
from node.commands.audit import verify_audit
from node.commands.calendar import COMMANDS as CALENDAR_COMMANDS
from node.commands.sync import COMMANDS as SYNC_COMMANDS
from node.settings import NodeSettings
from schemas.divisions import (
    CountyKind,
    DivisionCodeError,
    level_of,
    parent_of,
    validate_identity,
)
from schemas.runtime.cli_support import bind_options, home_option
from schemas.runtime.settings import SettingsError


def _settings(home: str) -> NodeSettings:
    from node.config import node_settings

    try:
        return node_settings({"home": home})
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from exc


@click.group()
def node() -> None:
    """A center (province, city, county or township): its catalog, cases and web API."""


@node.command()
@home_option("var/node")
@click.option("--code", required=True, help="Administrative division code (6 or 9 digits).")
@click.option("--name", default="", help="The center's name, e.g. 北流市政务服务中心.")
@click.option(
    "--kind",
    type=click.Choice([k.value for k in CountyKind]),
    help="For county-level centers: district, county or county_city.",
)
@click.option("--database-url", default="", help="SQLAlchemy URL (default: SQLite in --home).")
def init(home: str, code: str, name: str, kind: str | None, database_url: str) -> None:
    """Create a node's home: configuration, a generated secret key and the database schema."""
    from node.app import MIGRATIONS
    from node.sync.keys import create_key, key_path
    from schemas.keys import key_id
    from schemas.runtime import migrate
    from schemas.runtime.database import Database
    from schemas.runtime.files import private_dir
    from schemas.runtime.settings import write_config_file, write_secret_key

    try:
        level = level_of(code)
    except DivisionCodeError as exc:
        raise click.BadParameter(str(exc), param_hint="--code") from exc
    problems = validate_identity(code, level.value, kind)
    if problems:
        raise click.BadParameter("; ".join(problems), param_hint="--code/--kind")
    path = Path(home)
    if (path / "tongban.toml").exists():
        existing = _settings(home)
        if existing.code != code:
            raise click.ClickException(
                f"{path} already holds node {existing.code}; use another --home"
            )
    private_dir(path)  # 0700: the database, keys and settings live here
    values = {
        "code": code,
        "name": name or f"{code} 政务服务中心",
        "level": level.value,
        "kind": kind or "",
        "parent_code": parent_of(code) or "",
    }
    if database_url:
        values["database_url"] = database_url
    if not (path / "tongban.toml").exists():
        write_config_file(home, values)
    write_secret_key(home)
    settings = _settings(home)
    if not key_path(settings).exists():
        key = create_key(key_path(settings))
        click.echo(f"node key written to {key_path(settings)} (key id {key_id(key.public_key())})")
    db = Database(settings.database_url)
    migrate.upgrade(db.engine, MIGRATIONS)
    db.dispose()
    click.echo(f"node {settings.code} ({settings.name}) ready in {path.resolve()}")


@node.command("migrate")
@home_option("var/node")
def migrate_command(home: str) -> None:
    """Upgrade the node's database to the schema this version of tongban expects."""
    from node.app import MIGRATIONS
    from schemas.runtime import migrate
    from schemas.runtime.database import Database

    settings = _settings(home)
    db = Database(settings.database_url)
    before = migrate.current_revision(db.engine)
    migrate.upgrade(db.engine, MIGRATIONS)
    after = migrate.current_revision(db.engine)
    if before == after:
        click.echo(f"node database is current (revision {after})")
    else:
        click.echo(f"node database upgraded: {before or 'empty'} -> {after}")
    db.dispose()


@node.command("serve")
@home_option("var/node")
@bind_options(8000)
def serve_command(
    home: str, bind: str, workers: int | None, dev: bool, gunicorn_config: str | None
) -> None:
    """Serve the node's web API (gunicorn; --dev for Flask's server)."""
    from node.app import MIGRATIONS, create_app
    from node.config import check_private_database
    from node.sync.keys import load_node_key
    from schemas.runtime.cli_support import ensure_schema
    from schemas.runtime.database import Database
    from schemas.runtime.serving import serve

    settings = _settings(home)
    try:
        load_node_key(settings)  # refuse to start with a missing or readable key
        check_private_database(settings)  # … or a database others may read
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from exc
    db = Database(settings.database_url)
    ensure_schema(db.engine, MIGRATIONS)
    db.dispose()
    click.echo(f"node {settings.code} listening on http://{bind}")
    serve(
        lambda: create_app({"home": home}),
        bind=bind, workers=workers, dev=dev, config_file=gunicorn_config,
    )


@node.command("create-user")
@home_option("var/node")
@click.option("--username", required=True)
@click.option("--role", type=click.Choice([r.value for r in Role]), default=Role.ADMIN.value,
              show_default=True)
@click.option("--display-name", default="")
@click.option("--department", "department_code", default=None,
              help="Department code (needed for clerks and approvers).")
@click.password_option(help="Prompted for when not given.")
def create_user(
    home: str, username: str, role: str, display_name: str, department_code: str | None,
    password: str,
) -> None:
    """Create a staff account, e.g. the center's first administrator."""
    from node.app import MIGRATIONS
    from node.auth.inputs import NewUser
    from node.composition import accounts
    from schemas.errors import TongbanError
    from schemas.runtime.cli_support import ensure_schema
    from schemas.runtime.database import Database

    settings = _settings(home)
    db = Database(settings.database_url)
    ensure_schema(db.engine, MIGRATIONS)
    try:
        with db.unit_of_work() as session:
            user = accounts(settings, session).create_user(NewUser(
                username=username,
                display_name=display_name or username,
                role=Role(role),
                password=password,
                department_code=department_code,
            ))
            click.echo(f"created {user.role.value} {user.username}")
    except TongbanError as exc:
        raise click.ClickException(f"{exc.message} {exc.details or ''}".strip()) from exc
    finally:
        db.dispose()


@node.command("run-jobs")
@home_option("var/node")
def run_jobs(home: str) -> None:
    """Run the scheduled jobs once: deemed acceptance (Art. 32), deemed approval, the
    daily roll-ups of the figures (the last year's days that are not final yet), and the
    calendar check (a warning for a year without national holiday data from sixty days
    before it begins; deadlines there are provisional and nothing is deemed on them).

    The worker (``tongban node worker``) runs the same jobs every 15 minutes, the calendar
    check once a day.
    """
    from node.app import MIGRATIONS
    from node.composition import NodeServices
    from node.sync.keys import load_node_key
    from schemas.runtime.cli_support import ensure_schema
    from schemas.runtime.database import Database

    settings = _settings(home)
    key = load_node_key(settings)  # decisions on cases from below are signed and sent back
    db = Database(settings.database_url)
    ensure_schema(db.engine, MIGRATIONS)
    try:
        services = NodeServices(settings, key)
        done = services.run_case_jobs(db)
        missing = services.check_calendar(db)
    finally:
        db.dispose()
    click.echo(f"deemed accepted: {len(done.accepted)} {' '.join(done.accepted)}".rstrip())
    click.echo(f"deemed approved: {len(done.approved)} {' '.join(done.approved)}".rstrip())
    click.echo(f"daily roll-ups computed: {done.rolled}")
    for year in missing:
        click.echo(f"警告：{year}年国家节假日安排尚未导入或下发，该年度的办结期限为暂定，"
                   "不会据此默认受理或默认许可。")


node.add_command(verify_audit)
for _sync_command in SYNC_COMMANDS:
    node.add_command(_sync_command)
for _backup_command in BACKUP_COMMANDS:
    node.add_command(_backup_command)
for _calendar_command in CALENDAR_COMMANDS:
    node.add_command(_calendar_command)
