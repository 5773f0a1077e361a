"""Moving the bytes of case files through the hub (content-addressed blobs).

An envelope lists a file by SHA-256, size and media type, so its signature covers the file;
the bytes travel separately.  Before a batch is pushed, every file it lists that this node
holds and has not uploaded goes to the hub first (so the addressee can always fetch it);
after a pull, the files listed by what arrived are fetched, and kept only when their bytes
hash to the signed name and have the signed size.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import undefer

from node.cases.models import CaseAttachment
from node.ports import SyncError
from node.sync.errors import HubRefused
from node.sync.transport import HubTransport
from schemas.runtime.database import Database

log = logging.getLogger("tongban.sync")

FILE_LISTS = {"case.forward": "attachments", "case.result": "documents"}
FETCH_BATCH = 50


def listed_files(wire: Mapping[str, Any]) -> list[str]:
    """The SHA-256 names of the files a wire envelope lists."""
    key = FILE_LISTS.get(str(wire.get("kind")))
    if key is None:
        return []
    return [str(item["sha256"]) for item in wire.get("body", {}).get(key, [])]


def upload_listed(db: Database, transport: HubTransport, wires: Iterable[Mapping[str, Any]],
                  clock: Callable[[], dt.datetime]) -> int:
    """Upload the files the envelopes list that the hub may not have yet; how many.

    Files this node only received (and relays, e.g. a result passed down the chain) are at
    the hub already: their uploader put them there."""
    names = sorted({name for wire in wires for name in listed_files(wire)})
    if not names:
        return 0
    with db.unit_of_work(write=False) as session:
        pending = {row.sha256: row.data for row in session.scalars(
            select(CaseAttachment).options(undefer(CaseAttachment.data)).where(
                CaseAttachment.sha256.in_(names), CaseAttachment.uploaded_at.is_(None),
                CaseAttachment.data.is_not(None)))}
    for name, data in pending.items():
        assert data is not None  # noqa: S101 - selected so
        transport.put_blob(name, data)
        with db.unit_of_work() as session:
            session.execute(update(CaseAttachment).where(CaseAttachment.sha256 == name)
                            .values(uploaded_at=clock()))
    return len(pending)


def fetch_missing(db: Database, transport: HubTransport) -> tuple[int, list[str]]:
    """Fetch the bytes of received files; (files fetched, problems).  A file the hub does not
    have (yet) or whose bytes do not match is left for the next pull and named in problems."""
    with db.unit_of_work(write=False) as session:
        wanted = {row.sha256: row.size for row in session.scalars(
            select(CaseAttachment).where(CaseAttachment.fetched.is_(False))
            .order_by(CaseAttachment.id).limit(FETCH_BATCH))}
    fetched, problems = 0, []
    for name, size in wanted.items():
        try:
            data = transport.get_blob(name)
        except HubRefused as exc:
            problems.append(f"file {name}: {exc.message}")
            continue
        except SyncError as exc:
            problems.append(f"file {name}: {exc.message}")
            break  # the hub is not reachable: try again on the next pull
        if hashlib.sha256(data).hexdigest() != name or len(data) != size:
            problems.append(f"file {name}: the hub's bytes do not match the signed hash "
                            f"and size ({len(data)} bytes); refused")
            continue
        with db.unit_of_work() as session:
            session.execute(update(CaseAttachment).where(
                CaseAttachment.sha256 == name, CaseAttachment.fetched.is_(False))
                .values(data=data, fetched=True))
        fetched += 1
    for problem in problems:
        log.warning("%s", problem)
    return fetched, problems
