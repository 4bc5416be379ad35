"""The labelled set end to end: schema, per-opportunity labels, CSV round trip, the CLI."""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from arbscore.cli import app
from arbscore.data_tools.costs import CostConfig, FeeSchedule
from arbscore.data_tools.dataset_files import load_training_data
from arbscore.data_tools.opportunities import OpportunityConfig
from arbscore.data_tools.simulate import SimulationConfig
from arbscore.data_tools.sources.synthetic import SyntheticMarketConfig, generate_synthetic_market
from arbscore.data_tools.training_set import (
    TrainingSetConfig,
    build_training_set,
    load_marks,
    write_training_set,
)
from arbscore.schema import (
    GUIDE_CSV_REQUIRED_COLUMNS,
    HOLD_GRID_HOURS,
    LABEL_COLUMNS,
    MARK_COLUMNS,
    MARKS_FILE_NAME,
    OPPORTUNITY_FEATURE_COLUMNS,
    OPPORTUNITY_KEY_COLUMNS,
)


@functools.cache
def _set() -> pd.DataFrame:
    market = generate_synthetic_market(
        SyntheticMarketConfig(
            seed=1, days=12, exchanges=("binance", "bybit"), symbols=("BTCUSDT", "SOLUSDT")
        )
    )
    calls = []
    config = TrainingSetConfig(simulation=SimulationConfig(holds_hours=WEEK, horizon_hours=168))
    frame = build_training_set(market, config, progress=lambda *a: calls.append(a))
    assert {c[0] for c in calls} >= {"snapshots", "opportunities", "simulate"}
    return frame


WEEK = (1, 4, 8, 12, 24, 48, 72, 120, 168)


@functools.cache
def _month_set() -> tuple[pd.DataFrame, pd.DataFrame]:
    """The default 30-day grid on a 36-day market (one symbol, entries every 4 h), with marks."""
    market = generate_synthetic_market(
        SyntheticMarketConfig(seed=2, days=36, exchanges=("binance", "bybit"), symbols=("BTCUSDT",))
    )
    config = TrainingSetConfig(opportunities=OpportunityConfig(entry_stride_minutes=240))
    return build_training_set(market, config, marks=True)


def test_the_default_grid_reaches_30_days_and_the_marks_cover_each_day(tmp_path):
    ts, marks = _month_set()
    assert len(ts) > 0
    assert set(ts["hold_hours"]) == set(HOLD_GRID_HOURS) and max(HOLD_GRID_HOURS) == 720
    assert ts["optimal_hold_hours"].between(5 / 60, 720).all()
    beyond = ts.loc[ts["optimal_hold_hours"] > 168, "optimal_hold_hours"]
    assert (beyond == beyond.round()).all()  # hourly path past a week
    assert (ts["signal_exit_hours"] <= 720).all() and ts["signal_exit_hours"].notna().all()
    assert ts["fund_profit_8h"].gt(0).all()  # min_edge: no zero- or negative-edge rows
    assert list(marks.columns) == list(MARK_COLUMNS)
    per_opp = marks.groupby("opportunity_id")["day"].agg(["min", "max", "count"])
    assert (per_opp["min"] == 1).all() and (per_opp["max"] == 30).all()
    assert (per_opp["count"] == 30).all()
    assert set(per_opp.index) == set(ts["opportunity_id"])
    # the day-30 mark is the 720 h hold's profit; the day-7 mark the 168 h one
    at = ts.set_index(["opportunity_id", "hold_hours"])["actual_profit_pct"]
    m = marks.set_index(["opportunity_id", "day"])["mark_pct"]
    for day, hold in ((7, 168), (30, 720)):
        ids = per_opp.index
        np.testing.assert_allclose(
            m.loc[[(i, day) for i in ids]].to_numpy(), at.loc[[(i, hold) for i in ids]].to_numpy()
        )
    path = write_training_set(ts, tmp_path / "set" / "training_data.parquet", marks=marks)
    back = pd.read_parquet(path.parent / MARKS_FILE_NAME)
    assert len(back) == len(marks)
    # the set as the book loads it and its marks key opportunities by the same int64 ids
    loaded, loaded_marks = load_training_data(path), load_marks(path)
    assert loaded["opportunity_id"].dtype == loaded_marks["opportunity_id"].dtype == np.int64
    assert set(loaded_marks["opportunity_id"]) == set(loaded["opportunity_id"])
    assert ts["opportunity_id"].dtype == marks["opportunity_id"].dtype == np.int64
    # an older set keyed by name (and its marks) loads to the same ids
    named = ts.assign(opportunity_id=ts["opportunity_key"])
    old = write_training_set(named, tmp_path / "old" / "training_data.parquet", marks=marks)
    key_of = dict(zip(ts["opportunity_id"], ts["opportunity_key"], strict=False))
    pd.DataFrame(
        {
            "opportunity_id": marks["opportunity_id"].map(key_of),
            **{c: marks[c] for c in MARK_COLUMNS[1:]},
        }
    ).to_parquet(old.parent / MARKS_FILE_NAME, index=False)
    assert set(load_marks(old)["opportunity_id"]) == set(load_training_data(old)["opportunity_id"])
    assert set(load_training_data(old)["opportunity_id"]) == set(ts["opportunity_id"])


