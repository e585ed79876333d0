"""Database kernel: declarative base with a naming convention, portable types, SQLite pragmas."""

from __future__ import annotations

import enum
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, registry

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(sa.TypeDecorator):
    """A timezone-aware UTC instant on every backend (SQLite stores naive text)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; instants must be timezone-aware")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def str_enum(enum_cls: type[enum.Enum], name: str) -> sa.Enum:
    """A portable enum column: VARCHAR plus a CHECK constraint listing the values."""
    return sa.Enum(
        enum_cls,
        native_enum=False,
        create_constraint=True,
        length=max(len(m.value) for m in enum_cls),
        values_callable=lambda cls: [m.value for m in cls],
        name=name,
        validate_strings=True,
    )


class Base(DeclarativeBase):
    # The type map lives on the registry: Flask-SQLAlchemy subclasses this base.
    registry = registry(
        metadata=sa.MetaData(naming_convention=NAMING_CONVENTION),
        type_annotation_map={
            datetime: UTCDateTime(),
            date: sa.Date(),
            dict[str, Any]: sa.JSON(),
            list[Any]: sa.JSON(),
        },
    )


db = SQLAlchemy(model_class=Base)


def utcnow() -> datetime:
    """The current instant in UTC."""
    return datetime.now(UTC)


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection: Any, connection_record: Any) -> None:
    """Foreign keys on, WAL, and a busy timeout so concurrent writers wait instead of failing."""
    module = type(dbapi_connection).__module__
    if not module.startswith("sqlite3"):
        return
    # The driver must not open transactions itself: _sqlite_begin does, as IMMEDIATE.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


# Whether the current request may write. Outside requests (CLI, services, tests) assume it may.
_write_intent: ContextVar[bool] = ContextVar("registry_write_intent", default=True)


def writes_expected() -> bool:
    """Whether the current request may write (always, outside requests)."""
    return _write_intent.get()


def expect_writes(flag: bool) -> None:
    """Declare whether this request writes (set per request from its HTTP method)."""
    _write_intent.set(flag)


@event.listens_for(Engine, "begin")
def _sqlite_begin(conn: Any) -> None:
    """On SQLite, a transaction that may write takes the write lock when it starts, so concurrent writers
    queue (busy_timeout) instead of failing when a transaction that read first tries to write. Reads start
    a plain (deferred) transaction and run alongside each other under WAL."""
    if conn.dialect.name == "sqlite":
        # Straight to the driver: this runs on every transaction, and the full execution path cost 0.05 ms.
        conn.connection.driver_connection.execute("BEGIN IMMEDIATE" if _write_intent.get() else "BEGIN")


@contextmanager
def loaded_after_commit() -> Iterator[Any]:
    """Commit without expiring what was read, so the response does not read it all again."""
    session = db.session()
    previous, session.expire_on_commit = session.expire_on_commit, False
    try:
        yield session
    finally:
        session.expire_on_commit = previous


def start_writing() -> None:
    """Before the first write of a request that only read so far: end the read transaction, so that on
    SQLite the next one starts as a writer (a deferred reader that writes late can fail to upgrade)."""
    if not _write_intent.get():
        if db.session.get_bind().dialect.name == "sqlite":
            db.session.commit()
        _write_intent.set(True)


def is_postgres() -> bool:
    """True when the session is bound to PostgreSQL."""
    return db.engine.dialect.name == "postgresql"
