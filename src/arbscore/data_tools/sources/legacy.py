"""Readers for the other real sets in ``../shared/data`` whose timestamps need fixing.

Each fixes its source's quirk (MANIFEST.md names them) and returns SPEC-column frames:

- 01 ZuShen funding (parquet): settlement times keep the exchange's millisecond jitter
  (16:00:00.003) -> rounded to the minute; ``BTC-USDT-PERP`` names -> ``BTCUSDT``.
- 07 AHA-HH 8 h bars (csv.gz): ``time`` is Europe/London local time (bars at 01/09/17 during
  BST) -> UTC; the ambiguous 2023-10-29 01:00 is read as BST, as the data's own order implies.
- 08 supervik funding (csv.gz): naive ``Date`` that is UTC+3 for Binance/Bybit/HTX/KuCoin/MEXC
  (the author's local clock) and UTC for Gate/dYdX.
Only exchanges in ``arbscore.schema.EXCHANGES`` are kept.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from arbscore.data_tools.sources.freqtrade import infer_interval_hours, round_to_minute
from arbscore.schema import EXCHANGES, FUNDING_COLUMNS, KLINE_COLUMNS

ZUSHEN_DIR = "01_zushen168_funding_rate_data"
AHA_FILE = "07_aha_hh_3exchange_8h/all_exchanges.csv.gz"
SUPERVIK_DIR = "08_supervik_funding_7venues"
SUPERVIK_UTC_PLUS_3 = ("binance", "bybit", "htx", "kucoin", "mexc")


def read_zushen_funding(root: Path, venues: tuple[str, ...] = ("binance", "bybit", "hyperliquid")):
    """01: funding of USDT linear perps (USDC perps and tokenised stocks dropped)."""
    parts = []
    for venue in venues:
        if venue not in EXCHANGES:
            raise ValueError(f"venue {venue!r} is not one of {list(EXCHANGES)}")
        raw = pd.read_parquet(root / ZUSHEN_DIR / f"funding_{venue}.parquet")
        sym = raw["canonical_symbol"].str.replace("-PERP", "", regex=False).str.replace("-", "")
        keep = sym.str.endswith("USDT") & (raw["contract_type"] == "linear")
        if venue == "hyperliquid":  # hyperliquid perps are USD(C) settled; coins named BTC-USD...
            keep = pd.Series(True, index=raw.index)
            sym = raw["canonical_symbol"].str.split("-").str[0] + "USDT"
        frame = pd.DataFrame(
            {
                "exchange": venue,
                "symbol": sym[keep].to_numpy(),
                "funding_time": round_to_minute(raw.loc[keep, "settlement_ts"]).to_numpy(),
                "rate": raw.loc[keep, "rate_raw"].astype(float).to_numpy(),
                "interval_hours": raw.loc[keep, "interval_hours"].to_numpy(),
                "mark_price": raw.loc[keep, "mark_price"].astype(float).to_numpy(),
            }
        )
        parts.append(frame)
    out = pd.concat(parts, ignore_index=True)
    out["funding_time"] = pd.to_datetime(out["funding_time"], utc=True)
    out = out.drop_duplicates(["exchange", "symbol", "funding_time"], keep="last")
    out = out.sort_values(["exchange", "symbol", "funding_time"], ignore_index=True)
    # the source derives interval_hours itself; recompute from our rounded times where it is
    # missing so every row has one
    missing = out["interval_hours"].isna()
    if missing.any():
        for _, idx in out[missing].groupby(["exchange", "symbol"]).groups.items():
            grp = out.loc[out.index.isin(idx)]
            out.loc[grp.index, "interval_hours"] = infer_interval_hours(grp["funding_time"])
    out["interval_hours"] = out["interval_hours"].round().astype(np.int64)
    return out[list(FUNDING_COLUMNS)]


def london_to_utc(naive: pd.Series) -> pd.Series:
    """Europe/London wall times -> UTC. Ambiguous autumn hours are read as BST (the first)."""
    local = pd.to_datetime(naive).dt.tz_localize(
        "Europe/London", ambiguous=np.ones(len(naive), dtype=bool), nonexistent="shift_forward"
    )
    return local.dt.tz_convert("UTC")


def read_aha_8h(root: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """07: (funding, klines) of Binance/Bybit/OKX BTC & ETH spot and USDT perp, 8 h bars."""
    raw = pd.read_csv(root / AHA_FILE)
    raw = raw[~raw["pair"].str.endswith("USDCM")]  # coin-margined perps: not in our schema
    times = london_to_utc(raw["time"])
    symbol = raw["pair"].str.replace("/", "", regex=False)
    market = np.where(raw["contract"] == "spot", "spot", "perp")
    high, low, close = (raw[c].astype(float) for c in ("high", "low", "close"))
    klines = pd.DataFrame(
        {
            "exchange": raw["exchange"].to_numpy(),
            "symbol": symbol.to_numpy(),
            "market": market,
            "open_time": times.to_numpy(),
            "interval_minutes": 480,
            "open": raw["open"].astype(float).to_numpy(),
            "high": high.to_numpy(),
            "low": low.to_numpy(),
            "close": close.to_numpy(),
            "volume": raw["volume"].astype(float).to_numpy(),
            "quote_volume": (raw["volume"] * (high + low + close) / 3.0).to_numpy(),
        }
    )
    klines["open_time"] = pd.to_datetime(klines["open_time"], utc=True)
    is_perp = (market == "perp") & raw["funding rate"].notna().to_numpy()
    funding = pd.DataFrame(
        {
            "exchange": klines.loc[is_perp, "exchange"],
            "symbol": klines.loc[is_perp, "symbol"],
            "funding_time": klines.loc[is_perp, "open_time"],
            "rate": raw.loc[is_perp, "funding rate"].astype(float).to_numpy(),
            "interval_hours": 8,
            "mark_price": klines.loc[is_perp, "open"],
        }
    )
    klines = klines.sort_values(["exchange", "symbol", "market", "open_time"], ignore_index=True)
    funding = funding.sort_values(["exchange", "symbol", "funding_time"], ignore_index=True)
    return funding[list(FUNDING_COLUMNS)], klines[list(KLINE_COLUMNS)]


def read_supervik_funding(root: Path, keep_all_venues: bool = False) -> pd.DataFrame:
    """08: BTC/ETH funding 2020-2023. UTC+3 removed where the author's clock added it.

    ``keep_all_venues`` also returns Gate/HTX/KuCoin/MEXC/dYdX (not in our schema's exchanges;
    useful for checking the time fix only).
    """
    parts = []
    for path in sorted((root / SUPERVIK_DIR).glob("*_funding_history.csv.gz")):
        pair, venue = path.name.split("_")[:2]
        if venue not in EXCHANGES and not keep_all_venues:
            continue
        raw = pd.read_csv(path)
        naive = pd.to_datetime(raw["Date"])
        if venue in SUPERVIK_UTC_PLUS_3:
            naive = naive - pd.Timedelta(hours=3)
        times = round_to_minute(naive.dt.tz_localize("UTC"))
        frame = (
            pd.DataFrame(
                {
                    "exchange": venue,
                    "symbol": pair.replace("-", ""),
                    "funding_time": times,
                    "rate": raw["Funding Rate"].astype(float),
                    "mark_price": np.nan,
                }
            )
            .drop_duplicates("funding_time")
            .sort_values("funding_time", ignore_index=True)
        )
        frame["interval_hours"] = infer_interval_hours(frame["funding_time"])
        parts.append(frame)
    out = pd.concat(parts, ignore_index=True)
    return out.sort_values(["exchange", "symbol", "funding_time"], ignore_index=True)[
        list(FUNDING_COLUMNS)
    ]
