"""The real market data under ``../shared/data``, read in place, as :class:`MarketData`.

The sets with prices and funding for the same symbols (see MANIFEST.md there and docs/data.md):

- Binance USDT-M perp + spot 1 h klines and funding (02_harthor_marketlab_binance, from
  2024-12-31), plus Binance WIF perp 1 h + funding (03_mohsenjfar_trade_bybit/binance_futures,
  2024-10-01 -> 2025-02-20). Binance spot ``PEPE_USDT`` is rescaled to the perp's
  ``1000PEPEUSDT`` contract (price x 1000, base volume / 1000) so both legs trade one unit;
- Bybit USDT perp 1 h klines and funding (03_mohsenjfar_trade_bybit/futures);
- Hyperliquid hourly funding (01_zushen168_funding_rate_data, from 2025-08-21). The data holds
  no Hyperliquid prices: the perp price of another venue (Binance, else Bybit) stands in for
  them, marked as an estimate in ``details["estimates"]``, in the series' ``price_source``
  (``details["kline_series"]``) and in ``source``;
- OKX (05_huckhuck12_okx) has only mark-price bars and three months of funding: it is loaded
  only when asked for, with NaN volume so nothing treats mark bars as liquidity.

Older/other sets with time-zone quirks are read by :mod:`arbscore.data_tools.sources.legacy`.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from arbscore.data_tools.market import MarketData
from arbscore.data_tools.sources.freqtrade import attach_mark, read_funding, read_klines
from arbscore.data_tools.sources.legacy import ZUSHEN_DIR, read_zushen_funding
from arbscore.progress import Progress
from arbscore.schema import FUNDING_COLUMNS, KLINE_COLUMNS

ENV_VAR = "ARBSCORE_SHARED_DATA"
BINANCE_DIR = "02_harthor_marketlab_binance"
BYBIT_DIR = "03_mohsenjfar_trade_bybit"
OKX_DIR = "05_huckhuck12_okx"
DEFAULT_START = "2024-12-31"
REAL_EXCHANGES = ("binance", "bybit", "okx", "hyperliquid")
#: per exchange, its freqtrade folders: (futures folder, spot folder or None)
VENUE_FOLDERS: dict[str, tuple[tuple[str, str | None], ...]] = {
    "binance": (
        (f"{BINANCE_DIR}/futures", f"{BINANCE_DIR}/spot"),
        (f"{BYBIT_DIR}/binance_futures", None),
    ),
    "bybit": ((f"{BYBIT_DIR}/futures", None),),
    "okx": ((f"{OKX_DIR}/futures", None),),
}
#: spot pairs quoted per coin whose perp trades a 1000-coin contract: (perp symbol, multiplier)
SPOT_ALIASES: dict[str, tuple[str, float]] = {"PEPEUSDT": ("1000PEPEUSDT", 1000.0)}
#: venues whose perp price stands in for Hyperliquid's (no Hyperliquid prices in the data)
HYPERLIQUID_PRICE_FROM: tuple[str, ...] = ("binance", "bybit")


def _has_real_data(path: Path) -> bool:
    return path.is_dir() and any(
        (path / d).is_dir() for d in (BINANCE_DIR, BYBIT_DIR, OKX_DIR, ZUSHEN_DIR)
    )


def find_shared_data(root: str | os.PathLike | None = None) -> Path | None:
    """Where the real data is: ``root``, else ``$ARBSCORE_SHARED_DATA``, else ``../shared/data``
    next to the repository (or the working directory). None when no real data is there (a
    folder without the Binance/Bybit/OKX sets counts as absent)."""
    if root is not None:
        return Path(root) if _has_real_data(Path(root)) else None
    env = os.environ.get(ENV_VAR)
    if env:
        return Path(env) if _has_real_data(Path(env)) else None
    repo_root = Path(__file__).resolve().parents[4]
    for candidate in (repo_root / ".." / "shared" / "data", Path.cwd() / ".." / "shared" / "data"):
        if _has_real_data(candidate):
            return candidate.resolve()
    return None


def require_shared_data(root: str | os.PathLike | None = None) -> Path:
    """Like :func:`find_shared_data` but raises ``FileNotFoundError`` saying where it looked."""
    path = find_shared_data(root)
    if path is None:
        where = root or os.environ.get(ENV_VAR) or "<repo>/../shared/data"
        raise FileNotFoundError(
            f"real market data not found at {where}; set {ENV_VAR} or pass root=, "
            "or use the synthetic market (source='synthetic')"
        )
    return path


def _utc(value: str | pd.Timestamp | None) -> pd.Timestamp | None:
    if value is None:
        return None
    ts = pd.Timestamp(value)
    return ts.tz_localize("UTC") if ts.tz is None else ts.tz_convert("UTC")


def _files(folder: Path, pattern: str, symbols: set[str] | None) -> list[tuple[str, Path]]:
    out = []
    for path in sorted(folder.glob(pattern)):
        symbol = path.name.split("-")[0].replace("_", "")
        if symbol.endswith("USDTUSDT"):
            symbol = symbol[: -len("USDT")]
        if symbols is None or symbol in symbols:
            out.append((symbol, path))
    return out


def _venue_frames(
    root: Path, exchange: str, symbols: set[str] | None, spot: bool
) -> tuple[list[pd.DataFrame], list[pd.DataFrame], dict[str, str]]:
    """Funding and kline frames of one exchange's freqtrade folders, and rescaled spot series."""
    funding, klines, rescaled = [], [], {}
    for fut_dir, spot_dir in VENUE_FOLDERS[exchange]:
        fut = root / fut_dir
        if not fut.is_dir():
            continue
        perp_bars: dict[str, pd.DataFrame] = {}
        price_glob = "*-1h-mark.feather" if exchange == "okx" else "*-1h-futures.feather"
        for symbol, path in _files(fut, price_glob, symbols):
            bars = read_klines(path, exchange, "perp", 60, symbol)
            if exchange == "okx":  # mark bars: no traded volume
                bars["volume"] = float("nan")
                bars["quote_volume"] = float("nan")
            perp_bars[symbol] = bars
            klines.append(bars)
        marks = {
            s: read_klines(p, exchange, "perp", 60, s)
            for s, p in _files(fut, "*-1h-mark.feather", symbols)
        }
        for symbol, path in _files(fut, "*-funding_rate.feather", symbols):
            events = read_funding(path, exchange, symbol)
            if symbol in perp_bars:
                events = attach_mark(events, perp_bars[symbol])  # fallback: perp price
            if symbol in marks:
                events = attach_mark(events, marks[symbol])  # preferred: the mark price
            funding.append(events)
        if spot and spot_dir is not None and (root / spot_dir).is_dir():
            for symbol, path in _files(root / spot_dir, "*-1h.feather", None):
                target, factor = SPOT_ALIASES.get(symbol, (symbol, 1.0))
                if symbols is not None and target not in symbols:
                    continue
                bars = read_klines(path, exchange, "spot", 60, target)
                if factor != 1.0:
                    bars[["open", "high", "low", "close"]] *= factor
                    bars["volume"] /= factor
                    rescaled[f"{exchange}:spot:{target}"] = (
                        f"{path.name} x {factor:g} (price), / {factor:g} (base volume)"
                    )
                klines.append(bars)
    return funding, klines, rescaled


