"""Database plumbing shared by node and hub: engines, sessions and column types.

SQLite (the embedded default) runs in WAL mode with foreign keys on and a busy timeout;
PostgreSQL is reached through psycopg 3 by URL.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

from sqlalchemy import (
    Connection,
    Date,
    DateTime,
    Engine,
    Enum,
    MetaData,
    String,
    Table,
    create_engine,
    event,
    insert,
)
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import make_url
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session, mapped_column, sessionmaker
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import TypeDecorator

from schemas.runtime.files import private_file
from schemas.runtime.writelock import WriterLock

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


# The largest value a BIGINT column holds (signed 64 bits, both engines): a cursor, seq or id
# asked for beyond it is refused as invalid input before it reaches a query (PostgreSQL and
# SQLite both raise on binding it, which was a 500).
BIGINT_MAX = 2**63 - 1


def new_metadata() -> MetaData:
    return MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """A timezone-aware timestamp, stored in UTC; naive datetimes are refused."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where an aware one is required")
        return value.astimezone(dt.UTC)

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:  # SQLite keeps no offset
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


Timestamp = Annotated[dt.datetime, mapped_column(UTCDateTime())]
Code = Annotated[str, mapped_column(String(64))]
Name = Annotated[str, mapped_column(String(200))]


WRITE_OPTION = "tongban_write"
WRITER_LOCK_HELD = "tongban_writer_lock"  # in a connection's info while it holds the lock


def enum_column(enum_cls: type[enum.Enum], **kwargs: Any) -> Enum:
    """An Enum stored by its value in a VARCHAR (portable across SQLite and PostgreSQL); a
    string that is no member's value is refused before it reaches the database.  The one
    helper of node and hub."""
    return Enum(
        enum_cls,
        values_callable=lambda members: [m.value for m in members],
        native_enum=False,
        length=32,
        validate_strings=True,
        **kwargs,
    )


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def make_engine(url: str, *, echo: bool = False) -> Engine:
    """Create an engine; SQLite gets WAL, foreign keys and a busy timeout on every connection."""
    if url.startswith("sqlite"):
        database = make_url(url).database
        if (database and database != ":memory:" and not database.startswith("file:")
                and Path(database).parent.is_dir()):
            # created 0600 before SQLite opens it: SQLite gives -wal and -shm the same mode
            # (a missing folder is left for the first connection to fail on, as before)
            private_file(database)
        engine = create_engine(
            url, echo=echo, connect_args={"timeout": 30, "check_same_thread": False}
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            # Let SQLAlchemy, not pysqlite, issue BEGIN so transactions behave as on PostgreSQL.
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        on_file = bool(database and database != ":memory:" and not database.startswith("file:"))
        writers = WriterLock(database) if on_file and database else None

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn: Any) -> None:
            # A transaction that will write takes the write lock up front: upgrading a read
            # transaction to a write one fails at once ("database is locked") when another
            # writer got there first, whereas BEGIN IMMEDIATE waits for the busy timeout.
            immediate = conn.get_execution_options().get(WRITE_OPTION, False)
            # … and before it, the node's writer lock (schemas/runtime/writelock.py): writers queue
            # there instead of sleeping in SQLite's busy back-off
            if immediate and writers is not None and writers.acquire():
                conn.info[WRITER_LOCK_HELD] = True
            try:
                conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")
            except BaseException:
                _release_writer(conn.info)
                raise

        def _release_writer(info: dict[Any, Any]) -> None:
            if writers is not None and info.pop(WRITER_LOCK_HELD, False):
                writers.release()

        @event.listens_for(engine, "commit")
        @event.listens_for(engine, "rollback")
        def _sqlite_end(conn: Any) -> None:
            _release_writer(conn.info)

        @event.listens_for(engine, "reset")
        def _sqlite_reset(_dbapi: Any, record: Any, _state: Any) -> None:
            _release_writer(record.info)  # a connection returned to the pool mid-transaction

        @event.listens_for(engine, "invalidate")
        @event.listens_for(engine, "close")
        def _sqlite_gone(_dbapi: Any, record: Any, *_rest: Any) -> None:
            if record is not None:
                _release_writer(record.info)

        return engine
    return create_engine(url, echo=echo, pool_pre_ping=True)


def mark_writing(session: Session) -> None:
    """Declare that the session's transaction will write (SQLite: BEGIN IMMEDIATE)."""
    session.connection(execution_options={WRITE_OPTION: True})


