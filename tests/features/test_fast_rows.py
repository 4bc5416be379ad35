"""build_rows (the server's row-by-row path) gives the same bits as build_matrix on columns."""

from __future__ import annotations

import math
import pickle

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from arbscore.data_tools import features
from arbscore.data_tools.features import (
    DEFAULT_FEATURE_SPEC,
    ENGINEERED,
    FeatureSpec,
    build_matrix,
    build_rows,
    fit_feature_spec,
)
from arbscore.schema import HOLD_COLUMN

#: a fitted spec: an extra raw input, an extra strategy (the guide's "CFFF"), median fills
FITTED_SPEC = fit_feature_spec(
    {
        "fund_profit_8h": np.array([0.1, 0.3, 0.2]),
        "volume_24h": np.array([1e6, 3e6, 2e6]),
        "basis_pct": np.array([0.01, -0.02, 0.03]),
        "strategy": np.array(["spot_perp", "CFFF", "perp_perp"], dtype=object),
        "market_regime": np.array(["Bull", "Sideways", None], dtype=object),
        HOLD_COLUMN: np.array([8.0, 24.0, 72.0]),
    }
)
SPECS = [DEFAULT_FEATURE_SPEC, FITTED_SPEC]

NUMBERS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(-1e13, 1e13),
    st.sampled_from([0.0, -0.0, 1e12, -1e12, 1e12 + 1, features.BREAK_EVEN_CAP, 5e-324]),
    st.integers(-(2**70), 2**70),
    st.booleans(),
    st.none(),
    st.floats(-1e6, 1e6).map(repr),  # numeric text
    st.sampled_from(["", "abc", "nan", "-inf", " 2.5 "]),
)
CATEGORIES = st.one_of(
    st.sampled_from(
        [
            "spot_perp",
            "Perp-Perp",
            "cash and carry",
            "CFFF",
            " Good ",
            "medium",
            "LOW",
            "bull",
            "Sideways",
            "Bear",
            "",
        ]
    ),
    st.text(max_size=12),
    st.none(),
    st.just(math.nan),
    st.floats(-5, 5),
)


@st.composite
def records(draw, spec: FeatureSpec):
    names = (*spec._plan.raw_names, HOLD_COLUMN)
    rec = {}
    for name in names:
        if draw(st.booleans()):
            rec[name] = draw(NUMBERS)
    for name in ("strategy", "market_regime", "liquidity_status"):
        if draw(st.booleans()):
            rec[name] = draw(CATEGORIES)
    return rec


def _columns(recs):
    keys = {k for r in recs for k in r}
    return {k: [r.get(k) for r in recs] for k in keys}


def _bits(X):
    return np.ascontiguousarray(X, np.float32).view(np.uint32)


@pytest.mark.parametrize("spec", SPECS, ids=["default", "fitted"])
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_rows_equal_batch_bit_for_bit(spec, data):
    recs = data.draw(st.lists(records(spec), min_size=1, max_size=6))
    # at least one known column, else build_matrix refuses (nothing to build from)
    recs[0].setdefault("fund_profit_8h", 0.1)
    batch = build_matrix(_columns(recs), spec)
    assert np.isfinite(batch).all()
    rows = np.vstack([build_rows([r], spec) for r in recs])
    np.testing.assert_array_equal(_bits(rows), _bits(batch))
    np.testing.assert_array_equal(_bits(build_rows(recs, spec)), _bits(batch))
    # the same records many times: build_rows switches to the column path
    copies = features.ROWS_FAST_MAX // len(recs) + 1
    assert len(recs) * copies > features.ROWS_FAST_MAX
    np.testing.assert_array_equal(
        _bits(build_rows(recs * copies, spec)), _bits(np.tile(batch, (copies, 1)))
    )


def test_engineered_order_matches_names():
    plan = DEFAULT_FEATURE_SPEC._plan
    raw = {n: 1.0 for n, *_ in plan.numeric}
    assert len(features._engineered(raw, 1.0, features.SCALAR_OPS)) == len(ENGINEERED)


def test_rows_of_records_without_inputs_are_all_fill_values():
    X = build_rows([{}, {"symbol": "BTCUSDT"}], DEFAULT_FEATURE_SPEC)
    assert X.shape == (2, DEFAULT_FEATURE_SPEC.n_features)
    np.testing.assert_array_equal(X[0], X[1])
    fills = dict(DEFAULT_FEATURE_SPEC.fill_values)
    assert X[0, -1] == np.float32(fills[HOLD_COLUMN])
    assert build_rows([], DEFAULT_FEATURE_SPEC).shape == (0, DEFAULT_FEATURE_SPEC.n_features)


def test_plan_is_compiled_once_per_spec_and_not_pickled():
    spec = FeatureSpec()
    assert spec._plan is spec._plan
    assert spec == DEFAULT_FEATURE_SPEC  # the cached plan is no field: equality unchanged
    back = pickle.loads(pickle.dumps(spec))  # the plan holds closures: left out, rebuilt
    assert back == spec
    np.testing.assert_array_equal(
        build_rows([{"fund_apr": 3.0}], back), build_rows([{"fund_apr": 3.0}], spec)
    )


@pytest.mark.parametrize("field", ["strategies", "market_regimes"])
def test_empty_category_name_rejected(field):
    with pytest.raises(ValueError, match=f"FeatureSpec.{field} has an empty name"):
        FeatureSpec(**{field: ("spot_perp", " ")})
