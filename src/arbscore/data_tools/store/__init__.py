"""Market store: funding events, klines and live snapshots in DuckDB (default) or PostgreSQL.

``open_store(path_or_url)`` returns a :class:`MarketStore`; see ``repository.py``.
New tables: define a :class:`TableSpec` and call ``store.register_table`` then ``store.upsert``.
"""

from arbscore.data_tools.store.repository import (
    DEFAULT_STORE_PATH,
    STORE_ENV,
    MarketStore,
    default_store_url,
    open_store,
)
from arbscore.data_tools.store.tables import (
    ALL_TABLES,
    FUNDING,
    INGEST_LOG,
    KLINES,
    LIVE_SNAPSHOTS,
    PREMIUM_INDEX,
    Column,
    Migration,
    TableSpec,
)

__all__ = [
    "ALL_TABLES",
    "DEFAULT_STORE_PATH",
    "FUNDING",
    "INGEST_LOG",
    "KLINES",
    "LIVE_SNAPSHOTS",
    "PREMIUM_INDEX",
    "STORE_ENV",
    "Column",
    "Migration",
    "MarketStore",
    "TableSpec",
    "default_store_url",
    "open_store",
]
