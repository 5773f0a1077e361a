"""The sync commands of `tongban node`: keys, enrolment, sync-now and the worker.

Each command imports what it works with when it runs (a quick ``tongban`` start).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from node.settings import NodeSettings
from schemas.divisions import CountyKind
from schemas.runtime.cli_support import home_option
from schemas.runtime.settings import SettingsError

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from schemas.runtime.database import Database


def _settings(home: str) -> NodeSettings:
    from node.config import node_settings

    try:
        return node_settings({"home": home})
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from exc


def _key(settings: NodeSettings) -> Ed25519PrivateKey:
    from node.sync.keys import load_node_key

    try:
        return load_node_key(settings)
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from exc


@contextmanager
def _database(settings: NodeSettings) -> Iterator[Database]:
    from node.metadata import load_all_models
    from schemas.errors import TongbanError
    from schemas.runtime.database import Database

    load_all_models()
    db = Database(settings.database_url)
    try:
        yield db
    except TongbanError as exc:
        raise click.ClickException(exc.message) from exc
    finally:
        db.dispose()


def _describe(key: Ed25519PrivateKey, path: Path) -> None:
    from schemas.keys import key_id, public_key_b64

    click.echo(f"key file:   {path}")
    click.echo(f"public key: {public_key_b64(key.public_key())}")
    click.echo(f"key id:     {key_id(key.public_key())}")


def _when(text: str | None, name: str) -> dt.datetime:
    from schemas.runtime.database import utcnow

    if not text:
        return utcnow()
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError as exc:
        raise click.BadParameter("an ISO 8601 time", param_hint=name) from exc
    if value.tzinfo is None:
        raise click.BadParameter("needs a UTC offset, e.g. +08:00", param_hint=name)
    return value


@click.command("keygen")
@home_option("var/node")
def keygen(home: str) -> None:
    """Create the node's Ed25519 key (node_key.pem, mode 0600) and print its public key."""
    from node.config import node_settings
    from node.sync.keys import create_key, key_path
    from schemas.keys import KeyFileError

    try:
        settings: NodeSettings = node_settings({"home": home})
    except SettingsError:
        settings = NodeSettings(home=home)  # keygen may come before the node is fully set up
    path = key_path(settings)
    try:
        key = create_key(path)
    except KeyFileError as exc:
        raise click.ClickException(exc.message) from exc
    _describe(key, path)
    click.echo("Give the public key to the parent center's administrator (enroll-child).")


@click.command("enroll-self")
@home_option("var/node")
@click.option("--days", type=click.IntRange(1, 3660), default=3650, show_default=True)
def enroll_self(home: str, days: int) -> None:
    """(Province only) Certify the province's own key as the trust root; queue it to the hub."""
    from node.sync import enrollment
    from schemas.keys import public_key_b64
    from schemas.runtime.database import utcnow

    settings = _settings(home)
    key = _key(settings)
    with _database(settings) as db, db.unit_of_work() as session:
        document = enrollment.enroll_self(session, code=settings.code, private_key=key,
                                          now=utcnow(), days=days)
    click.echo(json.dumps(document, ensure_ascii=False, indent=2))
    click.echo(f"trust root for the hub (`tongban hub trust-root`): {settings.code} "
               f"{public_key_b64(key.public_key())}", err=True)


@click.command("enroll-child")
@home_option("var/node")
@click.option("--code", "child", required=True, help="The child's division code.")
@click.option("--kind", type=click.Choice([k.value for k in CountyKind]), default=None,
              help="For county-level children: district, county or county_city.")
@click.option("--public-key", required=True, help="The child's public key (from its keygen).")
@click.option("--days", type=click.IntRange(1, 3660), default=365, show_default=True)
def enroll_child(home: str, child: str, kind: str | None, public_key: str, days: int) -> None:
    """Sign a child center's certificate with this node's key and queue it to the hub."""
    from node.sync import enrollment
    from schemas.runtime.database import utcnow

    settings = _settings(home)
    key = _key(settings)
    try:
        with _database(settings) as db, db.unit_of_work() as session:
            document = enrollment.enroll_child(
                session, code=settings.code, private_key=key, child=child, kind=kind,
                child_public_key=public_key, now=utcnow(), days=days)
    except ValueError as exc:  # TrustError and KeyFormatError are ValueErrors with a message
        raise click.ClickException(str(exc)) from exc
    click.echo(json.dumps(document, ensure_ascii=False, indent=2))


