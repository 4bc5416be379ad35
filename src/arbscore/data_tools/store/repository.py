"""The market store: one repository interface over DuckDB (default) and PostgreSQL.

Every write is an idempotent upsert on the table's primary key, and every call to
:meth:`MarketStore.write` runs in one transaction, so a failure half-way through a batch leaves
the store as it was before the batch. Collectors resume from :meth:`MarketStore.last_time`.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pandas as pd

from arbscore.data_tools.market import MarketData
from arbscore.data_tools.store.backends import COLUMNS_SQL, DuckDBBackend, PostgresBackend, q
from arbscore.data_tools.store.status import status_frame
from arbscore.data_tools.store.tables import (
    ALL_TABLES,
    FUNDING,
    INGEST_LOG,
    KLINES,
    LIVE_SNAPSHOTS,
    TABLES_BY_NAME,
    TableSpec,
)

#: where the store lives when neither ``--db`` nor ``ARBSCORE_DB`` says otherwise
DEFAULT_STORE_PATH = Path("arbscore_data") / "market.duckdb"
STORE_ENV = "ARBSCORE_DB"
#: the PostgreSQL advisory lock held while tables are created or migrated ("arbscore" in ASCII)
SCHEMA_LOCK_KEY = 0x61726273636F7265
log = logging.getLogger(__name__)


def default_store_url() -> str:
    """``$ARBSCORE_DB`` or ``./arbscore_data/market.duckdb`` (relative to the working dir)."""
    return os.environ.get(STORE_ENV) or str(DEFAULT_STORE_PATH)


def open_store(
    url_or_path: str | os.PathLike | None = None, *, must_exist: bool = False
) -> MarketStore:
    """Open (creating tables if needed) the store at a DuckDB path or a ``postgresql://`` URL.

    ``must_exist``: a read-only use (``data status``, ``data export``) refuses a DuckDB path
    that has no file yet with ``FileNotFoundError`` instead of creating an empty store."""
    start = time.perf_counter()
    target = str(url_or_path) if url_or_path is not None else default_store_url()
    if not target.strip():
        raise ValueError("--db: empty store location; give a DuckDB file path or postgresql://")
    if must_exist and "://" not in target and not os.path.exists(target):
        raise FileNotFoundError(f"--db: no market store at {target} (nothing was created)")
    is_pg = target.startswith(("postgresql://", "postgres://"))
    if not is_pg and "://" in target:
        raise ValueError(
            f"--db: unsupported store URL {target.split('://')[0]}://; "
            "use a DuckDB file path or postgresql://user@host/db"
        )
    if not is_pg and os.path.isdir(target):
        raise ValueError(f"--db {target}: is a directory; give a DuckDB file path")
    backend: Any = None
    try:
        backend = PostgresBackend(target) if is_pg else DuckDBBackend(target)
        store = MarketStore(backend)
    except Exception as exc:
        if backend is not None:
            backend.close()
        problem = _open_problem(exc)
        if problem is None:
            raise
        raise ValueError(f"--db {_redacted(target)}: {problem}") from exc
    log.info(
        "opened %s store %s in %.3fs",
        type(backend).__name__.removesuffix("Backend"),
        _redacted(target),
        time.perf_counter() - start,
    )
    return store


def _open_problem(exc: Exception) -> str | None:
    """What went wrong opening a store, in one line, when it is the location's fault (not a
    DuckDB file, locked, unreachable or refusing PostgreSQL); None for anything else."""
    module = type(exc).__module__ or ""
    first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    if module.startswith(("duckdb", "_duckdb")):
        return f"cannot open it as a DuckDB database ({first})"
    if module.startswith("psycopg") and type(exc).__name__ == "OperationalError":
        return f"cannot connect to PostgreSQL ({first})"
    return None


def _redacted(target: str) -> str:
    """A store location for a log line: a URL's password replaced by ``***``."""
    if "://" not in target:
        return target
    parts = urlsplit(target)
    if parts.password is None:
        return target
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


def _prepare(spec: TableSpec, frame: pd.DataFrame) -> pd.DataFrame:
    """Columns in table order, times UTC, one row per key (last wins) so a batch upserts once."""
    missing = [c for c in spec.column_names if c not in frame.columns]
    if missing:
        raise ValueError(f"{spec.name}: frame is missing columns {missing}")
    out = frame.loc[:, list(spec.column_names)].copy()
    for col in spec.time_columns:
        out[col] = pd.to_datetime(out[col], utc=True).astype("datetime64[us, UTC]")
    for col in spec.columns:
        if col.type == "float":
            out[col.name] = pd.to_numeric(out[col.name]).astype("float64")
        elif col.type == "text":
            out[col.name] = out[col.name].astype(object)
    return out.drop_duplicates(list(spec.primary_key), keep="last").reset_index(drop=True)


