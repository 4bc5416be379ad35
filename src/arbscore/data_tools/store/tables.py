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
class Migration:
    """Columns added to a table after stores holding it exist, and the SQL that fixes the rows
    stored before (run once, in the transaction that adds the columns; ``{table}`` is the
    table's name). The columns must be nullable: old rows get NULL unless ``sql`` fills them."""

    name: str
    adds: tuple[str, ...]
    sql: tuple[str, ...] = ()


@dataclass(frozen=True)
class TableSpec:
    """A store table: columns in order, primary key (the upsert key), SQL CHECKs and the
    migrations that bring an older store's table up to these columns."""

    name: str
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...]
    checks: tuple[str, ...] = ()
    migrations: tuple[Migration, ...] = ()

    def __post_init__(self) -> None:
        names = self.column_names
        missing = [k for k in self.primary_key if k not in names]
        if missing:
            raise ValueError(f"table {self.name}: primary key columns {missing} not in columns")
        for migration in self.migrations:
            bad = [c for c in migration.adds if c not in names or not self.column(c).nullable]
            if bad:
                raise ValueError(
                    f"table {self.name}: migration {migration.name} adds {bad}, which are not "
                    "nullable columns of the table"
                )

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)

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
#: do, so they are kept apart and marked ``source = 'live'``. ``funding_rate`` is the last
#: SETTLED rate (settled at ``last_funding_time``), the same quantity as ``funding_events.rate``
#: that training features use; ``predicted_funding_rate`` is the exchange's running estimate for
#: the settlement at ``next_funding_time`` (what ccxt calls ``fundingRate``).
LIVE_SNAPSHOTS = TableSpec(
    name="live_snapshots",
    columns=(
        Column("exchange", "text", False),
        Column("symbol", "text", False),
        Column("market", "text", False),
        Column("snapshot_time", "time", False),
        Column("fetched_at", "time", False),
        Column("funding_rate", "float"),
        Column("last_funding_time", "time"),
        Column("predicted_funding_rate", "float"),
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
    migrations=(
        # stores written before funding parity (#11) held ccxt's PREDICTED rate in
        # funding_rate: move it to its own column, then fill the settled rate from the store's
        # own funding history where it has the settlement (within a day), else leave NULL
        Migration(
            "predicted_funding_rate",
            adds=("last_funding_time", "predicted_funding_rate"),
            sql=(
                "UPDATE {table} SET predicted_funding_rate = funding_rate, funding_rate = NULL",
                "UPDATE {table} SET last_funding_time = (SELECT MAX(f.funding_time) "
                "FROM funding_events f WHERE f.exchange = {table}.exchange "
                "AND f.symbol = {table}.symbol AND f.funding_time <= {table}.snapshot_time "
                "AND f.funding_time > {table}.snapshot_time - INTERVAL '24 hours') "
                "WHERE market = 'perp'",
                "UPDATE {table} SET funding_rate = (SELECT f.rate FROM funding_events f "
                "WHERE f.exchange = {table}.exchange AND f.symbol = {table}.symbol "
                "AND f.funding_time = {table}.last_funding_time) "
                "WHERE last_funding_time IS NOT NULL",
            ),
        ),
    ),
)

#: premium-index klines of a perp (Binance ``/fapi/v1/premiumIndexKlines``, Bybit
#: ``/v5/market/premium-index-price-kline``): the premium as a decimal fraction per bar, the
#: input of the exchanges' funding formula (``collect/premium.py``)
PREMIUM_INDEX = TableSpec(
    name="premium_index_klines",
    columns=(
        Column("exchange", "text", False),
        Column("symbol", "text", False),
        Column("open_time", "time", False),
        Column("interval_minutes", "int", False),
        Column("open", "float", False),
        Column("high", "float", False),
        Column("low", "float", False),
        Column("close", "float", False),
    ),
    primary_key=("exchange", "symbol", "open_time", "interval_minutes"),
    checks=("interval_minutes > 0",),
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

ALL_TABLES: tuple[TableSpec, ...] = (FUNDING, KLINES, LIVE_SNAPSHOTS, PREMIUM_INDEX, INGEST_LOG)
TABLES_BY_NAME: dict[str, TableSpec] = {t.name: t for t in ALL_TABLES}