@click.command("rotate-key")
@home_option("var/node")
@click.option("--activate", is_flag=True,
              help="Switch to the new key (after the parent enrolled it); the old one is kept.")
def rotate_key(home: str, activate: bool) -> None:
    """Create a new key for the parent to certify, or (--activate) start signing with it.

    The old key stays valid until its certificate ends or the parent revokes it, so what was
    signed with it still verifies.
    """
    from node.sync.keys import (
        create_key,
        key_path,
        load_node_key,
        next_key_path,
        retired_key_path,
    )
    from schemas.keys import KeyFileError, key_id, load_private_key

    settings = _settings(home)
    current, upcoming = key_path(settings), next_key_path(settings)
    if not activate:
        try:
            key = create_key(upcoming)
        except KeyFileError as exc:
            raise click.ClickException(exc.message) from exc
        _describe(key, upcoming)
        click.echo("Ask the parent center to run enroll-child with this public key, then run "
                   "rotate-key --activate.")
        return
    try:
        old, new = load_node_key(settings), load_private_key(upcoming)
    except (SettingsError, KeyFileError) as exc:
        raise click.ClickException(str(exc)) from exc
    retired = retired_key_path(settings, key_id(old.public_key()))
    if retired.exists():
        raise click.ClickException(f"{retired} already exists")
    current.rename(retired)
    upcoming.rename(current)
    click.echo(f"signing with key {key_id(new.public_key())}; the old key "
               f"{key_id(old.public_key())} is kept in {retired} until it is revoked")


@click.command("revoke")
@home_option("var/node")
@click.option("--code", "subject", required=True, help="A descendant's division code.")
@click.option("--key-id", "subject_key_id", required=True, help="The key id to revoke.")
@click.option("--at", "effective", default=None, help="Effective from (ISO 8601; default now).")
@click.option("--reason", default="key retired", show_default=True)
def revoke(home: str, subject: str, subject_key_id: str, effective: str | None,
           reason: str) -> None:
    """Revoke a descendant's key from a time on; queue the revocation to the hub."""
    from node.sync import enrollment
    from schemas.runtime.database import utcnow

    settings = _settings(home)
    key = _key(settings)
    at = _when(effective, "--at")
    try:
        with _database(settings) as db, db.unit_of_work() as session:
            document = enrollment.revoke(
                session, code=settings.code, private_key=key, subject=subject,
                subject_key_id=subject_key_id, effective_at=at, reason=reason, now=utcnow())
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(json.dumps(document, ensure_ascii=False, indent=2))


def _hub(settings: NodeSettings, key: Ed25519PrivateKey) -> Any:
    from node.sync.client import HttpHubTransport

    if not settings.hub_url:
        raise click.ClickException("hub_url is not set (tongban.toml or TONGBAN_HUB_URL)")
    return HttpHubTransport(settings.hub_url, settings.code, key,
                            timeout=settings.hub_timeout_seconds)


@click.command("sync-now")
@home_option("var/node")
def sync_now(home: str) -> None:
    """Push the outbox and pull the mailbox once, now, and refresh the cached registry and
    the centers' names (node/sync/names.py)."""
    from node.composition import NodeServices
    from node.ports import SyncError
    from node.sync.names import center_names

    settings = _settings(home)
    key = _key(settings)
    transport = _hub(settings, key)
    with _database(settings) as db:
        service = NodeServices(settings, key).sync_service(db, transport)
        try:
            pushed = service.push()
            pulled = service.pull()
            refreshed = service.refresh_registry()
        except SyncError as exc:
            raise click.ClickException(f"sync failed: {exc.message}") from exc
        finally:
            transport.close()
        with db.unit_of_work(write=False) as session:
            named = len(center_names(session))
    click.echo(f"pushed: {pushed.sent} accepted, {pushed.duplicate} duplicate, "
               f"{pushed.dead} rejected, {pushed.pending} pending")
    click.echo(f"pulled: {pulled.received} received, {pulled.duplicate} duplicate, "
               f"{pulled.refused} refused, {pulled.applied} applied, {pulled.failed} failed, "
               f"{pulled.held} held")
    click.echo("registry: " + ("refreshed" if refreshed is not None else "refused, cached kept")
               + f", {named} centers known by name")