class MarketStore:
    """Funding events, klines, live snapshots and the ingest log in one SQL database."""

    def __init__(self, backend: DuckDBBackend | PostgresBackend) -> None:
        self._db = backend
        with self._schema_lock():
            for spec in ALL_TABLES:
                self._db.create(spec)
                self._migrate(spec)

    # --- identity -------------------------------------------------------------------------
    @property
    def kind(self) -> str:
        return self._db.kind

    @property
    def location(self) -> str:
        """The DuckDB path or the PostgreSQL URL without password."""
        return self._db.location

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> MarketStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- writes ---------------------------------------------------------------------------
    def register_table(self, spec: TableSpec) -> None:
        """Create another table (e.g. prediction tracking) so ``upsert``/``read`` work on it,
        or bring an existing one up to ``spec``'s migrations."""
        with self._schema_lock():
            self._db.create(spec)
            self._migrate(spec)

    @contextmanager
    def _schema_lock(self) -> Iterator[None]:
        """On PostgreSQL, one process at a time creates and migrates tables (a session
        advisory lock): concurrent first opens otherwise race on ``CREATE TABLE IF NOT EXISTS``
        (UniqueViolation) and on the migrations' ``ADD COLUMN`` (DuplicateColumn). A DuckDB
        file has one writing process anyway."""
        if self._db.kind != "postgresql":
            yield
            return
        self._db.execute(f"SELECT pg_advisory_lock({SCHEMA_LOCK_KEY})")
        try:
            yield
        finally:
            self._db.execute(f"SELECT pg_advisory_unlock({SCHEMA_LOCK_KEY})")

    def _migrate(self, spec: TableSpec) -> list[str]:
        """Run the migrations whose columns the stored table lacks (each in one transaction:
        add the columns, then fix the old rows); returns the names of those run. A table made
        from ``spec`` just now has every column, so nothing runs."""
        if not spec.migrations:
            return []
        have = set(self._db.query(COLUMNS_SQL, (spec.name,))["column_name"])
        done = []
        for migration in spec.migrations:
            todo = [c for c in migration.adds if c not in have]
            if not todo:
                continue
            with self._db.transaction():
                for name in todo:
                    self._db.add_column(spec, spec.column(name))
                for sql in migration.sql:
                    self._db.execute(sql.format(table=spec.name))
            have.update(todo)
            done.append(migration.name)
        return done

    def upsert(self, spec: TableSpec, frame: pd.DataFrame) -> int:
        """Insert or update ``frame`` rows by primary key, in one transaction; returns rows sent."""
        return self.write({spec: frame})

    def write(self, batches: Mapping[TableSpec, pd.DataFrame]) -> int:
        """Upsert several tables' frames in ONE transaction (all land or none do)."""
        prepared = [(spec, _prepare(spec, frame)) for spec, frame in batches.items()]
        total = 0
        with self._db.transaction():
            for spec, frame in prepared:
                if len(frame):
                    self._db.upsert(spec, frame)
                    total += len(frame)
        return total

    def write_funding(self, frame: pd.DataFrame) -> int:
        return self.write({FUNDING: frame})

    def write_klines(self, frame: pd.DataFrame) -> int:
        return self.write({KLINES: frame})

    def write_live(self, frame: pd.DataFrame) -> int:
        return self.write({LIVE_SNAPSHOTS: frame})

    # --- reads ----------------------------------------------------------------------------
    def read(self, spec: TableSpec, where: str = "", params: Iterable[Any] = ()) -> pd.DataFrame:
        """Rows of ``spec`` (optionally filtered by a ``?``-placeholder WHERE) in table columns."""
        sql = f"SELECT {', '.join(map(q, spec.column_names))} FROM {spec.name}"
        if where:
            sql += f" WHERE {where}"
        sql += f" ORDER BY {', '.join(map(q, spec.primary_key))}"
        frame = self._db.query(sql, tuple(params))
        if frame.empty:
            frame = pd.DataFrame({c: pd.Series(dtype=object) for c in spec.column_names})
        for col in spec.columns:
            if col.type == "time":
                frame[col.name] = pd.to_datetime(frame[col.name], utc=True)
            elif col.type == "float":
                frame[col.name] = pd.to_numeric(frame[col.name]).astype("float64")
            elif col.type == "int":
                frame[col.name] = pd.to_numeric(frame[col.name]).astype("int64")
        return frame

    def count(self, spec: TableSpec) -> int:
        return int(self._db.query(f"SELECT COUNT(*) AS n FROM {spec.name}")["n"].iloc[0])

    def load_market(
        self,
        exchanges: Iterable[str] | None = None,
        symbols: Iterable[str] | None = None,
        start: datetime | str | None = None,
        end: datetime | str | None = None,
        interval_minutes: int | None = None,
    ) -> MarketData:
        """Funding events and klines (``start <= time < end``) as :class:`MarketData`.

        ``interval_minutes`` keeps one bar length when the store holds several (e.g. 5 and 60).
        """
        funding = self.read(FUNDING, *_filters("funding_time", exchanges, symbols, start, end))
        where, params = _filters("open_time", exchanges, symbols, start, end)
        if interval_minutes is not None:
            where = " AND ".join(w for w in (where, "interval_minutes = ?") if w)
            params.append(int(interval_minutes))
        klines = self.read(KLINES, where, params)
        return MarketData(
            funding=funding,
            klines=klines,
            source=f"market store {self.kind}:{self.location}",
            synthetic=False,
            details={"store": self.location, "exchanges": sorted(set(funding["exchange"]))},
        )

    def last_time(
        self,
        spec: TableSpec,
        exchange: str,
        symbol: str,
        market: str | None = None,
        interval_minutes: int | None = None,
        _agg: str = "MAX",
    ) -> pd.Timestamp | None:
        """Latest stored time of one series (where a collector resumes), or None if empty."""
        time_col = spec.time_columns[0]
        where, params = ["exchange = ?", "symbol = ?"], [exchange, symbol]
        if market is not None:
            where.append("market = ?")
            params.append(market)
        if interval_minutes is not None:
            where.append("interval_minutes = ?")
            params.append(int(interval_minutes))
        sql = f"SELECT {_agg}({time_col}) AS t FROM {spec.name} WHERE {' AND '.join(where)}"
        value = self._db.query(sql, params)["t"].iloc[0]
        if value is None or pd.isna(value):
            return None
        return pd.Timestamp(value).tz_convert("UTC")

    def time_range(
        self,
        spec: TableSpec,
        exchange: str,
        symbol: str,
        market: str | None = None,
        interval_minutes: int | None = None,
    ) -> tuple[pd.Timestamp, pd.Timestamp] | None:
        """(first, last) stored time of one series, or None if it has no rows."""
        last = self.last_time(spec, exchange, symbol, market, interval_minutes)
        if last is None:
            return None
        first = self.last_time(spec, exchange, symbol, market, interval_minutes, _agg="MIN")
        return first, last

    def status(self) -> pd.DataFrame:
        """Per exchange/symbol/market: dataset, first, last, rows, interval and gaps."""
        return status_frame(self._db.query)

    def log_ingest(self, rows: pd.DataFrame) -> int:
        return self.write({INGEST_LOG: rows})

    # --- parquet --------------------------------------------------------------------------
    def export_parquet(self, table: str, path: str | os.PathLike) -> int:
        """Write a whole table to a Parquet file; returns the row count."""
        spec = _table(table)
        frame = self.read(spec)
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        frame.to_parquet(path, index=False)
        return len(frame)

    def import_parquet(self, table: str, path: str | os.PathLike) -> int:
        """Upsert a Parquet file written by :meth:`export_parquet` (one transaction)."""
        spec = _table(table)
        return self.upsert(spec, pd.read_parquet(path))

    def copy_to(self, path: str | os.PathLike) -> None:
        """A consistent copy of this DuckDB store in a new file ``path`` (DuckDB's ``COPY FROM
        DATABASE``): what other processes read while this one holds the file."""
        if self.kind != "duckdb" or self.location == ":memory:":
            raise ValueError(f"copy_to: {self.location} is not a DuckDB file")
        name = self._db.query("SELECT current_database() AS name")["name"].iloc[0]
        target = str(path).replace("'", "''")
        self._db.execute(f"ATTACH '{target}' AS arbscore_copy")
        try:
            self._db.execute(f'COPY FROM DATABASE "{name}" TO arbscore_copy')
        finally:
            self._db.execute("DETACH arbscore_copy")


def _table(name: str) -> TableSpec:
    if name not in TABLES_BY_NAME:
        raise ValueError(f"table: unknown {name!r}; expected one of {sorted(TABLES_BY_NAME)}")
    return TABLES_BY_NAME[name]


def _filters(
    time_col: str,
    exchanges: Iterable[str] | None,
    symbols: Iterable[str] | None,
    start: datetime | str | None,
    end: datetime | str | None,
) -> tuple[str, list[Any]]:
    clauses: list[str] = []
    params: list[Any] = []
    for col, values in (("exchange", exchanges), ("symbol", symbols)):
        if values is not None:
            values = list(values)
            if not values:
                return "1 = 0", []
            clauses.append(f"{col} IN ({', '.join('?' * len(values))})")
            params.extend(values)
    if start is not None:
        clauses.append(f"{time_col} >= ?")
        params.append(_utc(start))
    if end is not None:
        clauses.append(f"{time_col} < ?")
        params.append(_utc(end))
    return " AND ".join(clauses), params


def _utc(value: datetime | str) -> datetime:
    """A bound as a tz-aware UTC datetime (naive input is taken as UTC)."""
    stamp = pd.Timestamp(value)
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
    return stamp.to_pydatetime()
