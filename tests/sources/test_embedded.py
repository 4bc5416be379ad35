"""The embedded default: real data when present, synthetic otherwise, sized for `arbscore run`."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from arbscore.data_tools.sources import EmbeddedDataConfig, load_embedded_market
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
    assert set(k["exchange"]) == {"binance", "bybit"}
    assert (k["interval_minutes"] == 60).all()
    assert k["open_time"].min() == pd.Timestamp("2025-10-01", tz="UTC")
    assert k["open_time"].max() == pd.Timestamp("2025-10-31 23:00", tz="UTC")


def test_real_required_but_absent(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(ENV_VAR, str(tmp_path))
    with pytest.raises(FileNotFoundError, match="synthetic"):
        load_embedded_market(EmbeddedDataConfig(source="real", **SHORT))


@needs_real_data
def test_auto_uses_real_data(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_VAR, raising=False)
    m = load_embedded_market(EmbeddedDataConfig(**SHORT))
    assert m.synthetic is False and m.details["embedded"]["source"] == "real"
    assert set(m.details["symbols"]) == {"BTCUSDT", "ETHUSDT", "SOLUSDT", "BNBUSDT", "XRPUSDT"}
    assert m.details["missing"] == {"bybit": ["XRPUSDT"]}
    assert m.klines["open_time"].min() >= pd.Timestamp("2025-10-01", tz="UTC")
    assert m.klines["open_time"].max() < pd.Timestamp("2025-11-01", tz="UTC")
    assert "binance:spot:BTCUSDT" in m.details["kline_series"]


@needs_real_data
def test_default_size_fits_the_run_budget() -> None:
    """Six months, 5 symbols: the pipeline's ~9 opportunities/h x 9 holds stays ~200k-400k rows."""
    m = load_embedded_market()
    hours = (pd.Timestamp(m.details["end"]) - pd.Timestamp(m.details["start"])).total_seconds()
    hours /= 3600
    spot_perp = m.klines[m.klines["market"] == "spot"]["symbol"].nunique()
    perps = m.klines[m.klines["market"] == "perp"].groupby("symbol")["exchange"].nunique()
    perp_perp = int((perps >= 2).sum())
    rows = (spot_perp + perp_perp) * 9 * hours
    assert 200_000 <= rows <= 400_000, rows


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
