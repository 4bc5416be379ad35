"""The two SQL backends behind :class:`~arbscore.data_tools.store.repository.MarketStore`.

Both expose the same operations (create tables, add a column, transaction, execute, upsert a
frame, query a frame) so the repository above them is written once. SQL is written with ``?``
placeholders; the PostgreSQL backend rewrites them to psycopg's ``%s``.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from arbscore.data_tools.store.tables import Column, TableSpec

_DUCK_TYPES = {"text": "VARCHAR", "float": "DOUBLE", "int": "BIGINT", "time": "TIMESTAMPTZ"}
_PG_TYPES = {"text": "TEXT", "float": "DOUBLE PRECISION", "int": "BIGINT", "time": "TIMESTAMPTZ"}


def q(name: str) -> str:
    """A quoted SQL identifier (column names such as ``open`` or ``at`` are keywords)."""
    return '"' + name.replace('"', '""') + '"'


def create_table_sql(spec: TableSpec, types: dict[str, str]) -> str:
    """``CREATE TABLE IF NOT EXISTS`` for ``spec`` with the backend's ``types``."""
    cols = [f"{q(c.name)} {types[c.type]}{'' if c.nullable else ' NOT NULL'}" for c in spec.columns]
    cols.append(f"PRIMARY KEY ({', '.join(map(q, spec.primary_key))})")
    cols.extend(f"CHECK ({check})" for check in spec.checks)
    return f"CREATE TABLE IF NOT EXISTS {spec.name} (\n  " + ",\n  ".join(cols) + "\n)"


def add_column_sql(spec: TableSpec, column: Column, types: dict[str, str]) -> str:
    """``ALTER TABLE ... ADD COLUMN`` for a (nullable) column a migration adds."""
    return f"ALTER TABLE {spec.name} ADD COLUMN {q(column.name)} {types[column.type]}"


#: the columns a table has now (both backends have information_schema)
COLUMNS_SQL = (
    "SELECT column_name FROM information_schema.columns "
    "WHERE table_name = ? AND table_schema = current_schema()"
)


def upsert_sql(spec: TableSpec, source: str) -> str:
    """``INSERT ... SELECT FROM source ON CONFLICT (pk) DO UPDATE`` (portable to both)."""
    names = ", ".join(map(q, spec.column_names))
    others = [q(c) for c in spec.column_names if c not in spec.primary_key]
    if others:
        sets = ", ".join(f"{c} = excluded.{c}" for c in others)
        action = f"DO UPDATE SET {sets}"
    else:
        action = "DO NOTHING"
    return (
        f"INSERT INTO {spec.name} ({names}) SELECT {names} FROM {source} "
        f"ON CONFLICT ({', '.join(map(q, spec.primary_key))}) {action}"
    )


#: seconds to wait for a PostgreSQL server before ``--db`` fails (unless the URL says)
CONNECT_TIMEOUT_S = 10


class DuckDBBackend:
    """An embedded DuckDB file (or ``:memory:``); timestamps kept as TIMESTAMPTZ in UTC."""

    kind = "duckdb"

    def __init__(self, path: str) -> None:
        import duckdb

        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self.location = path
        try:
            self._con = duckdb.connect(path)
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower():
                raise
            raise ValueError(
                f"--db: {path} is open in another process (a DuckDB file has one writer at a "
                "time); stop that process, or use PostgreSQL (--db postgresql://...) to run "
                "collectors side by side"
            ) from exc
        self._con.execute("SET TimeZone = 'UTC'")
        self._depth = 0
        self._registered: list[str] = []

    def create(self, spec: TableSpec) -> None:
        self._con.execute(create_table_sql(spec, _DUCK_TYPES))

    def add_column(self, spec: TableSpec, column: Column) -> None:
        self._con.execute(add_column_sql(spec, column, _DUCK_TYPES))

    def execute(self, sql: str) -> None:
        self._con.execute(sql)

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """All-or-nothing block; nested calls join the outer transaction."""
        if self._depth:
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
            return
        self._con.execute("BEGIN TRANSACTION")
        self._depth = 1
        try:
            yield
        except BaseException:
            self._con.execute("ROLLBACK")
            raise
        else:
            self._con.execute("COMMIT")
        finally:
            self._depth = 0
            # views of batch frames are dropped only now: an aborted transaction refuses it
            for name in self._registered:
                self._con.unregister(name)
            self._registered.clear()

    def upsert(self, spec: TableSpec, frame: pd.DataFrame) -> None:
        name = f"_arbscore_batch_{spec.name}"
        with self.transaction():
            self._con.register(name, frame)
            self._registered.append(name)
            self._con.execute(upsert_sql(spec, name))

    def query(self, sql: str, params: Sequence[Any] = ()) -> pd.DataFrame:
        return self._con.execute(sql, list(params)).df()

    def close(self) -> None:
        self._con.close()


def _pg_value(value: Any) -> Any:
    """pandas missing values -> SQL NULL (psycopg would send NaN as a float)."""
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    return value


class PostgresBackend:
    """PostgreSQL through psycopg 3; batches go in with COPY into a temp table, then upsert."""

    kind = "postgresql"

    def __init__(self, url: str) -> None:
        import psycopg

        self.location = _redact(url)
        # an unreachable host fails in seconds instead of the OS's minutes-long TCP timeout
        timeout = {} if "connect_timeout" in url else {"connect_timeout": CONNECT_TIMEOUT_S}
        self._conn = psycopg.connect(url, autocommit=True, **timeout)
        self._conn.execute("SET TIME ZONE 'UTC'")
        self._tx: Any = None

    def create(self, spec: TableSpec) -> None:
        self._conn.execute(create_table_sql(spec, _PG_TYPES))

    def add_column(self, spec: TableSpec, column: Column) -> None:
        self._conn.execute(add_column_sql(spec, column, _PG_TYPES))

    def execute(self, sql: str) -> None:
        self._conn.execute(sql)

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """All-or-nothing block (psycopg nests inner blocks as savepoints)."""
        with self._conn.transaction():
            yield

    def upsert(self, spec: TableSpec, frame: pd.DataFrame) -> None:
        temp = f"_arbscore_batch_{spec.name}"
        names = ", ".join(map(q, spec.column_names))
        with self.transaction(), self._conn.cursor() as cur:
            cur.execute(f"DROP TABLE IF EXISTS {temp}")
            cur.execute(f"CREATE TEMP TABLE {temp} AS SELECT {names} FROM {spec.name} WITH NO DATA")
            with cur.copy(f"COPY {temp} ({names}) FROM STDIN") as copy:
                for row in frame.itertuples(index=False, name=None):
                    copy.write_row([_pg_value(v) for v in row])
            cur.execute(upsert_sql(spec, temp))
            cur.execute(f"DROP TABLE {temp}")

    def query(self, sql: str, params: Sequence[Any] = ()) -> pd.DataFrame:
        with self._conn.cursor() as cur:
            cur.execute(sql.replace("?", "%s"), [_pg_value(p) for p in params])
            if cur.description is None:
                return pd.DataFrame()
            columns = [d.name for d in cur.description]
            return pd.DataFrame(cur.fetchall(), columns=columns)

    def close(self) -> None:
        self._conn.close()


def _redact(url: str) -> str:
    """The URL without its password, for messages and ``MarketData.source``."""
    if "@" not in url:
        return url
    head, tail = url.split("@", 1)
    scheme, _, creds = head.partition("://")
    user = creds.split(":", 1)[0]
    return f"{scheme}://{user}@{tail}"
