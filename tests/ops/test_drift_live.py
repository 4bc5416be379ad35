"""PSI and the drift report; live opportunities and realised outcomes on hand-made live rows."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from arbscore.data_tools.costs import CostConfig
from arbscore.export.reference import reference_from_matrix
from arbscore.ops.drift import (
    DriftConfig,
    DriftMonitor,
    bin_shares,
    drift_report,
    psi,
)
from arbscore.ops.live_opps import live_opportunities, realise, realised_optimal_hold, records


def test_psi_hand_values_and_symmetry_of_zero():
    assert psi([0.5, 0.5], [0.5, 0.5]) == 0.0
    # (0.3-0.5)ln(0.3/0.5) + (0.7-0.5)ln(0.7/0.5)
    assert psi([0.5, 0.5], [0.3, 0.7]) == pytest.approx(-0.2 * math.log(0.6) + 0.2 * math.log(1.4))
    assert math.isnan(psi([0.5, 0.5], [np.nan, np.nan]))
    with pytest.raises(ValueError, match="bins"):
        psi([0.5, 0.5], [1.0])


def test_reference_bins_and_report_levels():
    rng = np.random.default_rng(0)
    X = np.column_stack([rng.normal(0, 1, 5000), rng.integers(0, 2, 5000), rng.normal(0, 1, 5000)])
    names = ["a", "onehot", "hold_hours"]
    ref = reference_from_matrix(X, names, {"profit": X[:, 0]})
    assert len(ref["features"]["a"]["shares"]) == 10  # deciles
    assert len(ref["features"]["onehot"]["shares"]) == 2  # unique edges: one cut for 0/1
    same = drift_report(ref, X[:2000], names, {"profit": X[:2000, 0]})
    assert same.status == "ok" and same.features["a"] < 0.01
    assert "hold_hours" not in same.features  # the server sets it to the predicted hold
    shifted = X[:2000].copy()
    shifted[:, 0] += 1.0  # one standard deviation
    report = drift_report(ref, shifted, names, {"profit": shifted[:, 0]})
    assert report.features["a"] > 0.25 and report.status == "alert"
    assert report.worst_feature[0] == "a" and report.features["onehot"] < 0.01
    mild = DriftConfig(warn_psi=0.1, alert_psi=10.0)
    assert drift_report(ref, shifted, names, {}, mild).status == "warn"
    assert bin_shares([0.0], np.array([-1.0, 1.0, 2.0, np.nan])).tolist() == [1 / 3, 2 / 3]
    with pytest.raises(ValueError, match="warn_psi"):
        DriftConfig(warn_psi=0.3, alert_psi=0.2)
    with pytest.raises(ValueError, match="no drift reference"):
        drift_report({}, X, names, {})


class _FakeScorer:  # the monitor only reads these attributes of a Scorer
    def __init__(self, ref, names):
        self.model_version, self.manifest = "v1", {"reference": ref}
        self.spec = type("S", (), {"feature_names": names})()

    def features(self, records):
        return np.array([[r["a"], r["onehot"], 1.0] for r in records]), None


def test_monitor_gauges_render_after_min_rows():
    rng = np.random.default_rng(1)
    X = np.column_stack([rng.normal(0, 1, 3000), rng.integers(0, 2, 3000), np.ones(3000)])
    names = ("a", "onehot", "hold_hours")
    ref = reference_from_matrix(X, names, {"profit": X[:, 0], "success": X[:, 1]})
    mon = DriftMonitor(DriftConfig(min_rows=20, window=100))
    scorer = _FakeScorer(ref, names)
    recs = [{"a": float(v) + 3.0, "onehot": 0} for v in rng.normal(0, 1, 10)]
    preds = [
        {"predicted_profit_pct": 3.0, "success_probability": 0.0, "predicted_hold_hours": 8.0}
    ] * 10
    mon(scorer, recs, preds)
    assert "arbscore_drift_status -1" in mon.render()  # 10 < min_rows
    mon(scorer, recs * 2, preds * 2)
    text = mon.render()
    assert "arbscore_drift_status 2" in text
    assert 'arbscore_feature_psi{feature="a"}' in text
    assert 'arbscore_prediction_psi{head="profit"}' in text
    scorer.model_version = "v2"  # a reload: drift is measured against the new model only
    mon(scorer, recs, preds)
    assert "arbscore_drift_rows 10" in mon.render()


# --- live opportunities and realised outcomes -------------------------------------------------
T0 = pd.Timestamp("2026-01-05 00:00", tz="UTC")


def _row(t, market, bid, ask, rate=None, nxt=None, exchange="binance", symbol="BTCUSDT"):
    return {
        "exchange": exchange,
        "symbol": symbol,
        "market": market,
        "snapshot_time": T0 + pd.Timedelta(hours=t),
        "fetched_at": T0 + pd.Timedelta(hours=t),
        "funding_rate": rate,
        "predicted_funding_rate": rate,  # the hand rows: settled = predicted
        "interval_hours": 8.0 if market == "perp" else None,
        "next_funding_time": None if nxt is None else T0 + pd.Timedelta(hours=nxt),
        "mark_price": (bid + ask) / 2,
        "index_price": None,
        "last_price": (bid + ask) / 2,
        "bid": bid,
        "ask": ask,
        "spread_pct": 0.2,
        "bid_depth_usd": 5e6,
        "ask_depth_usd": 4e6,
        "depth_band_pct": 0.5,
        "quote_volume_24h": 2e9,
        "source": "live",
    }


def _hand_live() -> pd.DataFrame:
    rows = [
        _row(0, "spot", 99.9, 100.1),
        _row(0, "perp", 100.9, 101.1, 0.001, 1),
        _row(1, "spot", 99.9, 100.1),
        _row(1, "perp", 100.9, 101.1, 0.0005, 9),
        _row(2, "spot", 109.9, 110.1),
        _row(2, "perp", 110.9, 111.1, 0.0005, 9),
    ]
    return pd.DataFrame(rows)


def test_spot_perp_features_from_the_book():
    opp = live_opportunities(_hand_live())
    first = opp[opp["timestamp"] == T0].iloc[0]
    assert (first["strategy"], first["long_market"], first["short_market"]) == (
        "spot_perp",
        "spot",
        "perp",
    )
    assert first["fund_profit_8h"] == pytest.approx(0.1)  # 0.001 per 8 h = 0.1 %
    assert first["fund_apr"] == pytest.approx(0.001 / 8 * 24 * 365 * 100)
    fees = CostConfig().fees
    cost = 2 * (fees.rate("binance", "spot") + fees.rate("binance", "perp")) * 100 + 0.4
    assert first["round_trip_cost_pct"] == pytest.approx(cost)
    assert first["break_even_hours"] == pytest.approx(cost / (0.001 / 8 * 100))
    assert first["orderbook_depth"] == 4e6 and first["bid_ask_spread"] == pytest.approx(0.2)
    rec = records(opp.head(1))[0]
    assert rec["symbol"] == "BTCUSDT" and "spread_volatility_cv" not in rec  # NaN dropped


def test_realise_funding_price_fees_and_spread_by_hand():
    live = _hand_live()
    opp = live_opportunities(live)
    opp = opp[opp["timestamp"] == T0].reset_index(drop=True)
    fees = CostConfig().fees
    fee_pct = 2 * (fees.rate("binance", "spot") + fees.rate("binance", "perp")) * 100
    # 2 h: the 01:00 settlement at the rate published before it (0.1 %), spot +10 %, perp
    # short loses 110/101 - 1; half of four 0.2 % spreads
    price = ((110 / 100 - 1) - (111 / 101 - 1)) * 100
    expected_2h = 0.1 + price - fee_pct - 0.4
    got = realise(opp, live, np.array([2.0]))
    assert got[0] == pytest.approx(expected_2h)
    assert realise(opp, live, 1.0)[0] == pytest.approx(0.1 - fee_pct - 0.4)  # paid in (t, t+1h]
    assert np.isnan(realise(opp, live, 3.0)[0])  # no data at the exit yet
    assert np.isnan(realised_optimal_hold(opp, live)[0])  # 168 h not covered


def test_perp_perp_orientation_and_no_look_ahead(live_frame):
    opp = live_opportunities(live_frame)
    pp = opp[opp["strategy"] == "perp_perp"]
    assert len(pp) and (pp["short_hourly"] > pp["long_hourly"]).all()
    assert (pp["long_exchange"] != pp["short_exchange"]).all()
    cut = pd.to_datetime(live_frame["snapshot_time"], utc=True).min() + pd.Timedelta(hours=12)
    early = live_opportunities(
        live_frame[pd.to_datetime(live_frame["snapshot_time"], utc=True) <= cut]
    )
    cols = ["fund_profit_8h", "fund_profit_24h_proj", "fund_profit_3d_proj", "break_even_hours"]
    full = opp[opp["timestamp"] <= cut].set_index("opportunity_key", append=True)[cols]
    part = early.set_index("opportunity_key", append=True)[cols]
    pd.testing.assert_frame_equal(full.reset_index(drop=True), part.reset_index(drop=True))


def test_strategy_selection_and_perp_perp_legs():
    from arbscore.ops.live_opps import LiveOpportunityConfig

    live = _hand_live()
    only_sp = live_opportunities(live, LiveOpportunityConfig(strategies=("spot_perp",)))
    assert len(only_sp) == 3 and (only_sp["long_exchange"] == "binance").all()
    assert live_opportunities(live, LiveOpportunityConfig(strategies=("perp_perp",))).empty
    cheap = pd.DataFrame([_row(0, "perp", 100.9, 101.1, 0.0001, 1, exchange="bybit")])
    pp = live_opportunities(
        pd.concat([live, cheap]), LiveOpportunityConfig(strategies=("perp_perp",))
    )
    assert pp[["long_exchange", "short_exchange"]].values.tolist() == [["bybit", "binance"]]
    assert pp["fund_profit_8h"].iloc[0] == pytest.approx((0.001 - 0.0001) * 100)
    with pytest.raises(ValueError, match="strategies"):
        LiveOpportunityConfig(strategies=("cfff",))
