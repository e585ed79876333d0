"""Prepared reads: a Core SELECT compiled once per dialect and run straight on a DBAPI connection.

SQLAlchemy's execution path costs about 0.1 ms of CPU per statement (execution context, events, result
metadata) and a session's life about 0.2 ms more; the statement itself, on an index, costs a few
microseconds. The busiest reads (standing, right to practise, verification) run three to six statements
per request, so that overhead was most of their cost. `fetch_all` and `fetch_first` keep everything
SQLAlchemy decides (the SQL, its parameter style, the bind and result processors of each column's type)
and skip only the per-call machinery:

- the SQL is compiled by SQLAlchemy for the dialect, once per statement;
- parameters pass through their types' bind processors, results through the columns' result processors
  (dates, UTC instants, enums, JSON come back as `session.execute` returns them);
- where the session has a transaction (any request that writes, the CLI, the services' own callers),
  the statement runs in it, on its connection, seeing its uncommitted changes;
- a read-only request without one reads through a connection of its own, in one transaction (one snapshot
  for all its reads), ended when the request ends; the connection then waits, checked out of the pool and
  outside any transaction, for the next read-only request (`_IdleReads`).

`commit_log_row` is the matching write: the one row a read-only request records (who read a record,
who verified a certificate), committed without a second transaction.

Only plain SELECTs with named bind parameters belong here (no expanding IN lists, no ORM entities).
tests/core/test_prepared.py checks the rows against `session.execute` on SQLite and PostgreSQL.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import namedtuple
from collections.abc import Callable, Mapping
from typing import Any

import sqlalchemy as sa
from flask import Flask, current_app, g, has_request_context

from registry.core.db import db, loaded_after_commit, start_writing, writes_expected

Processor = Callable[[Any], Any] | None


class _Compiled:
    __slots__ = ("sql", "names", "positional", "bind", "plan", "defaults", "columns", "dialect", "result", "row")

    def __init__(self, statement: Any, dialect: Any, column_keys: list[str] | None = None):
        compiled = statement.compile(dialect=dialect, column_keys=column_keys)
        self.sql = str(compiled)
        self.positional = bool(compiled.positional)
        self.names: list[str] = list(compiled.positiontup or []) if self.positional else list(compiled.binds)
        # Literals in the statement (a ' ' in a concatenation, a 1 in substr) are bound parameters with values.
        self.defaults = {name: bind.effective_value for name, bind in compiled.binds.items() if not bind.required}
        self.bind: dict[str, Processor] = {
            name: compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect) for name in set(self.names)
        }
        self.plan = [(name, self.bind[name]) for name in self.names]
        self.dialect = dialect
        selected = statement.selected_columns if isinstance(statement, sa.Select) else None
        self.columns = list(selected) if selected is not None else []
        self.result: list[Processor] | None = None  # needs the driver's type codes: set at the first run
        keys = list(selected.keys()) if selected is not None else []
        if len(set(keys)) != len(keys):
            raise ValueError(f"prepared statements need distinct column names, got {keys}")
        self.row = type("Row", (namedtuple("RowBase", keys),), {"__slots__": (), "_mapping": property(_mapping)})

    def parameters(self, params: Mapping[str, Any]) -> Any:
        defaults, values = self.defaults, []
        for name, process in self.plan:  # a plain loop: this runs for every prepared statement
            given = params[name] if name in params else defaults[name]
            values.append(process(given) if process is not None else given)
        return values if self.positional else dict(zip(self.names, values, strict=True))

    def processors(self, cursor: Any) -> list[Processor] | None:
        """Each column's result processor, given the driver's type codes in the cursor's description (PostgreSQL
        numerics need them; read at the first run only, as the driver builds the description anew on each
        access); None when no column has one (the driver's values are the results)."""
        if self.result is None:
            processors = [column.type.dialect_impl(self.dialect).result_processor(self.dialect, described[1])
                          for column, described in zip(self.columns, cursor.description, strict=True)]
            self.result = processors if any(p is not None for p in processors) else []
        return self.result or None

    def build(self, processors: list[Processor] | None, raw: tuple[Any, ...]) -> Any:
        if processors is None:
            if len(raw) != len(self.columns):
                raise ValueError(f"expected {len(self.columns)} columns, the driver returned {len(raw)}")
            return self.row._make(raw)
        return self.row._make([process(v) if process is not None else v
                               for process, v in zip(processors, raw, strict=True)])


def _mapping(row: Any) -> dict[str, Any]:
    """Column name to value, as SQLAlchemy's `Row._mapping` reads."""
    return row._asdict()


_CACHE: dict[tuple[Any, ...], tuple[Any, _Compiled]] = {}


def _compiled(statement: Any, dialect: Any, column_keys: tuple[str, ...] | None = None) -> _Compiled:
    key = (id(statement), dialect.name, column_keys)
    entry = _CACHE.get(key)
    if entry is None or entry[0] is not statement:  # the statement is kept, so its id is never reused
        entry = _CACHE[key] = (statement, _Compiled(statement, dialect, list(column_keys) if column_keys else None))
    return entry[1]


# --- the connection a statement runs on ------------------------------------------------------------------------

_READ = "_prepared_read_connection"
_INDEPENDENT = "_prepared_independent_reads"
# Idle read connections, kept per app. A pool checkout and checkin (SQLAlchemy's connection fairy, its weakref
# finalizer, the reset on return) cost more than the verification's status read itself; a connection taken from
# here costs a list pop. At most this many wait idle; more are given back to the pool. Each goes back to the pool
# after a few minutes all the same, where the engine's pool_recycle and pre-ping settings apply to it.
_IDLE_MAX = 4
_IDLE_SECONDS = 300.0


class _IdleReads:
    """An app's read connections between read-only requests, each with the time it left the pool.

    They stay checked out of the pool, outside any transaction (each request's read transaction ends before its
    connection comes back here), so they hold no lock and no snapshot. One that left the pool more than
    `_IDLE_SECONDS` ago goes back to it; one whose rollback fails is invalidated. Disposing of the engine (as
    after restoring a database) closes them, and a connection a request held meanwhile is closed when it comes
    back instead of waiting here. They go with the app: its extensions hold them.
    """

    __slots__ = ("idle", "engine_id", "generation", "lock")

    def __init__(self) -> None:
        self.idle: list[tuple[Any, float, int]] = []  # (pooled connection, when it left the pool, generation)
        self.engine_id: int | None = None  # the engine whose disposal is listened for
        self.generation = 0  # raised by each disposal of the engine
        self.lock = threading.Lock()

    def take(self, engine: sa.Engine) -> tuple[Any, float, int]:
        """(pooled connection, when it left the pool, generation): give all three back to `give_back`."""
        idle = self.idle
        while idle:
            try:
                entry = idle.pop()  # atomic: another thread may pop meanwhile
            except IndexError:
                break
            if time.monotonic() - entry[1] < _IDLE_SECONDS:
                return entry
            entry[0].close()
        if self.engine_id != id(engine):
            with _LISTEN_LOCK:
                if self.engine_id != id(engine):
                    sa.event.listen(engine, "engine_disposed", lambda _engine: self.close_all())
                    self.engine_id = id(engine)
        return engine.raw_connection(), time.monotonic(), self.generation

    def give_back(self, pooled: Any, since: float, generation: int, autocommit: bool = False) -> None:
        """End the connection's transaction (and its autocommit, when independent reads switched it on) and keep
        it for the next read-only request, or return it to the pool."""
        try:
            pooled.rollback()
            if autocommit:
                pooled.driver_connection.autocommit = False  # as the pool and every other request expect it
        except Exception as exc:  # the request is answered; a broken connection is only not kept
            _log.warning("a read connection could not end its transaction and is discarded: %s", exc)
            pooled.invalidate()
            pooled.close()
            return
        with self.lock:
            keep = generation == self.generation and len(self.idle) < _IDLE_MAX
            if keep:
                self.idle.append((pooled, since, generation))
        if not keep:
            if generation != self.generation:
                pooled.invalidate()  # taken before the engine was disposed of: not to be used again
            pooled.close()

    def close_all(self) -> None:
        """Close every idle connection, and every one taken before now when it comes back."""
        with self.lock:
            self.generation += 1
            entries, self.idle[:] = list(self.idle), []
        for pooled, _since, _generation in entries:
            pooled.invalidate()
            pooled.close()


_LISTEN_LOCK = threading.Lock()
_log = logging.getLogger(__name__)
_IDLE_KEY = "registry_idle_reads"


def _own_read_connection() -> bool:
    """Whether this statement reads through the request's own connection (a read-only request whose session
    has not begun a transaction), rather than the session's."""
    if not has_request_context() or writes_expected():
        return False
    # Asked without creating a session: most read-only requests never need one.
    return not (db.session.registry.has() and db.session().in_transaction())


def _connection() -> tuple[Any, Any]:
    """(DBAPI connection, dialect) for the next statement."""
    if has_request_context():
        request_g = g._get_current_object()  # type: ignore[attr-defined]  (one proxy lookup, not four)
        # (idle reads, pooled connection, its DBAPI connection, dialect, since, generation, autocommit)
        found = request_g.get(_READ)
        if found is not None:
            return found[2], found[3]
        if _own_read_connection():
            engine = db.engine
            reads = current_app._get_current_object().extensions[_IDLE_KEY]  # type: ignore[attr-defined]
            pooled, since, generation = reads.take(engine)
            raw = pooled.driver_connection
            independent = request_g.get(_INDEPENDENT, False)
            sqlite = engine.dialect.name == "sqlite"
            autocommit = independent and not sqlite
            # Held by the request before anything is sent on it: if that fails, teardown still gives it back.
            setattr(request_g, _READ, (reads, pooled, raw, engine.dialect, since, generation, autocommit))
            if sqlite:
                # The driver opens no transaction itself (see core.db): BEGIN makes one snapshot of all the reads.
                if not independent:
                    raw.execute("BEGIN")
            elif autocommit:
                # psycopg sends BEGIN as a round trip of its own before the first statement, and the log row then
                # needs a COMMIT: in autocommit the read and the row take one round trip each.
                raw.autocommit = True
            return raw, engine.dialect
    connection = db.session.connection()  # begins the session's transaction if it has not begun
    return connection.connection.driver_connection, connection.dialect


def independent_reads() -> None:
    """Declare that the prepared reads of this read-only request need no common snapshot: each then runs as a
    statement of its own, without a BEGIN and a COMMIT around it (on PostgreSQL the connection is in autocommit
    until the request ends, so its log row commits as it is inserted). For a request that reads once and logs
    once (a verification: its status bits, trust list version and certificate come in one statement)."""
    g._get_current_object().setdefault(_INDEPENDENT, True)  # type: ignore[attr-defined]


def release_read_connection(_error: BaseException | None = None) -> None:
    """End the request's read transaction; its connection waits for the next read-only request (request
    teardown)."""
    found = g._get_current_object().pop(_READ, None) if has_request_context() else None  # type: ignore[attr-defined]
    if found is not None:
        found[0].give_back(found[1], found[4], found[5], found[6])


def init_app(app: Flask) -> None:
    app.extensions[_IDLE_KEY] = _IdleReads()
    app.teardown_request(release_read_connection)


def _run(statement: sa.Select, params: Mapping[str, Any]) -> tuple[_Compiled, Any]:
    raw, dialect = _connection()
    compiled = _compiled(statement, dialect)
    cursor = raw.cursor()
    cursor.execute(compiled.sql, compiled.parameters(params))
    return compiled, cursor


def fetch_all(statement: sa.Select, params: Mapping[str, Any] | None = None) -> list[Any]:
    """Every row of a prepared SELECT, as named tuples."""
    compiled, cursor = _run(statement, params or {})
    try:
        processors = compiled.processors(cursor)
        return [compiled.build(processors, raw) for raw in cursor.fetchall()]
    finally:
        cursor.close()


def fetch_raw(statement: sa.Select, params: Mapping[str, Any] | None = None) -> list[tuple[Any, ...]]:
    """Every row as the driver returns it, without result processing: for comparing, not for reading (a cache
    key made of the rows changes whenever any value does)."""
    _compiled_statement, cursor = _run(statement, params or {})
    try:
        return cursor.fetchall()
    finally:
        cursor.close()


def fetch_first(statement: sa.Select, params: Mapping[str, Any] | None = None) -> Any:
    """The first row of a prepared SELECT, or None."""
    compiled, cursor = _run(statement, params or {})
    try:
        raw = cursor.fetchone()
        return compiled.build(compiled.processors(cursor), raw) if raw is not None else None
    finally:
        cursor.close()


# --- the one write of a read-only request -------------------------------------------------------------------


_INSERTS: dict[sa.Table, Any] = {}


def commit_log_row(table: sa.Table, values: dict[str, Any]) -> None:
    """Append one row to a log table (reads logged, verifications) and commit it, keeping what was read.

    In a request that writes (or outside requests) the row joins the session's transaction, which commits.
    A read-only request adds it through its own read connection: on SQLite the read transaction ends first
    (its snapshot may be older than the latest write, so it cannot become a writer) and the row goes in as
    one autocommit statement, for which SQLite takes the write lock and waits up to busy_timeout like any
    writer; on PostgreSQL it joins the read transaction, which commits (after independent reads, in autocommit,
    it commits as it goes in).
    """
    found = g._get_current_object().get(_READ) if has_request_context() else None  # type: ignore[attr-defined]
    if found is None and not _own_read_connection():
        session = db.session()  # made only here: creating a session (and closing it at teardown) costs 0.05 ms
        with loaded_after_commit():
            if not writes_expected():
                start_writing()  # a read-only request that read through its session: its reads end first
            session.execute(table.insert(), values)
            session.commit()
        return
    raw, dialect = (found[2], found[3]) if found is not None else _connection()
    insert = _INSERTS.get(table)
    if insert is None:
        insert = _INSERTS[table] = table.insert()
    compiled = _compiled(insert, dialect, tuple(values))
    if dialect.name == "sqlite":
        if raw.in_transaction:
            raw.execute("COMMIT")
        raw.execute(compiled.sql, compiled.parameters(values))
    else:
        with raw.cursor() as cursor:
            cursor.execute(compiled.sql, compiled.parameters(values))
        if not raw.autocommit:  # in autocommit (independent reads) the insert has committed itself
            raw.commit()