class Database:
    """An engine and its session factory."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        self.engine = make_engine(url, echo=echo)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def unit_of_work(self, *, write: bool = True) -> Iterator[Session]:
        """One transaction: committed when the block ends, rolled back when it raises."""
        with self.sessions() as session, session.begin():
            if write:
                mark_writing(session)
            yield session

    def dispose(self) -> None:
        self.engine.dispose()


class shanghai_date(FunctionElement[dt.date]):  # noqa: N801 - reads as a SQL function
    """The Asia/Shanghai calendar date of a UTC timestamp column, computed in SQL.

    China has no daylight saving time, so on SQLite (which stores naive UTC text) this is
    the date eight hours later; PostgreSQL converts the ``timestamptz`` itself.
    """

    type = Date()
    inherit_cache = True


@compiles(shanghai_date, "sqlite")
def _shanghai_date_sqlite(element: shanghai_date, compiler: Any, **kw: Any) -> str:
    return f"date({compiler.process(element.clauses, **kw)}, '+8 hours')"


@compiles(shanghai_date, "postgresql")
def _shanghai_date_postgresql(element: shanghai_date, compiler: Any, **kw: Any) -> str:
    return f"(({compiler.process(element.clauses, **kw)}) AT TIME ZONE 'Asia/Shanghai')::date"


def insert_if_missing(
    session: Session, model: Any, values: dict[str, Any], key: list[str]
) -> None:
    """``INSERT … ON CONFLICT (key) DO NOTHING``: creates a row unless it exists.

    Two callers racing to create the same row both succeed: on PostgreSQL the loser waits
    for the winner's commit and then finds the row instead of failing on the unique key.
    """
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        statement: Any = postgresql_insert(model).values(values)
    elif dialect == "sqlite":
        statement = sqlite_insert(model).values(values)
    else:
        raise RuntimeError(f"tongban supports SQLite and PostgreSQL, not {dialect}")
    session.execute(statement.on_conflict_do_nothing(index_elements=key))


class days_before(FunctionElement[dt.date]):  # noqa: N801 - reads as a SQL function
    """``date_column - n days`` computed in SQL (an indexable bound for date ranges)."""

    type = Date()
    inherit_cache = True


@compiles(days_before, "sqlite")
def _days_before_sqlite(element: days_before, compiler: Any, **kw: Any) -> str:
    column, days = (compiler.process(c, **kw) for c in element.clauses)
    return f"date({column}, '-' || {days} || ' days')"


@compiles(days_before, "postgresql")
def _days_before_postgresql(element: days_before, compiler: Any, **kw: Any) -> str:
    column, days = (compiler.process(c, **kw) for c in element.clauses)
    return f"({column} - CAST({days} AS INTEGER))"


def insert_many(connection: Connection, table: Table, rows: list[dict[str, Any]],
                batch: int = 1000) -> None:
    """Insert ``rows`` (dicts with the same keys) into ``table`` as plain DBAPI executemany.

    SQLAlchemy's executemany spends more on building each row's parameters than the database
    spends writing it (a calendar change writes an event and an audit entry for each of
    thousands of cases).  Here the statement is compiled once and each column's bind
    processor is applied once per distinct value, so the values reach the driver exactly as
    SQLAlchemy would have sent them.
    """
    if not rows:
        return
    keys = list(rows[0])
    compiled = insert(table).compile(dialect=connection.dialect, column_keys=keys)
    processors: dict[str, Any] = {
        key: table.c[key].type._cached_bind_processor(connection.dialect)
        for key in keys
    }
    seen: dict[str, dict[Any, Any]] = {key: {} for key in keys}

    def bound(key: str, value: Any) -> Any:
        process = processors[key]
        if process is None or value is None:
            return value
        cache = seen[key]
        try:
            return cache[value]
        except KeyError:
            cache[value] = result = process(value)
            return result
        except TypeError:  # unhashable: process it every time
            return process(value)

    order = list(compiled.positiontup or []) if compiled.positional else keys
    for start in range(0, len(rows), batch):
        chunk = rows[start:start + batch]
        if compiled.positional:
            params: Any = [tuple(bound(key, row[key]) for key in order) for row in chunk]
        else:
            params = [{key: bound(key, row[key]) for key in keys} for row in chunk]
        connection.exec_driver_sql(compiled.string, params)
