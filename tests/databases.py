"""Template databases: each application's schema built once per test process, copied per test.

Building the node's schema (``create_all`` of its ~30 tables) costs more than most tests do.
So each pytest process (each xdist worker) builds it once:

- SQLite: a template file, copied to the test's own file (``shutil.copyfile``);
- PostgreSQL: the DDL that ``create_all`` emits, captured once, replayed into a new schema
  in one round trip (the fastest way to make one: ``tests/bench/bench_test_databases.py``);
  and after the test, instead of dropping the schema, every table is emptied (``DELETE``, child
  tables first, and each sequence restarted) and the schema is lent to the next test of the
  process, unless the test left it with another set of tables, indexes or sequences than it
  got (then it is dropped).

Each test still gets a database of its own, exactly as ``create_all`` would have made it;
tests that call ``create_all`` again find every table there (a no-op).
"""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

from sqlalchemy import Engine, MetaData, create_engine, create_mock_engine, text
from sqlalchemy.exc import DBAPIError

SCHEMAS = ("node", "hub")


def metadata_of(schema: str) -> MetaData:
    """The declarative metadata of ``node`` or ``hub``, with every model loaded."""
    if schema == "node":
        from node.metadata import load_all_models as load_node_models
        from node.models import Base as NodeBase

        load_node_models()
        return NodeBase.metadata
    if schema == "hub":
        from hub.metadata import load_all_models as load_hub_models
        from hub.models import Base as HubBase

        load_hub_models()
        return HubBase.metadata
    raise ValueError(f"no template for {schema!r}")


class Templates:
    """The templates of one test process, each built on first use."""

    def __init__(self) -> None:
        self._folder: Path | None = None
        self._sqlite: dict[str, Path] = {}
        self._postgresql_ddl: dict[str, str] = {}
        self._idle: dict[str, list[str]] = {}  # PostgreSQL schemas ready for the next test
        self._shape: dict[str, int] = {}  # relations of a freshly filled schema
        self._admin: Engine | None = None

    def _dir(self) -> Path:
        if self._folder is None:
            self._folder = Path(tempfile.mkdtemp(prefix="tongban-templates-"))
        return self._folder

    def sqlite_file(self, schema: str) -> Path:
        """A SQLite file holding ``schema``'s tables and nothing else (rollback journal, so
        that the one file is the whole database)."""
        if schema not in self._sqlite:
            path = self._dir() / f"{schema}.db"
            from schemas.runtime.database import make_engine

            engine = make_engine(f"sqlite:///{path}")
            metadata_of(schema).create_all(engine)
            engine.dispose()
            with sqlite3.connect(path) as connection:  # fold the WAL into the file
                connection.execute("PRAGMA journal_mode=DELETE")
            self._sqlite[schema] = path
        return self._sqlite[schema]

    def copy_sqlite(self, schema: str, target: Path) -> None:
        shutil.copyfile(self.sqlite_file(schema), target)
        target.chmod(0o600)  # as the node makes it: it refuses a database others may read

    def postgresql_ddl(self, schema: str) -> str:
        """The statements ``create_all`` issues on an empty PostgreSQL schema, as one script
        (unqualified names: they land in the connection's search_path)."""
        if schema not in self._postgresql_ddl:
            statements: list[str] = []
            engine: Any = None

            def collect(sql: Any, *_args: Any, **_kwargs: Any) -> None:
                statements.append(str(sql.compile(dialect=engine.dialect)).strip())

            engine = create_mock_engine("postgresql+psycopg://", collect)
            metadata_of(schema).create_all(engine, checkfirst=False)
            self._postgresql_ddl[schema] = ";\n".join(statements) + ";"
        return self._postgresql_ddl[schema]

    def fill_postgresql(self, schema: str, url: str) -> None:
        """Create ``schema``'s tables in the (empty) database at ``url``."""
        engine = create_engine(url)
        try:
            with engine.begin() as connection:
                connection.exec_driver_sql(self.postgresql_ddl(schema))
        finally:
            engine.dispose()

    @contextmanager
    def postgresql_schema(self, server_url: str, schema: str | None) -> Iterator[str]:
        """A URL to a schema of its own in the database at ``server_url``: empty (``schema``
        None), or holding ``schema``'s tables and no rows; dropped or emptied afterwards."""
        if self._admin is None:
            self._admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
        idle = self._idle.setdefault(schema, []) if schema else []
        separator = "&" if "?" in server_url else "?"
        reused = bool(idle)
        # filled by an earlier test's turn and emptied since, or a new one
        name = idle.pop() if reused else f"t_{uuid.uuid4().hex[:16]}"
        url = f"{server_url}{separator}options={quote(f'-csearch_path={name}')}"
        if not reused:
            with self._admin.connect() as connection:
                connection.execute(text(f'CREATE SCHEMA "{name}"'))
            if schema:
                self.fill_postgresql(schema, url)
                self._shape.setdefault(schema, self._relations(name))
        yield url
        if schema and self._emptied(schema, name):
            idle.append(name)
            return
        with self._admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{name}" CASCADE'))

    def _server(self) -> Engine:
        if self._admin is None:
            raise RuntimeError("no PostgreSQL schema was lent yet")
        return self._admin

    def _relations(self, name: str) -> int:
        with self._server().connect() as connection:
            return int(connection.scalar(text(
                "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = :name"), {"name": name}) or 0)

    def _emptied(self, schema: str, name: str) -> bool:
        """Empty the schema's tables and restart its sequences for the next test; False when
        the test changed its shape (or a lock held by a connection the test left open stops
        the emptying, or a row is left that a foreign key still needs).

        ``DELETE`` child tables first, not ``TRUNCATE``: a test leaves a few rows, and
        ``TRUNCATE`` gives each table (and each one its ``CASCADE`` reaches) new files, which
        cost 0.5–1 s of the server's time per test against ~20 ms for the deletes
        (2026-12-07, the node's 46 tables, load average ~8)."""
        if self._relations(name) != self._shape[schema]:
            return False
        script = "".join(f'DELETE FROM "{name}"."{table.name}";\n'  # noqa: S608 - our names
                         for table in reversed(metadata_of(schema).sorted_tables))
        try:
            with self._server().connect() as connection, connection.begin():
                connection.exec_driver_sql("SET LOCAL lock_timeout = '5s'")
                connection.exec_driver_sql("SET LOCAL synchronous_commit = off")
                connection.exec_driver_sql(script)
                # as TRUNCATE … RESTART IDENTITY: each sequence a test drew from starts again
                connection.execute(text(
                    "SELECT setval(format('%I.%I', schemaname, sequencename), start_value, "
                    "false) FROM pg_sequences WHERE schemaname = :name "
                    "AND last_value IS NOT NULL"), {"name": name})
        except DBAPIError:
            return False
        return True

    def cleanup(self) -> None:
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)
        if self._admin is not None:
            with self._admin.connect() as connection:
                for names in self._idle.values():
                    for name in names:
                        connection.execute(text(f'DROP SCHEMA IF EXISTS "{name}" CASCADE'))
            self._admin.dispose()


def schema_for(fixturenames: list[str], wanted: dict[str, str]) -> str | None:
    """Which application's schema a test's fixtures will create on its database: ``node``
    for the node's app fixtures, ``hub`` for the hub's (None for none, or for both)."""
    found = {schema for name, schema in wanted.items() if name in fixturenames}
    return found.pop() if len(found) == 1 else None


Filler = Callable[[str, str], None]
