"""The main job's default market: the real data when it is here, the synthetic market otherwise.

The default universe is every symbol the real data holds with both legs of a trade, over the
longest window the data gives (2024-12-31 -> 2026-01-01, docs/data.md has the figures):
Binance spot + perp for the 12 symbols with both (spot_perp), Binance/Bybit perps (perp_perp:
BTC, ETH, SOL, BNB for the year, WIF until 2025-02-20) and Hyperliquid's hourly funding from
2025-08-21 for the 8 coins a Binance perp price can stand in for (perp_perp against Binance and
Bybit; the stand-in is named an estimate in ``details``). ``REAL_LAYOUT`` records that layout so
the synthetic stand-in mirrors it on a machine without the data.

``entry_stride_minutes`` is the entry stride ``arbscore run`` uses on this market when no
training-set config is given: sized so the whole run (720 h hold grid included) stays well
under 15 minutes on two CPU cores (docs/data.md: rows per stride, measured).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import pandas as pd

from arbscore.data_tools.market import MarketData
from arbscore.data_tools.sources.real import ENV_VAR, find_shared_data, load_shared_market
from arbscore.data_tools.sources.synthetic import SyntheticMarketConfig, generate_synthetic_market
from arbscore.progress import Progress

SOURCES = ("auto", "real", "synthetic")
#: Binance spot + perp (spot_perp); the majors also on Bybit/Hyperliquid (perp_perp)
SPOT_PERP_SYMBOLS = (
    "BTCUSDT",
    "ETHUSDT",
    "SOLUSDT",
    "BNBUSDT",
    "XRPUSDT",
    "DOGEUSDT",
    "BCHUSDT",
    "INJUSDT",
    "OPUSDT",
    "ORCAUSDT",
    "ZECUSDT",
    "1000PEPEUSDT",
)
#: every symbol the real data holds with both legs of some trade (WIF: Binance/Bybit perps)
DEFAULT_SYMBOLS = (*SPOT_PERP_SYMBOLS, "WIFUSDT")
DEFAULT_EXCHANGES = ("binance", "bybit", "hyperliquid")
#: which (exchange, market) lists which symbols in the real data, for the synthetic mirror
REAL_LAYOUT: dict[tuple[str, str], tuple[str, ...]] = {
    ("binance", "perp"): DEFAULT_SYMBOLS,
    ("binance", "spot"): SPOT_PERP_SYMBOLS,
    ("bybit", "perp"): ("BTCUSDT", "ETHUSDT", "SOLUSDT", "BNBUSDT", "WIFUSDT"),
    ("hyperliquid", "perp"): (
        "BTCUSDT",
        "ETHUSDT",
        "SOLUSDT",
        "BNBUSDT",
        "XRPUSDT",
        "DOGEUSDT",
        "INJUSDT",
        "OPUSDT",
    ),
}
#: first day of a venue's real data (Hyperliquid funding, 01_zushen168, starts 2025-08-21)
REAL_VENUE_START: dict[str, str] = {"hyperliquid": "2025-08-21"}
#: the default entry stride of `arbscore run` on the embedded market (docs/data.md)
DEFAULT_ENTRY_STRIDE_MINUTES = 240


@dataclass(frozen=True)
class EmbeddedDataConfig:
    """Which default market to load.

    ``source``: ``auto`` (real if found, else synthetic), ``real`` (error if absent) or
    ``synthetic``. ``data_root`` overrides ``$ARBSCORE_SHARED_DATA`` and ``../shared/data``.
    The synthetic market mirrors the real layout (``REAL_LAYOUT``: which venue lists which
    symbol, spot on Binance only, Hyperliquid from its first real day, 1 h bars, same window).
    ``entry_stride_minutes``: the entry stride the pipeline uses on this market when the run
    gives no training-set config (a positive multiple of 60).
    """

    source: str = "auto"
    symbols: tuple[str, ...] = DEFAULT_SYMBOLS
    exchanges: tuple[str, ...] = DEFAULT_EXCHANGES
    start: str = "2024-12-31"
    end: str = "2026-01-01"
    data_root: str | None = None
    synthetic_seed: int = 0
    synthetic_kline_minutes: int = 60
    entry_stride_minutes: int = DEFAULT_ENTRY_STRIDE_MINUTES

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
        if self.entry_stride_minutes <= 0 or self.entry_stride_minutes % 60:
            raise ValueError(
                f"entry_stride_minutes must be a positive multiple of 60 (hourly bars), got "
                f"{self.entry_stride_minutes}"
            )

    def synthetic_config(self) -> SyntheticMarketConfig:
        """The synthetic market standing in for the real one (same symbols, window, layout).

        Venues in ``REAL_LAYOUT`` list what they list in the real data; a symbol the layout
        does not know is listed on every venue (spot on Binance only)."""
        lo, hi = pd.Timestamp(self.start), pd.Timestamp(self.end)
        spot = tuple(e for e in self.exchanges if e == "binance") or self.exchanges[:1]
        listings = []
        for ex in self.exchanges:
            for market in ("perp", "spot"):
                if market == "spot" and ex not in spot:
                    continue
                layout = REAL_LAYOUT.get((ex, market))
                for sym in self.symbols:
                    known = any(sym in v for v in REAL_LAYOUT.values())
                    if layout is None or sym in layout or not known:
                        listings.append((ex, market, sym))
        starts = tuple(
            (ex, day)
            for ex, day in REAL_VENUE_START.items()
            if ex in self.exchanges and pd.Timestamp(day) > lo
        )
        return SyntheticMarketConfig(
            seed=self.synthetic_seed,
            start=str(lo),
            days=(hi - lo) / pd.Timedelta(days=1),
            exchanges=tuple(self.exchanges),
            symbols=tuple(self.symbols),
            kline_minutes=self.synthetic_kline_minutes,
            spot_exchanges=spot,
            interval_overrides=(),
            listings=tuple(listings),
            venue_start=starts,
        )


def load_embedded_market(
    config: EmbeddedDataConfig | None = None,
    progress: Progress | None = None,
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
        "entry_stride_minutes": config.entry_stride_minutes,
    }
    return MarketData(
        funding=market.funding,
        klines=market.klines,
        source=market.source,
        synthetic=market.synthetic,
        details=details,
    )