def _hyperliquid_frames(
    root: Path, symbols: set[str] | None, perps: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, str], list[str]]:
    """Hyperliquid funding (01, hourly) and its stand-in perp bars.

    ``perps``: perp klines of the venues in HYPERLIQUID_PRICE_FROM. Each Hyperliquid symbol
    takes the first of those venues that has its bars, over the Hyperliquid funding window
    only; funding ``mark_price`` is that stand-in bar's open at settlement. Returns
    (funding, klines, {series: the series it was estimated from}, symbols with no price).
    """
    if not (root / ZUSHEN_DIR / "funding_hyperliquid.parquet").is_file():
        return _concat([], FUNDING_COLUMNS), _concat([], KLINE_COLUMNS), {}, []
    funding = read_zushen_funding(root, venues=("hyperliquid",))
    if symbols is not None:
        funding = funding[funding["symbol"].isin(symbols)]
    f_parts, k_parts, estimates, no_price = [], [], {}, []
    for symbol, events in funding.groupby("symbol", sort=True):
        lo = events["funding_time"].min().floor("h") - pd.Timedelta(hours=1)
        hi = events["funding_time"].max()
        for venue in HYPERLIQUID_PRICE_FROM:
            bars = perps[(perps["exchange"] == venue) & (perps["symbol"] == symbol)]
            bars = bars[(bars["open_time"] >= lo) & (bars["open_time"] <= hi)]
            if len(bars):
                break
        else:
            no_price.append(str(symbol))
            continue
        bars = bars.assign(exchange="hyperliquid")
        estimates[f"hyperliquid:perp:{symbol}"] = f"{venue}:perp:{symbol}"
        events = events.assign(mark_price=float("nan"))
        k_parts.append(bars)
        f_parts.append(attach_mark(events.reset_index(drop=True), bars))
    return (
        _concat(f_parts, FUNDING_COLUMNS),
        _concat(k_parts, KLINE_COLUMNS),
        estimates,
        no_price,
    )


