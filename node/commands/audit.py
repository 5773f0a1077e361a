"""``tongban node verify-audit``: check the node's audit chain from the command line."""

from __future__ import annotations

import click

from node.settings import NodeSettings
from schemas.runtime.cli_support import home_option
from schemas.runtime.settings import SettingsError


@click.command("verify-audit")
@home_option("var/node")
@click.option("--against-hub", is_flag=True,
              help="Also compare the chain with the newest anchor the hub keeps (the head "
                   "this node's newest signed summary carried): detects truncation and "
                   "rewrites. Exit 1 on an anomaly.")
def verify_audit(home: str, against_hub: bool) -> None:
    """Recompute the audit chain's hashes; exit 1 naming the first broken entry (in Chinese)."""
    from sqlalchemy import inspect

    from node.audit.chain import AuditLog
    from node.audit.models import AuditEntry, AuditHead
    from node.config import node_settings
    from schemas.runtime.database import Database

    try:
        settings = node_settings({"home": home})
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from exc
    if against_hub:
        _against_hub(settings)
        return
    db = Database(settings.database_url)
    try:
        inspector = inspect(db.engine)
        for table in (AuditEntry.__tablename__, AuditHead.__tablename__):
            if not inspector.has_table(table):
                raise click.ClickException(
                    f"数据库中没有 {table} 表：请先运行 tongban node migrate"
                )
        # One read-only transaction, so the walk and the head come from one session.
        with db.sessions() as session, session.begin():
            report = AuditLog(session).verify()
    finally:
        db.dispose()
    if report.ok:
        click.echo(f"审计链完好：共 {report.checked} 条记录")
        return
    where = (f"，首个问题在第 {report.first_broken_seq} 条记录"
             if report.first_broken_seq is not None else "")
    click.echo(f"审计链已损坏{where}：{report.reason}", err=True)
    raise click.exceptions.Exit(1)


def _against_hub(settings: NodeSettings) -> None:
    """``--against-hub``: the chain compared with the hub's newest anchor, in Chinese."""
    from node.audit.anchoring import check_against
    from node.metadata import load_all_models
    from node.ports import SyncError
    from node.sync.client import HttpHubTransport
    from node.sync.keys import load_node_key
    from schemas.runtime.database import Database

    if not settings.hub_url:
        raise click.ClickException("未配置枢纽地址（hub_url），无法与上级枢纽的锚点核对")
    try:
        key = load_node_key(settings)
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from exc
    transport = HttpHubTransport(settings.hub_url, settings.code, key,
                                 timeout=settings.hub_timeout_seconds)
    try:
        anchor = transport.fetch_audit_anchor()
    except SyncError as exc:
        raise click.ClickException(f"无法从上级枢纽取得审计锚点：{exc.message}") from exc
    finally:
        transport.close()
    load_all_models()
    db = Database(settings.database_url)
    try:
        with db.sessions() as session, session.begin():
            check = check_against(session, anchor)
    finally:
        db.dispose()
    click.echo(check.message(), err=check.anomaly)
    if check.anomaly:
        raise click.exceptions.Exit(1)
