"""The calendar commands of `tongban node`: import a year's national schedule, publish it
down the tree (province), confirm "weekends only" for a year without data.

Each command imports what it works with when it runs (a quick ``tongban`` start)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import click

from node.settings import NodeSettings
from schemas.divisions import Level, level_of
from schemas.runtime.cli_support import home_option
from schemas.runtime.settings import SettingsError

if TYPE_CHECKING:
    from node.calendar.service import ScheduleChange
    from schemas.runtime.database import Database

YEAR = click.IntRange(1900, 2199)


def _settings(home: str) -> NodeSettings:
    from node.config import node_settings

    try:
        return node_settings({"home": home})
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from exc


@contextmanager
def _database(settings: NodeSettings) -> Iterator[Database]:
    from node.app import MIGRATIONS
    from node.calendar.schedules import ScheduleImportError
    from node.metadata import load_all_models
    from schemas.errors import TongbanError
    from schemas.runtime.cli_support import ensure_schema
    from schemas.runtime.database import Database

    load_all_models()
    db = Database(settings.database_url)
    try:
        ensure_schema(db.engine, MIGRATIONS)
        yield db
    except ScheduleImportError as exc:
        lines = [exc.message] + [
            f"  {'row ' + str(p['row']) if p['row'] is not None else 'file'}: "
            f"{p['field']}: {p['reason']}" for p in exc.details["rows"]]
        raise click.ClickException("\n".join(lines)) from exc
    except TongbanError as exc:
        raise click.ClickException(exc.message) from exc
    finally:
        db.dispose()


def _report(change: ScheduleChange) -> None:
    if not change.changed:
        click.echo(f"{change.year}: unchanged ({change.reason})")
        return
    cases = change.recompute.as_dict() if change.recompute else {}
    click.echo(f"{change.year}: {change.source.value} version {change.version}; open cases "
               f"examined {cases.get('examined', 0)}, deadlines moved {cases.get('moved', 0)}, "
               f"no longer provisional {cases.get('released', 0)}, notice windows moved "
               f"{cases.get('notice_windows_moved', 0)}")


@click.command("calendar-import")
@home_option("var/node")
@click.option("--year", type=YEAR, required=True, help="The year the file is for.")
@click.option("--source", "reference", default="",
              help="The notice's number (国办发明电〔…〕…号), when the file does not say it.")
@click.option("--actor", default="cli", show_default=True, help="Who imports (for the audit).")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def calendar_import(home: str, year: int, reference: str, actor: str, file: Path) -> None:
    """Import a year's national holiday schedule (JSON or XLSX) as this node's; the open
    cases' deadlines follow in the same transaction.  Nothing changes if any row is bad."""
    from node.calendar.schedules import read_schedule
    from node.composition import calendar_service

    settings = _settings(home)
    content = file.read_bytes()
    with _database(settings) as db, db.unit_of_work() as session:
        document = read_schedule(content, year, filename=file.name, reference=reference)
        change = calendar_service(session).import_schedule(
            document, actor, province=level_of(settings.code) is Level.PROVINCE)
    _report(change)


@click.command("publish-calendar")
@home_option("var/node")
@click.option("--year", type=YEAR, required=True, help="The year to publish.")
def publish_calendar_command(home: str, year: int) -> None:
    """(Province only) Sign the year's imported schedule as ``calendar.publish`` to every
    descendant; it leaves with the next push, and each descendant adopts it when it pulls."""
    from node.calendar.publishing import publish_calendar
    from node.composition import NodeServices
    from node.sync.keys import load_node_key
    from schemas.runtime.database import utcnow

    settings = _settings(home)
    outbox = NodeServices(settings, load_node_key(settings)).outbox
    with _database(settings) as db, db.unit_of_work() as session:
        envelope_id = publish_calendar(session, outbox=outbox, year=year, actor="cli",
                                       now=utcnow())
    click.echo(f"calendar.publish queued: year {year}, envelope {envelope_id}")


@click.command("calendar-confirm-weekends")
@home_option("var/node")
@click.option("--year", type=YEAR, required=True)
@click.option("--reason", required=True, help="Why the year is counted on weekends only.")
@click.option("--actor", default="cli", show_default=True)
def calendar_confirm_weekends(home: str, year: int, reason: str, actor: str) -> None:
    """Confirm that a year without national data is counted on weekends only (audited): its
    provisional deadlines are released for deemed acceptance and approval."""
    from node.composition import calendar_service

    settings = _settings(home)
    with _database(settings) as db, db.unit_of_work() as session:
        change = calendar_service(session).confirm_weekends_only(year, actor, reason)
    _report(change)


@click.command("calendar-years")
@home_option("var/node")
def calendar_years(home: str) -> None:
    """Each year with where its national schedule comes from (one JSON document)."""
    from node.composition import calendar_reader

    settings = _settings(home)
    with _database(settings) as db, db.unit_of_work(write=False) as session:
        years = calendar_reader(session).years()
    click.echo(json.dumps([{"year": y.year, "source": y.source.value, "version": y.version,
                            "publisher": y.publisher, "reference": y.reference,
                            "holidays": y.holidays, "worked_weekend_days": y.worked_weekend_days}
                           for y in years], ensure_ascii=False))


COMMANDS = (calendar_import, publish_calendar_command, calendar_confirm_weekends, calendar_years)
