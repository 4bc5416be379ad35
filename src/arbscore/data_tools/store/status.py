"""``data status``: ranges, row counts and gaps per series, computed in SQL on either backend.

Funding gaps are counted against each symbol's own interval (the ``interval_hours`` of the
event before the gap), never an assumed 8 h; kline and premium-index gaps against the bar length.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import pandas as pd

STATUS_COLUMNS = (
    "dataset",
    "exchange",
    "symbol",
    "market",
    "interval",
    "first",
    "last",
    "rows",
    "gaps",
)

_FUNDING_SQL = """
WITH ordered AS (
  SELECT exchange, symbol, funding_time,
         LAG(funding_time) OVER w AS prev_time,
         LAG(interval_hours) OVER w AS prev_interval
  FROM funding_events
  WINDOW w AS (PARTITION BY exchange, symbol ORDER BY funding_time)
)
SELECT 'funding' AS dataset, exchange, symbol, 'perp' AS market,
       MIN(funding_time) AS first, MAX(funding_time) AS last, COUNT(*) AS rows,
       COALESCE(SUM(CASE WHEN prev_time IS NULL THEN 0 ELSE GREATEST(
           ROUND(EXTRACT(EPOCH FROM funding_time - prev_time) / 3600.0 / prev_interval) - 1, 0)
       END), 0) AS gaps
FROM ordered GROUP BY exchange, symbol
"""

_FUNDING_INTERVAL_SQL = """
SELECT exchange, symbol, interval_hours, COUNT(*) AS n
FROM funding_events GROUP BY exchange, symbol, interval_hours
"""

_KLINE_SQL = """
SELECT 'kline' AS dataset, exchange, symbol, market, interval_minutes,
       MIN(open_time) AS first, MAX(open_time) AS last, COUNT(*) AS rows,
       ROUND(EXTRACT(EPOCH FROM MAX(open_time) - MIN(open_time)) / 60.0 / interval_minutes)
         + 1 - COUNT(*) AS gaps
FROM klines GROUP BY exchange, symbol, market, interval_minutes
"""

_PREMIUM_SQL = """
SELECT 'premium' AS dataset, exchange, symbol, 'perp' AS market, interval_minutes,
       MIN(open_time) AS first, MAX(open_time) AS last, COUNT(*) AS rows,
       ROUND(EXTRACT(EPOCH FROM MAX(open_time) - MIN(open_time)) / 60.0 / interval_minutes)
         + 1 - COUNT(*) AS gaps
FROM premium_index_klines GROUP BY exchange, symbol, interval_minutes
"""

_LIVE_SQL = """
SELECT 'live' AS dataset, exchange, symbol, market,
       MIN(snapshot_time) AS first, MAX(snapshot_time) AS last, COUNT(*) AS rows
FROM live_snapshots GROUP BY exchange, symbol, market
"""


def status_frame(query: Callable[[str, Sequence[Any]], pd.DataFrame]) -> pd.DataFrame:
    """One row per series; ``interval`` is text ("8h", "5m", "1h/4h" when it changed)."""
    parts = []
    funding = query(_FUNDING_SQL, ())
    if len(funding):
        intervals = query(_FUNDING_INTERVAL_SQL, ())
        labels = (
            intervals.sort_values("n", ascending=False)
            .assign(label=lambda f: f["interval_hours"].map(lambda h: f"{float(h):g}h"))
            .groupby(["exchange", "symbol"])["label"]
            .agg("/".join)
        )
        funding["interval"] = [
            labels.get((e, s), "")
            for e, s in zip(funding["exchange"], funding["symbol"], strict=True)
        ]
        parts.append(funding)
    for sql in (_KLINE_SQL, _PREMIUM_SQL):
        bars = query(sql, ())
        if len(bars):
            bars["interval"] = bars["interval_minutes"].map(lambda m: f"{int(m)}m")
            parts.append(bars.drop(columns="interval_minutes"))
    live = query(_LIVE_SQL, ())
    if len(live):
        live["interval"] = ""
        live["gaps"] = 0
        parts.append(live)
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in STATUS_COLUMNS})
    out = pd.concat(parts, ignore_index=True).loc[:, list(STATUS_COLUMNS)]
    out["first"] = pd.to_datetime(out["first"], utc=True)
    out["last"] = pd.to_datetime(out["last"], utc=True)
    out["rows"] = pd.to_numeric(out["rows"]).astype("int64")
    out["gaps"] = pd.to_numeric(out["gaps"]).astype("int64")
    return out.sort_values(["exchange", "symbol", "dataset", "market"]).reset_index(drop=True)
