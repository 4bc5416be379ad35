"""Feature matrix: order, encodings, defined results for bad input, spec round trip."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from arbscore.data_tools.features import (
    BREAK_EVEN_CAP,
    DEFAULT_FEATURE_SPEC,
    FEATURE_NAMES,
    FeatureSpec,
    build_matrix,
    canonical_strategy,
    fit_feature_spec,
    normalise_keys,
)
from arbscore.schema import HOLD_COLUMN, OPPORTUNITY_FEATURE_COLUMNS


def _row(**over):
    row = dict(
        fund_profit_8h=0.15,
        fund_apr=54.75,
        fund_profit_24h_proj=0.12,
        fund_profit_3d_proj=0.90,
        break_even_hours=16.5,
        spread_volatility_cv=0.08,
        volume_24h=5e6,
        bid_ask_spread=0.01,
        orderbook_depth=250000,
        liquidity_status="Good",
        btc_price=58000,
        market_regime="Bull",
        hour_of_day=6,
        day_of_week=1,
        strategy="spot_perp",
        hold_hours=24,
    )
    row.update(over)
    return row


def _columns(rows):
    return {k: np.array([r.get(k) for r in rows], dtype=object) for k in rows[0]}


def _feat(X, name):
    return X[:, FEATURE_NAMES.index(name)]


def test_order_and_hold_last():
    assert FEATURE_NAMES[-1] == HOLD_COLUMN
    for name in OPPORTUNITY_FEATURE_COLUMNS:
        if name not in ("liquidity_status", "market_regime"):
            assert name in FEATURE_NAMES
    assert len(set(FEATURE_NAMES)) == len(FEATURE_NAMES)


def test_engineered_values_follow_the_guide():
    X = build_matrix(_columns([_row()]))
    assert X.dtype == np.float32 and X.shape == (1, len(FEATURE_NAMES))
    # projections are totals over 24 h / 72 h, compared per 8 h
    assert _feat(X, "rate_momentum_24h")[0] == pytest.approx((0.15 - 0.04) / 0.04, rel=1e-5)
    per8 = 0.90 / 9
    assert _feat(X, "rate_stability")[0] == pytest.approx(abs(0.15 - per8) / per8, rel=1e-5)
    assert _feat(X, "rate_trend_score")[0] == 0.0  # 8h > 3d avg but 24h avg < 3d avg
    X = build_matrix(_columns([_row(fund_profit_24h_proj=0.36, fund_profit_3d_proj=0.54)]))
    assert _feat(X, "rate_trend_score")[0] == 1.0  # 0.15 > 0.12 > 0.06 per 8 h
    X = build_matrix(_columns([_row(fund_profit_8h=0.01)]))
    assert _feat(X, "rate_trend_score")[0] == -1.0  # below the 3-day average
    assert _feat(X, "volatility_risk_score")[0] == 1.0
    assert _feat(X, "liquidity_score")[0] == 1.0
    assert _feat(X, "hour_sin")[0] == pytest.approx(1.0, abs=1e-6)  # 6h of 24
    assert _feat(X, "strategy_spot_perp")[0] == 1.0 and _feat(X, "strategy_perp_perp")[0] == 0.0
    assert _feat(X, "market_regime_bull")[0] == 1.0
    assert _feat(X, "risk_adjusted_return")[0] == pytest.approx(54.75 / 1.08, rel=1e-5)
    assert _feat(X, HOLD_COLUMN)[0] == 24.0


def test_defined_results_for_zero_division_missing_and_inf():
    rows = [
        _row(fund_profit_24h_proj=0.0, fund_profit_3d_proj=0.0, fund_profit_8h=0.0),
        _row(break_even_hours=np.inf, fund_apr=None, volume_24h="n/a", btc_price=np.nan),
        _row(break_even_hours=-3.0, market_regime="crab", liquidity_status=None, strategy=None),
    ]
    X = build_matrix(_columns(rows))
    assert np.isfinite(X).all()
    assert _feat(X, "rate_momentum_24h")[0] == 0.0 and _feat(X, "spread_to_profit")[0] == 0.0
    assert _feat(X, "break_even_hours")[1] == BREAK_EVEN_CAP
    assert _feat(X, "break_even_hours")[2] == BREAK_EVEN_CAP
    assert _feat(X, "fund_apr")[1] == 0.0  # the default spec's fill value
    onehot = [
        i for i, n in enumerate(FEATURE_NAMES) if n.startswith(("market_regime_", "strategy_"))
    ]
    assert X[2, onehot].sum() == 0.0  # unknown categories: all-zero one-hot
    assert _feat(X, "liquidity_score")[2] == pytest.approx(0.2)


def test_missing_columns_fill_unless_strict():
    cols = {"fund_profit_8h": np.array([0.1, 0.2]), HOLD_COLUMN: np.array([8, 8])}
    X = build_matrix(cols)
    assert X.shape == (2, len(FEATURE_NAMES)) and np.isfinite(X).all()
    with pytest.raises(ValueError, match="missing columns.*fund_apr"):
        build_matrix(cols, strict=True)
    with pytest.raises(ValueError, match="differ in length"):
        build_matrix({"fund_profit_8h": np.zeros(2), HOLD_COLUMN: np.zeros(3)})


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.none(), st.text(max_size=3)),
        min_size=1,
        max_size=8,
    )
)
def test_any_numeric_garbage_gives_finite_float32(values):
    cols = {"strategy": np.array(values, dtype=object)}
    for name, _ in DEFAULT_FEATURE_SPEC.fill_values:
        cols[name] = np.array(values, dtype=object)
    X = build_matrix(cols)
    assert X.dtype == np.float32 and np.isfinite(X).all()


def test_camel_case_keys_map_to_columns():
    body = {
        "symbol": "BTCUSDT",
        "fundProfit8h": -0.0242,
        "fundApr": -10.63,
        "volume24h": 1.5e9,
        "fundProfit24hProj": 0.01,
        "FundProfit8h3dProj": 0.02,
        "breakEvenHours": 30,
        "spreadVolatilityCv": 0.1,
        "bidAskSpreadPercent": 0.01,
        "orderbookDepth": 1e5,
        "liquidityStatus": "Good",
        "btcPrice": 60000,
        "marketRegime": "Bear",
        "hourOfDay": 3,
        "dayOfWeek": 2,
        "holdHours": 8,
        "fund_apr": -11.0,
    }
    out = normalise_keys(body)
    assert out["fund_profit_8h"] == -0.0242 and out["volume_24h"] == 1.5e9
    assert out["fund_profit_3d_proj"] == 0.02 and out["bid_ask_spread"] == 0.01
    assert out["fund_apr"] == -11.0  # an explicit snake_case key wins over its alias
    assert {"hold_hours", "hour_of_day", "market_regime", "btc_price"} <= set(out)


def test_strategy_aliases_and_guide_categories():
    assert canonical_strategy("Spot-Perp") == "spot_perp"
    assert canonical_strategy("PerpPerp") == "perp_perp"
    assert canonical_strategy(" CFFF ") == "CFFF"  # unknown meaning: kept as its own category
    spec = fit_feature_spec(_columns([_row(strategy="CFFF"), _row(strategy="spot-perp")]))
    assert spec.strategies == ("spot_perp", "perp_perp", "CFFF")
    assert spec.feature_names[-1] == HOLD_COLUMN and "strategy_cfff" in spec.feature_names
    X = build_matrix(_columns([_row(strategy="CFFF")]), spec)
    assert X[0, spec.feature_names.index("strategy_cfff")] == 1.0


def test_extra_numeric_inputs_join_when_present():
    rows = [_row(basis_pct=0.2, realised_vol_24h_pct=1.5), _row(basis_pct=0.4, basis_zscore=np.inf)]
    spec = fit_feature_spec(_columns(rows))
    assert spec.extra_numeric == ("basis_pct", "realised_vol_24h_pct")
    assert dict(spec.fill_values)["basis_pct"] == pytest.approx(0.3)
    X = build_matrix({"basis_pct": np.array([np.nan]), HOLD_COLUMN: np.array([8.0])}, spec)
    assert X[0, spec.feature_names.index("basis_pct")] == pytest.approx(0.3)
    assert spec.feature_names[-1] == HOLD_COLUMN
    with pytest.raises(ValueError, match="basis_pct"):
        build_matrix(_columns([_row()]), spec, strict=True)


def test_spec_json_round_trip_and_rejects_tampering(tmp_path):
    spec = fit_feature_spec(_columns([_row(strategy="CFFF", fund_apr=12.0, basis_pct=0.1)]))
    assert spec.extra_numeric == ("basis_pct",)
    path = tmp_path / "feature_spec.json"
    spec.save(path)
    again = FeatureSpec.load(path)
    assert again == spec
    assert dict(again.fill_values)["fund_apr"] == 12.0
    bad = spec.to_dict()
    bad["feature_names"] = bad["feature_names"][::-1]
    with pytest.raises(ValueError, match="disagree"):
        FeatureSpec.from_dict(bad)
    bad = spec.to_dict() | {"colour": 1}
    with pytest.raises(ValueError, match="unknown keys"):
        FeatureSpec.from_dict(bad)


def test_serving_import_stays_numpy_only():
    code = (
        "import sys; import arbscore.data_tools.features, arbscore.schema, arbscore.families;"
        "bad=[m for m in ('pandas','xgboost','lightgbm','sklearn','mlx') if m in sys.modules];"
        "print(bad); sys.exit(1 if bad else 0)"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert res.returncode == 0, res.stdout + res.stderr
