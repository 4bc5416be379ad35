"""Paper A/B on live rows from the replay exchange, with a real bundle."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from arbscore.evaluation.config import EvaluationConfig
from arbscore.ops.live_opps import live_opportunities, realise
from arbscore.ops.paper import PaperConfig, block_bootstrap, paper_trade
from arbscore.serve.scorer import Scorer


def test_block_bootstrap_interval():
    config = PaperConfig(bootstrap=500)
    assert block_bootstrap(np.zeros(12), config) == (0.0, 0.0)
    lo, hi = block_bootstrap(np.full(12, 0.01), config)
    assert lo == pytest.approx(0.12) and hi == pytest.approx(0.12)
    rng = np.random.default_rng(0)
    noisy = rng.normal(0, 0.01, 40)
    lo, hi = block_bootstrap(noisy, config)
    assert lo < noisy.sum() < hi and lo < 0 < hi


def test_both_strategies_same_rules_and_realised_trades(live_frame, ops_bundle):
    rules = EvaluationConfig(
        top_k=2,
        capital_usd=40_000,
        position_usd=10_000,
        min_success_probability=0.0,
        min_expected_profit_pct=-1e9,
    )
    config = PaperConfig(rules=rules, max_hold_hours=12, bootstrap=300)
    result = paper_trade(live_frame, Scorer(ops_bundle), config)
    assert set(result.strategies) == {"ml", "rule_based"}
    last = pd.to_datetime(live_frame["snapshot_time"], utc=True).max()
    assert result.end == last and result.start <= last - pd.Timedelta(hours=12)
    opp = live_opportunities(live_frame)
    ml = result.strategies["ml"]
    assert len(ml.trades) > 0  # permissive entry rule: the ML side trades
    for name, r in result.strategies.items():
        t = r.trades
        assert r.equity["equity"].iloc[0] == 1.0
        assert t["hold_hours"].isin([1, 4, 8, 12]).all()  # the grid, capped
        # capital: never more than 4 positions open; one position per symbol at a time
        for entry in t["entry_ms"]:
            open_ = t[(t["entry_ms"] <= entry) & (t["exit_ms"] > entry)]
            assert len(open_) <= 4 and open_["symbol"].is_unique, name
        # every trade's PnL is what the live rows realise for that candidate and hold
        for row in t.head(5).itertuples():
            cands = opp[
                (opp["timestamp"].dt.as_unit("ms").astype("int64") == row.entry_ms)
                & (opp["symbol"] == row.symbol)
            ]
            values = realise(cands, live_frame, row.hold_hours)
            assert np.any(np.isclose(values, row.realised_pct)), name
        m = r.metrics
        assert m["net_return"] == pytest.approx(t["pnl_usd"].sum() / 40_000)
    d = result.difference
    assert d["net_return_diff"] == pytest.approx(
        result.strategies["ml"].metrics["net_return"]
        - result.strategies["rule_based"].metrics["net_return"]
    )
    assert d["ci_low"] <= d["ci_high"] and "interval" in d["statement"]
    assert result.summary()["strategies"]["ml"]["trades"] == len(ml.trades)


def test_too_little_live_data_is_a_clear_error(live_frame, ops_bundle):
    with pytest.raises(ValueError, match="max_hold_hours"):
        paper_trade(live_frame, Scorer(ops_bundle), PaperConfig(max_hold_hours=48))
