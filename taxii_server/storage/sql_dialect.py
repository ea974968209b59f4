"""What differs between SQLite and PostgreSQL, and the transaction handle both hand out.

:mod:`taxii_server.storage.sql` is written once, against :class:`Transaction` and the
few facts a :class:`Dialect` holds (column types in the schema, placeholder syntax,
how the collection's write lock is taken).  The two connection sources,
:mod:`~taxii_server.storage.sql_sqlite` and :mod:`~taxii_server.storage.sql_postgres`,
implement :class:`Database`: they open connections, run the three kinds of
transaction and translate their driver's exceptions into
:class:`~taxii_server.storage.base.StorageError` subclasses.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any, Protocol

__all__ = ["Database", "DbCursor", "Dialect", "Mode", "Transaction"]


class Mode(enum.Enum):
    """The kinds of transaction :class:`Database.transaction` runs."""

    #: Statements run one by one, each its own transaction (autocommit): the cheapest
    #: way to answer a read that is a single statement.
    READ = "read"
    #: Several reads that must see one consistent snapshot.
    SNAPSHOT = "snapshot"
    #: A read-write transaction; SQLite takes the database write lock at once
    #: (``BEGIN IMMEDIATE``) so a reader never has to be upgraded to a writer.
    WRITE = "write"
    #: A write that is a record of something already answered (an audit record of a
    #: read, a failed login, a request count): committed and visible to every process
    #: when the block ends, but not waited onto the disk.  SQLite commits it with
    #: ``synchronous = NORMAL`` (in WAL mode: not fsynced; the next ``FULL`` commit or
    #: checkpoint syncs it), PostgreSQL with ``synchronous_commit = off`` (flushed by
    #: the WAL writer within ``3 × wal_writer_delay``).  A crash of the process loses
    #: nothing; an OS crash or power cut may lose the last such records, never a
    #: stored object or status, and never leaves the database inconsistent.  The wait
    #: it saves is the largest single part of a poll: an fsync, 1-4 ms here.
    RECORD = "record"


class DbCursor(Protocol):
    """The part of a DB-API cursor both drivers share and we use."""

    @property
    def rowcount(self) -> int: ...

    def execute(self, sql: str, params: Sequence[Any] = ..., /) -> object: ...

    def executemany(self, sql: str, params: Iterable[Sequence[Any]], /) -> object: ...

    def fetchall(self) -> list[Any]: ...

    def fetchone(self) -> Any: ...


@dataclass(frozen=True, slots=True)
class Dialect:
    """The SQL differences between the backends.

    ``types`` fills the ``{name}`` slots of the schema's DDL; ``for_update`` ends the
    statement that reads a collection's row inside a write transaction (PostgreSQL
    locks the row with it; SQLite already holds the database write lock).
    """

    name: str
    types: Mapping[str, str]
    #: A query with one parameter, a table name, returning a row when the table exists.
    table_exists: str
    for_update: str = ""
    #: Ends a read of a row that must not be deleted before this transaction commits
    #: (a status's owner); SQLite's write lock already excludes every other writer.
    for_key_share: str = ""
    #: A statement serialising schema upgrades, run first in each migration
    #: transaction (SQLite needs none: ``BEGIN IMMEDIATE`` already excludes writers).
    migration_lock: str = ""
    #: Table suffix that makes the planner use an index by name where its choice
    #: would be wrong; ``{index}`` is filled in (SQLite's ``INDEXED BY``).
    index_hint: str = ""
    #: PostgreSQL's driver (psycopg) spells placeholders ``%s``; we write ``?``.
    percent_placeholders: bool = False
    #: A ``FROM`` clause giving, as ``o``, the object rows of one collection whose
    #: ``id_key`` is among ``{marks}``; parameters: the collection's ``seq``, then the
    #: keys.  PostgreSQL gets a lateral join that looks each key up in ``objects_id``
    #: whatever its statistics say: with ``id_key IN (…)`` on a table grown since its
    #: last ANALYZE it walks the whole collection for every chunk of a bulk load.
    objects_with_keys: str = "objects o WHERE o.collection = ? AND o.id_key IN ({marks})"
    _cache: dict[str, str] = field(default_factory=dict, compare=False, repr=False)

    def translate(self, sql: str) -> str:
        """Rewrite ``?`` placeholders into the driver's syntax (cached: statements are
        few and built from a handful of templates)."""
        if not self.percent_placeholders:
            return sql
        done = self._cache.get(sql)
        if done is None:
            # Our SQL has no string literals containing '?' or '%'; see sql.py.
            done = sql.replace("%", "%%").replace("?", "%s")
            if len(self._cache) < 4096:
                self._cache[sql] = done
        return done

    def use_index(self, index: str) -> str:
        """The text to put after a table (and its alias) to force ``index``."""
        return self.index_hint.format(index=index) if self.index_hint else ""

    def ddl(self, template: str) -> str:
        """Fill a schema statement's type slots for this dialect."""
        return template.format_map(self.types)


class Transaction:
    """One open transaction: run statements with ``?`` placeholders, get tuples back."""

    __slots__ = ("_cursor", "dialect")

    def __init__(self, cursor: DbCursor, dialect: Dialect) -> None:
        self._cursor = cursor
        self.dialect = dialect

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """All rows of a query."""
        self._cursor.execute(self.dialect.translate(sql), params)
        return self._cursor.fetchall()

    def row(self, sql: str, params: Sequence[Any] = ()) -> tuple[Any, ...] | None:
        """The first row of a query, or ``None``."""
        self._cursor.execute(self.dialect.translate(sql), params)
        row: tuple[Any, ...] | None = self._cursor.fetchone()
        return row

    def run(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Execute a statement; return the number of rows it changed."""
        self._cursor.execute(self.dialect.translate(sql), params)
        return self._cursor.rowcount

    def script(self, sql: str) -> None:
        """Execute one parameterless statement verbatim (schema DDL)."""
        self._cursor.execute(sql)

    def run_many(self, sql: str, params: Sequence[Sequence[Any]]) -> None:
        """Execute a statement once per parameter tuple (batched by the driver)."""
        if params:
            self._cursor.executemany(self.dialect.translate(sql), params)

    def insert_rows(
        self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]
    ) -> None:
        """Insert many rows at once (PostgreSQL overrides this with ``COPY``)."""
        marks = ", ".join("?" * len(columns))
        self.run_many(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)


class Database(Protocol):
    """A connection source for one database, as :class:`~.sql.SqlStorage` needs it."""

    @property
    def dialect(self) -> Dialect: ...

    @property
    def location(self) -> str:
        """Where the database is, for messages (never includes a password)."""

    def transaction(self, mode: Mode) -> AbstractContextManager[Transaction]:
        """Run one transaction: commit when the block ends, roll back when it raises.

        Driver exceptions inside the block are raised as ``StorageError`` subclasses.
        """

    def close(self) -> None:
        """Close every connection this process opened."""
