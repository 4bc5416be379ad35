"""Table definitions of the market store, written once for both backends.

A table is a :class:`TableSpec`: ordered columns with a logical type, a primary key and
checks. Each backend turns the logical types into its own SQL, so adding a table (for example
prediction tracking) means adding one ``TableSpec`` here and calling ``MarketStore.upsert``.
"""

from __future__ import annotations

from dataclasses import dataclass

from arbscore.schema import FUNDING_COLUMNS, KLINE_COLUMNS

#: logical column types understood by every backend
LOGICAL_TYPES = ("text", "float", "int", "time")


@dataclass(frozen=True)
class Column:
    """One column: ``nullable=False`` columns get ``NOT NULL`` in the database."""

    name: str
    type: str
    nullable: bool = True

    def __post_init__(self) -> None:
        if self.type not in LOGICAL_TYPES:
            raise ValueError(f"column {self.name}: type {self.type!r} not in {LOGICAL_TYPES}")


@dataclass(frozen=True)
class TableSpec:
    """A store table: columns in order, primary key (the upsert key) and SQL CHECKs."""

    name: str
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...]
    checks: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        names = self.column_names
        missing = [k for k in self.primary_key if k not in names]
        if missing:
            raise ValueError(f"table {self.name}: primary key columns {missing} not in columns")

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def time_columns(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.type == "time")


def _cols(spec: dict[str, tuple[str, bool]], order: tuple[str, ...]) -> tuple[Column, ...]:
    return tuple(Column(name, *spec[name]) for name in order)


_FUNDING_TYPES = {
    "exchange": ("text", False),
    "symbol": ("text", False),
    "funding_time": ("time", False),
    "rate": ("float", False),
    "interval_hours": ("float", False),
    "mark_price": ("float", True),
}
FUNDING = TableSpec(
    name="funding_events",
    columns=_cols(_FUNDING_TYPES, FUNDING_COLUMNS),
    primary_key=("exchange", "symbol", "funding_time"),
    checks=("interval_hours > 0",),
)

_KLINE_TYPES = {
    "exchange": ("text", False),
    "symbol": ("text", False),
    "market": ("text", False),
    "open_time": ("time", False),
    "interval_minutes": ("int", False),
    "open": ("float", False),
    "high": ("float", False),
    "low": ("float", False),
    "close": ("float", False),
    "volume": ("float", True),
    "quote_volume": ("float", True),
}
KLINES = TableSpec(
    name="klines",
    columns=_cols(_KLINE_TYPES, KLINE_COLUMNS),
    primary_key=("exchange", "symbol", "market", "open_time", "interval_minutes"),
    checks=("market IN ('spot', 'perp')", "interval_minutes > 0"),
)

#: one live observation of one market on the live grid. History has no order book; these rows
#: do, so they are kept apart and marked ``source = 'live'``.
LIVE_SNAPSHOTS = TableSpec(
    name="live_snapshots",
    columns=(
        Column("exchange", "text", False),
        Column("symbol", "text", False),
        Column("market", "text", False),
        Column("snapshot_time", "time", False),
        Column("fetched_at", "time", False),
        Column("funding_rate", "float"),
        Column("next_funding_time", "time"),
        Column("interval_hours", "float"),
        Column("mark_price", "float"),
        Column("index_price", "float"),
        Column("last_price", "float"),
        Column("bid", "float"),
        Column("ask", "float"),
        Column("spread_pct", "float"),
        Column("bid_depth_usd", "float"),
        Column("ask_depth_usd", "float"),
        Column("depth_band_pct", "float"),
        Column("quote_volume_24h", "float"),
        Column("source", "text", False),
    ),
    primary_key=("exchange", "symbol", "market", "snapshot_time"),
    checks=("market IN ('spot', 'perp')", "source = 'live'"),
)

#: what each collector run wrote, so ``data status`` can say where data came from and when
INGEST_LOG = TableSpec(
    name="ingest_log",
    columns=(
        Column("dataset", "text", False),
        Column("exchange", "text", False),
        Column("symbol", "text", False),
        Column("market", "text", False),
        Column("last_time", "time", False),
        Column("rows", "int", False),
        Column("updated_at", "time", False),
        Column("origin", "text", False),
    ),
    primary_key=("dataset", "exchange", "symbol", "market"),
)

ALL_TABLES: tuple[TableSpec, ...] = (FUNDING, KLINES, LIVE_SNAPSHOTS, INGEST_LOG)
TABLES_BY_NAME: dict[str, TableSpec] = {t.name: t for t in ALL_TABLES}