def test_schema_units_and_per_opportunity_labels():
    ts = _set()
    assert len(ts) > 1000
    needed = (
        *OPPORTUNITY_KEY_COLUMNS,
        *OPPORTUNITY_FEATURE_COLUMNS,
        "hold_hours",
        *LABEL_COLUMNS,
        "data_source",
    )
    assert not [c for c in needed if c not in ts.columns]
    assert set(ts["hold_hours"]) == set(WEEK)  # full horizon: every hold fits
    assert set(ts["data_source"]) == {"synthetic"}
    assert str(ts["timestamp"].dt.tz) == "UTC"
    assert set(ts["strategy"]) == {"spot_perp", "perp_perp"}
    by_opp = ts.groupby("opportunity_id")
    assert (by_opp["optimal_hold_hours"].nunique() == 1).all()
    # the optimum over the 5-minute path is at least as good as any simulated hold
    assert (by_opp["best_profit_pct"].first() >= by_opp["actual_profit_pct"].max() - 1e-12).all()
    assert ts["optimal_hold_hours"].between(5 / 60, 168).all()
    np.testing.assert_allclose(ts["actual_profit_usd"], ts["actual_profit_pct"] * 100.0)
    assert (ts["total_fees_usd"] > 0).all() and (ts["total_slippage_pct"] > 0).all()
    assert ts["fund_apr"].to_numpy() == pytest.approx(ts["fund_profit_8h"].to_numpy() * 3 * 365)


def test_csv_round_trip_keeps_the_guide_columns(tmp_path):
    from arbscore.data_tools.dataset_files import load_training_data

    ts = _set()
    csv = write_training_set(ts, tmp_path / "training_data.csv")
    back = pd.read_csv(csv)
    assert not [c for c in GUIDE_CSV_REQUIRED_COLUMNS if c not in back.columns]
    assert list(back.columns) == list(ts.columns)
    assert back["was_profitable"].dtype == bool
    parsed = pd.to_datetime(back["timestamp"], utc=True)
    assert (parsed.to_numpy() == ts["timestamp"].to_numpy()).all()
    for name in ("actual_profit_pct", "fund_profit_8h", "peak_profit", "volume_24h"):
        assert (back[name].to_numpy() == ts[name].to_numpy()).all()  # exact round trip
    assert (back["liquidity_status"] == ts["liquidity_status"]).all()
    gz = write_training_set(ts, tmp_path / "training_data.csv.gz")
    assert len(pd.read_csv(gz)) == len(ts)
    parquet = write_training_set(ts, tmp_path / "training_data.parquet")
    a, b = load_training_data(csv), load_training_data(parquet)
    assert len(a) == len(b) == len(ts)
    np.testing.assert_allclose(a["actual_profit_pct"], b["actual_profit_pct"], rtol=1e-9)


