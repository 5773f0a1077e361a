"""``tongban hub create-user`` and ``tongban hub save-methodology``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import click

from schemas.runtime.cli_support import ensure_schema, home_option

if TYPE_CHECKING:
    from hub.composition import HubServices
    from schemas.errors import TongbanError


def _services(home: str) -> HubServices:
    """The hub's services (hub/composition.py) on its database, checked at the code's schema."""
    from hub.app import MIGRATIONS
    from hub.composition import HubServices
    from hub.config import hub_settings
    from schemas.runtime.settings import SettingsError

    try:
        settings = hub_settings({"home": home})
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from exc
    services = HubServices.from_settings(settings)
    ensure_schema(services.db.engine, MIGRATIONS)
    return services


def _problem(exc: TongbanError) -> click.ClickException:
    fields = exc.details.get("fields") if exc.details else None
    if fields:
        return click.ClickException(
            exc.message + " " + "; ".join(f"{k}: {', '.join(map(str, v))}"
                                          for k, v in fields.items()))
    return click.ClickException(exc.message)


@click.command("create-user")
@home_option("var/hub")
@click.option("--username", required=True)
@click.option("--scope", required=True,
              help="Division code the account may read: that node and everything below it.")
@click.option("--role", type=click.Choice(["viewer", "admin"]), default="viewer",
              show_default=True, help="admin may also save composite-index methodologies.")
@click.option("--display-name", default="")
@click.password_option(help="Prompted for when not given.")
def create_user(home: str, username: str, scope: str, role: str, display_name: str,
                password: str) -> None:
    """Create a hub staff account bound to a scope (log in at POST /api/v1/staff/login)."""
    from hub.staff.models import StaffRole
    from schemas.errors import TongbanError

    services = _services(home)
    try:
        with services.db.unit_of_work() as session:
            account = services.staff(session).create_account(
                username=username, password=password, scope=scope, role=StaffRole(role),
                display_name=display_name)
            click.echo(f"created hub {account.role.value} {account.username} "
                       f"for scope {account.scope_code}")
    except TongbanError as exc:
        raise _problem(exc) from exc
    finally:
        services.close()


@click.command("save-methodology")
@home_option("var/hub")
@click.option("--name", required=True, help="The name tables ask for (methodology=NAME).")
@click.argument("document", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def save_methodology(home: str, name: str, document: Path) -> None:
    """Save a composite-index methodology from a JSON file:
    {"title": "季度综合评价", "normalisation": "min_max",
    "components": [{"metric", "weight", "direction"}], …}; the title is optional."""
    from hub.rankings.service import Principal, methodology_from_request
    from schemas.errors import TongbanError
    from schemas.runtime.database import utcnow

    try:
        data = json.loads(document.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise click.ClickException(f"{document} is not a JSON document: {exc}") from exc
    if not isinstance(data, dict):
        raise click.ClickException(f"{document} must hold a JSON object")
    services = _services(home)
    principal = Principal("staff", "000000", "cli", may_manage=True)
    try:
        with services.db.unit_of_work() as session:
            saved = services.rankings(session, principal, utcnow()).save_methodology(
                name, methodology_from_request(data))
            click.echo(f"saved methodology {saved.name} version {saved.version}")
    except TongbanError as exc:
        raise _problem(exc) from exc
    finally:
        services.close()


COMMANDS = (create_user, save_methodology)