@click.command("send-summaries")
@home_option("var/node")
def send_summaries_command(home: str) -> None:
    """Queue this node's signed summaries now (this month, and last month early in a month);
    the next push sends them.  The worker does the same on its own schedule."""
    from node.composition import NodeServices

    settings = _settings(home)
    key = _key(settings)
    with _database(settings) as db:
        sent = NodeServices(settings, key).send_summaries(db)
    click.echo(f"summaries queued: {' '.join(sent)}")


@click.command("open-audit")
@home_option("var/node")
@click.option("--node", "audited", required=True, help="The descendant whose summary to audit.")
@click.option("--period", required=True, help="The summary's period: 2026-11, 2026-Q4, …")
@click.option("--seq", type=int, default=None, help="The summary's version (default newest).")
@click.option("--sample-size", type=click.IntRange(1, 200), default=30, show_default=True)
def open_audit_command(home: str, audited: str, period: str, seq: int | None,
                       sample_size: int) -> None:
    """Open a sampled audit of a descendant's summary at the hub, signed as this node; the
    audited node's worker answers on its own (docs/verification.md)."""
    from node.ports import SyncError

    settings = _settings(home)
    transport = _hub(settings, _key(settings))
    try:
        audit = transport.open_audit(audited, period, sample_size, seq)
    except SyncError as exc:
        raise click.ClickException(f"audit not opened: {exc.message}") from exc
    finally:
        transport.close()
    chances = "，".join(f"假记录占 {d['false_share_bp'] / 100:g}% 时 "
                       f"{d['probability_bp'] / 100:.2f}%" for d in audit["detection"])
    click.echo(f"已发起数据核验 {audit['id']}：{audited} {period}（第 {audit['summary_seq']} 版）"
               f"抽查 {audit['sampled']} 条记录；查出概率：{chances}")


@click.command("worker")
@home_option("var/node")
def worker(home: str) -> None:
    """Run the scheduled jobs (sync, deadlines, roll-ups, summaries) until SIGTERM/SIGINT."""
    from node.sync.lock import WorkerRunning, worker_lock

    settings = _settings(home)
    try:
        with worker_lock(home):  # one worker per node
            _run_worker(settings)
    except WorkerRunning as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo("worker stopped")


def _run_worker(settings: NodeSettings) -> None:
    from node.composition import NodeServices
    from node.config import check_private_database
    from node.worker import build_scheduler, run_worker, sync_backoff, sync_loops

    key = _key(settings)
    try:
        check_private_database(settings)  # the worker refuses a readable database too
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from exc
    transport = _hub(settings, key)
    with _database(settings) as db:
        service = NodeServices(settings, key).sync_service(db, transport)
        backoff = sync_backoff(settings)
        loops = sync_loops(service, settings, backoff)
        click.echo(f"node {settings.code} worker: sync every "
                   f"{settings.sync_interval_seconds} s with {settings.hub_url}; "
                   f"push-now watch every {settings.push_watch_seconds} s, mailbox "
                   f"long poll {settings.pull_wait_seconds} s")
        try:
            run_worker(build_scheduler(db, settings, key, service, backoff), loops)
        finally:
            transport.close()


@click.command("publish-catalog")
@home_option("var/node")
def publish_catalog_command(home: str) -> None:
    """(Province only) Sign the active catalog as the standard catalog (四统一) to every
    descendant; it leaves with the next push."""
    from node.catalog.publishing import publish_catalog
    from node.composition import NodeServices
    from schemas.runtime.database import utcnow

    settings = _settings(home)
    key = _key(settings)
    with _database(settings) as db, db.unit_of_work() as session:
        services = NodeServices(settings, key)
        envelope_ids = publish_catalog(session, outbox=services.outbox, actor="cli", now=utcnow(),
                                       names=services.center_names)
    parts = f" in {len(envelope_ids)} parts" if len(envelope_ids) > 1 else ""
    click.echo(f"catalog.publish queued{parts}: envelope {' '.join(envelope_ids)}")


COMMANDS = (
    send_summaries_command, open_audit_command,
    keygen, enroll_self, enroll_child, rotate_key, revoke, publish_catalog_command, sync_now,
    worker,
)
