"""composite_score: bounded, monotone in expected return, penalised by uncertainty."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from arbscore.composite import CompositeConfig, composite_score, composite_score_one

finite = st.floats(-50, 50)
prob = st.floats(0, 1)
hours = st.floats(0.1, 500)


@settings(deadline=None)  # the machine is shared: timing is not what is tested
@given(a=finite, b=finite, p=prob, h=hours)
def test_monotone_in_expected_return(a, b, p, h):
    lo, hi = sorted((a, b))
    s_lo, s_hi = composite_score(lo, p, h), composite_score(hi, p, h)
    assert s_lo <= s_hi
    assert 0.0 <= s_lo <= 100.0 and 0.0 <= s_hi <= 100.0


def test_zero_edge_is_fifty_and_per_day_scaling():
    assert composite_score(0.0, 0.3, 24.0) == pytest.approx(50.0)
    # the same profit over a shorter hold is a better use of capital
    assert composite_score(1.0, 0.9, 8.0) > composite_score(1.0, 0.9, 72.0)


def test_uncertainty_is_penalised():
    sure, unsure = composite_score(1.0, 0.99, 24.0), composite_score(1.0, 0.5, 24.0)
    assert sure > unsure > 50.0
    assert composite_score(-1.0, 0.5, 24.0) < composite_score(-1.0, 0.01, 24.0) < 50.0


def test_vectorised_and_config_checked():
    s = composite_score(np.array([-1.0, 0.0, 1.0]), np.array([0.5, 0.5, 0.5]), np.array([24.0] * 3))
    assert s.shape == (3,) and np.all(np.diff(s) > 0)
    with pytest.raises(ValueError, match="uncertainty_penalty"):
        CompositeConfig(uncertainty_penalty=1.0)


@settings(deadline=None)
@given(r=finite, p=prob, h=hours)
def test_single_row_fast_path_equals_the_array_form(r, p, h):
    cfg = CompositeConfig(scale_pct_per_day=0.07, uncertainty_penalty=0.3)
    assert composite_score_one(r, p, h, cfg) == pytest.approx(
        float(composite_score(r, p, h, cfg)), rel=1e-12, abs=1e-12
    )
