"""``tongban hub …``: set up, migrate and serve the relay.

Each command imports what it works with when it runs (a quick ``tongban`` start).
"""

from __future__ import annotations

import click

from hub.config import hub_settings, update_config_file
from hub.settings import HubSettings
from schemas.runtime.cli_support import bind_options, home_option
from schemas.runtime.settings import SettingsError, write_config_file, write_secret_key


def _settings(home: str) -> HubSettings:
    try:
        return hub_settings({"home": home})
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from exc


@click.group()
def hub() -> None:
    """The relay between centers: signed log, mailboxes, consolidated figures and rankings."""


@hub.command()
@home_option("var/hub")
@click.option("--name", default="tongban hub", show_default=True)
@click.option("--database-url", default="", help="SQLAlchemy URL (default: SQLite in --home).")
def init(home: str, name: str, database_url: str) -> None:
    """Create the hub's home: configuration, a generated secret key and the database schema."""
    from hub.app import MIGRATIONS
    from hub.composition import HubServices
    from schemas.runtime import migrate
    from schemas.runtime.files import private_dir

    path = private_dir(home)  # 0700: the database and the settings live here
    if not (path / "tongban.toml").exists():
        write_config_file(home, {"name": name, "database_url": database_url or None})
    write_secret_key(home)
    services = HubServices.from_settings(_settings(home))
    try:
        migrate.upgrade(services.db.engine, MIGRATIONS)
    finally:
        services.close()
    click.echo(f"hub ready in {path.resolve()}")


@hub.command("migrate")
@home_option("var/hub")
def migrate_command(home: str) -> None:
    """Upgrade the hub's database to the schema this version of tongban expects."""
    from hub.app import MIGRATIONS
    from hub.composition import HubServices
    from schemas.runtime import migrate

    services = HubServices.from_settings(_settings(home))
    engine = services.db.engine
    try:
        before = migrate.current_revision(engine)
        migrate.upgrade(engine, MIGRATIONS)
        after = migrate.current_revision(engine)
    finally:
        services.close()
    if before == after:
        click.echo(f"hub database is current (revision {after})")
    else:
        click.echo(f"hub database upgraded: {before or 'empty'} -> {after}")


@hub.command("serve")
@home_option("var/hub")
@bind_options(8100)
@click.option("--worker-class", type=click.Choice(["gevent", "gthread"]), default=None,
              help="gunicorn's worker class (default: the serve_worker_class setting, gevent, "
                   "even with --gunicorn-config): under gevent a node waiting on its mailbox "
                   "holds a greenlet and its socket; under gthread it holds a thread.")
@click.option("--threads", type=int, default=None,
              help="gthread only: threads per worker (default: the serve_threads setting, 8).")
@click.option("--connections", type=int, default=None,
              help="gevent only: connections one worker holds at most (default: the "
                   "serve_connections setting, 5000).")
def serve_command(
    home: str, bind: str, workers: int | None, dev: bool, gunicorn_config: str | None,
    worker_class: str | None, threads: int | None, connections: int | None,
) -> None:
    """Serve the hub's web API (gunicorn; --dev for Flask's server)."""
    from hub.app import MIGRATIONS, create_app
    from schemas.runtime.cli_support import ensure_schema
    from schemas.runtime.database import Database
    from schemas.runtime.serving import serve

    settings = _settings(home)
    # also over a config file's worker_class: under gunicorn's sync workers every waiting
    # mailbox long poll would hold a whole process (docs/scale.md)
    worker_class = worker_class or settings.serve_worker_class
    if worker_class not in ("gevent", "gthread"):
        raise click.ClickException(
            f"serve_worker_class is gevent or gthread, not {worker_class!r}")
    if threads is None:
        threads = settings.serve_threads
    if connections is None:
        connections = settings.serve_connections
    db = Database(settings.database_url)
    ensure_schema(db.engine, MIGRATIONS)
    db.dispose()
    click.echo(f"hub listening on http://{bind} ({worker_class} workers)")
    serve(
        lambda: create_app({"home": home}),
        bind=bind, workers=workers, dev=dev, config_file=gunicorn_config, threads=threads,
        worker_class=worker_class, worker_connections=connections,
        keepalive=settings.serve_keepalive_seconds,
    )


@hub.command("trust-root")
@home_option("var/hub")
@click.option("--code", required=True, help="The province's division code, e.g. 450000.")
@click.option("--public-key", required=True,
              help="The province's root public key: raw Ed25519 in base64url without padding.")
def trust_root_command(home: str, code: str, public_key: str) -> None:
    """Set the hub's trust root: the province whose certificate chain every node must reach."""
    from schemas.certificates import TrustError
    from schemas.trust import TrustStore

    try:
        store = TrustStore(code, public_key)
    except TrustError as exc:
        raise click.ClickException(exc.message) from exc
    from schemas.runtime.files import private_dir

    private_dir(home)
    try:
        update_config_file(home, {"root_code": code, "root_public_key": public_key})
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"hub trusts root {code} (key {store.root_key_id}); restart the hub to apply")


def _add_backup_commands() -> None:
    from hub.backup import COMMANDS as BACKUP_COMMANDS

    for command in BACKUP_COMMANDS:
        hub.add_command(command)


_add_backup_commands()


def _add_staff_commands() -> None:
    from hub.commands.staff import COMMANDS as STAFF_COMMANDS

    for command in STAFF_COMMANDS:
        hub.add_command(command)


_add_staff_commands()
