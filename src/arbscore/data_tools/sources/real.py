"""The real market data under ``../shared/data``, read in place, as :class:`MarketData`.

The default set is the best overlapping window the data holds (see MANIFEST.md there and
docs/data.md): Binance USDT-M perp + spot 1 h klines and funding (02_harthor_marketlab_binance)
and Bybit USDT perp 1 h klines and funding (03_mohsenjfar_trade_bybit), from 2024-12-31 on.
OKX (05_huckhuck12_okx) has only mark-price bars and three months of funding: it is loaded only
when asked for, with NaN volume so nothing treats mark bars as liquidity.
Older/other sets with time-zone quirks are read by :mod:`arbscore.data_tools.sources.legacy`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path

import pandas as pd

from arbscore.data_tools.market import MarketData
from arbscore.data_tools.sources.freqtrade import attach_mark, read_funding, read_klines
from arbscore.schema import FUNDING_COLUMNS, KLINE_COLUMNS

ENV_VAR = "ARBSCORE_SHARED_DATA"
BINANCE_DIR = "02_harthor_marketlab_binance"
BYBIT_DIR = "03_mohsenjfar_trade_bybit"
OKX_DIR = "05_huckhuck12_okx"
DEFAULT_START = "2024-12-31"
REAL_EXCHANGES = ("binance", "bybit", "okx")

Progress = Callable[[str, int, int], None]


def _has_real_data(path: Path) -> bool:
    return path.is_dir() and any((path / d).is_dir() for d in (BINANCE_DIR, BYBIT_DIR, OKX_DIR))


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
) -> tuple[list[pd.DataFrame], list[pd.DataFrame]]:
    """Funding and kline frames of one exchange's freqtrade folder."""
    folder = root / {"binance": BINANCE_DIR, "bybit": BYBIT_DIR, "okx": OKX_DIR}[exchange]
    fut = folder / "futures"
    funding, klines = [], []
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
    if spot and (folder / "spot").is_dir():
        for symbol, path in _files(folder / "spot", "*-1h.feather", symbols):
            klines.append(read_klines(path, exchange, "spot", 60, symbol))
    return funding, klines


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
    """Load the hourly real set (Binance perp+spot, Bybit perp; OKX mark on request).

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
    funding_parts, kline_parts = [], []
    for i, exchange in enumerate(exchanges):
        if progress:
            progress(exchange, i, len(exchanges))
        f, k = _venue_frames(base, exchange, wanted, spot)
        funding_parts += f
        kline_parts += k
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
    details.update({"kind": "real", "root": str(base), "missing": missing})
    return MarketData(
        funding=funding,
        klines=klines,
        source=f"real(shared data: {', '.join(exchanges)})",
        synthetic=False,
        details=details,
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
    return pd.concat(parts, ignore_index=True)[list(columns)]


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
