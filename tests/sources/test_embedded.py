"""The embedded default: real data when present, synthetic otherwise, sized for `arbscore run`."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from arbscore.data_tools.sources import EmbeddedDataConfig, load_embedded_market
from arbscore.data_tools.sources.embedded import (
    DEFAULT_ENTRY_STRIDE_MINUTES,
    DEFAULT_EXCHANGES,
    DEFAULT_SYMBOLS,
    REAL_LAYOUT,
    REAL_VENUE_START,
)
from arbscore.data_tools.sources.real import ENV_VAR
from tests.sources.conftest import needs_real_data

SHORT = {"start": "2025-10-01", "end": "2025-11-01"}


def test_synthetic_fallback_when_no_data(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(ENV_VAR, str(tmp_path))  # a folder without the real sets
    m = load_embedded_market(EmbeddedDataConfig(**SHORT))
    assert m.synthetic is True and m.source.startswith("synthetic(seed=0)")
    assert m.details["embedded"]["source"] == "synthetic"
    assert "no real data" in m.details["embedded"]["why"]
    k = m.klines
    assert set(k[k["market"] == "spot"]["exchange"]) == {"binance"}  # mirrors the real layout
    assert set(k["exchange"]) == {"binance", "bybit", "hyperliquid"}
    assert (k["interval_minutes"] == 60).all()
    assert k["open_time"].min() == pd.Timestamp("2025-10-01", tz="UTC")
    assert k["open_time"].max() == pd.Timestamp("2025-10-31 23:00", tz="UTC")


def test_synthetic_mirror_of_the_default_universe(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """>= 12 symbols, three venues, Hyperliquid hourly from its first real day, real listings."""
    monkeypatch.setenv(ENV_VAR, str(tmp_path))
    m = load_embedded_market()
    k, f = m.klines, m.funding
    assert m.synthetic and k["symbol"].nunique() >= 12 and len(DEFAULT_SYMBOLS) >= 12
    assert set(k["exchange"]) == set(f["exchange"]) == {"binance", "bybit", "hyperliquid"}
    listed = k.groupby(["exchange", "market"])["symbol"].unique()
    for (ex, market), symbols in REAL_LAYOUT.items():
        assert set(listed[(ex, market)]) == set(symbols), (ex, market)
    per = f.groupby("exchange")["interval_hours"].agg(set)
    assert per["hyperliquid"] == {1} and 1 not in per["binance"] | per["bybit"]
    hl = f[f["exchange"] == "hyperliquid"]
    assert hl["funding_time"].min() == pd.Timestamp(REAL_VENUE_START["hyperliquid"], tz="UTC")
    assert k.loc[k["exchange"] == "binance", "open_time"].min() == pd.Timestamp(
        "2024-12-31", tz="UTC"
    )
    assert m.details["config"]["entry_stride_minutes"] == DEFAULT_ENTRY_STRIDE_MINUTES


def test_real_required_but_absent(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(ENV_VAR, str(tmp_path))
    with pytest.raises(FileNotFoundError, match="synthetic"):
        load_embedded_market(EmbeddedDataConfig(source="real", **SHORT))


@needs_real_data
def test_auto_uses_real_data(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_VAR, raising=False)
    m = load_embedded_market(EmbeddedDataConfig(**SHORT))
    assert m.synthetic is False and m.details["embedded"]["source"] == "real"
    assert set(m.details["symbols"]) == set(DEFAULT_SYMBOLS)
    others = {
        ex: sorted(set(DEFAULT_SYMBOLS) - set(REAL_LAYOUT[(ex, "perp")]))
        for ex in ("bybit", "hyperliquid")
    }
    assert m.details["missing"] == {"binance": ["WIFUSDT"], **others}  # Binance WIF ends 2025-02
    assert m.klines["open_time"].min() >= pd.Timestamp("2025-10-01", tz="UTC")
    assert m.klines["open_time"].max() < pd.Timestamp("2025-11-01", tz="UTC")
    assert "binance:spot:BTCUSDT" in m.details["kline_series"]
    assert "hyperliquid:perp:BTCUSDT" in m.details["estimates"]


def _pairs(klines: pd.DataFrame) -> dict[tuple[str, str, str], tuple[pd.Timestamp, pd.Timestamp]]:
    """(strategy, symbol, venues) -> the window both legs have bars."""
    span = klines.groupby(["exchange", "market", "symbol"])["open_time"].agg(["min", "max"])
    out = {}
    for (ex, market, sym), row in span.iterrows():
        if market == "spot" and (ex, "perp", sym) in span.index:
            perp = span.loc[(ex, "perp", sym)]
            out[("spot_perp", sym, ex)] = (
                max(row["min"], perp["min"]),
                min(row["max"], perp["max"]),
            )
    perps = span.xs("perp", level="market")
    for sym in set(perps.index.get_level_values("symbol")):
        venues = sorted(perps.xs(sym, level="symbol").index)
        for i, a in enumerate(venues):
            for b in venues[i + 1 :]:
                ra, rb = perps.loc[(a, sym)], perps.loc[(b, sym)]
                lo, hi = max(ra["min"], rb["min"]), min(ra["max"], rb["max"])
                if hi > lo:
                    out[("perp_perp", sym, f"{a}/{b}")] = (lo, hi)
    return out


@needs_real_data
def test_default_is_every_symbol_with_both_legs(shared_root: Path) -> None:
    """What the data holds with a pair, on the default venues: exactly DEFAULT_SYMBOLS."""
    from arbscore.data_tools.sources import load_shared_market

    everything = load_shared_market(shared_root, exchanges=DEFAULT_EXCHANGES)
    assert {sym for _, sym, _ in _pairs(everything.klines)} == set(DEFAULT_SYMBOLS)


@needs_real_data
def test_default_size_fits_the_run_budget() -> None:
    """Pair-hours on the default stride with the 720 h horizon x 12 holds bound the rows: 471k
    if every pair-hour were an entry; detection keeps ~76 % (benchmarks/universe_size.py
    measured 358,932 rows). The bound stays inside 300k-550k, the run's budget."""
    m = load_embedded_market()
    stride_h = EmbeddedDataConfig().entry_stride_minutes / 60
    hours = 0.0
    for lo, hi in _pairs(m.klines).values():
        hours += max((hi - lo).total_seconds() / 3600 - 720 - 72, 0.0)  # horizon and warm-up
    rows = hours / stride_h * 12
    assert 300_000 <= rows <= 550_000, rows
    venues = {v.split("/")[-1] for _, _, v in _pairs(m.klines)} | {"binance"}
    assert venues == {"binance", "bybit", "hyperliquid"}


def test_synthetic_on_request_ignores_real_data() -> None:
    m = load_embedded_market(EmbeddedDataConfig(source="synthetic", symbols=("BTCUSDT",), **SHORT))
    assert m.synthetic and m.details["embedded"]["why"] == "source='synthetic'"
    assert set(m.klines["symbol"]) == {"BTCUSDT"}


def test_config_errors_name_the_field() -> None:
    with pytest.raises(ValueError, match="source"):
        EmbeddedDataConfig(source="web")
    with pytest.raises(ValueError, match="after start"):
        EmbeddedDataConfig(start="2025-06-01", end="2025-01-01")
    with pytest.raises(ValueError, match="symbols"):
        EmbeddedDataConfig(symbols=())
    with pytest.raises(ValueError, match="start/end"):
        EmbeddedDataConfig(start="not a date")
    with pytest.raises(ValueError, match="entry_stride_minutes"):
        EmbeddedDataConfig(entry_stride_minutes=90)
