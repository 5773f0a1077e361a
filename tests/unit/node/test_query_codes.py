"""Query codes are stored as Argon2id hashes (node/cases/query_codes.py); a case of before
migration 0012 keeps its SHA-256 digest, which still opens it and is replaced by an Argon2id
hash the first time the right code is given."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import pytest
from alembic import command
from flask import Flask
from sqlalchemy import select, update

from node.app import MIGRATIONS
from node.cases.models import Case
from node.cases.query_codes import NO_CODE, verify_query_code
from schemas.runtime import migrate
from schemas.runtime.database import Database
from tests.unit.node.conftest import Api
from tests.unit.node.test_public_lookup import open_desk, set_public_limit, submit


@pytest.fixture
def desk(catalog_base: Api, make_user: Callable[..., Api], app: Flask) -> dict[str, Api]:
    set_public_limit(app, 1000)
    return open_desk(catalog_base, make_user)


def downgrade(db: Database, revision: str) -> None:
    config = migrate.alembic_config(MIGRATIONS, db.url)
    with db.engine.connect() as connection, migrate._foreign_keys_deferred(connection), \
            connection.begin():
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


def stored(db: Database, number: str) -> str:
    with db.unit_of_work(write=False) as session:
        return str(session.scalar(select(Case.query_code_hash).where(Case.number == number)))


def test_a_new_case_stores_its_code_as_a_light_argon2id_hash(
        desk: dict[str, Api], anonymous: Api, db: Database) -> None:
    case = submit(desk["clerk"])
    code, number = case["query_code"], case["number"]
    kept = stored(db, number)
    assert kept.startswith("$argon2id$v=19$m=8192,t=1,p=1$")
    assert code not in kept
    assert kept != hashlib.sha256(f"{number}:{code}".encode()).hexdigest()
    assert anonymous.get(f"/api/v1/public/cases/{number}?code={code}").status_code == 200
    assert anonymous.get(f"/api/v1/public/cases/{number}?code=AAAAAAAA").status_code == 404
    assert anonymous.get(f"/api/v1/public/cases/{number}?code={code.lower()}").status_code \
        == 200  # as before: the code is read without regard to case


def test_an_old_sha256_code_still_works_and_is_replaced_when_verified(
        desk: dict[str, Api], anonymous: Api, db: Database) -> None:
    case = submit(desk["clerk"])
    code, number = case["query_code"], case["number"]
    legacy = hashlib.sha256(f"{number}:{code}".encode()).hexdigest()
    with db.unit_of_work() as session:  # as a case created before migration 0012 holds it
        session.execute(update(Case).where(Case.number == number)
                        .values(query_code_hash=legacy))
    assert anonymous.get(f"/api/v1/public/cases/{number}?code=AAAAAAAA").status_code == 404
    assert stored(db, number) == legacy  # a wrong code changes nothing
    assert anonymous.get(f"/api/v1/public/cases/{number}?code={code}").status_code == 200
    assert stored(db, number).startswith("$argon2id$")
    assert anonymous.get(f"/api/v1/public/cases/{number}?code={code}").status_code == 200


def test_the_migration_keeps_old_digests_and_they_keep_working(
        desk: dict[str, Api], anonymous: Api, db: Database) -> None:
    """A case whose digest is SHA-256 taken down to revision 0010 and up again through 0011
    and 0012 (SQLite copies the tables its rows live in): the digest is kept and still opens
    the case."""
    case = submit(desk["clerk"])
    code, number = case["query_code"], case["number"]
    legacy = hashlib.sha256(f"{number}:{code}".encode()).hexdigest()
    with db.unit_of_work() as session:
        session.execute(update(Case).where(Case.number == number)
                        .values(query_code_hash=legacy))
    config = migrate.alembic_config(MIGRATIONS, db.url)
    with db.engine.begin() as connection:  # the app's tables, as at head
        config.attributes["connection"] = connection
        command.stamp(config, "head")
    downgrade(db, "0010")  # also through 0011 (users' lockout columns), staff and cases kept
    with db.engine.connect() as connection:
        assert connection.execute(select(Case.query_code_hash)).scalar() == legacy
    migrate.upgrade(db.engine, MIGRATIONS)  # what `tongban node migrate` runs
    with db.engine.connect() as connection:
        assert connection.execute(select(Case.query_code_hash)).scalar() == legacy
    assert not verify_query_code(NO_CODE, number, code)
    assert not verify_query_code(None, number, code)
    assert anonymous.get(f"/api/v1/public/cases/{number}?code={code}").status_code == 200
    assert stored(db, number).startswith("$argon2id$")
    with pytest.raises(RuntimeError, match="cannot downgrade"):
        downgrade(db, "0011")