def test_config_rejects_disagreeing_costs_and_bad_output():
    with pytest.raises(ValueError, match="costs differ"):
        TrainingSetConfig(simulation=SimulationConfig(costs=CostConfig(position_size_usd=5)))
    with pytest.raises(ValueError, match="unknown keys"):
        TrainingSetConfig(opportunities={"stride": 60})
    with pytest.raises(ValueError, match=".parquet or .csv"):
        write_training_set(_set().head(), "out.xlsx")


def test_fee_settings_load_from_config_files_old_and_new():
    old = TrainingSetConfig(
        costs={"fees": {"order_type": "maker", "rates": {"binance:perp": [0.0004, 0.0001]}}}
    )
    fees = old.simulation.costs.fees
    assert fees.entry_order == fees.exit_order == "maker"
    assert fees.rate("binance", "perp", "exit") == pytest.approx(0.0001)
    new = TrainingSetConfig(
        costs={
            "fees": {"entry_order": "maker", "bnb_discount": True, "venue_tiers": {"binance": 3}}
        },
        simulation={"margin": {"leverage": 3}, "signal_exit": {"window_hours": 24}},
    )
    fees = new.simulation.costs.fees
    assert fees.rate("binance", "perp", "entry") == pytest.approx(0.00012 * 0.9)
    assert fees.rate("binance", "perp", "exit") == pytest.approx(0.00032 * 0.9)
    assert fees.rate("binance", "spot", "exit") == pytest.approx(0.00075)
    assert new.simulation.margin.leverage == 3 and new.simulation.signal_exit.window_hours == 24
    assert FeeSchedule.from_dict(fees.to_dict()) == fees  # the manifest's round trip
    with pytest.raises(ValueError, match="unknown keys"):
        TrainingSetConfig(costs={"fees": {"order": "maker"}})
    with pytest.raises(ValueError, match="disagree"):
        TrainingSetConfig(costs={"fees": {"order_type": "maker", "exit_order": "taker"}})


def test_cli_simulate_and_snapshots(tmp_path):
    runner = CliRunner()
    out = tmp_path / "training_data.csv"
    result = runner.invoke(
        app,
        [
            "simulate",
            "--data",
            "synthetic",
            "--days",
            "11",
            "--symbols",
            "BTCUSDT,ETHUSDT",
            "--holds",
            "1,8,24,168",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    assert (out.parent / MARKS_FILE_NAME).exists()
    frame = pd.read_csv(out)
    assert len(frame) > 0 and "SYNTHETIC" in result.output
    snaps = tmp_path / "snaps.parquet"
    result = runner.invoke(
        app,
        [
            "snapshots",
            "--data",
            "synthetic",
            "--days",
            "4",
            "--every-minutes",
            "60",
            "--out",
            str(snaps),
        ],
    )
    assert result.exit_code == 0, result.output
    assert pd.read_parquet(snaps)["timestamp"].dt.minute.eq(0).all()
    bad = runner.invoke(
        app, ["simulate", "--data", "synthetic", "--entry-order", "vip", "--out", str(out)]
    )
    assert bad.exit_code == 2 and "entry_order" in bad.output


@pytest.mark.slow
def test_embedded_real_set_has_the_planned_size():
    from arbscore.data_tools.sources.embedded import EmbeddedDataConfig, load_embedded_market
    from arbscore.data_tools.sources.real import find_shared_data

    if find_shared_data() is None:
        pytest.skip("real data (../shared/data or $ARBSCORE_SHARED_DATA) is absent")
    embedded = EmbeddedDataConfig(source="real")  # the run uses the embedded entry stride
    stride = OpportunityConfig(entry_stride_minutes=embedded.entry_stride_minutes)
    ts = build_training_set(load_embedded_market(embedded), TrainingSetConfig(opportunities=stride))
    assert 200_000 <= len(ts) <= 400_000
    assert set(ts["data_source"]) == {"real"}
