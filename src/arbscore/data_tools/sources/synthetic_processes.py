"""The random processes behind the synthetic market: AR(1) paths, premium regimes, funding.

:func:`latent_premium` gives each exchange's hourly premium index (one regime path and a common
AR(1) part shared by all exchanges, plus each exchange's own part); :func:`settle` turns it into
settlements with the exchanges' formula (:func:`funding_formula`). Vectorised numpy; used by
:mod:`arbscore.data_tools.sources.synthetic`.
"""

from __future__ import annotations

import numpy as np
from scipy.signal import lfilter

from arbscore.data_tools.sources.params import SymbolProfile, SyntheticParams


def ar1(
    rng: np.random.Generator,
    shape: tuple[int, ...],
    phi: float,
    std: float,
    tail_df: float | None = None,
) -> np.ndarray:
    """Stationary AR(1) paths along the last axis (stationary std ``std``), via lfilter.

    ``tail_df`` draws the innovations from a unit-variance Student t (fat tails: basis spikes).
    """
    if tail_df is None or not np.isfinite(tail_df):
        z = rng.standard_normal(shape)
    else:
        z = rng.standard_t(tail_df, shape) / np.sqrt(tail_df / (tail_df - 2.0))
    e = z * std * np.sqrt(max(1.0 - phi * phi, 0.0))
    e[..., 0] = rng.standard_normal(shape[:-1]) * std
    return lfilter([1.0], [1.0, -phi], e, axis=-1)


def ar1_coefficient(step_hours: float, half_life_hours: float) -> float:
    """AR(1) coefficient of a process sampled every ``step_hours`` with that half-life."""
    return float(0.5 ** (step_hours / half_life_hours))


def regimes(rng: np.random.Generator, n: int, p: SyntheticParams) -> np.ndarray:
    """Markov regime path on the hourly grid: 0 calm, 1 hot, 2 negative (geometric sojourns)."""
    out = np.empty(n, dtype=np.int8)
    probs = np.array([1.0 / h for h in p.regime_hours])
    stationary = np.array(p.regime_hours) * np.array(
        [1.0, p.calm_to_hot_share, 1.0 - p.calm_to_hot_share]
    )
    state = int(rng.choice(3, p=stationary / stationary.sum()))
    t = 0
    while t < n:
        dur = int(rng.geometric(probs[state]))
        out[t : t + dur] = state
        t += dur
        # calm exits to hot or negative; both hot and negative fall back to calm
        state = (1 if rng.random() < p.calm_to_hot_share else 2) if state == 0 else 0
    return out


def latent_premium(
    rng: np.random.Generator,
    n_hours: int,
    p: SyntheticParams,
    prof: SymbolProfile,
    exchanges: tuple[str, ...],
) -> np.ndarray:
    """Hourly premium index per exchange, shape (len(exchanges), n_hours).

    One regime path and one AR(1) part shared by all exchanges (they arbitrage each other),
    plus an AR(1) part of each exchange's own (times the symbol's ``spread_scale``); the
    exchange scale stretches its swings and the exchange bias shifts its level.
    """
    state = regimes(rng, n_hours, p)
    excess = np.array([0.0, p.hot_excess, p.neg_excess])[state]
    phi = ar1_coefficient(1.0, p.premium_half_life_hours)
    common = ar1(rng, (n_hours,), phi, p.premium_std)
    own = ar1(rng, (len(exchanges), n_hours), phi, p.premium_std)
    c = p.premium_exchange_corr
    swings = excess + np.sqrt(c) * common + np.sqrt(1.0 - c) * prof.spread_scale * own
    scale = np.array([float(p.exchange_premium_scale.get(ex, 1.0)) for ex in exchanges])
    bias = np.array([float(p.exchange_premium_bias.get(ex, 0.0)) for ex in exchanges])
    level = p.premium_mean + prof.premium_bias + bias[:, None]
    return level + prof.premium_scale * scale[:, None] * swings


def funding_formula(premium_8h: np.ndarray, p: SyntheticParams) -> np.ndarray:
    """Per-8 h funding from the interval's mean premium: P + clamp(I - P, -c, c)."""
    return premium_8h + np.clip(p.interest_8h - premium_8h, -p.clamp_8h, p.clamp_8h)


def settle(
    x: np.ndarray, hours: int, start_epoch_h: int, n_hours: int, p: SyntheticParams
) -> tuple[np.ndarray, np.ndarray]:
    """Settlements on the UTC ``hours`` grid within the window: (hour offsets, rates).

    The rate is the funding formula of the mean premium over the interval ending at the
    settlement, scaled to the interval (hours / 8), as exchanges do for 1 h / 4 h symbols.
    """
    j = np.arange(n_hours)
    j = j[(start_epoch_h + j) % hours == 0]
    csum = np.concatenate([[0.0], np.cumsum(x[:n_hours])])
    lo = np.maximum(j - hours + 1, 0)
    mean = (csum[j + 1] - csum[lo]) / (j + 1 - lo)
    return j, funding_formula(mean, p) * hours / 8.0