def load_shared_market(
    root: str | os.PathLike | None = None,
    *,
    exchanges: Sequence[str] = ("binance", "bybit"),
    symbols: Sequence[str] | None = None,
    start: str | pd.Timestamp | None = DEFAULT_START,
    end: str | pd.Timestamp | None = None,
    spot: bool = True,
    require_all: bool = False,
    progress: Progress | None = None,
) -> MarketData:
    """Load the hourly real set (Binance perp+spot, Bybit perp, Hyperliquid funding with
    stand-in prices; OKX mark on request).

    ``symbols`` are canonical (``BTCUSDT``); None loads every symbol found. ``start``/``end``
    bound times (end exclusive). ``require_all`` makes a symbol missing on one of the
    ``exchanges`` an error instead of a note in ``details["missing"]``.
    """
    base = require_shared_data(root)
    bad = [e for e in exchanges if e not in REAL_EXCHANGES]
    if bad or not exchanges:
        raise ValueError(f"exchanges {list(exchanges)}: expected some of {list(REAL_EXCHANGES)}")
    lo, hi = _utc(start), _utc(end)
    if lo is not None and hi is not None and hi <= lo:
        raise ValueError(f"end {hi} must be after start {lo}")
    wanted = {s.upper() for s in symbols} if symbols is not None else None
    funding_parts, kline_parts, rescaled = [], [], {}
    venues = [e for e in exchanges if e != "hyperliquid"]
    for i, exchange in enumerate(venues):
        if progress:
            progress(exchange, i, len(exchanges))
        f, k, r = _venue_frames(base, exchange, wanted, spot)
        funding_parts += f
        kline_parts += k
        rescaled.update(r)
    estimates: dict[str, str] = {}
    no_price: list[str] = []
    if "hyperliquid" in exchanges:
        if progress:
            progress("hyperliquid", len(venues), len(exchanges))
        perps = [k for k in kline_parts if k["market"].iloc[:1].eq("perp").all()]
        for venue in HYPERLIQUID_PRICE_FROM:  # stand-in prices from venues not asked for
            if venue not in venues:
                perps += [k for k in _venue_frames(base, venue, wanted, False)[1]]
        f, k, estimates, no_price = _hyperliquid_frames(base, wanted, _concat(perps, KLINE_COLUMNS))
        funding_parts.append(f)
        kline_parts.append(k)
    if progress:
        progress("done", len(exchanges), len(exchanges))
    funding = _window(_concat(funding_parts, FUNDING_COLUMNS), "funding_time", lo, hi)
    klines = _window(_concat(kline_parts, KLINE_COLUMNS), "open_time", lo, hi)
    found = {ex: sorted(set(klines.loc[klines["exchange"] == ex, "symbol"])) for ex in exchanges}
    missing = {}
    if wanted is not None:
        for ex in exchanges:
            lacking = sorted(wanted - set(found[ex]))
            if lacking:
                missing[ex] = lacking
        if not any(found.values()):
            raise ValueError(f"symbols {sorted(wanted)} not found in {base} for {list(exchanges)}")
        if require_all and missing:
            raise ValueError(f"symbols missing in the real data: {missing}")
    details = describe(funding, klines)
    for key, origin in estimates.items():
        if key in details["kline_series"]:
            details["kline_series"][key]["price_source"] = f"estimate: {origin}"
    details.update(
        {
            "kind": "real",
            "root": str(base),
            "missing": missing,
            "estimates": {
                k: f"no Hyperliquid prices in the data: {v} bars (and funding mark price) stand in"
                for k, v in estimates.items()
                if k in details["kline_series"]
            },
            "rescaled": rescaled,
            "funding_without_price": {"hyperliquid": no_price} if no_price else {},
        }
    )
    source = f"real(shared data: {', '.join(exchanges)}"
    if details["estimates"]:
        origins = sorted({v.split(":")[0] for v in estimates.values()})
        source += f"; hyperliquid prices estimated from {'/'.join(origins)} perp"
    return MarketData(
        funding=funding, klines=klines, source=source + ")", synthetic=False, details=details
    )


