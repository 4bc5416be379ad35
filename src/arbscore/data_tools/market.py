"""The market data every later stage reads: funding events and klines, with where they came from.

Both loaders (the real data under ``../shared/data`` and the synthetic generator) and the
market store return a :class:`MarketData`; the snapshot stage takes one.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from arbscore.schema import FUNDING_COLUMNS, KLINE_COLUMNS, MARKETS


@dataclass(frozen=True)
class MarketData:
    """Funding events and klines in the SPEC's columns (``arbscore.schema``).

    ``source`` says in words where the data came from; ``synthetic`` marks generated data,
    which every report and summary must label as such. ``details["estimates"]`` names the
    series whose prices are another venue's stand-in (:attr:`estimated_series`).
    """

    funding: pd.DataFrame
    klines: pd.DataFrame
    source: str
    synthetic: bool
    details: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        validate_funding(self.funding)
        validate_klines(self.klines)

    @property
    def estimated_series(self) -> frozenset[tuple[str, str, str]]:
        """(exchange, symbol, market) of the series priced from another venue's series: the
        ``"exchange:market:symbol"`` keys of ``details["estimates"]`` (the real loader names
        Hyperliquid's stand-in prices there)."""
        out = set()
        for key in self.details.get("estimates", {}) or {}:
            parts = str(key).split(":")
            if len(parts) == 3:
                out.add((parts[0], parts[2], parts[1]))
        return frozenset(out)


def _require(frame: pd.DataFrame, columns: tuple[str, ...], what: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{what} frame is missing columns {missing}; expected {list(columns)}")


def validate_funding(frame: pd.DataFrame) -> None:
    """Raise ``ValueError`` naming the column when a funding frame breaks the schema."""
    _require(frame, FUNDING_COLUMNS, "funding")
    if len(frame) and str(frame["funding_time"].dt.tz) != "UTC":
        raise ValueError("funding.funding_time must be tz-aware UTC")


def validate_klines(frame: pd.DataFrame) -> None:
    """Raise ``ValueError`` naming the column when a kline frame breaks the schema."""
    _require(frame, KLINE_COLUMNS, "kline")
    if len(frame):
        if str(frame["open_time"].dt.tz) != "UTC":
            raise ValueError("klines.open_time must be tz-aware UTC")
        bad = set(frame["market"].unique()) - set(MARKETS)
        if bad:
            raise ValueError(f"klines.market has {sorted(bad)}; expected one of {list(MARKETS)}")


def to_epoch_ms(series: pd.Series) -> pd.Series:
    """UTC timestamps -> int64 milliseconds since the epoch, whatever the pandas resolution."""
    return (series.dt.tz_convert("UTC").astype("datetime64[ms, UTC]")).astype("int64")
