"""``arbscore import``: funding events and klines from CSV/Parquet files into the store.

Layouts are recognised by their header (see ``LAYOUTS``): our own columns, the Binance bulk
downloads (data.binance.vision funding ``calc_time,funding_interval_hours,last_funding_rate``
and the 12-column kline CSV, with or without header), and Bybit/OKX files that use the v5 API
field names. Every file is validated whole before anything is written; a bad row is reported
as ``file:line: column problem``, and each file is stored in one transaction, so a file is
never stored half. When any file is bad, no file is stored.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from arbscore.data_tools.collect.backfill import interval_hours
from arbscore.data_tools.file_errors import READ_ERRORS, read_error
from arbscore.data_tools.store import FUNDING, KLINES, MarketStore, TableSpec
from arbscore.errors import UserInputError
from arbscore.schema import EXCHANGES, FUNDING_COLUMNS, KLINE_COLUMNS, MARKETS

BINANCE_KLINE_COLUMNS = (
    "open_time",
    "open",
    "high",
    "low",
    "close",
    "volume",
    "close_time",
    "quote_volume",
    "count",
    "taker_buy_volume",
    "taker_buy_quote_volume",
    "ignore",
)
#: layout name -> columns that identify it (all must be in the header)
LAYOUTS: dict[str, tuple[str, ...]] = {
    "funding": tuple(c for c in FUNDING_COLUMNS if c != "mark_price"),
    "klines": tuple(c for c in KLINE_COLUMNS if c not in ("volume", "quote_volume")),
    "binance_funding": ("calc_time", "funding_interval_hours", "last_funding_rate"),
    "binance_klines": BINANCE_KLINE_COLUMNS[:8],
    "bybit_funding": ("symbol", "fundingrate", "fundingratetimestamp"),
    "bybit_klines": ("starttime", "openprice", "highprice", "lowprice", "closeprice", "volume"),
    "okx_funding": ("instid", "fundingrate", "fundingtime"),
    # OKX historical-data download (snake_case); real_funding_rate preferred when present
    "okx_bulk_funding": ("instrument_name", "funding_rate", "funding_time"),
    "okx_klines": ("ts", "o", "h", "l", "c", "vol"),
}
_FILENAME = re.compile(r"^(?P<symbol>[A-Z0-9]+)-(?P<kind>fundingRate|\d+[smhdwM])-")


@dataclass(frozen=True)
class ImportOptions:
    """Facts a file may not carry itself (Binance files: exchange, sometimes market)."""

    exchange: str | None = None
    symbol: str | None = None
    market: str | None = None
    interval: str | None = None


@dataclass
class ImportResult:
    path: Path
    layout: str
    table: str
    rows: int


class _Problems:
    """Collects the first few bad rows of one file as ``file:line: message``."""

    def __init__(self, path: Path, line_offset: int | None) -> None:
        self.path, self.offset, self.items = path, line_offset, []

    def check(self, bad: pd.Series, message: str) -> None:
        for idx in np.flatnonzero(bad.to_numpy())[:3]:
            where = f"line {idx + self.offset}" if self.offset is not None else f"row {idx + 1}"
            self.items.append((int(idx), f"{self.path}:{where}: {message}"))

    def fail(self, message: str) -> None:
        self.items.append((-1, f"{self.path}: {message}"))


def import_files(
    store: MarketStore, paths: list[Path], options: ImportOptions | None = None
) -> list[ImportResult]:
    """Validate every file, then store each in its own transaction. Raises ``UserInputError``
    listing the bad rows (file and line) and stores nothing when any file is bad."""
    options = options or ImportOptions()
    if not paths:
        raise UserInputError("PATH: give at least one CSV or Parquet file")
    parsed, problems = [], []
    for path in paths:
        frame, layout, spec, found = read_file(Path(path), options)
        if found:
            problems.extend(found)
        else:
            parsed.append((Path(path), layout, spec, frame))
    if problems:
        raise UserInputError("nothing imported; fix these rows:\n" + "\n".join(problems[:20]))
    results = []
    for path, layout, spec, frame in parsed:
        store.write({spec: frame})
        results.append(ImportResult(path, layout, spec.name, len(frame)))
    return results


def read_file(path: Path, options: ImportOptions) -> tuple[pd.DataFrame, str, TableSpec, list]:
    """One file -> (frame in store columns, layout, table, problems as strings)."""
    if not path.is_file():
        raise FileNotFoundError(f"PATH: {path} does not exist")
    try:
        raw, offset = _read_raw(path)
    except UserInputError:
        raise
    except READ_ERRORS as exc:  # empty, binary or malformed: name the file
        raise read_error("PATH", path, exc) from exc
    header = {c.strip().lower() for c in raw.columns}
    layout = next((name for name, cols in LAYOUTS.items() if set(cols) <= header), None)
    problems = _Problems(path, offset)
    if layout is None:
        problems.fail(
            f"unrecognised columns {list(raw.columns)[:12]}; expected one of "
            f"{ {k: list(v) for k, v in LAYOUTS.items()} }"
        )
        return raw, "unknown", FUNDING, [m for _, m in problems.items]
    raw.columns = [c.strip().lower() for c in raw.columns]
    context = _context(path, options, layout, problems)
    if problems.items:
        return raw, layout, FUNDING, [m for _, m in problems.items]
    build = _funding if "funding" in layout else _klines
    frame, spec = build(raw, layout, context, problems)
    problems.items.sort()
    return frame, layout, spec, [m for _, m in problems.items]


def _read_raw(path: Path) -> tuple[pd.DataFrame, int | None]:
    """Text frame of the file and the line number of its first data row (None: Parquet)."""
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        return pd.read_parquet(path).astype(str), None
    if suffix not in (".csv", ".txt"):
        raise UserInputError(f"PATH: {path} is not .csv or .parquet")
    first = path.open().readline()
    if first[:1].isdigit():  # Binance kline files before 2025 have no header
        frame = pd.read_csv(path, header=None, dtype=str, keep_default_na=False)
        if frame.shape[1] != len(BINANCE_KLINE_COLUMNS):
            raise UserInputError(
                f"{path}: headerless file with {frame.shape[1]} columns; "
                f"expected the 12-column Binance kline layout"
            )
        frame.columns = list(BINANCE_KLINE_COLUMNS)
        return frame, 1
    return pd.read_csv(path, dtype=str, keep_default_na=False), 2


def _context(path: Path, options: ImportOptions, layout: str, problems: _Problems) -> dict:
    match = _FILENAME.match(path.name)
    exchange = options.exchange or layout.split("_")[0] if "_" in layout else options.exchange
    context = {
        "exchange": exchange,
        "symbol": options.symbol or (match["symbol"] if match else None),
        "interval": options.interval
        or (match["kind"] if match and match["kind"][0].isdigit() else None),
        "market": options.market or _market_from_path(path),
    }
    if layout in ("funding", "klines"):
        return context
    if exchange not in EXCHANGES:
        problems.fail(f"--exchange: {exchange!r}; expected one of {list(EXCHANGES)}")
    if layout in ("binance_funding", "binance_klines", "bybit_klines") and not context["symbol"]:
        problems.fail("symbol unknown: name the file like BTCUSDT-5m-2025-01.csv or give --symbol")
    if layout.endswith("klines"):
        if not context["interval"]:
            problems.fail("kline interval unknown: name the file SYMBOL-5m-... or give --interval")
        if layout != "okx_klines" and context["market"] not in MARKETS:
            problems.fail("market unknown: put the file under spot/ or futures/, or give --market")
    return context


def _market_from_path(path: Path) -> str | None:
    parts = {p.lower() for p in path.parts}
    if "spot" in parts:
        return "spot"
    if parts & {"futures", "um", "perp", "swap"}:
        return "perp"
    return None


#: the earliest time a market row may carry (before any exchange this imports traded perps)
EARLIEST_TIME = pd.Timestamp("2010-01-01", tz="UTC")
#: the longest kline interval accepted, in minutes (a 30-day bar)
MAX_INTERVAL_MINUTES = 30 * 24 * 60
_EPOCH_UNITS = ((1e11, "s"), (1e14, "ms"), (1e17, "us"), (9.2e18, "ns"))


def _times(values: pd.Series) -> tuple[pd.Series, pd.Series, str | None]:
    """Epoch numbers or ISO text -> (UTC times, NaT where unparseable; rows whose epoch unit
    differs from the file's; the file's unit). The unit (s, ms, us, ns) is judged per value by
    its size and the file's is the most common one: a seconds value among milliseconds is
    flagged, not read as a date in 1970."""
    numeric = pd.to_numeric(values, errors="coerce")
    none = pd.Series(False, index=values.index)
    if not (numeric.notna().all() and len(values)):
        return pd.to_datetime(values, utc=True, errors="coerce", format="mixed"), none, None
    size = numeric.abs().to_numpy()
    units = np.select([size < bound for bound, _ in _EPOCH_UNITS], [u for _, u in _EPOCH_UNITS], "")
    unit = pd.Series(units[units != ""]).mode()
    if unit.empty:
        return pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns, UTC]"), none, None
    fits = pd.Series(units != "", index=values.index)
    ints = numeric.where(fits, 0).astype("int64")
    times = pd.to_datetime(ints, unit=unit[0], utc=True, errors="coerce").where(fits)
    return times, pd.Series(fits & (units != unit[0]), index=values.index), str(unit[0])


def _check_times(
    times: pd.Series, odd: pd.Series, unit: str | None, name: str, problems: _Problems
) -> None:
    """Unparseable times, an epoch unit unlike the file's, and times outside
    [EARLIEST_TIME, tomorrow] are problems naming the row."""
    problems.check(times.isna(), f"{name} is not a timestamp")
    problems.check(
        odd, f"{name} is an epoch number in another unit than the rest of the file ({unit})"
    )
    latest = pd.Timestamp.now(tz="UTC") + pd.Timedelta(days=1)
    problems.check(
        times.notna() & ~odd & ((times < EARLIEST_TIME) | (times > latest)),
        f"{name} is outside {EARLIEST_TIME:%Y-%m-%d} .. tomorrow (epoch 0, negative or far future)",
    )


def _num(frame: pd.DataFrame, column: str) -> pd.Series:
    return pd.to_numeric(frame[column].replace("", np.nan), errors="coerce").astype(float)


def _funding(raw, layout, ctx, problems) -> tuple[pd.DataFrame, TableSpec]:
    if layout == "funding":
        out = raw.reindex(columns=list(FUNDING_COLUMNS), fill_value="")
        times = _times(raw["funding_time"])
        out["funding_time"] = times[0]
        out["rate"] = _num(raw, "rate")
        out["interval_hours"] = _num(raw, "interval_hours")
        out["mark_price"] = _num(out, "mark_price")
    else:
        time_col, rate_col = {
            "binance_funding": ("calc_time", "last_funding_rate"),
            "bybit_funding": ("fundingratetimestamp", "fundingrate"),
            "okx_funding": (
                "fundingtime",
                "realizedrate" if "realizedrate" in raw else "fundingrate",
            ),
            "okx_bulk_funding": (
                "funding_time",
                "real_funding_rate" if "real_funding_rate" in raw else "funding_rate",
            ),
        }[layout]
        times = _times(raw[time_col])
        out = pd.DataFrame(
            {
                "exchange": ctx["exchange"],
                "funding_time": times[0],
                "rate": _num(raw, rate_col),
                "mark_price": np.nan,
            },
            index=raw.index,
        )
        if layout in ("okx_funding", "okx_bulk_funding"):
            inst = raw["instid" if layout == "okx_funding" else "instrument_name"]
            out["symbol"] = inst.str.replace("-SWAP", "").str.replace("-", "")
        elif layout == "bybit_funding":
            out["symbol"] = raw["symbol"]
        else:
            out["symbol"] = ctx["symbol"]
        if layout == "binance_funding":
            out["interval_hours"] = _num(raw, "funding_interval_hours")
        else:
            out["interval_hours"] = _derived_intervals(out)
    _check_times(out["funding_time"], times[1], times[2], "funding time", problems)
    # exchanges stamp settlements with ms jitter (...00:00.006); backfill floors to the second
    # too, so the same event imported and fetched has one key
    out["funding_time"] = out["funding_time"].dt.floor("s")
    problems.check(
        ~np.isfinite(out["rate"]) | (out["rate"].abs() >= 1),
        "rate is not a decimal rate below 1 in size (0.0001 = 0.01 %)",
    )
    problems.check(
        ~(out["interval_hours"] > 0) | (out["interval_hours"] > 24),
        "interval_hours must be in (0, 24]",
    )
    _check_names(out, problems)
    return out.loc[:, list(FUNDING_COLUMNS)], FUNDING


def _derived_intervals(frame: pd.DataFrame) -> pd.Series:
    """Each row's interval from its neighbours in the file (per symbol); NaN if alone."""
    out = pd.Series(np.nan, index=frame.index)
    valid = frame.dropna(subset=["funding_time"]).sort_values("funding_time")
    for _, group in valid.groupby("symbol"):
        times = [int(t.value // 1_000_000) for t in group["funding_time"]]
        if len(times) > 1:
            out.loc[group.index] = interval_hours(times, None, None)
    return out


def _klines(raw, layout, ctx, problems) -> tuple[pd.DataFrame, TableSpec]:
    names = {  # store column -> file column
        "binance_klines": dict(
            open_time="open_time",
            open="open",
            high="high",
            low="low",
            close="close",
            volume="volume",
            quote_volume="quote_volume",
        ),
        "bybit_klines": dict(
            open_time="starttime",
            open="openprice",
            high="highprice",
            low="lowprice",
            close="closeprice",
            volume="volume",
            quote_volume="turnover",
        ),
        "okx_klines": dict(
            open_time="ts",
            open="o",
            high="h",
            low="l",
            close="c",
            volume="volccy",
            quote_volume="volccyquote",
        ),
        "klines": {c: c for c in KLINE_COLUMNS[3:] if c != "interval_minutes"},
    }[layout]
    out = pd.DataFrame(index=raw.index)
    times = _times(raw[names.pop("open_time")])
    out["open_time"] = times[0]
    for column, source in names.items():
        out[column] = _num(raw, source) if source in raw else np.nan
    if layout == "klines":
        for column in ("exchange", "symbol", "market"):
            out[column] = raw[column]
        out["interval_minutes"] = _num(raw, "interval_minutes")
    else:
        out["exchange"], out["symbol"] = ctx["exchange"], ctx["symbol"]
        if layout == "okx_klines":
            out["market"] = np.where(
                raw.get("instid", pd.Series("", index=raw.index)).str.endswith("-SWAP"),
                "perp",
                ctx["market"] or "spot",
            )
            if "instid" in raw:
                out["symbol"] = raw["instid"].str.replace("-SWAP", "").str.replace("-", "")
        else:
            out["market"] = ctx["market"]
        out["interval_minutes"] = pd.Timedelta(_interval(ctx["interval"])).total_seconds() / 60
    prices = out[["open", "high", "low", "close"]]
    _check_times(out["open_time"], times[1], times[2], "open_time", problems)
    problems.check(
        ~np.isfinite(prices).all(axis=1) | (prices <= 0).any(axis=1),
        "open/high/low/close must be positive numbers",
    )
    problems.check(
        (out["high"] < prices.max(axis=1)) | (out["low"] > prices.min(axis=1)),
        "high/low do not bound open and close",
    )
    problems.check(out["volume"] < 0, "volume is negative")
    minutes = out["interval_minutes"]
    problems.check(
        ~((minutes >= 1) & (minutes <= MAX_INTERVAL_MINUTES) & (minutes == minutes.round())),
        f"interval_minutes must be a whole number of minutes in 1..{MAX_INTERVAL_MINUTES}",
    )
    problems.check(~out["market"].isin(MARKETS), f"market must be one of {list(MARKETS)}")
    _check_names(out, problems)
    out["interval_minutes"] = out["interval_minutes"].fillna(0).astype("int64")
    return out.loc[:, list(KLINE_COLUMNS)], KLINES


def _interval(text: str) -> str:
    unit = {"m": "min", "h": "h", "d": "D", "w": "W"}.get(text[-1])
    if unit is None or not text[:-1].isdigit():
        raise UserInputError(f"--interval: {text!r} is not like 1m, 5m, 1h, 1d")
    return text[:-1] + unit


def _check_names(out: pd.DataFrame, problems: _Problems) -> None:
    problems.check(~out["exchange"].isin(EXCHANGES), f"exchange must be one of {list(EXCHANGES)}")
    symbol = out["symbol"].fillna("").astype(str)
    problems.check(~symbol.str.fullmatch(r"[A-Z0-9]+"), "symbol must be canonical like BTCUSDT")
