"""The main job's default market: the real data when it is here, the synthetic market otherwise.

Sized so ``arbscore run`` (snapshots -> simulation -> three model families with walk-forward
folds -> report) finishes well under 15 minutes on two CPU cores: five symbols, Binance spot +
perp and Bybit perp, six months of 1 h bars (2025-07-01 -> 2026-01-01, the latest half year the
real copy holds). With hourly entries that is about 9 opportunities an hour (5 spot_perp on
Binance, 4 perp_perp Binance/Bybit: XRP has no Bybit file) x 9 holds x ~4,400 hours ~ 350k
(opportunity x hold) rows at most; build_training_set kept 277,713 on 2026-11-26.
docs/data.md explains the choice.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from arbscore.data_tools.market import MarketData
from arbscore.data_tools.sources.real import ENV_VAR, find_shared_data, load_shared_market
from arbscore.data_tools.sources.synthetic import SyntheticMarketConfig, generate_synthetic_market

SOURCES = ("auto", "real", "synthetic")
DEFAULT_SYMBOLS = ("BTCUSDT", "ETHUSDT", "SOLUSDT", "BNBUSDT", "XRPUSDT")


@dataclass(frozen=True)
class EmbeddedDataConfig:
    """Which default market to load.

    ``source``: ``auto`` (real if found, else synthetic), ``real`` (error if absent) or
    ``synthetic``. ``data_root`` overrides ``$ARBSCORE_SHARED_DATA`` and ``../shared/data``.
    The synthetic market mirrors the real layout (spot on Binance only, 1 h bars, same window).
    """

    source: str = "auto"
    symbols: tuple[str, ...] = DEFAULT_SYMBOLS
    exchanges: tuple[str, ...] = ("binance", "bybit")
    start: str = "2025-07-01"
    end: str = "2026-01-01"
    data_root: str | None = None
    synthetic_seed: int = 0
    synthetic_kline_minutes: int = 60

    def __post_init__(self) -> None:
        object.__setattr__(self, "symbols", tuple(s.upper() for s in self.symbols))
        object.__setattr__(self, "exchanges", tuple(self.exchanges))
        if self.source not in SOURCES:
            raise ValueError(f"source must be one of {list(SOURCES)}, got {self.source!r}")
        if not self.symbols:
            raise ValueError("symbols must not be empty")
        if not self.exchanges:
            raise ValueError("exchanges must not be empty")
        try:
            lo, hi = pd.Timestamp(self.start), pd.Timestamp(self.end)
        except ValueError as exc:
            raise ValueError(f"start/end must be dates, got {self.start!r}/{self.end!r}") from exc
        if hi <= lo:
            raise ValueError(f"end {self.end} must be after start {self.start}")
        if hi - lo < pd.Timedelta(days=1):
            raise ValueError(f"the window {self.start} -> {self.end} must cover at least a day")

    def synthetic_config(self) -> SyntheticMarketConfig:
        """The synthetic market standing in for the real one (same symbols, window, layout)."""
        lo, hi = pd.Timestamp(self.start), pd.Timestamp(self.end)
        spot = tuple(e for e in self.exchanges if e == "binance") or self.exchanges[:1]
        return SyntheticMarketConfig(
            seed=self.synthetic_seed,
            start=str(lo),
            days=(hi - lo) / pd.Timedelta(days=1),
            exchanges=tuple(self.exchanges),
            symbols=tuple(self.symbols),
            kline_minutes=self.synthetic_kline_minutes,
            spot_exchanges=spot,
        )


def load_embedded_market(
    config: EmbeddedDataConfig | None = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> MarketData:
    """Load the default market; ``details['embedded']`` says which source and why."""
    config = config or EmbeddedDataConfig()
    root = find_shared_data(config.data_root) if config.source != "synthetic" else None
    if config.source == "real" and root is None:
        where = config.data_root or os.environ.get(ENV_VAR) or "../shared/data"
        raise FileNotFoundError(
            f"source='real' but no real market data at {where}; set {ENV_VAR} or use "
            "source='synthetic'"
        )
    if root is not None:
        market = load_shared_market(
            root,
            exchanges=config.exchanges,
            symbols=config.symbols,
            start=config.start,
            end=config.end,
            progress=progress,
        )
        if market.klines.empty or market.funding.empty:
            raise ValueError(
                f"the real data at {root} has no bars or funding for {list(config.symbols)} "
                f"in {config.start} -> {config.end}"
            )
        why = f"real data found at {root}"
    else:
        if progress:
            progress("synthetic", 0, 1)
        market = generate_synthetic_market(config.synthetic_config())
        if progress:
            progress("done", 1, 1)
        why = (
            "source='synthetic'"
            if config.source == "synthetic"
            else f"no real data (${ENV_VAR} or ../shared/data): synthetic market, calibrated"
        )
    details = dict(market.details)
    details["embedded"] = {"source": "synthetic" if market.synthetic else "real", "why": why}
    details["config"] = {
        "source": config.source,
        "symbols": list(config.symbols),
        "exchanges": list(config.exchanges),
        "start": config.start,
        "end": config.end,
    }
    return MarketData(
        funding=market.funding,
        klines=market.klines,
        source=market.source,
        synthetic=market.synthetic,
        details=details,
    )
