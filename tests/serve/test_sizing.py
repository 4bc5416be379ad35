"""Fractional Kelly sizing at the edges and under each cap."""

from __future__ import annotations

import math

import pytest

import arbscore.serve
from arbscore.serve.sizing import SizingConfig, default_loss_pct, size, win_from_expected

FULL = SizingConfig(kelly_fraction=1.0, max_fraction=10.0, max_depth_share=1.0)


def test_serve_level_size_is_the_sizing_function():
    assert arbscore.serve.size is size


def test_p_zero_sizes_nothing():
    r = size(0.0, 2.0, 1.0, 10_000)
    assert (r.notional_usd, r.limited_by) == (0.0, "no_edge")
    assert r.edge_pct == pytest.approx(-1.0)


def test_p_one_is_capped_by_max_fraction():
    r = size(1.0, 2.0, 1.0, 10_000, config=SizingConfig(max_fraction=0.2))
    assert r.kelly_full == pytest.approx(1 / 0.01)  # p / L with L = 1 %
    assert (r.fraction, r.notional_usd, r.limited_by) == (0.2, 2000.0, "max_fraction")


def test_no_edge_sizes_nothing():
    # p*W == q*L: a fair bet
    r = size(0.5, 1.0, 1.0, 10_000, config=FULL)
    assert r.notional_usd == 0.0 and r.limited_by == "no_edge"
    assert r.edge_pct == pytest.approx(0.0)


def test_full_kelly_matches_the_closed_form():
    p, w, loss = 0.55, 50.0, 40.0  # percent of notional
    r = size(p, w, loss, 1_000, config=FULL)
    f = p / (loss / 100) - (1 - p) / (w / 100)
    assert r.kelly_full == pytest.approx(f)
    assert r.notional_usd == pytest.approx(f * 1_000)

    # it is the growth-optimal fraction: nudging it either way grows the bankroll less
    def growth(x):
        return p * math.log1p(x * w / 100) + (1 - p) * math.log1p(-x * loss / 100)

    assert growth(f) > growth(f * 0.9) and growth(f) > growth(f * 1.1)


def test_fractional_kelly_and_depth_cap():
    r = size(0.55, 50.0, 40.0, 1_000, config=SizingConfig(kelly_fraction=0.25, max_fraction=10))
    assert r.fraction == pytest.approx(0.25 * r.kelly_full) and r.limited_by == "kelly"
    capped = size(
        0.6,
        0.5,
        0.4,
        1_000_000,
        orderbook_depth_usd=50_000,
        config=SizingConfig(max_depth_share=0.01),
    )
    assert (capped.notional_usd, capped.limited_by) == (500.0, "liquidity")


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"success_probability": 1.5}, "success_probability"),
        ({"success_probability": math.nan}, "success_probability"),
        ({"loss_pct": 0.0}, "loss_pct"),
        ({"win_pct": -1.0}, "win_pct"),
        ({"bankroll_usd": 0.0}, "bankroll_usd"),
        ({"orderbook_depth_usd": math.inf}, "orderbook_depth_usd"),
    ],
)
def test_bad_arguments_name_the_field(kwargs, field):
    args = {"success_probability": 0.6, "win_pct": 1.0, "loss_pct": 0.5, "bankroll_usd": 100.0}
    with pytest.raises(ValueError, match=field):
        size(**{**args, **kwargs})


def test_win_size_is_solved_from_the_expected_profit():
    p, loss, expected = 0.7, 0.3, 0.25
    w = win_from_expected(expected, p, loss)
    assert p * w - (1 - p) * loss == pytest.approx(expected)
    assert win_from_expected(1.0, 0.0, 0.3) == 0.0
    assert default_loss_pct(0.02) == pytest.approx(4 * 0.05 + 2 * 0.02)