def _concat(parts: list[pd.DataFrame], columns: tuple[str, ...]) -> pd.DataFrame:
    if not parts:
        empty = pd.DataFrame({c: pd.Series(dtype="float64") for c in columns})
        time_col = "funding_time" if "funding_time" in columns else "open_time"
        empty[time_col] = pd.Series(dtype="datetime64[ns, UTC]")
        for c in ("exchange", "symbol", "market"):
            if c in columns:
                empty[c] = pd.Series(dtype="object")
        return empty[list(columns)]
    out = pd.concat([p for p in parts if len(p)] or parts[:1], ignore_index=True)
    return out[list(columns)]


def _window(
    frame: pd.DataFrame, column: str, lo: pd.Timestamp | None, hi: pd.Timestamp | None
) -> pd.DataFrame:
    mask = pd.Series(True, index=frame.index)
    if lo is not None:
        mask &= frame[column] >= lo
    if hi is not None:
        mask &= frame[column] < hi
    keys = [c for c in ("exchange", "symbol", "market") if c in frame.columns]
    return frame[mask].sort_values([*keys, column], ignore_index=True)


def describe(funding: pd.DataFrame, klines: pd.DataFrame) -> dict:
    """What a MarketData holds: per exchange/market the symbols and time ranges, row counts."""
    series = {}
    for (ex, sym, mkt), g in klines.groupby(["exchange", "symbol", "market"], sort=True):
        series[f"{ex}:{mkt}:{sym}"] = {
            "first": g["open_time"].min().isoformat(),
            "last": g["open_time"].max().isoformat(),
            "bars": len(g),
        }
    intervals = {}
    for (ex, sym), g in funding.groupby(["exchange", "symbol"], sort=True):
        counts = g["interval_hours"].value_counts().sort_index()
        intervals[f"{ex}:{sym}"] = {str(int(h)): int(n) for h, n in counts.items()}
    span = pd.concat([klines["open_time"], funding["funding_time"]])
    return {
        "exchanges": sorted(set(klines["exchange"]) | set(funding["exchange"])),
        "symbols": sorted(set(klines["symbol"]) | set(funding["symbol"])),
        "start": span.min().isoformat() if len(span) else None,
        "end": span.max().isoformat() if len(span) else None,
        "kline_series": series,
        "funding_intervals": intervals,
        "rows": {"klines": len(klines), "funding": len(funding)},
    }
